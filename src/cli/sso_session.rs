//! `metax-auth sso-session USERNAME`: prints a Fairdata SSO session cookie value signed with
//! `SSO_SECRET_KEY`, so a developer can try the SSO path without the real Fairdata SSO (for
//! example `curl --cookie "$SSO_SESSION_COOKIE=$(metax-auth sso-session teppo)" ...`).

use anyhow::{Context, bail};
use chrono::Duration;
use clap::Args;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::clock::Clock;
use crate::config::Config;

/// Options of `sso-session`.
#[derive(Debug, Args)]
pub struct SsoSessionArgs {
    /// The Fairdata user id (also the Metax username).
    pub username: String,
    /// Home organization id.
    #[arg(long, default_value = "csc.fi")]
    pub organization: String,
    /// A CSC (IDA) project of the user; repeat for more.
    #[arg(long = "project")]
    pub projects: Vec<String>,
    /// An organization the user administers in Qvain; repeat for more.
    #[arg(long = "admin-organization")]
    pub admin_organizations: Vec<String>,
    /// Hours until the session expires.
    #[arg(long, default_value_t = 8)]
    pub hours: u32,
    /// A locked Fairdata account (Metax refuses it).
    #[arg(long)]
    pub locked: bool,
}

/// Runs the command.
pub fn run(config: &Config, args: SsoSessionArgs) -> anyhow::Result<()> {
    let Some(key) = config.sso.secret_key.as_ref() else {
        bail!("SSO_SECRET_KEY: expected the SSO's session signing key, to sign the session with");
    };
    let now = Clock::default().now();
    let expires = now + Duration::hours(i64::from(args.hours));
    let claims = json!({
        "authenticated_user": {
            "id": args.username,
            "firstname": args.username,
            "lastname": "",
            "email": format!("{}@example.org", args.username),
            "organization": { "id": args.organization },
        },
        "fairdata_user": { "id": args.username, "locked": args.locked },
        "initiated": now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "expiration": expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "exp": expires.timestamp(),
        "services": {
            "IDA": { "projects": args.projects },
            "QVAIN": { "admin_organizations": args.admin_organizations },
        },
    });
    let key = EncodingKey::from_secret(key.expose())
        .context("SSO_SECRET_KEY: expected a non-empty key")?;
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
        .context("cannot sign the session")?;
    println!("{token}");
    Ok(())
}
