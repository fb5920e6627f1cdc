//! A TCP proxy on loopback between the service and PostgreSQL, which a test cuts (every
//! connection dropped, the port closed) and restores on the same port: a database outage
//! without touching the machine's PostgreSQL.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A running or cut proxy to one upstream address.
pub struct Proxy {
    /// Where clients connect.
    pub address: SocketAddr,
    upstream: SocketAddr,
    running: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let address = listener.local_addr().expect("proxy address");
        Proxy {
            address,
            upstream,
            running: Some(tokio::spawn(forward(listener, upstream))),
        }
    }

    /// Drops every connection and stops listening: clients see resets and refusals.
    pub async fn cut(&mut self) {
        if let Some(running) = self.running.take() {
            running.abort();
            let _ = running.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restore(&mut self) {
        let listener = TcpListener::bind(self.address)
            .await
            .expect("proxy port is free again");
        self.running = Some(tokio::spawn(forward(listener, self.upstream)));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.abort();
        }
    }
}

/// Accepts and pipes connections until aborted; aborting drops the `JoinSet`, which aborts
/// every pipe and so closes both sides of each connection.
async fn forward(listener: TcpListener, upstream: SocketAddr) {
    let mut pipes = JoinSet::new();
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            continue;
        };
        pipes.spawn(async move {
            if let Ok(mut server) = TcpStream::connect(upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        });
        // Reap finished pipes so the set does not grow without bound.
        while pipes.try_join_next().is_some() {}
    }
}
