//! Benchmark of the authentication path, the code that runs on every request.
//!
//! `cargo bench --bench auth` prints:
//! 1. `Authenticator::authenticate` for a valid bearer token, called directly (no HTTP): the
//!    cost of parsing, one indexed read and the constant-time digest check;
//! 2. the same for an invalid token that passes the shape check (one read, no match);
//! 3. `GET /v3/auth/user` with a bearer token over loopback HTTP from 16 concurrent clients for
//!    3 seconds: requests per second and latency percentiles.
//!
//! It runs on SQLite (a file in a temp folder), then on PostgreSQL in a fresh database on the
//! server `METAX_AUTH_TEST_POSTGRES` names (default `postgres://postgres@127.0.0.1:5432`),
//! dropped afterwards; without a server there, the PostgreSQL half is skipped with a note.
//!
//! All traffic stays on 127.0.0.1 and every loop is bounded in count or time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use metax_auth::accounts::{self, Role};
use metax_auth::auth::{Credentials, bearer};
use metax_auth::clock::Clock;
use metax_auth::config::Config;
use metax_auth::store;
use metax_auth::web::{self, AppState};
use sqlx::Connection;

const DIRECT_CALLS: u32 = 20_000;
const HTTP_CLIENTS: usize = 16;
const HTTP_DURATION: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    println!("== SQLite");
    run(format!(
        "sqlite://{}",
        dir.path().join("bench.sqlite3").display()
    ))
    .await;

    let server = std::env::var("METAX_AUTH_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let name = format!("metax_auth_bench_{}", std::process::id());
    let admin = format!("{server}/postgres");
    let Ok(mut connection) = sqlx::PgConnection::connect(&admin).await else {
        println!("== PostgreSQL: skipped, no server at {server}");
        return;
    };
    sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut connection)
        .await
        .expect("create database");
    println!("== PostgreSQL");
    run(format!("{server}/{name}")).await;
    sqlx::raw_sql(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut connection)
        .await
        .expect("drop database");
}

/// Sets up a user with a token among 2,000 others' in the database at `database`, then
/// measures.
async fn run(database: String) {
    let config = Config::from_lookup(|name| (name == "DATABASE_URL").then(|| database.clone()))
        .expect("config");
    let store = store::open(&config.database, true).await.expect("open");
    store.migrate().await.expect("migrate");
    let clock = Clock::default();
    let user = accounts::create(&*store, "bench", "", None, Role::User, clock.now())
        .await
        .expect("user");
    // Other users' tokens, so the index has something to search past.
    for index in 0..2_000 {
        let other = accounts::create(
            &*store,
            &format!("user{index}"),
            "",
            None,
            Role::User,
            clock.now(),
        )
        .await
        .expect("user");
        let issued = bearer::issue(
            other.id,
            None,
            clock.now(),
            clock.now() + config.bearer_token_ttl,
        );
        store
            .create_bearer_token(&issued.record, 5)
            .await
            .expect("token");
    }
    let issued = bearer::issue(
        user.id,
        None,
        clock.now(),
        clock.now() + config.bearer_token_ttl,
    );
    store
        .create_bearer_token(&issued.record, 5)
        .await
        .expect("token");
    let token = issued.token;
    let state = AppState::new(config, store, clock);

    let valid = format!("Bearer {token}");
    let invalid = format!("Bearer {}", "0".repeat(64));
    for (label, header) in [
        ("valid bearer token", &valid),
        ("unknown bearer token", &invalid),
    ] {
        let started = Instant::now();
        for _ in 0..DIRECT_CALLS {
            let credentials = Credentials {
                authorization: Some(header.as_bytes()),
                session_id: None,
                sso_cookie: None,
                client: None,
                csrf: Ok(()),
            };
            let _ = state.auth.authenticate(&credentials).await;
        }
        let per_call = started.elapsed() / DIRECT_CALLS;
        println!(
            "authenticate, {label}: {:.1} µs per call ({DIRECT_CALLS} calls)",
            per_call.as_secs_f64() * 1e6
        );
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(web::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let url = format!("http://{address}/v3/auth/user");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + HTTP_DURATION;
    let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..HTTP_CLIENTS)
        .map(|_| {
            let (client, url, valid, latencies) = (
                client.clone(),
                url.clone(),
                valid.clone(),
                latencies.clone(),
            );
            tokio::spawn(async move {
                let mut mine = Vec::new();
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let response = client
                        .get(&url)
                        .header("Authorization", &valid)
                        .send()
                        .await
                        .expect("request");
                    assert_eq!(response.status(), 200);
                    let _ = response.bytes().await;
                    mine.push(started.elapsed());
                }
                latencies.lock().expect("lock").extend(mine);
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    let mut latencies = latencies.lock().expect("lock").clone();
    latencies.sort();
    let percentile =
        |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "GET /v3/auth/user with a bearer token, {HTTP_CLIENTS} clients: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms ({} requests)",
        latencies.len() as f64 / HTTP_DURATION.as_secs_f64(),
        percentile(0.50).as_secs_f64() * 1e3,
        percentile(0.99).as_secs_f64() * 1e3,
        latencies.len()
    );
    let _ = stop.send(());
    let _ = server.await;
}
