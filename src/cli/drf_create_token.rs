//! `metax-auth drf-create-token USERNAME [--reset]` (DRF's `drf_create_token`): prints the
//! user's DRF token, creating it if needed, or replacing it with `--reset`.

use anyhow::bail;
use clap::Args;

use crate::auth::drf_token;
use crate::clock::Clock;
use crate::config::Config;
use crate::store::StoreError;

/// Options of `drf-create-token`.
#[derive(Debug, Args)]
pub struct DrfCreateTokenArgs {
    /// Whose token.
    pub username: String,
    /// Replace the existing token with a new one.
    #[arg(short, long)]
    pub reset: bool,
}

/// Runs the command.
pub async fn run(config: &Config, args: DrfCreateTokenArgs) -> anyhow::Result<()> {
    if !config.enable_drf_token_auth {
        bail!(
            "DRF tokens are off: set ENABLE_DRF_TOKEN_AUTH=True (environment or .env) and run `metax-auth migrate`"
        );
    }
    let store = super::open_migrated(config).await?;
    let user = match store.user_by_username(&args.username).await {
        Ok(user) => user,
        Err(StoreError::NotFound) => bail!(
            "Cannot create the Token: user {} does not exist",
            args.username
        ),
        Err(error) => return Err(error.into()),
    };
    let now = Clock::default().now();
    let key = drf_token::new_key();
    let key = if args.reset {
        store.reset_drf_token(user.id, &key, now).await?;
        key
    } else {
        store.ensure_drf_token(user.id, &key, now).await?
    };
    println!("Generated token {key} for user {}", user.username);
    Ok(())
}
