//! `metax-auth serve`: runs the HTTP service until SIGTERM or Ctrl-C.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Args;

use crate::clock::Clock;
use crate::config::Config;
use crate::web::{self, AppState};

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,
}

/// Runs the command.
pub async fn run(config: Config, args: ServeArgs) -> anyhow::Result<()> {
    let store = super::open_migrated(&config).await?;
    if !config.secret_key_is_set {
        tracing::warn!(
            "SECRET_KEY is not set: using a random one, so logins end when the service restarts"
        );
    }
    if store.count_superusers().await? == 0 {
        tracing::warn!(
            "no superuser yet: create one with `metax-auth createsuperuser` (from a checkout: `cargo run -- createsuperuser`)"
        );
    }
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    tracing::info!(database = %config.database, "metax-auth listening on http://{}/", listener.local_addr()?);
    web::serve(
        listener,
        AppState::new(config, store, Clock::default()),
        shutdown_signal(),
    )
    .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
