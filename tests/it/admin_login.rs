//! The admin login form and the session it starts: CSRF on the form, wrong passwords, staff
//! only, cookie attributes, session and CSRF rotation, and the CSRF rules for requests that the
//! session cookie authenticates.

use metax_auth::accounts::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{PASSWORD, Request, TestServer};

#[tokio::test]
async fn admin_redirects_to_login_and_the_form_logs_in() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let browser = server.browser();

    let index = browser.get("/v3/admin/").await;
    assert_eq!(index.status, StatusCode::FOUND);
    assert_eq!(
        index.header("location"),
        "/v3/admin/login/?next=%2Fv3%2Fadmin%2F"
    );
    assert_eq!(
        browser.get("/v3/admin").await.header("location"),
        "/v3/admin/"
    );

    let form = browser.get("/v3/admin/login/?next=/v3/admin/").await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.header("content-type"), "text/html; charset=utf-8");
    for field in [
        "name=\"username\"",
        "name=\"password\"",
        "name=\"csrfmiddlewaretoken\"",
    ] {
        assert!(form.text.contains(field), "login form lacks {field}");
    }
    let csrf_cookie = form
        .set_cookie("csrftoken")
        .expect("login page sets csrftoken");
    assert!(
        !csrf_cookie.contains("HttpOnly"),
        "scripts can read csrftoken: {csrf_cookie}"
    );
    let before = browser.cookie("csrftoken").unwrap();
    assert_eq!(before.len(), 32);

    let response = browser.log_in("admin", PASSWORD).await;
    assert_eq!(response.status, StatusCode::FOUND);
    assert_eq!(response.header("location"), "/v3/admin/");
    let session = response.set_cookie("sessionid").expect("sessionid set");
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
            && session.contains("Path=/"),
        "{session}"
    );
    assert_ne!(
        browser.cookie("csrftoken").unwrap(),
        before,
        "csrftoken rotated on login"
    );

    let index = browser.get("/v3/admin/").await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(index.text.contains("admin"));
    assert!(index.text.contains("href=\"/v3/auth/tokens\""));
    assert!(
        server
            .store
            .user_by_username("admin")
            .await
            .unwrap()
            .last_login
            .is_some()
    );
}

#[tokio::test]
async fn wrong_password_non_staff_and_inactive_get_the_form_again() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    server.user("teppo", Role::User).await;
    for (username, password) in [
        ("admin", "wrong"),
        ("teppo", PASSWORD),
        ("nobody", PASSWORD),
        ("", ""),
    ] {
        let browser = server.browser();
        let response = browser.log_in(username, password).await;
        assert_eq!(response.status, StatusCode::OK, "{username}");
        assert!(
            response
                .text
                .contains("Please enter the correct username and password for a staff account.")
        );
        assert!(response.text.contains("name=\"password\""));
        assert!(response.set_cookie("sessionid").is_none());
        assert_eq!(browser.get("/v3/admin/").await.status, StatusCode::FOUND);
    }
}

#[tokio::test]
async fn login_without_csrf_is_refused_with_403() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let browser = server.browser();
    browser.get("/v3/admin/login/").await;
    let fields = [("username", "admin"), ("password", PASSWORD)];
    let missing = browser
        .send(
            Method::POST,
            "/v3/admin/login/",
            Request::new().form(&fields),
        )
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(
        missing.text.contains("CSRF token missing."),
        "{}",
        missing.text
    );
    let wrong = browser
        .send(
            Method::POST,
            "/v3/admin/login/",
            Request::new().form(&[
                fields[0],
                fields[1],
                ("csrfmiddlewaretoken", &"a".repeat(64)),
            ]),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.text.contains("CSRF token from POST incorrect."));
    let stranger = server.browser();
    let no_cookie = stranger
        .send(
            Method::POST,
            "/v3/admin/login/",
            Request::new().form(&[
                fields[0],
                fields[1],
                ("csrfmiddlewaretoken", &"a".repeat(32)),
            ]),
        )
        .await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    assert!(no_cookie.text.contains("CSRF cookie not set."));
    assert!(missing.set_cookie("sessionid").is_none() && wrong.set_cookie("sessionid").is_none());
}

#[tokio::test]
async fn next_is_followed_only_when_local() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    for (next, expected) in [
        ("/v3/auth/tokens", "/v3/auth/tokens"),
        ("https://evil.example/", "/v3/admin/"),
        ("//evil.example", "/v3/admin/"),
    ] {
        let browser = server.browser();
        let page = browser.get("/v3/admin/login/").await;
        let csrf = page.hidden_input("csrfmiddlewaretoken").unwrap();
        let response = browser
            .send(
                Method::POST,
                "/v3/admin/login/",
                Request::new().form(&[
                    ("username", "admin"),
                    ("password", PASSWORD),
                    ("csrfmiddlewaretoken", &csrf),
                    ("next", next),
                ]),
            )
            .await;
        assert_eq!(response.header("location"), expected, "next={next}");
    }
}

