//! `GET /`: the front page, showing who is logged in and where to go.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
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
    let mut response = Page(
        StatusCode::OK,
        FrontPage {
            chrome: Chrome::for_session(user.as_ref(), csrf.masked()),
        },
    )
    .into_response();
    if let Some(cookie) = csrf.set_cookie(&state.config) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}
