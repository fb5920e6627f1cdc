//! Fairdata SSO over HTTP with real HS256 session cookies: the end user's whole path (cookie →
//! token with CSRF → Bearer elsewhere), creation and sync of the user, every refusal (which
//! changes nothing), expiry, configuration errors, and the login and logout redirects.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use metax_auth::accounts::Role;
use metax_auth::store::StoreError;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Browser, PASSWORD, Request, TestServer};

const COOKIE: &str = "fd_sso_session";
const KEY: &str = "sso-test-secret-key";
const SSO: &[(&str, &str)] = &[
    ("ENABLE_SSO_AUTH", "True"),
    ("SSO_HOST", "https://sso.example.org"),
    ("SSO_SESSION_COOKIE", COOKIE),
    ("SSO_SECRET_KEY", KEY),
    ("SSO_METAX_SERVICE_NAME", "METAX"),
];

/// A session for `fd_teppo3` (Metax's test fixture), changed by `edit`.
fn session(edit: impl FnOnce(&mut Value)) -> String {
    let now = chrono::Utc::now();
    let mut claims = json!({
        "authenticated_user": { "id": "fd_teppo3", "firstname": "Teppo", "lastname": "Läst", "email": "teppo@example.org",
                                "organization": { "id": "csc.fi" } },
        "fairdata_user": { "id": "fd_teppo3", "locked": false },
        "initiated": (now - chrono::Duration::minutes(5)).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "exp": (now + chrono::Duration::hours(1)).timestamp(),
        "services": { "IDA": { "projects": ["fd_teppo3_project"] }, "QVAIN": { "admin_organizations": ["csc.fi"] } },
    });
    edit(&mut claims);
    sign(&claims, KEY)
}

