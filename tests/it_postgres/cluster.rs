//! Several instances on one PostgreSQL database, as behind a load balancer: `migrate` run by
//! two at once, tokens and sessions usable on every instance at once, the token limit held
//! across instances, and a database outage (a proxy on loopback cut under load) answered 503
//! and recovered from.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use metax_auth::accounts::Role;
use reqwest::{Method, StatusCode};
use sqlx::Connection;

use crate::cli::{ServedBinary, run, stderr};
use crate::proxy::Proxy;
use crate::support::database::postgres_server;
use crate::support::{Database, PASSWORD, Request, TestServer, join_all};

const SECRET_KEY: &str = "cluster-secret-key-shared-by-all-instances-0123";

/// Every instance of a deployment gets the same settings.
fn settings(token_ttl: &str) -> [(&'static str, String); 4] {
    [
        ("SECRET_KEY", SECRET_KEY.to_owned()),
        ("BEARER_TOKEN_LIMIT_PER_USER", "5".to_owned()),
        ("BEARER_TOKEN_TTL", token_ttl.to_owned()),
        ("ENABLE_DRF_TOKEN_AUTH", "True".to_owned()),
    ]
}

fn serve(database: &Database, token_ttl: &str) -> ServedBinary {
    let settings = settings(token_ttl);
    let env: Vec<(&str, &str)> = settings
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    ServedBinary::start_with(database, &env)
}

async fn create_token(browser: &crate::support::Browser, auth: Request) -> (StatusCode, String) {
    let response = browser.send(Method::POST, "/v3/auth/tokens", auth).await;
    let token = response.json()["token"].as_str().unwrap_or("").to_owned();
    (response.status, token)
}

async fn username(browser: &crate::support::Browser, auth: Request) -> Option<String> {
    let response = browser.send(Method::GET, "/v3/auth/user", auth).await;
    (response.status == StatusCode::OK).then(|| response.json()["username"].to_string())
}

#[tokio::test]
async fn two_instances_share_migrations_tokens_sessions_and_the_token_limit() {
    let database = Database::fresh();
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| run(&database, &["migrate"], &[], ""));
        let second = scope.spawn(|| run(&database, &["migrate"], &[], ""));
        (first.join().unwrap(), second.join().unwrap())
    });
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(second.status.success(), "{}", stderr(&second));
    for (command, variable, name) in [
        ("createsuperuser", "METAX_AUTH_SUPERUSER_PASSWORD", "admin"),
        ("createuser", "METAX_AUTH_USER_PASSWORD", "alice"),
    ] {
        let output = run(
            &database,
            &[command, "--username", name, "--noinput"],
            &[(variable, PASSWORD)],
            "",
        );
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let a = serve(&database, "1h");
    let b = serve(&database, "1h");
    let on_a = crate::support::Browser::new(&a.base);
    let on_b = on_a.at(&b.base);
    let basic = || Request::new().basic("alice", PASSWORD);

    // Made on A, accepted on B at once; deleted on A, refused on B at once.
    let (status, token) = create_token(&on_a, basic()).await;
    assert_eq!(status, StatusCode::OK);
    let alice = Some("\"alice\"".to_owned());
    assert_eq!(username(&on_b, Request::new().bearer(&token)).await, alice);
    let deleted = on_a
        .send(
            Method::DELETE,
            &format!("/v3/auth/tokens?prefix={}", &token[..15]),
            basic(),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(username(&on_b, Request::new().bearer(&token)).await, None);

    // A token of an instance with a short TTL expires on the others too.
    let c = serve(&database, "1s");
    let (status, short) = create_token(&on_a.at(&c.base), basic()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(username(&on_b, Request::new().bearer(&short)).await, alice);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(username(&on_b, Request::new().bearer(&short)).await, None);
    assert_eq!(username(&on_a, Request::new().bearer(&short)).await, None);
    drop(c);

    // 20 parallel creates over both instances leave exactly the limit (5).
    let (_, first) = create_token(&on_a, basic()).await;
    let creates = (0..20).map(|index| {
        let browser = on_a.at(if index % 2 == 0 { &a.base } else { &b.base });
        let first = first.clone();
        async move { create_token(&browser, Request::new().bearer(&first)).await }
    });
    let results = join_all(creates).await;
    let created = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(created, 4, "{results:?}");
    assert!(
        results
            .iter()
            .all(|(status, _)| matches!(*status, StatusCode::OK | StatusCode::FORBIDDEN)),
        "{results:?}"
    );
    let listed = on_b.send(Method::GET, "/v3/auth/tokens", basic()).await;
    assert_eq!(
        listed.json().as_array().map(Vec::len),
        Some(5),
        "{}",
        listed.text
    );

    // A DRF token made on B works on A.
    let drf = on_b
        .send(
            Method::POST,
            "/v3/drf-token-auth/",
            Request::new().json(serde_json::json!({"username": "alice", "password": PASSWORD})),
        )
        .await;
    let key = drf.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(
        username(
            &on_a,
            Request::new().header("Authorization", format!("Token {key}"))
        )
        .await,
        alice
    );

    // An admin session started on A is served by B: impersonate on B, see it on A, stop on A.
    let login = on_a.log_in("admin", PASSWORD).await;
    assert_eq!(login.status, StatusCode::FOUND, "{}", login.text);
    assert_eq!(on_b.get("/v3/admin/").await.status, StatusCode::OK);
    let users = on_b.get("/v3/admin/users/?q=alice").await;
    let alice_pk = users
        .hidden_input("user_pk")
        .expect("alice's row has an Impersonate form");
    let acquire = on_b
        .send(
            Method::POST,
            "/v3/hijack/acquire/",
            on_b.with_csrf(Request::new().form(&[("user_pk", &alice_pk)])),
        )
        .await;
    assert_eq!(acquire.status, StatusCode::FOUND, "{}", acquire.text);
    assert_eq!(username(&on_a, Request::new()).await, alice);
    let release = on_a
        .send(
            Method::POST,
            "/v3/hijack/release/",
            on_a.with_csrf(Request::new().form(&[])),
        )
        .await;
    assert_eq!(release.status, StatusCode::FOUND, "{}", release.text);
    assert_eq!(
        username(&on_b, Request::new()).await,
        Some("\"admin\"".to_owned())
    );
}

/// One request of the load: when it started (since the test began), how long it took, and
/// what came back.
#[derive(Debug)]
struct Sample {
    started: Duration,
    took: Duration,
    status: Option<StatusCode>,
    body: String,
    retry_after: Option<String>,
}

/// How the test takes the database away.
#[derive(Clone, Copy, Debug)]
enum Outage {
    /// Connections reset, new ones refused: a database that is down.
    Cut,
    /// Connections open but silent: a database host that stops answering. Requests give up
    /// in the pool's wait, where the connection check hangs.
    Stall,
    /// The service's tables locked by another session: queries wait. The server cancels them
    /// at the statement timeout.
    Lock,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_database_answers_503_quickly_and_recovers_by_itself() {
    outage(Outage::Cut, Duration::from_secs(4)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_database_answers_503_quickly_and_recovers_by_itself() {
    outage(Outage::Stall, Duration::from_secs(8)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_held_by_locks_answer_503_busy_within_the_statement_timeout_and_recover() {
    outage(Outage::Lock, Duration::from_secs(8)).await;
}

/// Takes the database away for `length` under load and back, and checks that every request
/// in between answered 503 in bounded time, and that requests succeed again by themselves.
async fn outage(kind: Outage, length: Duration) {
    // The pool's wait gives up after 3 s, the server's statement timeout after 4 s.
    let (bound, message) = match kind {
        Outage::Cut | Outage::Stall => (Duration::from_secs(4), "its database cannot be reached"),
        Outage::Lock => (Duration::from_secs(5), "its database is busy"),
    };
    let upstream = reqwest::Url::parse(&postgres_server()).expect("server URL");
    let upstream_address = tokio::net::lookup_host((
        upstream.host_str().unwrap_or("127.0.0.1"),
        upstream.port().unwrap_or(5432),
    ))
    .await
    .expect("PostgreSQL address")
    .next()
    .expect("an address");
    let mut proxy = Proxy::start(upstream_address).await;
    let database = Database::fresh();
    let mut proxied = reqwest::Url::parse(database.url()).unwrap();
    proxied.set_ip_host(proxy.address.ip()).unwrap();
    proxied.set_port(Some(proxy.address.port())).unwrap();
    let server = TestServer::start_with(&[("DATABASE_URL", proxied.as_str())]).await;
    server.user("alice", Role::User).await;
    server.user("admin", Role::Superuser).await;
    let token = server.bearer_token("alice").await;
    let admin = server.admin_browser("admin").await;

    // Load: 8 clients asking who they are, each request bounded by a 10 s client timeout.
    let began = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (stop, token, url) = (
                stop.clone(),
                token.clone(),
                format!("{}/v3/auth/user", server.base),
            );
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                let mut samples = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let started = began.elapsed();
                    let response = client.get(&url).bearer_auth(&token).send().await;
                    let took = began.elapsed() - started;
                    let sample = match response {
                        Ok(response) => Sample {
                            started,
                            took,
                            status: Some(response.status()),
                            retry_after: response
                                .headers()
                                .get("retry-after")
                                .and_then(|value| value.to_str().ok())
                                .map(str::to_owned),
                            body: response.text().await.unwrap_or_default(),
                        },
                        Err(error) => Sample {
                            started,
                            took,
                            status: None,
                            body: error.to_string(),
                            retry_after: None,
                        },
                    };
                    samples.push(sample);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                samples
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let cut_at = began.elapsed();
    let mut locker = sqlx::PgConnection::connect(database.url())
        .await
        .expect("a connection of the test's own");
    match kind {
        Outage::Cut => proxy.cut().await,
        Outage::Stall => proxy.stall(),
        Outage::Lock => {
            sqlx::raw_sql("BEGIN; LOCK TABLE bearer_tokens, sessions IN ACCESS EXCLUSIVE MODE")
                .execute(&mut locker)
                .await
                .expect("lock");
        }
    }
    tokio::time::sleep(length).await;
    // During the outage, pages and token creation answer 503 too.
    let page = admin.get("/v3/admin/").await;
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.text
    );
    assert!(page.text.contains(message), "{}", page.text);
    assert_eq!(page.header("retry-after"), "5", "admin pages too");
    let token_page = admin
        .send(
            Method::GET,
            "/v3/auth/tokens",
            Request::new().header("Accept", "text/html"),
        )
        .await;
    assert_eq!(token_page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(token_page.text.contains(message), "{}", token_page.text);
    assert_eq!(token_page.header("retry-after"), "5", "the token page too");
    let create = admin
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new().basic("alice", PASSWORD),
        )
        .await;
    assert_eq!(create.status, StatusCode::SERVICE_UNAVAILABLE);
    let restored_at = began.elapsed();
    match kind {
        Outage::Cut | Outage::Stall => proxy.restore().await,
        Outage::Lock => {
            sqlx::raw_sql("ROLLBACK")
                .execute(&mut locker)
                .await
                .expect("unlock");
        }
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for client in clients {
        samples.extend(client.await.unwrap());
    }

    let slowest = samples.iter().map(|sample| sample.took).max().unwrap();
    assert!(slowest < bound, "slowest request took {slowest:?}");
    let before: Vec<_> = samples
        .iter()
        .filter(|s| s.started + s.took < cut_at)
        .collect();
    assert!(!before.is_empty());
    assert!(
        before.iter().all(|s| s.status == Some(StatusCode::OK)),
        "{before:?}"
    );
    let during: Vec<_> = samples
        .iter()
        .filter(|s| {
            s.started > cut_at + Duration::from_millis(100) && s.started + s.took < restored_at
        })
        .collect();
    assert!(!during.is_empty());
    for sample in &during {
        assert_eq!(
            sample.status,
            Some(StatusCode::SERVICE_UNAVAILABLE),
            "{sample:?}"
        );
        assert!(sample.body.contains(message), "{sample:?}");
        assert_eq!(sample.retry_after.as_deref(), Some("5"), "{sample:?}");
    }
    let recovered = samples
        .iter()
        .filter(|s| s.started > restored_at && s.status == Some(StatusCode::OK))
        .map(|s| s.started)
        .min()
        .expect("requests succeed again after the database returns");
    let after: Vec<_> = samples
        .iter()
        .filter(|s| s.started > recovered + Duration::from_millis(500))
        .collect();
    assert!(!after.is_empty());
    assert!(
        after.iter().all(|s| s.status == Some(StatusCode::OK)),
        "{after:?}"
    );
    eprintln!(
        "{kind:?}: {} requests, all 503, slowest {slowest:?}; first success {:?} after the database returned",
        during.len(),
        recovered - restored_at
    );
}

/// `sslmode=require` in `DATABASE_URL` encrypts the service's connections (the machine's
/// server has TLS on, as Debian sets it up).
#[tokio::test]
async fn sslmode_require_connects_over_tls() {
    let plain = Database::fresh();
    let url = format!("{}?sslmode=require", plain.url());
    let server = TestServer::start_with(&[("DATABASE_URL", url.as_str())]).await;
    server.user("alice", Role::User).await;
    let token = server.bearer_token("alice").await;
    let browser = server.browser();
    let me = browser
        .send(Method::GET, "/v3/auth/user", Request::new().bearer(&token))
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    let database = plain.url().rsplit('/').next().unwrap().to_owned();
    let mut connection = sqlx::PgConnection::connect(plain.url()).await.unwrap();
    let encrypted: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
         WHERE ssl AND application_name = 'metax-auth' AND datname = $1",
    )
    .bind(&database)
    .fetch_one(&mut connection)
    .await
    .unwrap();
    assert!(encrypted > 0, "the service's connections use TLS");
}
