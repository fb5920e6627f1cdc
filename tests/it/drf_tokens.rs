//! DRF tokens (`ENABLE_DRF_TOKEN_AUTH`): off by default, `/v3/drf-token-auth/` with DRF's
//! answers, `Authorization: Token`, a token for every saved user, the admin "Tokens" table, the
//! brute-force brake, and restarts with the flag flipped.

use metax_auth::accounts::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Browser, PASSWORD, Request, Response, TestServer};

const ON: &[(&str, &str)] = &[("ENABLE_DRF_TOKEN_AUTH", "True")];

async fn obtain(client: &Browser, request: Request) -> Response {
    client
        .send(Method::POST, "/v3/drf-token-auth/", request)
        .await
}

fn is_drf_key(value: &serde_json::Value) -> bool {
    value.as_str().is_some_and(|key| {
        key.len() == 40
            && key
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
    })
}

#[tokio::test]
async fn off_by_default_the_endpoint_is_404_and_token_authenticates_nobody() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let client = server.browser();
    let response = obtain(
        &client,
        Request::new().json(json!({ "username": "admin", "password": PASSWORD })),
    )
    .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    let token = client
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().header("Authorization", format!("Token {}", "a".repeat(40))),
        )
        .await;
    assert_eq!(
        token.json(),
        json!({ "detail": "Authentication credentials were not provided." })
    );
    let browser = server.admin_browser("admin").await;
    assert!(!browser.get("/v3/admin/").await.text.contains("Auth Token"));
    assert_eq!(
        browser.get("/v3/admin/authtoken/tokens/").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn obtain_token_answers_like_drf() {
    let server = TestServer::start_with(ON).await;
    server.user("teppo", Role::User).await;
    let client = server.browser();
    let first = obtain(
        &client,
        Request::new().json(json!({ "username": "teppo", "password": PASSWORD })),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert!(is_drf_key(&first.json()["token"]), "{}", first.text);
    let again = obtain(
        &client,
        Request::new().form(&[("username", "teppo"), ("password", PASSWORD)]),
    )
    .await;
    assert_eq!(
        again.json(),
        first.json(),
        "the existing token, from a form too"
    );

    let cases: Vec<(Request, StatusCode, serde_json::Value)> = vec![
        (
            Request::new().json(json!({ "username": "teppo", "password": "wrong" })),
            StatusCode::BAD_REQUEST,
            json!({ "non_field_errors": ["Unable to log in with provided credentials."] }),
        ),
        (
            Request::new().json(json!({})),
            StatusCode::BAD_REQUEST,
            json!({ "username": ["This field is required."], "password": ["This field is required."] }),
        ),
        (
            Request::new().json(json!({ "username": "teppo", "password": "" })),
            StatusCode::BAD_REQUEST,
            json!({ "password": ["This field may not be blank."] }),
        ),
        (
            Request::new().form(&[("username", " ")]),
            StatusCode::BAD_REQUEST,
            json!({ "username": ["This field may not be blank."], "password": ["This field is required."] }),
        ),
        (
            Request::new().json(json!(["teppo"])),
            StatusCode::BAD_REQUEST,
            json!({ "non_field_errors": ["Invalid data. Expected a dictionary, but got list."] }),
        ),
        (
            Request::new()
                .header("Content-Type", "text/plain")
                .header("X-Body", "x"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({ "detail": "Unsupported media type \"text/plain\" in request." }),
        ),
    ];
    for (request, status, body) in cases {
        let response = obtain(&client, request).await;
        assert_eq!((response.status, response.json()), (status, body));
    }
    let malformed = obtain(
        &client,
        Request::new()
            .header("Content-Type", "application/json")
            .header("X-Ignored", "1"),
    )
    .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(
        malformed.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error - ")
    );
    let get = client.get("/v3/drf-token-auth/").await;
    assert_eq!(
        (get.status, get.json()),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({ "detail": "Method \"GET\" not allowed." })
        )
    );
}

#[tokio::test]
async fn token_header_authenticates_with_drfs_errors() {
    let server = TestServer::start_with(ON).await;
    server.user("teppo", Role::User).await;
    let client = server.browser();
    let key = obtain(
        &client,
        Request::new().json(json!({ "username": "teppo", "password": PASSWORD })),
    )
    .await
    .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = client
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().header("Authorization", format!("Token {key}")),
        )
        .await;
    assert_eq!(me.json()["username"], "teppo");
    for (header, detail) in [
        (
            format!("Token {}", "0".repeat(40)).into_bytes(),
            "Invalid token.",
        ),
        (b"Token nonsense".to_vec(), "Invalid token."),
        (
            b"Token".to_vec(),
            "Invalid token header. No credentials provided.",
        ),
        (
            format!("Token {key} x").into_bytes(),
            "Invalid token header. Token string should not contain spaces.",
        ),
        (
            [b"Token ".as_slice(), &[0xff, 0xfe]].concat(),
            "Invalid token header. Token string should not contain invalid characters.",
        ),
    ] {
        let response = client
            .send(
                Method::GET,
                "/v3/auth/user",
                Request::new().header("Authorization", &header),
            )
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN);
        assert_eq!(
            response.json(),
            json!({ "detail": detail, "code": "authentication_failed" }),
            "{}",
            String::from_utf8_lossy(&header)
        );
    }
    let teppo = server.store.user_by_username("teppo").await.unwrap();
    server
        .store
        .update_user(teppo.id, &metax_auth::store::UserChanges::default())
        .await
        .unwrap();
    let inactive = client
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().header("Authorization", format!("Token {key}")),
        )
        .await;
    assert_eq!(inactive.json()["detail"], "User inactive or deleted.");
    let refused = obtain(
        &client,
        Request::new().json(json!({ "username": "teppo", "password": PASSWORD })),
    )
    .await;
    assert_eq!(
        refused.json(),
        json!({ "non_field_errors": ["Unable to log in with provided credentials."] }),
        "inactive users get no token"
    );
}

