//! metax-auth: the token authentication of Metax V3 as a standalone Rust service.
//!
//! Wire-compatible with the Django service (DRF + django-rest-knox): same paths, status codes,
//! JSON bodies, cookie names and error texts. See `ARCHITECTURE.md` for how a request flows.

pub mod accounts;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod store;
pub mod web;
