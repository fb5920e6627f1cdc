//! `metax-auth createsuperuser` and `metax-auth createuser` (Django's `createsuperuser`): ask
//! for the username, email and password, or with `--noinput` take them from the command line and
//! the environment.

use anyhow::bail;
use clap::Args;

use super::prompt::{PasswordAnswer, PasswordRules, Prompter};
pub use crate::accounts::Role;
use crate::accounts::{self, clean_username, validate_email};
use crate::auth::drf_token;
use crate::clock::Clock;
use crate::config::Config;
use crate::store::{Store, StoreError};

/// Options of `createsuperuser` and `createuser`.
#[derive(Debug, Args)]
pub struct CreateUserArgs {
    /// Login name (letters, digits and @/./+/-/_).
    #[arg(long)]
    pub username: Option<String>,
    /// Email address.
    #[arg(long)]
    pub email: Option<String>,
    /// Ask nothing: the password comes from METAX_AUTH_SUPERUSER_PASSWORD (createsuperuser) or
    /// METAX_AUTH_USER_PASSWORD (createuser); unset means no usable password.
    #[arg(long)]
    pub noinput: bool,
}

impl Role {
    fn password_variable(self) -> &'static str {
        match self {
            Role::Superuser => "METAX_AUTH_SUPERUSER_PASSWORD",
            Role::User => "METAX_AUTH_USER_PASSWORD",
        }
    }

    fn created_message(self) -> &'static str {
        match self {
            Role::Superuser => "Superuser created successfully.",
            Role::User => "User created successfully.",
        }
    }
}

/// Runs the command.
pub async fn run(config: &Config, args: CreateUserArgs, role: Role) -> anyhow::Result<()> {
    let store = super::open_migrated(config).await?;
    let (username, email, password) = if args.noinput {
        from_arguments(args, role)?
    } else {
        ask(&*store, args, role).await?
    };
    if password.is_none() && role == Role::Superuser {
        eprintln!(
            "note: {} is not set, so the superuser has no usable password; set one with `metax-auth changepassword {username}`",
            role.password_variable()
        );
    }
    match accounts::create(
        &*store,
        &username,
        &email,
        password,
        role,
        Clock::default().now(),
    )
    .await
    {
        Ok(user) => {
            drf_token::on_user_saved(
                &*store,
                config.enable_drf_token_auth,
                user.id,
                Clock::default().now(),
            )
            .await?;
            println!("{}", role.created_message());
            Ok(())
        }
        Err(StoreError::Conflict { .. }) => bail!("That username is already taken."),
        Err(error) => Err(error.into()),
    }
}

fn from_arguments(
    args: CreateUserArgs,
    role: Role,
) -> anyhow::Result<(String, String, Option<String>)> {
    let Some(username) = args.username else {
        bail!("You must use --username with --noinput.")
    };
    let username =
        clean_username(&username).map_err(|message| anyhow::anyhow!("--username: {message}"))?;
    let email = args.email.unwrap_or_default();
    validate_email(&email).map_err(|message| anyhow::anyhow!("--email: {message}"))?;
    let password = std::env::var(role.password_variable())
        .ok()
        .filter(|password| !password.is_empty());
    Ok((username, email, password))
}

async fn ask(
    store: &dyn Store,
    args: CreateUserArgs,
    role: Role,
) -> anyhow::Result<(String, String, Option<String>)> {
    let mut prompter = Prompter::new();
    let default = std::env::var("USER")
        .ok()
        .and_then(|name| clean_username(&name).ok());
    let mut offered = args.username;
    let username = loop {
        let answer = match offered.take() {
            Some(given) => given,
            None => {
                let question = match &default {
                    Some(default) => format!("Username (leave blank to use '{default}'): "),
                    None => "Username: ".to_owned(),
                };
                let answer = prompter.ask(&question)?;
                match (&default, answer.is_empty()) {
                    (Some(default), true) => default.clone(),
                    _ => answer,
                }
            }
        };
        let answer = match clean_username(&answer) {
            Ok(answer) => answer,
            Err(message) => {
                prompter.say(&format!("Error: {message}"));
                continue;
            }
        };
        match store.user_by_username(&answer).await {
            Ok(_) => prompter.say("Error: That username is already taken."),
            Err(StoreError::NotFound) => break answer,
            Err(error) => return Err(error.into()),
        }
    };
    let mut offered = args.email;
    let email = loop {
        let answer = match offered.take() {
            Some(given) => given,
            None => prompter.ask("Email address: ")?,
        };
        match validate_email(&answer) {
            Ok(()) => break answer,
            Err(message) => prompter.say(&format!("Error: {message}")),
        }
    };
    let rules = PasswordRules {
        allow_blank: role == Role::User,
        offer_bypass: true,
        attempts: usize::MAX,
    };
    let password = match prompter.new_password(&username, &email, rules)? {
        PasswordAnswer::Password(password) => Some(password),
        PasswordAnswer::NoPassword => None,
        PasswordAnswer::GaveUp => bail!("no acceptable password given"),
    };
    Ok((username, email, password))
}
