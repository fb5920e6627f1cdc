//! Every malformed or wrong credential gets DRF's exact 403 body, never a 500: the table of
//! bearer and Basic header cases from the contract, non-UTF-8 bytes, oversized headers, and
//! inactive users.

use metax_auth::accounts::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{PASSWORD, Request, TestServer};

/// `(header value, expected detail)`; `None`: treated as no credentials at all.
fn cases(token: &str) -> Vec<(Vec<u8>, Option<&'static str>)> {
    let basic = |text: &str| {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
        .into_bytes()
    };
    vec![
        (
            b"Bearer".to_vec(),
            Some("Invalid token header. No credentials provided."),
        ),
        (
            b"Bearer    ".to_vec(),
            Some("Invalid token header. No credentials provided."),
        ),
        (
            b"bearer".to_vec(),
            Some("Invalid token header. No credentials provided."),
        ),
        (
            b"Bearer a b".to_vec(),
            Some("Invalid token header. Token string should not contain spaces."),
        ),
        (
            format!("Bearer {token} extra").into_bytes(),
            Some("Invalid token header. Token string should not contain spaces."),
        ),
        (b"Bearer nonsense".to_vec(), Some("Invalid token.")),
        (
            format!("Bearer {}", &token[..63]).into_bytes(),
            Some("Invalid token."),
        ),
        (
            format!("Bearer {token}0").into_bytes(),
            Some("Invalid token."),
        ),
        (
            format!("Bearer {}", token.to_uppercase()).into_bytes(),
            Some("Invalid token."),
        ),
        (
            format!("Bearer {}é", &token[..62]).into_bytes(),
            Some("Invalid token."),
        ),
        (
            format!("Bearer {}", "a".repeat(255)).into_bytes(),
            Some("Invalid token."),
        ),
        (
            [b"Bearer ".as_slice(), &[0xff, 0xfe, 0x80]].concat(),
            Some("Invalid token."),
        ),
        (
            [b"Bearer ".as_slice(), &token.as_bytes()[..40], &[0xc3]].concat(),
            Some("Invalid token."),
        ),
        (
            b"Basic".to_vec(),
            Some("Invalid basic header. No credentials provided."),
        ),
        (
            b"Basic a b".to_vec(),
            Some("Invalid basic header. Credentials string should not contain spaces."),
        ),
        (
            b"Basic !!!notbase64".to_vec(),
            Some("Invalid basic header. Credentials not correctly base64 encoded."),
        ),
        (
            basic("no-colon-here"),
            Some("Invalid basic header. Credentials not correctly base64 encoded."),
        ),
        (
            basic("teppo:wrong password"),
            Some("Invalid username/password."),
        ),
        (basic("nobody:whatever"), Some("Invalid username/password.")),
        (basic("sso-only:"), Some("Invalid username/password.")),
        (b"Token abcdef".to_vec(), None),
        (b"Digest realm=x".to_vec(), None),
        (b"".to_vec(), None),
        (b"   ".to_vec(), None),
    ]
}

#[tokio::test]
async fn each_bad_authorization_header_gets_drfs_answer() {
    let server = TestServer::start().await;
    server.user("teppo", Role::User).await;
    metax_auth::accounts::create(
        &*server.store,
        "sso-only",
        "",
        None,
        Role::User,
        server.clock.now(),
    )
    .await
    .unwrap();
    let token = server.bearer_token("teppo").await;
    let client = server.browser();
    for (header, detail) in cases(&token) {
        let shown = String::from_utf8_lossy(&header).into_owned();
        for path in ["/v3/auth/user", "/v3/auth/tokens"] {
            let response = client
                .send(
                    Method::GET,
                    path,
                    Request::new().header("Authorization", &header),
                )
                .await;
            assert_eq!(
                response.status,
                StatusCode::FORBIDDEN,
                "{shown:?} on {path}: {}",
                response.text
            );
            let expected = match detail {
                Some(detail) => json!({ "detail": detail, "code": "authentication_failed" }),
                None => json!({ "detail": "Authentication credentials were not provided." }),
            };
            assert_eq!(response.json(), expected, "{shown:?} on {path}");
            assert!(response.headers.get("www-authenticate").is_none());
        }
    }
    let still = client
        .send(Method::GET, "/v3/auth/user", Request::new().bearer(&token))
        .await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "no refused request disturbed the good token"
    );
}

