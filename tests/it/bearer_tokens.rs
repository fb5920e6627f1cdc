//! The seed's walk-through over HTTP: create a bearer token, use it, list it, delete it; the
//! per-user limit (also under parallel creates and after lowering it) and expiry.

use std::time::Duration;

use metax_auth::accounts::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{PASSWORD, Request, TestServer, join_all};

fn is_metax_time(value: &serde_json::Value) -> bool {
    let text = value.as_str().unwrap_or_default();
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%SZ").is_ok()
}

#[tokio::test]
async fn token_is_created_used_listed_deleted_and_then_refused() {
    let server = TestServer::start().await;
    server.user("teppo", Role::User).await;
    let client = server.browser();

    let created = client
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new().basic("teppo", PASSWORD),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    assert!(created.header("cache-control").contains("no-store"));
    let body = created.json();
    let token = body["token"].as_str().unwrap().to_owned();
    let prefix = body["prefix"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    assert_eq!(prefix, token[..15]);
    assert!(
        is_metax_time(&body["created"]) && is_metax_time(&body["expiry"]),
        "{body}"
    );
    let created_at = chrono::NaiveDateTime::parse_from_str(
        body["created"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%SZ",
    )
    .unwrap();
    let expiry = chrono::NaiveDateTime::parse_from_str(
        body["expiry"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%SZ",
    )
    .unwrap();
    assert_eq!(
        (expiry - created_at).num_seconds(),
        8 * 7 * 24 * 3600,
        "expiry = created + 8 weeks"
    );

    let other_client = server.browser();
    let me = other_client
        .send(Method::GET, "/v3/auth/user", Request::new().bearer(&token))
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    let me_body = me.json();
    assert_eq!(me_body["username"], "teppo");
    for field in [
        "organization",
        "admin_organizations",
        "csc_projects",
        "groups",
        "metax_csrf_token",
    ] {
        assert!(
            me_body.get(field).is_some(),
            "{field} missing from {me_body}"
        );
    }
    assert_eq!(me_body["metax_csrf_token"].as_str().unwrap().len(), 64);
    assert!(me.header("cache-control").contains("no-store"));

    let listed = other_client
        .send(
            Method::GET,
            "/v3/auth/tokens",
            Request::new().bearer(&token),
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(listed.header("cache-control").contains("no-store"));
    assert_eq!(
        listed.json(),
        json!([{ "created": body["created"], "expiry": body["expiry"], "prefix": prefix, "impersonator": null }])
    );
    assert!(
        !listed.text.contains(&token),
        "the list never holds the token"
    );

    let deleted = other_client
        .send(
            Method::DELETE,
            &format!("/v3/auth/tokens?prefix={prefix}"),
            Request::new().bearer(&token),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(deleted.header("location"), "/v3/auth/tokens");

    let refused = other_client
        .send(Method::GET, "/v3/auth/user", Request::new().bearer(&token))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json(),
        json!({ "detail": "Invalid token.", "code": "authentication_failed" })
    );
}

#[tokio::test]
async fn delete_answers_303_whatever_the_prefix_and_touches_only_own_tokens() {
    let server = TestServer::start().await;
    server.user("alice", Role::User).await;
    server.user("bob", Role::User).await;
    let alice_token = server.bearer_token("alice").await;
    let bob_token = server.bearer_token("bob").await;
    let client = server.browser();
    for prefix in [
        "",
        "nonexistent",
        &alice_token[..15],
        "%00%ff",
        "a&prefix=b",
        "%zz",
    ] {
        let response = client
            .send(
                Method::DELETE,
                &format!("/v3/auth/tokens?prefix={prefix}"),
                Request::new().bearer(&bob_token),
            )
            .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "prefix {prefix:?}");
        assert_eq!(response.header("location"), "/v3/auth/tokens");
    }
    let response = client
        .send(
            Method::DELETE,
            "/v3/auth/tokens",
            Request::new().bearer(&bob_token),
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let still = client
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().bearer(&alice_token),
        )
        .await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "bob cannot delete alice's token by its prefix"
    );
}

#[tokio::test]
async fn unauthenticated_token_endpoints_answer_403_not_provided() {
    let server = TestServer::start().await;
    let client = server.browser();
    for (method, path) in [
        (Method::GET, "/v3/auth/tokens"),
        (Method::POST, "/v3/auth/tokens"),
        (Method::DELETE, "/v3/auth/tokens?prefix=x"),
        (Method::GET, "/v3/auth/user"),
    ] {
        let response = client.send(method.clone(), path, Request::new()).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(
            response.json(),
            json!({ "detail": "Authentication credentials were not provided." })
        );
        assert!(response.headers.get("www-authenticate").is_none());
    }
}

#[tokio::test]
async fn sixth_live_token_is_refused_like_knox() {
    let server = TestServer::start().await;
    server.user("teppo", Role::User).await;
    for _ in 0..5 {
        server.bearer_token("teppo").await;
    }
    let client = server.browser();
    let refused = client
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new().basic("teppo", PASSWORD),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json(),
        json!({ "error": "Maximum amount of tokens allowed per user exceeded." })
    );
    let listed = client
        .send(
            Method::GET,
            "/v3/auth/tokens",
            Request::new().basic("teppo", PASSWORD),
        )
        .await;
    assert_eq!(
        listed.json().as_array().unwrap().len(),
        5,
        "the refused create stored nothing"
    );
}

#[tokio::test]
async fn parallel_creates_never_exceed_the_limit() {
    let server = TestServer::start().await;
    server.user("teppo", Role::User).await;
    let token = server.bearer_token("teppo").await;
    let client = std::sync::Arc::new(server.browser());
    let creates = (0..20).map(|_| {
        let client = client.clone();
        let token = token.clone();
        async move {
            client
                .send(
                    Method::POST,
                    "/v3/auth/tokens",
                    Request::new().bearer(&token),
                )
                .await
                .status
        }
    });
    let statuses = join_all(creates).await;
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::OK)
            .count(),
        4,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|status| *status == StatusCode::OK || *status == StatusCode::FORBIDDEN),
        "{statuses:?}"
    );
    let listed = client
        .send(
            Method::GET,
            "/v3/auth/tokens",
            Request::new().bearer(&token),
        )
        .await;
    assert_eq!(listed.json().as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn lowering_the_limit_refuses_new_tokens_but_keeps_existing_ones() {
    let server = TestServer::start().await;
    server.user("teppo", Role::User).await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(server.bearer_token("teppo").await);
    }
    let server = server
        .restart_with(&[("BEARER_TOKEN_LIMIT_PER_USER", "2")])
        .await;
    let client = server.browser();
    let refused = client
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new().bearer(&tokens[0]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    for token in &tokens {
        let me = client
            .send(Method::GET, "/v3/auth/user", Request::new().bearer(token))
            .await;
        assert_eq!(me.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn expired_token_is_refused_unlisted_and_frees_its_slot() {
    let server = TestServer::start_with(&[
        ("BEARER_TOKEN_TTL", "60s"),
        ("BEARER_TOKEN_LIMIT_PER_USER", "1"),
    ])
    .await;
    server.user("teppo", Role::User).await;
    let token = server.bearer_token("teppo").await;
    let client = server.browser();
    assert_eq!(
        client
            .send(Method::GET, "/v3/auth/user", Request::new().bearer(&token))
            .await
            .status,
        StatusCode::OK
    );

    server.clock.advance(Duration::from_secs(61));
    let refused = client
        .send(Method::GET, "/v3/auth/user", Request::new().bearer(&token))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["detail"], "Invalid token.");
    let listed = client
        .send(
            Method::GET,
            "/v3/auth/tokens",
            Request::new().basic("teppo", PASSWORD),
        )
        .await;
    assert_eq!(listed.json(), json!([]));
    let replacement = client
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new().basic("teppo", PASSWORD),
        )
        .await;
    assert_eq!(
        replacement.status,
        StatusCode::OK,
        "the expired token no longer counts toward the limit"
    );
    assert_eq!(
        server
            .store
            .delete_expired(server.clock.now())
            .await
            .unwrap(),
        0,
        "create already removed the expired row"
    );
}

#[tokio::test]
async fn tokens_created_with_a_bearer_token_and_as_json_or_form_bodies() {
    let server = TestServer::start().await;
    server.user("teppo", Role::User).await;
    let token = server.bearer_token("teppo").await;
    let client = server.browser();
    for request in [
        Request::new().json(json!({})),
        Request::new().form(&[]),
        Request::new().header("Content-Type", "text/plain"),
    ] {
        let response = client
            .send(Method::POST, "/v3/auth/tokens", request.bearer(&token))
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert_ne!(response.json()["token"], token.as_str());
    }
}

#[tokio::test]
async fn unknown_methods_get_drf_405() {
    let server = TestServer::start().await;
    let client = server.browser();
    let response = client
        .send(Method::PUT, "/v3/auth/tokens", Request::new())
        .await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response.json(),
        json!({ "detail": "Method \"PUT\" not allowed." })
    );
    let login = client.get("/v3/auth/login").await;
    assert_eq!(login.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        login.json(),
        json!({ "detail": "Method \"GET\" not allowed." })
    );
}

/// A token or DRF key for a user deleted meanwhile (another instance's admin) is `NotFound`
/// on both backends, which the endpoints answer as for a deleted user, never a 500.
#[tokio::test]
async fn tokens_for_a_user_deleted_meanwhile_are_not_found() {
    let server = TestServer::start().await;
    let gone = server.user("gone", Role::User).await;
    server.store.delete_user(gone.id).await.unwrap();
    let now = chrono::Utc::now();
    let issued = metax_auth::auth::bearer::issue(gone.id, None, now, now + Duration::from_secs(60));
    assert!(matches!(
        server.store.create_bearer_token(&issued.record, 5).await,
        Err(metax_auth::store::StoreError::NotFound)
    ));
    assert!(matches!(
        server
            .store
            .ensure_drf_token(gone.id, "a".repeat(40).as_str(), now)
            .await,
        Err(metax_auth::store::StoreError::NotFound)
    ));
}
