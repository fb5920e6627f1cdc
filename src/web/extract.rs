//! Extractors: who is calling and whether they may, in a handler's signature (the role of DRF's
//! authentication classes, Django's session middleware and `CsrfViewMiddleware`).
//!
//! - `ApiCaller`: DRF's chain (Basic, session, Bearer); for a session-authenticated unsafe request
//!   it checks the CSRF token in `X-CSRFToken`.
//! - `ApiSubmission`: the same plus the request body, so the token may also come in the
//!   `csrfmiddlewaretoken` form field. Unsafe API handlers take this one.
//! - `SessionUser`: the admin panel's view of the caller (session cookie only).
//! - `CsrfForm<T>`: a form that always needs a CSRF token (login, logout), as Django's middleware.
//! - `CsrfCookie`: the caller's CSRF secret, or a new one to set.

use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use serde::de::DeserializeOwned;

use super::AppState;
use super::cookies;
use super::error::ApiError;
use super::html::HtmlError;
use crate::auth::csrf::{self, TokenSource};
use crate::auth::{Authenticated, Credentials, SessionCaller};
use crate::config::Config;

/// The form field Django reads the CSRF token from.
pub const CSRF_FIELD: &str = "csrfmiddlewaretoken";

/// Django's `X-CSRFToken` header (`CSRF_HEADER_NAME`).
const CSRF_HEADER: &str = "x-csrftoken";

fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Django's CSRF check for one request: the `Origin` (when sent) must be this host or trusted,
/// then the token (form field first, then header) must match the cookie. `Err` is the reason.
pub fn verify_csrf(
    headers: &HeaderMap,
    form_token: Option<&str>,
    config: &Config,
) -> Result<(), String> {
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !cookies::is_own_origin(headers, origin)
            && !config
                .csrf_trusted_origins
                .iter()
                .any(|trusted| origin_matches(trusted, origin))
        {
            return Err(format!(
                "Origin checking failed - {origin} does not match any trusted origins."
            ));
        }
    }
    let submitted = match form_token.filter(|token| !token.is_empty()) {
        Some(token) => Some((token, TokenSource::Form)),
        None => headers
            .get(CSRF_HEADER)
            .map(|value| (value.to_str().unwrap_or("\u{0}"), TokenSource::Header)),
    };
    csrf::check(cookies::read(headers, cookies::CSRF_COOKIE), submitted)
}

/// Whether `origin` is the trusted origin, or a subdomain of a trusted `scheme://*.domain`
/// (Django's `CSRF_TRUSTED_ORIGINS` wildcards).
fn origin_matches(trusted: &str, origin: &str) -> bool {
    match trusted.split_once("://*.") {
        Some((scheme, domain)) => origin
            .strip_prefix(scheme)
            .and_then(|rest| rest.strip_prefix("://"))
            .is_some_and(|host| host.ends_with(&format!(".{domain}"))),
        None => trusted == origin,
    }
}

/// Runs DRF's chain with the request's credentials and CSRF verdict; a new SSO login rotates
/// the CSRF secret (the `CsrfRotation` slot puts the new cookie on the response).
async fn authenticate_api(
    parts: &Parts,
    state: &AppState,
    form_token: Option<&str>,
) -> Result<Option<Authenticated>, ApiError> {
    let verdict = if is_unsafe(&parts.method) {
        verify_csrf(&parts.headers, form_token, &state.config)
    } else {
        Ok(())
    };
    let sso_cookie = state
        .config
        .sso
        .session_cookie
        .as_deref()
        .and_then(|name| cookies::read(&parts.headers, name));
    let credentials = Credentials {
        authorization: parts.headers.get(AUTHORIZATION).map(HeaderValue::as_bytes),
        session_id: cookies::session_id(&parts.headers),
        sso_cookie,
        client: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip()),
        csrf: verdict.as_ref().map(|_| ()).map_err(String::as_str),
    };
    let caller = state.auth.authenticate(&credentials).await?;
    if caller.as_ref().is_some_and(|caller| caller.new_login)
        && let Some(rotation) = parts.extensions.get::<CsrfRotation>()
    {
        rotation.rotate();
    }
    Ok(caller)
}

/// Where a handler's extractors leave a rotated CSRF secret for the response (see
/// `web::rotate_csrf_cookie`).
#[derive(Clone, Default)]
pub struct CsrfRotation(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl CsrfRotation {
    /// Makes a new secret (once per request) and returns it.
    pub fn rotate(&self) -> String {
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.get_or_insert_with(csrf::new_secret).clone()
    }

    /// The rotated secret, if any.
    pub fn rotated(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// The API caller, if any; refused credentials are an error, absent ones are `None`.
pub struct ApiCaller(pub Option<Authenticated>);

impl ApiCaller {
    /// The caller, or DRF's "not provided" error.
    pub fn required(self) -> Result<Authenticated, ApiError> {
        self.0.ok_or(ApiError::NotAuthenticated)
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate_api(parts, state, None).await.map(ApiCaller)
    }
}

/// Why a body could not be read.
pub enum BodyError {
    /// Over the body limit.
    TooLarge,
    /// Broken transfer or similar.
    Unreadable(String),
}

impl From<BodyError> for ApiError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::TooLarge => ApiError::PayloadTooLarge,
            BodyError::Unreadable(message) => ApiError::BadRequest(message),
        }
    }
}

