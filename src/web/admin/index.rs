//! `GET /v3/admin/`: the admin panel's front page: the sidebar of tables.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::Admin;
use crate::web::html::{Chrome, Page};

#[derive(Template)]
#[template(path = "admin/index.html")]
struct AdminIndex {
    chrome: Chrome,
    is_superuser: bool,
}

/// `GET /v3/admin/`.
pub async fn show_index(admin: Admin) -> Response {
    let is_superuser = admin.caller.user.is_superuser;
    Page(
        StatusCode::OK,
        AdminIndex {
            chrome: admin.chrome,
            is_superuser,
        },
    )
    .into_response()
}