fn sign(claims: &Value, key: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// Logs in with an SSO session cookie (`GET /v3/auth/user`) and returns a request carrying the
/// session and the rotated CSRF cookie, with the token in `X-CSRFToken`, as a Metax UI sends it.
async fn logged_in(browser: &Browser, cookie: &str) -> Request {
    let me = browser
        .send(Method::GET, "/v3/auth/user", with_session(cookie))
        .await;
    let secret = me
        .cookie_value("csrftoken")
        .expect("a new SSO login sets the CSRF cookie");
    Request::new()
        .header("Cookie", format!("{COOKIE}={cookie}; csrftoken={secret}"))
        .header("X-CSRFToken", secret)
}

fn with_session(cookie: &str) -> Request {
    Request::new().header("Cookie", format!("{COOKIE}={cookie}"))
}

#[tokio::test]
async fn end_user_makes_a_token_through_sso_and_uses_it_elsewhere() {
    let server = TestServer::start_with(SSO).await;
    let browser = server.browser();
    let cookie = session(|_| {});
    let me = browser
        .send(Method::GET, "/v3/auth/user", with_session(&cookie))
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    let body = me.json();
    assert_eq!(body["username"], "fd_teppo3");
    assert_eq!(body["csc_projects"], json!(["fd_teppo3_project"]));
    assert_eq!(body["groups"], json!(["fairdata_users"]));
    assert_eq!(body["organization"], "csc.fi");
    let csrf_secret = me
        .cookie_value("csrftoken")
        .expect("a new SSO login rotates the CSRF cookie");
    let masked = body["metax_csrf_token"].as_str().unwrap().to_owned();

    let refused = browser
        .send(Method::POST, "/v3/auth/tokens", with_session(&cookie))
        .await;
    assert_eq!(
        refused.json(),
        json!({ "detail": "CSRF Failed: CSRF cookie not set." }),
        "SSO cookie requests need CSRF"
    );
    let cookies = format!("{COOKIE}={cookie}; csrftoken={csrf_secret}");
    let created = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new()
                .header("Cookie", &cookies)
                .header("X-CSRFToken", &masked),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let token = created.json()["token"].as_str().unwrap().to_owned();

    let elsewhere = server
        .browser()
        .send(Method::GET, "/v3/auth/user", Request::new().bearer(&token))
        .await;
    assert_eq!(elsewhere.json()["username"], "fd_teppo3");
    assert_eq!(
        elsewhere.json()["csc_projects"],
        json!(["fd_teppo3_project"])
    );
    let again = browser
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().header("Cookie", &cookies),
        )
        .await;
    assert!(
        again.set_cookie("csrftoken").is_none(),
        "the same SSO session is no new login"
    );
    let user = server.store.user_by_username("fd_teppo3").await.unwrap();
    assert_eq!(user.password, None, "SSO users get no usable password");
    let basic = server
        .browser()
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().basic("fd_teppo3", ""),
        )
        .await;
    assert_eq!(basic.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn refused_sessions_change_nothing_and_say_why() {
    let server = TestServer::start_with(SSO).await;
    let client = server.browser();
    let cases: Vec<(String, &str, &str)> = vec![
        (
            sign(
                &json!({ "exp": chrono::Utc::now().timestamp() + 60 }),
                "wrong-key",
            ),
            "Signature verification failed",
            "authentication_failed",
        ),
        (
            session(|claims| claims["fairdata_user"]["id"] = Value::Null),
            "Missing user identifier.",
            "missing_fairdata_user_id",
        ),
        (
            session(|claims| claims["authenticated_user"]["organization"] = json!({})),
            "Missing organization identifier.",
            "missing_organization_id",
        ),
        (
            session(|claims| claims["fairdata_user"]["locked"] = json!(true)),
            "User account has been deactivated.",
            "fairdata_user_locked",
        ),
        (
            session(|claims| claims["fairdata_user"] = json!({ "id": "fd_teppo3" })),
            "User account has been deactivated.",
            "fairdata_user_locked",
        ),
        (
            session(|claims| {
                claims.as_object_mut().unwrap().remove("exp");
            }),
            "Token is missing the \"exp\" claim",
            "authentication_failed",
        ),
        (
            session(|claims| claims["nbf"] = json!(chrono::Utc::now().timestamp() + 600)),
            "The token is not yet valid (nbf)",
            "authentication_failed",
        ),
        (
            session(|claims| claims["iat"] = json!("soon")),
            "Issued At claim (iat) must be an integer.",
            "authentication_failed",
        ),
        (
            "garbage".to_owned(),
            "Invalid token",
            "authentication_failed",
        ),
    ];
    for (cookie, detail, code) in cases {
        let response = client
            .send(Method::GET, "/v3/auth/user", with_session(&cookie))
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{detail}");
        assert_eq!(response.json(), json!({ "detail": detail, "code": code }));
    }
    assert!(
        matches!(
            server.store.user_by_username("fd_teppo3").await,
            Err(StoreError::NotFound)
        ),
        "no user was created"
    );

    let ok = client
        .send(Method::GET, "/v3/auth/user", with_session(&session(|_| {})))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let locked_later = session(|claims| {
        claims["fairdata_user"]["locked"] = json!(true);
        claims["initiated"] = json!(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string());
    });
    let refused = client
        .send(Method::GET, "/v3/auth/user", with_session(&locked_later))
        .await;
    assert_eq!(refused.json()["code"], "fairdata_user_locked");
    assert!(
        server
            .store
            .user_by_username("fd_teppo3")
            .await
            .unwrap()
            .is_active,
        "a refused session does not lock the stored user"
    );
}

#[tokio::test]
async fn expired_or_disabled_sso_is_anonymous() {
    let expired = session(|claims| claims["exp"] = json!(chrono::Utc::now().timestamp() - 1));
    let server = TestServer::start_with(SSO).await;
    let response = server
        .browser()
        .send(Method::GET, "/v3/auth/user", with_session(&expired))
        .await;
    assert_eq!(
        response.json(),
        json!({ "detail": "Authentication credentials were not provided." })
    );
    let off = TestServer::start().await;
    let response = off
        .browser()
        .send(Method::GET, "/v3/auth/user", with_session(&session(|_| {})))
        .await;
    assert_eq!(
        response.json(),
        json!({ "detail": "Authentication credentials were not provided." })
    );
}

#[tokio::test]
async fn details_sync_only_from_a_newer_login() {
    let server = TestServer::start_with(SSO).await;
    let client = server.browser();
    client
        .send(Method::GET, "/v3/auth/user", with_session(&session(|_| {})))
        .await;
    let same_login = session(|claims| claims["services"]["IDA"]["projects"] = json!(["other"]));
    let me = client
        .send(Method::GET, "/v3/auth/user", with_session(&same_login))
        .await
        .json();
    assert_eq!(
        me["csc_projects"],
        json!(["fd_teppo3_project"]),
        "same initiated: no sync"
    );
    let newer = session(|claims| {
        claims["services"]["IDA"]["projects"] = json!(["other"]);
        claims["initiated"] = json!(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string());
    });
    let me = client
        .send(Method::GET, "/v3/auth/user", with_session(&newer))
        .await;
    assert_eq!(me.json()["csc_projects"], json!(["other"]));
    assert!(
        me.set_cookie("csrftoken").is_some(),
        "a new login rotates the CSRF cookie"
    );
}

#[tokio::test]
async fn incomplete_sso_settings_break_every_api_request() {
    let server =
        TestServer::start_with(&[("ENABLE_SSO_AUTH", "True"), ("SSO_SESSION_COOKIE", COOKIE)])
            .await;
    server.user("teppo", Role::User).await;
    let client = server.browser();
    for request in [Request::new(), Request::new().basic("teppo", PASSWORD)] {
        let response = client.send(Method::GET, "/v3/auth/user", request).await;
        assert_eq!(
            response.json(),
            json!({ "detail": "SSO configuration error.", "code": "invalid_sso_configuration" })
        );
    }
    let login = client.get("/v3/auth/login").await;
    assert_eq!(login.json()["code"], "invalid_sso_configuration");
}

#[tokio::test]
async fn login_and_logout_redirect_through_the_sso() {
    let server = TestServer::start_with(SSO).await;
    let client = server.browser();
    let host = server.base.trim_start_matches("http://").to_owned();
    let login = client
        .send(
            Method::GET,
            "/v3/auth/login?next=/v3/auth/tokens",
            Request::new(),
        )
        .await;
    assert_eq!(login.status, StatusCode::FOUND);
    let expected = format!(
        "https://sso.example.org/login?service=METAX&redirect_url=http%3A%2F%2F{}%2Fv3%2Fauth%2Ftokens&language=en",
        host.replace(':', "%3A")
    );
    assert_eq!(login.header("location"), expected);
    let outside = client
        .send(
            Method::GET,
            "/v3/auth/login?next=https://evil.example/",
            Request::new().header("Accept-Language", "fi-FI,fi;q=0.9"),
        )
        .await;
    assert!(
        outside.header("location").ends_with(&format!(
            "redirect_url=http%3A%2F%2F{}%2Fv3%2F&language=fi",
            host.replace(':', "%3A")
        )),
        "{}",
        outside.header("location")
    );

    let cookie = session(|_| {});
    let request = logged_in(&client, &cookie).await;
    let logout = client.send(Method::POST, "/v3/auth/logout", request).await;
    assert_eq!(logout.status, StatusCode::FOUND);
    assert!(
        logout
            .header("location")
            .starts_with("https://sso.example.org/logout?service=METAX&redirect_url=http%3A%2F%2F"),
        "{}",
        logout.header("location")
    );

    let page = server
        .browser()
        .send(Method::GET, "/v3/auth/tokens", Request::new().html())
        .await;
    assert!(page.text.contains("Log in with Fairdata SSO"));
    let off = TestServer::start().await;
    let login = off.browser().get("/v3/auth/login").await;
    assert_eq!(
        (login.status, login.json()),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({ "detail": "Method \"GET\" not allowed." })
        )
    );
}

