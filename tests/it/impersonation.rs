//! Impersonation over HTTP (django-hijack's rules, then stricter): who may, whom, the refused
//! cases with their statuses, session rotation, the banner, tokens made while impersonating,
//! the re-check of the impersonator on every request, and the audit log.

use metax_auth::accounts::Role;
use metax_auth::store::UserChanges;
use reqwest::{Method, StatusCode};

use crate::support::{Browser, Request, Response, TestServer};

/// Posts the Impersonate form as the users table does.
async fn acquire(browser: &Browser, user_pk: &str) -> Response {
    let csrf = browser.cookie("csrftoken").unwrap();
    let form = [
        ("user_pk", user_pk),
        ("next", "/"),
        ("csrfmiddlewaretoken", &csrf),
    ];
    browser
        .send(
            Method::POST,
            "/v3/hijack/acquire/",
            Request::new().form(&form),
        )
        .await
}

async fn release(browser: &Browser) -> Response {
    let csrf = browser.cookie("csrftoken").unwrap();
    browser
        .send(
            Method::POST,
            "/v3/hijack/release/",
            Request::new().form(&[("csrfmiddlewaretoken", &csrf)]),
        )
        .await
}

#[tokio::test]
async fn superuser_impersonates_makes_a_token_for_the_user_and_stops() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let bob = server.user("bob", Role::User).await;
    let browser = server.admin_browser("admin").await;
    let session_before = browser.cookie("sessionid").unwrap();
    let csrf_before = browser.cookie("csrftoken").unwrap();

    let acquired = acquire(&browser, &bob.id.to_string()).await;
    assert_eq!(acquired.status, StatusCode::FOUND, "{}", acquired.text);
    assert_eq!(acquired.header("location"), "/");
    assert_ne!(
        browser.cookie("sessionid").unwrap(),
        session_before,
        "session id rotated on acquire"
    );
    assert_ne!(
        browser.cookie("csrftoken").unwrap(),
        csrf_before,
        "CSRF secret rotated on acquire"
    );

    let front = browser.send(Method::GET, "/", Request::new().html()).await;
    assert!(
        front
            .text
            .contains("You are logged in as <strong>bob</strong>"),
        "{}",
        front.text
    );
    assert!(
        front
            .text
            .contains("You are impersonating <strong>bob</strong>")
    );
    assert!(
        front.text.contains("action=\"/v3/hijack/release/\"")
            && front.text.contains("Stop impersonating")
    );

    let me = browser.get("/v3/auth/user").await;
    assert_eq!(me.json()["username"], "bob");
    let created = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            browser.with_csrf(Request::new()),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let token = created.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(
        created.json()["impersonator"],
        serde_json::Value::Null,
        "create answers Metax's fields"
    );
    let listed = browser.get("/v3/auth/tokens").await.json();
    assert_eq!(
        listed[0]["impersonator"], "admin",
        "the list says who impersonated"
    );
    let page = browser
        .send(Method::GET, "/v3/auth/tokens", Request::new().html())
        .await;
    assert!(page.text.contains("<td>admin</td>"));
    assert!(
        page.text.contains("Stop impersonating"),
        "the banner is on every page"
    );

    let as_bob = server
        .browser()
        .send(Method::GET, "/v3/auth/user", Request::new().bearer(&token))
        .await;
    assert_eq!(
        as_bob.json()["username"],
        "bob",
        "the token authenticates as the impersonated user"
    );

    let session_impersonating = browser.cookie("sessionid").unwrap();
    let released = release(&browser).await;
    assert_eq!(released.status, StatusCode::FOUND);
    assert_eq!(released.header("location"), "/v3/admin/users/");
    assert_ne!(
        browser.cookie("sessionid").unwrap(),
        session_impersonating,
        "session id rotated on release"
    );
    assert_eq!(
        browser.get("/v3/auth/user").await.json()["username"],
        "admin"
    );
    let users = browser
        .send(Method::GET, "/v3/admin/users/", Request::new().html())
        .await;
    assert!(!users.text.contains("You are impersonating"));

    let log = browser
        .send(
            Method::GET,
            "/v3/admin/impersonations/",
            Request::new().html(),
        )
        .await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.text.contains("<td>acquire</td>") && log.text.contains("<td>release</td>"));
    assert!(log.text.contains("<td>127.0.0.1</td>"));
    let events = server.store.impersonation_events(0, 10).await.unwrap().0;
    assert_eq!(events.len(), 2);
    assert_eq!(
        (events[1].impersonator.as_str(), events[1].target.as_str()),
        ("admin", "bob")
    );
}

