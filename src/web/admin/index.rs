//! `GET /v3/admin/`: the admin panel's front page.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{is_admin_user, login_redirect};
use crate::web::extract::{CsrfCookie, SessionUser};
use crate::web::html::{Chrome, Page};

#[derive(Template)]
#[template(path = "admin/index.html")]
struct AdminIndex {
    chrome: Chrome,
}

/// `GET /v3/admin/`.
pub async fn show_index(SessionUser(user): SessionUser, csrf: CsrfCookie) -> Response {
    match user.filter(is_admin_user) {
        Some(user) => Page(
            StatusCode::OK,
            AdminIndex {
                chrome: Chrome::new(Some(&user), csrf.masked()),
            },
        )
        .into_response(),
        None => login_redirect("/v3/admin/"),
    }
}
