//! The integration tests: one binary, one module per topic. Each test starts the real service on
//! a loopback port against its own SQLite file and talks HTTP to it; the CLI tests run the built
//! binary.

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
mod sso;
mod support;
mod token_page;
