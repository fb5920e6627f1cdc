//! The integration tests on PostgreSQL: every topic module of `tests/it`, each test on a fresh
//! database of the server at `METAX_AUTH_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432`), plus what only several instances on one database
//! show (`cluster`). Without a reachable server the binary skips, unless `CI` is set.

// Test helpers panic on purpose: a failed step is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../it/admin_login.rs"]
mod admin_login;
#[path = "../it/admin_users.rs"]
mod admin_users;
#[path = "../it/bearer_tokens.rs"]
mod bearer_tokens;
#[path = "../it/browser.rs"]
mod browser;
#[path = "../it/cli.rs"]
mod cli;
mod cluster;
#[path = "../it/credentials.rs"]
mod credentials;
#[path = "../it/drf_tokens.rs"]
mod drf_tokens;
#[path = "../it/impersonation.rs"]
mod impersonation;
mod proxy;
#[path = "../it/sso.rs"]
mod sso;
#[path = "../it/support/mod.rs"]
mod support;
#[path = "../it/token_page.rs"]
mod token_page;

/// The database every test here runs on.
const BACKEND: support::Backend = support::Backend::Postgres;
