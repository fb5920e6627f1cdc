//! The JSON API under `/v3/auth/` (Metax's `users/urls.py` and `views.py`).

pub mod drf;
pub mod session;
pub mod tokens;
pub mod user;

use axum::http::Method;

use super::error::ApiError;

/// Django's datetime format in DRF output for these endpoints.
pub const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// DRF's 405 for a method the route does not have.
pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// Unknown path.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}