/// A posted form's fields.
type Form = Vec<(String, String)>;

/// A stand-in for the SSO's `user_status` on loopback: answers what the test sets, slowly or
/// with an error if asked, and records the forms it received.
#[derive(Clone, Default)]
struct FakeSso {
    answer: std::sync::Arc<std::sync::Mutex<(StatusCode, Value, u64)>>,
    calls: std::sync::Arc<std::sync::Mutex<Vec<Form>>>,
}

impl FakeSso {
    async fn start(&self) -> String {
        let fake = self.clone();
        let app = axum::Router::new().route(
            "/user_status",
            axum::routing::post(move |body: String| {
                let fake = fake.clone();
                async move {
                    fake.calls.lock().unwrap().push(
                        form_urlencoded::parse(body.as_bytes())
                            .into_owned()
                            .collect(),
                    );
                    let (status, answer, delay) = fake.answer.lock().unwrap().clone();
                    tokio::time::sleep(std::time::Duration::from_secs(delay)).await;
                    (status, axum::Json(answer))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    }

    fn answer(&self, status: StatusCode, body: Value, delay_seconds: u64) {
        *self.answer.lock().unwrap() = (status, body, delay_seconds);
    }

    fn call_count(&self) -> usize {
        self.calls.lock().unwrap().len()
    }
}

#[tokio::test]
async fn fairdata_users_of_other_schemes_are_rechecked_after_eight_hours() {
    let fake = FakeSso::default();
    let sso_host = fake.start().await;
    let mut settings = SSO.to_vec();
    settings.retain(|(name, _)| *name != "SSO_HOST");
    settings.extend([
        ("SSO_HOST", sso_host.as_str()),
        ("SSO_TRUSTED_SERVICE_TOKEN", "trusted-token"),
    ]);
    let server = TestServer::start_with(&settings).await;
    let cookie = session(|_| {});
    let browser = server.browser();
    let request = logged_in(&browser, &cookie).await;
    let created = browser.send(Method::POST, "/v3/auth/tokens", request).await;
    let token = created.json()["token"].as_str().unwrap().to_owned();
    let client = server.browser();
    let whoami = || client.send(Method::GET, "/v3/auth/user", Request::new().bearer(&token));

    assert_eq!(whoami().await.status, StatusCode::OK);
    assert_eq!(fake.call_count(), 0, "synced minutes ago: no call");

    server
        .clock
        .advance(std::time::Duration::from_secs(9 * 3600));
    fake.answer(
        StatusCode::OK,
        json!({ "email": "new@example.org", "locked": false, "projects": ["new_project"] }),
        0,
    );
    let synced = whoami().await;
    assert_eq!(synced.json()["csc_projects"], json!(["new_project"]));
    assert_eq!(fake.call_count(), 1);
    let form = fake.calls.lock().unwrap()[0].clone();
    assert!(
        form.contains(&("id".into(), "fd_teppo3".into()))
            && form.contains(&("token".into(), "trusted-token".into())),
        "{form:?}"
    );
    whoami().await;
    assert_eq!(fake.call_count(), 1, "just synced: no call");

    for (status, delay) in [(StatusCode::OK, 5), (StatusCode::INTERNAL_SERVER_ERROR, 0)] {
        server
            .clock
            .advance(std::time::Duration::from_secs(9 * 3600));
        fake.answer(
            status,
            json!({ "email": "x", "locked": true, "projects": [] }),
            delay,
        );
        let started = std::time::Instant::now();
        let response = whoami().await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "a slow or failing SSO does not fail an active user ({status}, {delay}s)"
        );
        assert_eq!(response.json()["csc_projects"], json!(["new_project"]));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "bounded by the timeout: {:?}",
            started.elapsed()
        );
    }

    fake.answer(
        StatusCode::OK,
        json!({ "email": "x", "locked": true, "projects": [] }),
        0,
    );
    let locked = whoami().await;
    assert_eq!(
        locked.json(),
        json!({ "detail": "User account has been deactivated.", "code": "fairdata_user_locked" })
    );
}

#[tokio::test]
async fn sso_users_get_a_drf_token_when_saved_if_enabled() {
    let mut settings = SSO.to_vec();
    settings.push(("ENABLE_DRF_TOKEN_AUTH", "True"));
    let server = TestServer::start_with(&settings).await;
    server
        .browser()
        .send(Method::GET, "/v3/auth/user", with_session(&session(|_| {})))
        .await;
    let (tokens, _) = server
        .store
        .list_drf_tokens("fd_teppo3", 0, 10)
        .await
        .unwrap();
    assert_eq!(tokens.len(), 1, "created with the user");
    let me = server
        .browser()
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().header("Authorization", format!("Token {}", tokens[0].key)),
        )
        .await;
    assert_eq!(me.json()["username"], "fd_teppo3");
}

#[tokio::test]
async fn the_token_page_of_a_new_sso_login_carries_the_rotated_csrf_token() {
    let server = TestServer::start_with(SSO).await;
    let browser = server.browser();
    let cookie = session(|_| {});
    let old_secret = "a".repeat(32);
    let page = browser
        .send(
            Method::GET,
            "/v3/auth/tokens",
            Request::new()
                .header(
                    "Cookie",
                    format!("{COOKIE}={cookie}; csrftoken={old_secret}"),
                )
                .html(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let secret = page
        .cookie_value("csrftoken")
        .expect("the new login rotates the cookie");
    let form_token = page.hidden_input("csrfmiddlewaretoken").unwrap();
    let created = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new()
                .header("Cookie", format!("{COOKIE}={cookie}; csrftoken={secret}"))
                .html()
                .form(&[("csrfmiddlewaretoken", &form_token)]),
        )
        .await;
    assert_eq!(
        created.status,
        StatusCode::OK,
        "the page's form matches the new cookie: {}",
        created.text
    );
    assert!(created.text.contains("id=\"new-token\""));
}
