//! `GET /v3/auth/user`: the authenticated user as Metax's `AuthenticatedUserInfoSerializer`
//! shows it, with a masked CSRF token for cookie-authenticated scripts (`metax_csrf_token`).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::web::AppState;
use crate::web::error::ApiError;
use crate::web::extract::{ApiCaller, CsrfCookie};

#[derive(Serialize)]
struct UserInfo {
    username: String,
    organization: Option<String>,
    admin_organizations: Vec<String>,
    csc_projects: Vec<String>,
    groups: Vec<String>,
    metax_csrf_token: String,
}

/// `GET /v3/auth/user`.
pub async fn show_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    csrf: CsrfCookie,
) -> Result<Response, ApiError> {
    let user = caller.required()?.user;
    let groups = state.store.user_groups(user.id).await?;
    let body = UserInfo {
        metax_csrf_token: csrf.masked(),
        groups,
        username: user.username,
        organization: user.organization,
        admin_organizations: user.admin_organizations,
        csc_projects: user.csc_projects,
    };
    Ok(Json(body).into_response())
}
