//! `GET /`: the front page, showing who is logged in and where to go.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::extract::{CsrfCookie, SessionUser};
use super::html::{Chrome, Page};

#[derive(Template)]
#[template(path = "index.html")]
struct FrontPage {
    chrome: Chrome,
}

/// `GET /`.
pub async fn show_front_page(
    State(state): State<AppState>,
    SessionUser(user): SessionUser,
    csrf: CsrfCookie,
) -> Response {
    let chrome = Chrome::for_session(user.as_ref(), csrf.masked()).configured(&state.config);
    Page(StatusCode::OK, FrontPage { chrome }).into_response()
}