#[tokio::test]
async fn session_requests_need_csrf_on_unsafe_methods_only() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let browser = server.admin_browser("admin").await;

    assert_eq!(
        browser.get("/v3/auth/tokens").await.status,
        StatusCode::OK,
        "safe methods need no CSRF token"
    );
    let missing = browser
        .send(Method::POST, "/v3/auth/tokens", Request::new())
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert_eq!(
        missing.json(),
        json!({ "detail": "CSRF Failed: CSRF token missing." })
    );
    let wrong = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new().header("X-CSRFToken", "b".repeat(32)),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(
        wrong.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("CSRF Failed: ")
    );
    let foreign = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            browser
                .with_csrf(Request::new())
                .header("Origin", "https://evil.example")
                .header("Sec-Fetch-Site", "same-origin"),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let cross_site = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            browser
                .with_csrf(Request::new())
                .header("Origin", "https://evil.example")
                .header("Sec-Fetch-Site", "cross-site"),
        )
        .await;
    assert_eq!(
        cross_site.json(),
        json!({ "detail": "Authentication credentials were not provided." }),
        "cross-origin requests do not see the session cookie (Metax's SameOriginCookiesMiddleware)"
    );
    assert!(
        foreign.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("CSRF Failed: Origin checking failed")
    );
    let foreign_without_fetch_site = browser
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().header("Origin", "https://evil.example"),
        )
        .await;
    assert_eq!(
        foreign_without_fetch_site.json(),
        json!({ "detail": "Authentication credentials were not provided." }),
        "another Origin without Sec-Fetch-Site is cross-origin"
    );
    assert_eq!(
        browser
            .send(Method::GET, "/v3/auth/tokens", Request::new())
            .await
            .json(),
        json!([]),
        "refused creates stored nothing"
    );
    // Browsers and proxies that send no Sec-Fetch-Site: the request's own origin keeps the
    // session.
    let own_origin = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            browser
                .with_csrf(Request::new())
                .header("Origin", &server.base),
        )
        .await;
    assert_eq!(own_origin.status, StatusCode::OK, "{}", own_origin.text);

    let with_cookie_value = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            browser.with_csrf(Request::new()),
        )
        .await;
    assert_eq!(
        with_cookie_value.status,
        StatusCode::OK,
        "{}",
        with_cookie_value.text
    );
    let masked = browser.get("/v3/auth/user").await.json()["metax_csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let with_masked = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new().header("X-CSRFToken", &masked),
        )
        .await;
    assert_eq!(with_masked.status, StatusCode::OK);
    let with_field = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new().form(&[("csrfmiddlewaretoken", &masked)]),
        )
        .await;
    assert_eq!(with_field.status, StatusCode::OK);
    let prefix = with_field.json()["prefix"].as_str().unwrap().to_owned();
    let delete_without = browser
        .send(
            Method::DELETE,
            &format!("/v3/auth/tokens?prefix={prefix}"),
            Request::new(),
        )
        .await;
    assert_eq!(delete_without.status, StatusCode::FORBIDDEN);
    let delete_with = browser
        .send(
            Method::DELETE,
            &format!("/v3/auth/tokens?prefix={prefix}"),
            browser.with_csrf(Request::new()),
        )
        .await;
    assert_eq!(delete_with.status, StatusCode::SEE_OTHER);
    assert_eq!(
        browser
            .get("/v3/auth/tokens")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        3,
        "four made (own Origin, cookie value, masked header, form field), one deleted"
    );

    browser.forget_cookie("csrftoken");
    let no_cookie = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new().header("X-CSRFToken", &masked),
        )
        .await;
    assert_eq!(
        no_cookie.json(),
        json!({ "detail": "CSRF Failed: CSRF cookie not set." })
    );
}

#[tokio::test]
async fn user_endpoint_sets_csrf_cookie_for_cookie_clients() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let browser = server.admin_browser("admin").await;
    browser.forget_cookie("csrftoken");
    let me = browser.get("/v3/auth/user").await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(
        me.set_cookie("csrftoken").is_some(),
        "authenticated GET /v3/auth/user sets csrftoken"
    );
    let created = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new().header(
                "X-CSRFToken",
                me.json()["metax_csrf_token"].as_str().unwrap(),
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let browser = server.admin_browser("admin").await;
    let old_session = browser.cookie("sessionid").unwrap();
    let refused = browser
        .send(Method::POST, "/v3/auth/logout", Request::new())
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "logout is CSRF-checked"
    );
    let response = browser
        .send(
            Method::POST,
            "/v3/auth/logout",
            browser.with_csrf(Request::new()),
        )
        .await;
    assert_eq!(response.status, StatusCode::FOUND);
    assert_eq!(response.header("location"), "/");
    assert_eq!(browser.get("/v3/admin/").await.status, StatusCode::FOUND);
    let replay = server.browser();
    let stolen = replay
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().header("Cookie", format!("sessionid={old_session}")),
        )
        .await;
    assert_eq!(
        stolen.status,
        StatusCode::FORBIDDEN,
        "the old session id is dead server-side"
    );
}

#[tokio::test]
async fn logging_in_again_replaces_the_old_session() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let browser = server.admin_browser("admin").await;
    let first = browser.cookie("sessionid").unwrap();
    let csrf = browser.cookie("csrftoken").unwrap();
    let again = browser
        .send(
            Method::POST,
            "/v3/admin/login/",
            Request::new().form(&[
                ("username", "admin"),
                ("password", PASSWORD),
                ("csrfmiddlewaretoken", &csrf),
            ]),
        )
        .await;
    assert_eq!(again.status, StatusCode::FOUND);
    let second = browser.cookie("sessionid").unwrap();
    assert_ne!(first, second);
    let old = server
        .browser()
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().header("Cookie", format!("sessionid={first}")),
        )
        .await;
    assert_eq!(old.status, StatusCode::FORBIDDEN);
}
