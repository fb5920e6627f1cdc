//! The HTTP layer: shared state, the route table (Django's `urls.py`: every URL is listed in
//! `router`), response headers every answer carries, and the server loop.

pub mod admin;
pub mod api;
pub mod cookies;
pub mod error;
pub mod extract;
pub mod front;
pub mod html;
pub mod negotiate;
pub mod server;
pub mod sessions;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::Authenticator;
use crate::clock::Clock;
use crate::config::Config;
use crate::store::Store;

/// Largest request body accepted (forms and JSON here are tiny).
const BODY_LIMIT_BYTES: usize = 64 * 1024;
/// How often expired tokens and sessions are deleted.
const CLEANUP_INTERVAL: Duration = Duration::from_secs(600);
/// Django's `never_cache`.
const NEVER_CACHE: &str = "max-age=0, no-cache, no-store, must-revalidate, private";
/// No scripts at all; inline styles only; forms post to us; never framed.
const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Settings.
    pub config: Arc<Config>,
    /// The database.
    pub store: Arc<dyn Store>,
    /// "Now".
    pub clock: Clock,
    /// Credential checks.
    pub auth: Authenticator,
}

impl AppState {
    /// State for a server over `store`.
    pub fn new(config: Config, store: Arc<dyn Store>, clock: Clock) -> Self {
        let auth = Authenticator::new(store.clone(), clock.clone(), &config);
        AppState {
            config: Arc::new(config),
            store,
            clock,
            auth,
        }
    }
}

/// A 302 redirect (Django's `redirect()`).
pub fn found(location: &str) -> impl IntoResponse + use<> {
    redirect(StatusCode::FOUND, location)
}

/// A 303 redirect (Metax's `HttpResponseSeeOther`).
pub fn see_other(location: &str) -> impl IntoResponse + use<> {
    redirect(StatusCode::SEE_OTHER, location)
}

fn redirect(status: StatusCode, location: &str) -> impl IntoResponse + use<> {
    // Non-ASCII characters are percent-encoded, as Django's `iri_to_uri` does.
    let encoded: String = location
        .bytes()
        .map(|byte| {
            if byte.is_ascii_graphic() {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect();
    let location =
        HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (status, [(LOCATION, location)])
}

/// `next` when it is a path on this site, else `fallback` (never an open redirect).
pub fn safe_next<'a>(next: Option<&'a str>, fallback: &'a str) -> &'a str {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.contains('\\')
                && !next
                    .chars()
                    .any(|character| character.is_control() || character.is_whitespace()) =>
        {
            next
        }
        _ => fallback,
    }
}

/// Largest total size of a request's headers; larger ones get 431 before any work is done.
const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Refuses requests whose headers add up to more than `MAX_HEADER_BYTES`.
async fn limit_header_size(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        return (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            axum::Json(serde_json::json!({ "detail": "Request header fields too large." })),
        )
            .into_response();
    }
    next.run(request).await
}

/// Gives every request a `CsrfRotation` slot and sets the `csrftoken` cookie when a handler
/// or extractor put a new secret in it (a first visit, or a new SSO login).
async fn rotate_csrf_cookie(
    State(state): State<AppState>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let rotation = extract::CsrfRotation::default();
    request.extensions_mut().insert(rotation.clone());
    let mut response = next.run(request).await;
    if let Some(secret) = rotation.rotated() {
        response.headers_mut().append(
            axum::http::header::SET_COOKIE,
            cookies::csrf(&secret, &state.config),
        );
    }
    response
}

/// Every route of the service.
pub fn router(state: AppState) -> Router {
    use admin::{audit, drf_tokens, hijack, index, login, user_form, users};
    use api::{drf, method_not_allowed, session, tokens, user};

    let drf_enabled = state.config.enable_drf_token_auth;

    let never_cache =
        SetResponseHeaderLayer::overriding(CACHE_CONTROL, HeaderValue::from_static(NEVER_CACHE));
    let routes = Router::new()
        // JSON API (Metax's users/urls.py)
        .route(
            "/v3/auth/user",
            get(user::show_user).fallback(method_not_allowed),
        )
        .route(
            "/v3/auth/tokens",
            get(tokens::list_tokens)
                .post(tokens::create_token)
                .delete(tokens::delete_token)
                .fallback(method_not_allowed),
        )
        .route(
            "/v3/auth/login",
            get(session::login).fallback(method_not_allowed),
        )
        .route(
            "/v3/auth/logout",
            post(session::logout).fallback(method_not_allowed),
        )
        // Pages
        .route(
            "/",
            get(front::show_front_page).fallback(method_not_allowed),
        )
        .route("/v3/admin", get(|| async { found("/v3/admin/") }))
        .route(
            "/v3/admin/",
            get(index::show_index).fallback(method_not_allowed),
        )
        .route(
            "/v3/admin/login/",
            get(login::show_login)
                .post(login::submit_login)
                .fallback(method_not_allowed),
        )
        .route(
            "/v3/admin/users/",
            get(users::list_users).fallback(method_not_allowed),
        )
        .route(
            "/v3/admin/users/add/",
            get(user_form::show_add)
                .post(user_form::add_user)
                .fallback(method_not_allowed),
        )
        .route(
            "/v3/admin/users/{id}/",
            get(user_form::show_user)
                .post(user_form::change_user)
                .fallback(method_not_allowed),
        )
        .route(
            "/v3/admin/users/{id}/password/",
            get(user_form::show_password)
                .post(user_form::set_password)
                .fallback(method_not_allowed),
        )
        .route(
            "/v3/admin/users/{id}/delete/",
            get(user_form::show_delete)
                .post(user_form::delete_user)
                .fallback(method_not_allowed),
        )
        .route(
            "/v3/admin/impersonations/",
            get(audit::list_impersonations).fallback(method_not_allowed),
        )
        // django-hijack
        .route(
            "/v3/hijack/acquire/",
            post(hijack::acquire).fallback(method_not_allowed),
        )
        .route(
            "/v3/hijack/release/",
            post(hijack::release).fallback(method_not_allowed),
        )
        .route(
            "/v3/admin/authtoken/tokens/",
            get(drf_tokens::list_tokens)
                .post(drf_tokens::change_tokens)
                .fallback(method_not_allowed),
        )
        .layer(never_cache);
    // As in Metax, the DRF token view exists only while the feature is on (else 404).
    let routes = if drf_enabled {
        routes.route(
            "/v3/drf-token-auth/",
            post(drf::obtain_token).fallback(method_not_allowed),
        )
    } else {
        routes
    };
    Router::new()
        .merge(routes)
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rotate_csrf_cookie,
        ))
        .layer(axum::middleware::from_fn(limit_header_size))
        .layer(axum::middleware::map_response(error::retry_after_on_503))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// Serves on `listener` until `shutdown` completes, deleting expired rows in the background.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    let clock = state.clock.clone();
    let cleanup = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(CLEANUP_INTERVAL);
        loop {
            ticks.tick().await;
            match store.delete_expired(clock.now()).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "deleted expired tokens and sessions"),
                Err(error) => {
                    tracing::warn!(%error, "could not delete expired tokens and sessions")
                }
            }
        }
    });
    let timeout = state.config.request_timeout;
    let app = router(state)
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(timeout))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ));
    server::run(listener, app, timeout, shutdown).await;
    cleanup.abort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/v3/auth/tokens"), "/x"), "/v3/auth/tokens");
        for evil in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "/a b",
            "/\u{0}",
        ] {
            assert_eq!(safe_next(Some(evil), "/x"), "/x", "{evil}");
        }
        assert_eq!(safe_next(None, "/x"), "/x");
    }
}
