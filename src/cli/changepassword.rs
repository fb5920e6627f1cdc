//! `metax-auth changepassword [USERNAME]` (Django's `changepassword`): asks for the new password
//! twice, at most three times.

use anyhow::bail;
use clap::Args;

use super::prompt::{PasswordAnswer, PasswordRules, Prompter};
use crate::auth::{drf_token, password};
use crate::clock::Clock;
use crate::config::Config;
use crate::store::StoreError;

/// Options of `changepassword`.
#[derive(Debug, Args)]
pub struct ChangePasswordArgs {
    /// Whose password; defaults to the current system user's name.
    pub username: Option<String>,
}

/// Django's number of attempts.
const ATTEMPTS: usize = 3;

/// Runs the command.
pub async fn run(config: &Config, args: ChangePasswordArgs) -> anyhow::Result<()> {
    let store = super::open_migrated(config).await?;
    let Some(username) = args.username.or_else(|| std::env::var("USER").ok()) else {
        bail!("name the user: metax-auth changepassword USERNAME");
    };
    let user = match store.user_by_username(&username).await {
        Ok(user) => user,
        Err(StoreError::NotFound) => bail!("user '{username}' does not exist"),
        Err(error) => return Err(error.into()),
    };
    let mut prompter = Prompter::new();
    prompter.say(&format!("Changing password for user '{username}'"));
    let rules = PasswordRules {
        allow_blank: false,
        offer_bypass: false,
        attempts: ATTEMPTS,
    };
    let PasswordAnswer::Password(new_password) =
        prompter.new_password(&user.username, &user.email, rules)?
    else {
        bail!("Aborting password change for user '{username}' after {ATTEMPTS} attempts");
    };
    store
        .set_password(user.id, Some(&password::hash_async(new_password).await))
        .await?;
    drf_token::on_user_saved(
        &*store,
        config.enable_drf_token_auth,
        user.id,
        Clock::default().now(),
    )
    .await?;
    println!("Password changed successfully for user '{username}'");
    Ok(())
}
