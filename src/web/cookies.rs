//! Reading request cookies and building the two cookies we set, in one place so that every
//! `Set-Cookie` carries the same attributes (Django's defaults: `Path=/`, `SameSite=Lax`,
//! `HttpOnly` on the session only, `Secure` when configured).

use axum::http::header::{COOKIE, HOST, ORIGIN};
use axum::http::{HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};

use crate::config::Config;

/// Django's login session cookie.
pub const SESSION_COOKIE: &str = "sessionid";
/// Django's CSRF cookie (readable by scripts, as Django's default).
pub const CSRF_COOKIE: &str = "csrftoken";
/// One year, Django's `CSRF_COOKIE_AGE`.
const CSRF_COOKIE_AGE_SECONDS: i64 = 365 * 24 * 3600;

/// The value of the last cookie called `name` (Python's cookie parser keeps the last, so Django
/// does), without allocating.
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .rfind(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

/// Whether `origin` is the request's own `Host` (as `http://HOST` or `https://HOST`).
pub fn is_own_origin(headers: &HeaderMap, origin: &str) -> bool {
    let host = headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or_default();
    origin.split_once("://").is_some_and(|(scheme, rest)| {
        matches!(scheme, "http" | "https") && !host.is_empty() && rest == host
    })
}

/// The `sessionid` cookie, except on cross-origin requests, which may use only the SSO and
/// CSRF cookies (Metax's `SameOriginCookiesMiddleware`). A request is cross-origin when it has
/// an `Origin` and a `Sec-Fetch-Site` other than `same-origin`/`none`, or an `Origin` other
/// than its own host and no `Sec-Fetch-Site` (older browsers and proxies that drop it).
pub fn session_id(headers: &HeaderMap) -> Option<&str> {
    let cross_origin = headers.get(ORIGIN).is_some_and(|origin| {
        match headers
            .get("sec-fetch-site")
            .map(|value| value.to_str().unwrap_or_default())
        {
            Some(site) => !matches!(site, "same-origin" | "none"),
            None => !is_own_origin(headers, origin.to_str().unwrap_or_default()),
        }
    });
    if cross_origin {
        None
    } else {
        read(headers, SESSION_COOKIE)
    }
}

fn build(
    name: &'static str,
    value: String,
    http_only: bool,
    secure: bool,
    max_age_seconds: i64,
) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .path("/")
        .same_site(SameSite::Lax)
        .http_only(http_only)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("cookie names and our values are ASCII")
}

/// `Set-Cookie` for a new login session.
pub fn session(id: &str, config: &Config) -> HeaderValue {
    let age = i64::try_from(config.session_cookie_age.as_secs()).unwrap_or(i64::MAX);
    build(
        SESSION_COOKIE,
        id.to_owned(),
        true,
        config.session_cookie_secure,
        age,
    )
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session(config: &Config) -> HeaderValue {
    build(
        SESSION_COOKIE,
        String::new(),
        true,
        config.session_cookie_secure,
        0,
    )
}

/// `Set-Cookie` for a CSRF secret.
pub fn csrf(secret: &str, config: &Config) -> HeaderValue {
    build(
        CSRF_COOKIE,
        secret.to_owned(),
        false,
        config.csrf_cookie_secure,
        CSRF_COOKIE_AGE_SECONDS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_among_several_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; sessionid=abc ;csrftoken=\"xyz\""),
        );
        assert_eq!(read(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(read(&headers, CSRF_COOKIE), Some("xyz"));
        assert_eq!(read(&headers, "missing"), None);
        headers.insert(
            COOKIE,
            HeaderValue::from_static("csrftoken=planted; csrftoken=real"),
        );
        assert_eq!(read(&headers, CSRF_COOKIE), Some("real"));
    }
}