#[tokio::test]
async fn every_saved_user_gets_a_token_and_the_admin_table_shows_and_changes_them() {
    let server = TestServer::start_with(ON).await;
    let admin = server.user("admin", Role::Superuser).await;
    let browser = server.admin_browser("admin").await;
    let added = browser
        .post_form(
            "/v3/admin/users/add/",
            &[
                ("username", "carol"),
                ("password1", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::FOUND);
    let saved = browser
        .post_form(
            &format!("/v3/admin/users/{}/", admin.id),
            &[
                ("is_active", "on"),
                ("is_staff", "on"),
                ("is_superuser", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::FOUND);
    let (tokens, total) = server.store.list_drf_tokens("", 0, 10).await.unwrap();
    assert_eq!(total, 2, "the added user and the saved admin: {tokens:?}");

    let index = browser.get("/v3/admin/").await.text;
    let label = index.find(">Auth Token<").expect("an Auth Token label");
    assert!(label < index.find(">Tokens</a>").expect("a Tokens link"));
    let table = browser.get("/v3/admin/authtoken/tokens/").await;
    let carol = tokens
        .iter()
        .find(|token| token.username == "carol")
        .unwrap()
        .clone();
    assert!(
        table.text.contains(&format!("<td>{}</td>", carol.key))
            && table.text.contains("<td>carol</td>")
    );
    let found = browser.get("/v3/admin/authtoken/tokens/?q=car").await;
    assert!(found.text.contains("1 total"));

    let regenerated = browser
        .post_form(
            "/v3/admin/authtoken/tokens/",
            &[
                ("action", "regenerate"),
                ("user_id", &carol.user_id.to_string()),
            ],
        )
        .await;
    assert_eq!(regenerated.status, StatusCode::FOUND);
    let old = server
        .browser()
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().header("Authorization", format!("Token {}", carol.key)),
        )
        .await;
    assert_eq!(old.status, StatusCode::FORBIDDEN, "the old key died");
    let deleted = browser
        .post_form(
            "/v3/admin/authtoken/tokens/",
            &[
                ("action", "delete"),
                ("user_id", &carol.user_id.to_string()),
            ],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::FOUND);
    assert_eq!(
        server
            .store
            .list_drf_tokens("carol", 0, 10)
            .await
            .unwrap()
            .1,
        0
    );
    let unknown = browser
        .post_form(
            "/v3/admin/authtoken/tokens/",
            &[("action", "add"), ("username", "nobody")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let add = browser
        .post_form(
            "/v3/admin/authtoken/tokens/",
            &[("action", "add"), ("username", "carol")],
        )
        .await;
    assert_eq!(add.status, StatusCode::FOUND);
    assert_eq!(
        server
            .store
            .list_drf_tokens("carol", 0, 10)
            .await
            .unwrap()
            .1,
        1
    );
}

#[tokio::test]
async fn repeated_failures_are_braked_with_429() {
    let server = TestServer::start_with(ON).await;
    server.user("admin", Role::Superuser).await;
    let client = server.browser();
    for _ in 0..10 {
        let response = obtain(
            &client,
            Request::new().json(json!({ "username": "admin", "password": "guess" })),
        )
        .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
    }
    let braked = obtain(
        &client,
        Request::new().json(json!({ "username": "admin", "password": PASSWORD })),
    )
    .await;
    assert_eq!(braked.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = braked.header("retry-after").parse().unwrap();
    assert!((1..=300).contains(&wait));
    let login = server.browser().log_in("admin", PASSWORD).await;
    assert_eq!(
        login.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the admin login shares the brake"
    );
    assert!(login.text.contains("Too many failed login attempts."));
}

#[tokio::test]
async fn restarts_with_the_flag_flipped() {
    let server = TestServer::start_with(ON).await;
    server.user("teppo", Role::User).await;
    let key = obtain(
        &server.browser(),
        Request::new().json(json!({ "username": "teppo", "password": PASSWORD })),
    )
    .await
    .json()["token"]
        .clone();
    let header = format!("Token {}", key.as_str().unwrap());
    let server = server
        .restart_with(&[("ENABLE_DRF_TOKEN_AUTH", "False")])
        .await;
    let off = server
        .browser()
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().header("Authorization", &header),
        )
        .await;
    assert_eq!(off.status, StatusCode::FORBIDDEN);
    assert_eq!(
        off.json(),
        json!({ "detail": "Authentication credentials were not provided." })
    );
    assert_eq!(
        server
            .browser()
            .send(Method::POST, "/v3/drf-token-auth/", Request::new())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let server = server.restart_with(ON).await;
    let on = server
        .browser()
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().header("Authorization", &header),
        )
        .await;
    assert_eq!(on.json()["username"], "teppo", "the key survived being off");
}

#[tokio::test]
async fn basic_credentials_share_the_brake_and_clean_clients_are_not_locked_out() {
    let server = TestServer::start_with(ON).await;
    server.user("admin", Role::Superuser).await;
    let attacker = Browser::from_address(&server.base, std::net::Ipv4Addr::new(127, 0, 0, 2));
    for attempt in 0..10 {
        let response = attacker
            .send(
                Method::GET,
                "/v3/auth/user",
                Request::new().basic("admin", &format!("guess{attempt}")),
            )
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN);
    }
    let braked = attacker
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().basic("admin", PASSWORD),
        )
        .await;
    assert_eq!(
        braked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "Basic is no unlimited password oracle"
    );
    assert!(
        braked.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("Request was throttled.")
    );
    assert!(braked.header("retry-after").parse::<u64>().is_ok());
    for attempt in 0..10 {
        let other = Browser::from_address(
            &server.base,
            std::net::Ipv4Addr::new(127, 0, 1, attempt + 1),
        );
        let _ = obtain(
            &other,
            Request::new().json(json!({ "username": "admin", "password": "guess" })),
        )
        .await;
    }
    let real_user = Browser::from_address(&server.base, std::net::Ipv4Addr::new(127, 0, 0, 9));
    let me = real_user
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().basic("admin", PASSWORD),
        )
        .await;
    assert_eq!(
        me.status,
        StatusCode::OK,
        "20 failures against admin elsewhere do not lock out a clean client"
    );
}

#[tokio::test]
async fn only_superusers_see_the_keys_and_unknown_users_are_404() {
    let server = TestServer::start_with(ON).await;
    server.user("admin", Role::Superuser).await;
    server.staff_user("staffer").await;
    let staff_browser = server.admin_browser("staffer").await;
    assert_eq!(
        staff_browser
            .get("/v3/admin/authtoken/tokens/")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let browser = server.admin_browser("admin").await;
    for user_id in ["999999", "-1"] {
        let response = browser
            .post_form(
                "/v3/admin/authtoken/tokens/",
                &[("action", "regenerate"), ("user_id", user_id)],
            )
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "user_id={user_id}");
    }
}

#[tokio::test]
async fn fields_are_read_like_drfs_char_field() {
    let server = TestServer::start_with(ON).await;
    server.user("teppo", Role::User).await;
    let client = server.browser();
    let padded = obtain(
        &client,
        Request::new().json(json!({ "username": " teppo ", "password": PASSWORD })),
    )
    .await;
    assert_eq!(padded.status, StatusCode::OK, "usernames are trimmed");
    let null = obtain(
        &client,
        Request::new().json(json!({ "username": null, "password": PASSWORD })),
    )
    .await;
    assert_eq!(
        null.json(),
        json!({ "username": ["This field may not be null."] })
    );
    let float = obtain(&client, Request::new().json(json!(1.5))).await;
    assert_eq!(
        float.json(),
        json!({ "non_field_errors": ["Invalid data. Expected a dictionary, but got float."] })
    );
}
