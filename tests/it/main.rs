//! The integration tests on SQLite: one binary, one module per topic. Each test starts the real
//! service on a loopback port against its own SQLite file and talks HTTP to it; the CLI tests
//! run the built binary. `tests/it_postgres` runs the same modules on PostgreSQL.

// Test helpers panic on purpose: a failed step is a failed test.
#![allow(clippy::unwrap_used)]

mod admin_login;
mod admin_users;
mod bearer_tokens;
mod browser;
mod cli;
mod credentials;
mod drf_tokens;
mod impersonation;
mod sqlite_files;
mod sso;
mod support;
mod token_page;

/// The database every test here runs on.
const BACKEND: support::Backend = support::Backend::Sqlite;