#[tokio::test]
async fn refused_impersonations_answer_with_the_right_status_and_change_nothing() {
    let server = TestServer::start().await;
    let admin = server.user("admin", Role::Superuser).await;
    let other_admin = server.user("root2", Role::Superuser).await;
    let bob = server.user("bob", Role::User).await;
    let staff = server.staff_user("staffer").await;
    let inactive = server.user("gone", Role::User).await;
    server
        .store
        .update_user(inactive.id, &UserChanges::default())
        .await
        .unwrap();

    let browser = server.admin_browser("admin").await;
    let session = browser.cookie("sessionid").unwrap();
    for (user_pk, status) in [
        (admin.id.to_string(), StatusCode::FORBIDDEN),
        (other_admin.id.to_string(), StatusCode::FORBIDDEN),
        (inactive.id.to_string(), StatusCode::FORBIDDEN),
        ("999999".to_owned(), StatusCode::NOT_FOUND),
        ("abc".to_owned(), StatusCode::BAD_REQUEST),
        (String::new(), StatusCode::BAD_REQUEST),
    ] {
        let response = acquire(&browser, &user_pk).await;
        assert_eq!(
            response.status, status,
            "user_pk={user_pk:?}: {}",
            response.text
        );
    }
    assert_eq!(
        browser.cookie("sessionid").unwrap(),
        session,
        "no refused acquire touched the session"
    );
    assert_eq!(
        browser.get("/v3/auth/user").await.json()["username"],
        "admin"
    );

    let no_csrf = browser
        .send(
            Method::POST,
            "/v3/hijack/acquire/",
            Request::new().form(&[("user_pk", &bob.id.to_string())]),
        )
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/v3/hijack/acquire/").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        browser.get("/v3/hijack/release/").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        release(&browser).await.status,
        StatusCode::FORBIDDEN,
        "release when not impersonating"
    );

    let staff_browser = server.admin_browser("staffer").await;
    assert_eq!(
        acquire(&staff_browser, &bob.id.to_string()).await.status,
        StatusCode::FORBIDDEN,
        "staff but not superuser"
    );
    let anonymous = server.browser();
    anonymous.get("/v3/admin/login/").await;
    assert_eq!(
        acquire(&anonymous, &bob.id.to_string()).await.status,
        StatusCode::FORBIDDEN
    );

    assert_eq!(
        acquire(&browser, &bob.id.to_string()).await.status,
        StatusCode::FOUND
    );
    assert_eq!(
        acquire(&browser, &staff.id.to_string()).await.status,
        StatusCode::FORBIDDEN,
        "no second impersonation"
    );
    assert_eq!(
        server.store.impersonation_events(0, 10).await.unwrap().1,
        1,
        "only the one acquire was audited"
    );
}

#[tokio::test]
async fn superusers_can_be_impersonated_only_when_allowed() {
    let server = TestServer::start_with(&[("HIJACK_ALLOW_SUPERUSERS", "True")]).await;
    server.user("admin", Role::Superuser).await;
    let other = server.user("root2", Role::Superuser).await;
    let browser = server.admin_browser("admin").await;
    assert_eq!(
        acquire(&browser, &other.id.to_string()).await.status,
        StatusCode::FOUND
    );
}

