//! `GET /v3/admin/impersonations/`: the impersonation audit log, newest first (superusers only).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::users::Pager;
use super::{Admin, PAGE_SIZE};
use crate::store::ImpersonationEvent;
use crate::web::AppState;
use crate::web::html::{Chrome, HtmlError, Page};

#[derive(Template)]
#[template(path = "admin/impersonations.html")]
struct AuditPage {
    chrome: Chrome,
    events: Vec<ImpersonationEvent>,
    pager: Pager,
}

/// `?page=`.
#[derive(Deserialize)]
pub struct AuditQuery {
    page: Option<String>,
}

/// `GET /v3/admin/impersonations/`.
pub async fn list_impersonations(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<AuditQuery>,
) -> Result<Response, HtmlError> {
    admin.require_superuser()?;
    let (page, offset) = Pager::requested(query.page.as_deref());
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
