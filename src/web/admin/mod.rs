//! The admin panel under `/v3/admin/` (Django's `admin.site`): login and the index. Only active
//! staff users may enter; everyone else is sent to the login form.

pub mod index;
pub mod login;

use axum::response::{IntoResponse, Response};

use crate::store::User;
use crate::web::found;

/// The admin login URL that comes back to `next` afterwards.
pub fn login_redirect(next: &str) -> Response {
    let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
    found(&format!("/v3/admin/login/?next={next}")).into_response()
}

/// Whether this user may use the admin panel (Django's `has_permission`).
pub fn is_admin_user(user: &User) -> bool {
    user.is_active && user.is_staff
}
