//! The admin panel under `/v3/admin/` (Django's `admin.site`): login, the index with its
//! sidebar, the "Metax users" table and user pages, the impersonation log, and django-hijack's
//! acquire/release. Only active staff may enter; only superusers may change users or impersonate.

pub mod audit;
pub mod drf_tokens;
pub mod hijack;
pub mod index;
pub mod login;
pub mod user_form;
pub mod users;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::auth::SessionCaller;
use crate::store::User;
use crate::web::extract::{CsrfCookie, SessionUser};
use crate::web::html::{Chrome, HtmlError};
use crate::web::{AppState, found};

/// Rows per page in admin tables (Django's `list_per_page`).
pub const PAGE_SIZE: i64 = 100;

/// The admin login URL that comes back to `next` afterwards.
pub fn login_redirect(next: &str) -> Response {
    let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
    found(&format!("/v3/admin/login/?next={next}")).into_response()
}

/// Whether this user may use the admin panel (Django's `has_permission`).
pub fn is_admin_user(user: &User) -> bool {
    user.is_active && user.is_staff
}

/// A staff member on an admin page; anyone else is sent to the login form.
pub struct Admin {
    /// The session.
    pub caller: SessionCaller,
    /// The page frame (with a masked CSRF token for its forms).
    pub chrome: Chrome,
}

impl Admin {
    /// Refuses non-superusers (staff may look but not change).
    pub fn require_superuser(&self) -> Result<(), HtmlError> {
        if self.caller.user.is_superuser {
            Ok(())
        } else {
            Err(HtmlError::Forbidden(
                "Only superusers may do this.".to_owned(),
            ))
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let SessionUser(caller) = SessionUser::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match caller.filter(|caller| is_admin_user(&caller.user)) {
            Some(caller) => {
                let Ok(csrf) = CsrfCookie::from_request_parts(parts, state).await;
                let chrome =
                    Chrome::for_session(Some(&caller), csrf.masked()).configured(&state.config);
                Ok(Admin { caller, chrome })
            }
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/v3/admin/", |path| path.as_str());
                Err(login_redirect(next))
            }
        }
    }
}