#[tokio::test]
async fn scheme_is_case_insensitive_and_basic_works() {
    let server = TestServer::start().await;
    server.user("teppo", Role::User).await;
    let token = server.bearer_token("teppo").await;
    let client = server.browser();
    for header in [
        format!("bearer {token}"),
        format!("BEARER {token}"),
        format!("Bearer\t{token}"),
    ] {
        let response = client
            .send(
                Method::GET,
                "/v3/auth/user",
                Request::new().header("Authorization", header.as_bytes()),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{header}");
    }
    let basic = client
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().basic("teppo", PASSWORD),
        )
        .await;
    assert_eq!(basic.status, StatusCode::OK);
    assert_eq!(basic.json()["username"], "teppo");
}

#[tokio::test]
async fn refused_requests_change_nothing() {
    let server = TestServer::start().await;
    server.user("teppo", Role::User).await;
    let client = server.browser();
    for request in [
        Request::new().basic("teppo", "wrong"),
        Request::new().header("Authorization", "Bearer nonsense"),
        Request::new().header("Authorization", "Bearer"),
        Request::new(),
    ] {
        let response = client.send(Method::POST, "/v3/auth/tokens", request).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN);
    }
    let listed = client
        .send(
            Method::GET,
            "/v3/auth/tokens",
            Request::new().basic("teppo", PASSWORD),
        )
        .await;
    assert_eq!(listed.json(), json!([]));
    let user = server.store.user_by_username("teppo").await.unwrap();
    assert_eq!(
        user.last_login, None,
        "no refused request logged the user in"
    );
}

#[tokio::test]
async fn oversized_headers_and_bodies_are_refused_cleanly() {
    let server = TestServer::start().await;
    server.user("teppo", Role::User).await;
    let client = server.browser();
    let huge = format!("Bearer {}", "a".repeat(100_000));
    let response = client
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().header("Authorization", huge.as_bytes()),
        )
        .await;
    assert_eq!(response.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let long_token = format!("Bearer {}", "a".repeat(8_000));
    let response = client
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().header("Authorization", long_token.as_bytes()),
        )
        .await;
    assert_eq!(response.json()["detail"], "Invalid token.");
    let body = "x".repeat(100_000);
    let response = client
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new()
                .basic("teppo", PASSWORD)
                .form(&[("padding", &body)]),
        )
        .await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    let listed = client
        .send(
            Method::GET,
            "/v3/auth/tokens",
            Request::new().basic("teppo", PASSWORD),
        )
        .await;
    assert_eq!(
        listed.json(),
        json!([]),
        "the oversized create stored nothing"
    );
}

/// Opens a raw connection, sends `head` and returns what the server answered before closing,
/// or panics if it kept the connection open past `limit`.
async fn answer_to_stalled_request(base: &str, head: &str, limit: std::time::Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await;
    assert!(
        read.is_ok(),
        "the server kept a stalled connection open past {limit:?}"
    );
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn clients_that_stall_are_cut_off_after_the_request_timeout() {
    let server = TestServer::start_with(&[("REQUEST_TIMEOUT", "1s")]).await;
    let limit = std::time::Duration::from_secs(5);
    let partial_head = answer_to_stalled_request(
        &server.base,
        "GET /v3/auth/user HTTP/1.1\r\nHost: x\r\n",
        limit,
    )
    .await;
    assert!(!partial_head.contains("200 OK"), "{partial_head}");
    let short_body = answer_to_stalled_request(
        &server.base,
        "POST /v3/auth/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nab",
        limit,
    )
    .await;
    assert!(short_body.starts_with("HTTP/1.1 408"), "{short_body}");
}
