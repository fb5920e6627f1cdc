//! `GET /v3/admin/impersonations/`: the impersonation audit log, newest first (superusers only).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::users::Pager;
use super::{Admin, PAGE_SIZE};
use crate::store::ImpersonationEvent;
use crate::web::AppState;
use crate::web::extract::QueryParams;
use crate::web::html::{Chrome, HtmlError, Page};

#[derive(Template)]
#[template(path = "admin/impersonations.html")]
struct AuditPage {
    chrome: Chrome,
    events: Vec<ImpersonationEvent>,
    pager: Pager,
}

/// `GET /v3/admin/impersonations/`.
pub async fn list_impersonations(
    State(state): State<AppState>,
    admin: Admin,
    query: QueryParams,
) -> Result<Response, HtmlError> {
    admin.require_superuser()?;
    let (page, offset) = Pager::requested(query.get("page"));
    let (events, total) = state.store.impersonation_events(offset, PAGE_SIZE).await?;
    Ok(Page(
        StatusCode::OK,
        AuditPage {
            chrome: admin.chrome,
            events,
            pager: Pager::new(page, total, ""),
        },
    )
    .into_response())
}
