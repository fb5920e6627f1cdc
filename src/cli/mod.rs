//! The command line (Django's `manage.py`): one module per command. Every command reads the same
//! settings (environment, then `./.env`) and ends with one clear `error:` line and exit code 1
//! on failure; usage errors exit 2.

mod changepassword;
mod drf_create_token;
mod migrate;
mod prompt;
mod serve;
mod sso_session;
mod users;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::store::{self, Store};

/// Token authentication for Metax V3: bearer tokens, admin sessions and users.
#[derive(Debug, Parser)]
#[command(name = "metax-auth", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service in the foreground (SIGTERM or Ctrl-C stops it).
    Serve(serve::ServeArgs),
    /// Create or update the database schema (creates a SQLite file that does not exist yet).
    Migrate,
    /// Create an admin user (staff and superuser).
    Createsuperuser(users::CreateUserArgs),
    /// Create an ordinary user.
    Createuser(users::CreateUserArgs),
    /// Change a user's password.
    Changepassword(changepassword::ChangePasswordArgs),
    /// Print a user's DRF token, creating it if needed (ENABLE_DRF_TOKEN_AUTH=True).
    DrfCreateToken(drf_create_token::DrfCreateTokenArgs),
    /// Print a Fairdata SSO session cookie value signed with SSO_SECRET_KEY (for trying SSO
    /// locally).
    SsoSession(sso_session::SsoSessionArgs),
}

/// Parses the command line and runs the command; the binary's whole `main`.
pub fn main() -> ExitCode {
    // The command line first, so that `--help` works whatever `.env` holds.
    let cli = Cli::parse();
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("error: could not read .env: {error} (values with spaces need quotes)");
        return ExitCode::FAILURE;
    }
    if let Err(error) = init_tracing() {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`, without PostgreSQL's notices such as
/// "relation already exists, skipping"); colours only on a terminal.
fn init_tracing() -> Result<(), String> {
    use std::io::IsTerminal;
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => {
            tracing_subscriber::EnvFilter::try_new(&directives).map_err(|error| {
                format!(
                    "RUST_LOG: expected a log filter such as info or metax_auth=debug ({error})"
                )
            })?
        }
        _ => tracing_subscriber::EnvFilter::new("info,sqlx::postgres::notice=warn"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    match cli.command {
        Command::Serve(args) => serve::run(config, args).await,
        Command::Migrate => migrate::run(&config).await,
        Command::Createsuperuser(args) => users::run(&config, args, users::Role::Superuser).await,
        Command::Createuser(args) => users::run(&config, args, users::Role::User).await,
        Command::Changepassword(args) => changepassword::run(&config, args).await,
        Command::DrfCreateToken(args) => drf_create_token::run(&config, args).await,
        Command::SsoSession(args) => sso_session::run(&config, args),
    }
}

/// Opens the configured store and checks its schema is current.
async fn open_migrated(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = store::open(&config.database, false)
        .await
        .with_context(|| format!("cannot open {}", config.database))?;
    store.check_migrated().await?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
