//! `ApiError`: every way an API request can fail, and the one place that turns it into an HTTP
//! response with the body DRF/knox/Metax send (`{"detail": ...}`, plus `code` on authentication
//! failures, which Metax's exception handler adds). Internal causes are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::AuthError;
use crate::store::StoreError;

/// Seconds a client is told to wait (`Retry-After`) on a 503.
const RETRY_AFTER_SECONDS: u32 = 5;

/// Adds `Retry-After` to every 503 (JSON body or page) that has none: a layer on the router.
pub async fn retry_after_on_503(mut response: Response) -> Response {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .entry(axum::http::header::RETRY_AFTER)
            .or_insert(RETRY_AFTER_SECONDS.into());
    }
    response
}

/// An API failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Credentials were sent and refused.
    #[error(transparent)]
    Auth(AuthError),
    /// No credentials at all.
    #[error("Authentication credentials were not provided.")]
    NotAuthenticated,
    /// knox's per-user limit.
    #[error("Maximum amount of tokens allowed per user exceeded.")]
    TokenLimit,
    /// The route exists, the method does not.
    #[error("Method \"{0}\" not allowed.")]
    MethodNotAllowed(String),
    /// The body's content type is not one the endpoint parses.
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    /// The body is over the size limit.
    #[error("Request body is too large.")]
    PayloadTooLarge,
    /// The body could not be parsed.
    #[error("{0}")]
    BadRequest(String),
    /// No such resource.
    #[error("Not found.")]
    NotFound,
    /// The store is unreachable or failing.
    #[error("A server error occurred.")]
    Store(#[source] StoreError),
}

impl ApiError {
    /// The HTTP status, as the Django service answers it.
    pub fn status(&self) -> StatusCode {
        match self {
            // DRF answers 403, not 401: Metax's first authentication class sends no
            // WWW-Authenticate challenge.
            ApiError::Store(error) if error.temporary_message().is_some() => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Auth(AuthError::Throttled(_)) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Auth(_) | ApiError::NotAuthenticated | ApiError::TokenLimit => {
                StatusCode::FORBIDDEN
            }
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound => StatusCode::NOT_FOUND,
        }
    }

    /// The message a person reads (the `detail` of the JSON body).
    pub fn message(&self) -> String {
        match self {
            ApiError::Store(error) => error
                .temporary_message()
                .map_or_else(|| self.to_string(), str::to_owned),
            other => other.to_string(),
        }
    }

    /// Logs causes the client does not see.
    fn log(&self) {
        if let ApiError::Store(error) = self {
            tracing::error!(error = %error, "store failure while answering a request");
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            // A store failure while checking credentials is answered as any store failure.
            AuthError::Store(error) => error.into(),
            other => ApiError::Auth(other),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::LimitReached => ApiError::TokenLimit,
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Invalid(message) => ApiError::BadRequest(message),
            other => ApiError::Store(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let body = match &self {
            // DRF raises CSRF failures as PermissionDenied and throttling as Throttled: Metax adds
            // no code to those.
            ApiError::Auth(AuthError::Csrf(_) | AuthError::Throttled(_)) => {
                json!({ "detail": self.message() })
            }
            ApiError::Auth(error) => json!({ "detail": self.message(), "code": error.code() }),
            ApiError::TokenLimit => json!({ "error": self.message() }),
            _ => json!({ "detail": self.message() }),
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let ApiError::Auth(AuthError::Throttled(wait)) = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, wait.into());
        }
        response
    }
}