impl From<BodyError> for HtmlError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::TooLarge => {
                HtmlError::BadRequest("The request body is too large.".to_owned())
            }
            BodyError::Unreadable(message) => HtmlError::BadRequest(message),
        }
    }
}

/// Reads the whole body within the router's `DefaultBodyLimit`.
async fn read_body(
    parts: &Parts,
    body: axum::body::Body,
    state: &AppState,
) -> Result<Bytes, BodyError> {
    Bytes::from_request(Request::from_parts(parts.clone(), body), state)
        .await
        .map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                BodyError::TooLarge
            } else {
                BodyError::Unreadable(rejection.body_text())
            }
        })
}

fn is_form(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|value| {
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

/// A request body, read whole and parsed when asked for: DRF's `JSONParser` and `FormParser`.
pub struct RequestBody {
    form: Option<Vec<(String, String)>>,
    content_type: Option<String>,
    body: Bytes,
}

impl RequestBody {
    /// A form field, when the body is a form.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .as_ref()?
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body as a JSON value, from JSON or a form (each field a string).
    pub fn value(&self) -> Result<serde_json::Value, ApiError> {
        let media_type = self
            .content_type
            .as_deref()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match media_type.as_str() {
            "application/json" => serde_json::from_slice(&self.body)
                .map_err(|error| ApiError::BadRequest(format!("JSON parse error - {error}"))),
            "application/x-www-form-urlencoded" => {
                Ok(form_value(self.form.as_deref().unwrap_or_default()))
            }
            other => Err(ApiError::UnsupportedMediaType(other.to_owned())),
        }
    }

    async fn read(
        parts: &Parts,
        body: axum::body::Body,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = read_body(parts, body, state).await?;
        let form = is_form(content_type.as_deref()).then(|| {
            form_urlencoded::parse(&body)
                .into_owned()
                .collect::<Vec<_>>()
        });
        Ok(RequestBody {
            form,
            content_type,
            body,
        })
    }
}

/// Form pairs as a JSON object of strings (the last value of a repeated name wins).
fn form_value(pairs: &[(String, String)]) -> serde_json::Value {
    serde_json::Value::Object(
        pairs
            .iter()
            .map(|(key, value)| (key.clone(), serde_json::Value::String(value.clone())))
            .collect(),
    )
}

impl FromRequest<AppState> for RequestBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        RequestBody::read(&parts, body, state).await
    }
}

/// An unsafe API request: the caller (CSRF checked, also from the form field) and the body.
pub struct ApiSubmission {
    /// The caller, if any.
    pub caller: ApiCaller,
    /// The body.
    pub body: RequestBody,
}

impl FromRequest<AppState> for ApiSubmission {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let body = RequestBody::read(&parts, body, state).await?;
        let caller = ApiCaller(authenticate_api(&parts, state, body.field(CSRF_FIELD)).await?);
        Ok(ApiSubmission { caller, body })
    }
}

/// The logged-in user of the session cookie (admin panel and other HTML pages).
pub struct SessionUser(pub Option<SessionCaller>);

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = HtmlError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(SessionUser(
            state
                .auth
                .session(cookies::session_id(&parts.headers), client)
                .await?,
        ))
    }
}

/// A urlencoded form whose CSRF token was checked (Django's `CsrfViewMiddleware` on a view).
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = HtmlError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok());
        let body = read_body(&parts, body, state).await?;
        let pairs: Vec<(String, String)> = if is_form(content_type) {
            form_urlencoded::parse(&body).into_owned().collect()
        } else {
            Vec::new()
        };
        let form_token = pairs
            .iter()
            .find(|(key, _)| key == CSRF_FIELD)
            .map(|(_, value)| value.as_str());
        verify_csrf(&parts.headers, form_token, &state.config).map_err(HtmlError::Csrf)?;
        if !is_form(content_type) {
            return Err(HtmlError::BadRequest(
                "Expected a form (application/x-www-form-urlencoded).".to_owned(),
            ));
        }
        serde_json::from_value(form_value(&pairs))
            .map(CsrfForm)
            .map_err(|error| HtmlError::BadRequest(error.to_string()))
    }
}

/// The query string's parameters, read leniently: repeated names are fine and the last one wins
/// (Django's `QueryDict.get`), malformed escapes are kept as they are. Never a rejection.
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// The last value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

impl FromRequestParts<AppState> for QueryParams {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        Ok(QueryParams(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

/// The caller's CSRF secret: the cookie's, or a new one that the `CsrfRotation` slot puts on
/// the response as the `csrftoken` cookie (Django's `get_token`).
pub struct CsrfCookie {
    /// The 32-character secret.
    pub secret: String,
}

impl CsrfCookie {
    /// A masked token for a form or for `metax_csrf_token`.
    pub fn masked(&self) -> String {
        csrf::mask(&self.secret)
    }
}

impl FromRequestParts<AppState> for CsrfCookie {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let rotation = parts.extensions.get::<CsrfRotation>();
        let secret = rotation
            .and_then(CsrfRotation::rotated)
            .or_else(|| {
                cookies::read(&parts.headers, cookies::CSRF_COOKIE).and_then(csrf::cookie_secret)
            })
            .unwrap_or_else(|| rotation.map_or_else(csrf::new_secret, CsrfRotation::rotate));
        Ok(CsrfCookie { secret })
    }
}