#[tokio::test]
async fn impersonation_ends_when_the_impersonator_loses_superuser() {
    let server = TestServer::start().await;
    let admin = server.user("admin", Role::Superuser).await;
    let bob = server.user("bob", Role::User).await;
    let browser = server.admin_browser("admin").await;
    assert_eq!(
        acquire(&browser, &bob.id.to_string()).await.status,
        StatusCode::FOUND
    );
    assert_eq!(browser.get("/v3/auth/user").await.status, StatusCode::OK);

    server.demote(&admin).await;
    let after = browser.get("/v3/auth/user").await;
    assert_eq!(
        after.status,
        StatusCode::FORBIDDEN,
        "the session became anonymous"
    );
    assert_eq!(
        browser.get("/v3/auth/user").await.status,
        StatusCode::FORBIDDEN,
        "and stays so"
    );
    let events = server.store.impersonation_events(0, 10).await.unwrap().0;
    assert_eq!(events[0].action, "ended");
}

#[tokio::test]
async fn logging_out_while_impersonating_ends_both() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let bob = server.user("bob", Role::User).await;
    let browser = server.admin_browser("admin").await;
    acquire(&browser, &bob.id.to_string()).await;
    let logout = browser
        .send(
            Method::POST,
            "/v3/auth/logout",
            browser.with_csrf(Request::new()),
        )
        .await;
    assert_eq!(logout.status, StatusCode::FOUND);
    assert_eq!(
        browser.get("/v3/auth/user").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        browser.get("/v3/admin/").await.status,
        StatusCode::FOUND,
        "not the admin either"
    );
}

#[tokio::test]
async fn release_follows_only_a_local_next() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let bob = server.user("bob", Role::User).await;
    for (next, expected) in [
        ("/v3/auth/tokens", "/v3/auth/tokens"),
        ("https://evil.example/", "/v3/admin/users/"),
        ("//evil", "/v3/admin/users/"),
    ] {
        let browser = server.admin_browser("admin").await;
        acquire(&browser, &bob.id.to_string()).await;
        let csrf = browser.cookie("csrftoken").unwrap();
        let response = browser
            .send(
                Method::POST,
                "/v3/hijack/release/",
                Request::new().form(&[("csrfmiddlewaretoken", &csrf), ("next", next)]),
            )
            .await;
        assert_eq!(response.header("location"), expected, "next={next}");
    }
}

#[tokio::test]
async fn tokens_made_while_impersonating_end_with_the_impersonators_right_and_pass_the_mark_on() {
    let server = TestServer::start().await;
    let admin = server.user("admin", Role::Superuser).await;
    let bob = server.user("bob", Role::User).await;
    let browser = server.admin_browser("admin").await;
    acquire(&browser, &bob.id.to_string()).await;
    let first = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            browser.with_csrf(Request::new()),
        )
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = server.browser();
    let second = client
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new().bearer(&first),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK);
    let second = second.json()["token"].as_str().unwrap().to_owned();
    let listed = client
        .send(
            Method::GET,
            "/v3/auth/tokens",
            Request::new().bearer(&second),
        )
        .await
        .json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|token| token["impersonator"] == "admin"),
        "no laundering: {listed}"
    );

    server.demote(&admin).await;
    for token in [&first, &second] {
        let refused = client
            .send(Method::GET, "/v3/auth/user", Request::new().bearer(token))
            .await;
        assert_eq!(
            refused.json()["detail"],
            "Invalid token.",
            "the impersonator is no longer a superuser"
        );
    }
    server.store.delete_user(admin.id).await.unwrap();
    assert!(
        server
            .store
            .list_bearer_tokens(bob.id, server.clock.now())
            .await
            .unwrap()
            .is_empty(),
        "they died with the impersonator"
    );
}

#[tokio::test]
async fn logout_while_impersonating_is_audited() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let bob = server.user("bob", Role::User).await;
    let browser = server.admin_browser("admin").await;
    acquire(&browser, &bob.id.to_string()).await;
    browser
        .send(
            Method::POST,
            "/v3/auth/logout",
            browser.with_csrf(Request::new()),
        )
        .await;
    let events = server.store.impersonation_events(0, 10).await.unwrap().0;
    assert_eq!(
        (events[0].action.as_str(), events[0].client_address.as_str()),
        ("logout", "127.0.0.1")
    );
}
