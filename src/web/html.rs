//! Server-rendered pages: the `Page` wrapper that renders an askama template (auto-escaping every
//! value) with the right content type, the `Chrome` every page shows (who is logged in), and
//! `HtmlError`, the HTML counterpart of `ApiError`.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::{AuthMethod, Authenticated, SessionCaller};
use crate::config::Config;
use crate::store::{StoreError, User};

/// What every page's frame shows about the visitor.
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    /// Logged-in username, if any.
    pub username: Option<String>,
    /// Whether to link the admin panel.
    pub is_staff: bool,
    /// Masked CSRF token for the logout and "Stop impersonating" forms.
    pub csrf_token: String,
    /// The real user's name while they impersonate `username`.
    pub impersonator: Option<String>,
    /// Whether the admin sidebar lists DRF's "Tokens" table.
    pub drf_tokens: bool,
    /// Whether to offer "Log in with Fairdata SSO".
    pub sso_login: bool,
}

impl Chrome {
    fn build(user: Option<&User>, impersonator: Option<&User>, csrf_token: String) -> Self {
        Chrome {
            username: user.map(|user| user.username.clone()),
            is_staff: user.is_some_and(|user| user.is_staff && user.is_active),
            csrf_token,
            impersonator: impersonator.map(|user| user.username.clone()),
            drf_tokens: false,
            sso_login: false,
        }
    }

    /// Adds what the settings switch on (DRF's "Tokens" table, the SSO login link).
    pub fn configured(mut self, config: &Config) -> Self {
        self.drf_tokens = config.enable_drf_token_auth;
        self.sso_login = config.sso.enabled;
        self
    }

    /// The frame for a session visitor (admin pages, front page).
    pub fn for_session(caller: Option<&SessionCaller>, csrf_token: String) -> Self {
        Self::build(
            caller.map(|caller| &caller.user),
            caller.and_then(|caller| caller.impersonator.as_ref()),
            csrf_token,
        )
    }

    /// The frame for an API caller that asked for HTML (token page).
    pub fn for_caller(caller: Option<&Authenticated>, csrf_token: String) -> Self {
        // The banner only for a session: the one thing "Stop impersonating" can end.
        let impersonator = caller
            .filter(|caller| caller.method == AuthMethod::Session)
            .and_then(|caller| caller.impersonator.as_ref());
        Self::build(caller.map(|caller| &caller.user), impersonator, csrf_token)
    }
}

/// A rendered template with a status.
pub struct Page<T: Template>(pub StatusCode, pub T);

impl<T: Template> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        match self.1.render() {
            Ok(body) => (
                self.0,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                body,
            )
                .into_response(),
            Err(error) => {
                tracing::error!(%error, "template rendering failed");
                HtmlError::Internal.into_response()
            }
        }
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    title: &'a str,
    message: &'a str,
}

/// An HTML page failure.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// Django's CSRF failure page; the reason is Django's text.
    #[error("{0}")]
    Csrf(String),
    /// Malformed form or body.
    #[error("{0}")]
    BadRequest(String),
    /// The visitor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No such page or object.
    #[error("The requested page was not found.")]
    NotFound,
    /// Store failure (logged, not shown).
    #[error("A server error occurred. Please try again later.")]
    Store(#[source] StoreError),
    /// Anything else (logged where it happened).
    #[error("A server error occurred. Please try again later.")]
    Internal,
}

impl From<StoreError> for HtmlError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Invalid(message) => HtmlError::BadRequest(message),
            StoreError::NotFound => HtmlError::NotFound,
            other => HtmlError::Store(other),
        }
    }
}

impl IntoResponse for HtmlError {
    fn into_response(self) -> Response {
        let (status, title) = match &self {
            HtmlError::Csrf(_) => (
                StatusCode::FORBIDDEN,
                "Forbidden (403): CSRF verification failed. Request aborted.",
            ),
            HtmlError::BadRequest(_) => (StatusCode::BAD_REQUEST, "Bad request (400)"),
            HtmlError::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden (403)"),
            HtmlError::NotFound => (StatusCode::NOT_FOUND, "Not found (404)"),
            HtmlError::Store(error) if error.temporary_message().is_some() => {
                (StatusCode::SERVICE_UNAVAILABLE, "Service unavailable (503)")
            }
            HtmlError::Store(_) | HtmlError::Internal => {
                (StatusCode::INTERNAL_SERVER_ERROR, "Server error (500)")
            }
        };
        if let HtmlError::Store(error) = &self {
            tracing::error!(%error, "store failure while rendering a page");
        }
        let message = match &self {
            HtmlError::Store(error) => error
                .temporary_message()
                .map_or_else(|| self.to_string(), str::to_owned),
            _ => self.to_string(),
        };
        let page = ErrorPage {
            chrome: Chrome::default(),
            title,
            message: &message,
        };
        match page.render() {
            Ok(body) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                body,
            )
                .into_response(),
            Err(_) => (status, message).into_response(),
        }
    }
}
