//! `metax-auth migrate`: applies pending migrations (Django's `migrate`).

use crate::config::Config;
use crate::store;

/// Runs the command.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let store = store::open(&config.database, true).await?;
    store.migrate().await?;
    println!("Database {} is up to date.", config.database);
    Ok(())
}
