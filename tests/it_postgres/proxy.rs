//! A TCP proxy on loopback between the service and PostgreSQL, which a test cuts (every
//! connection dropped, the port closed) or stalls (connections kept open, nothing forwarded,
//! as a database host that stops answering) and then restores on the same port: database
//! outages without touching the machine's PostgreSQL.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Whether the proxy forwards or holds its connections silent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Forward,
    Stall,
}

/// A running, stalled or cut proxy to one upstream address.
pub struct Proxy {
    /// Where clients connect.
    pub address: SocketAddr,
    upstream: SocketAddr,
    mode: watch::Sender<Mode>,
    running: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let address = listener.local_addr().expect("proxy address");
        let (mode, _) = watch::channel(Mode::Forward);
        let running = tokio::spawn(forward(listener, upstream, mode.subscribe()));
        Proxy {
            address,
            upstream,
            mode,
            running: Some(running),
        }
    }

    /// Drops every connection and stops listening: clients see resets and refusals.
    pub async fn cut(&mut self) {
        if let Some(running) = self.running.take() {
            running.abort();
            let _ = running.await;
        }
    }

    /// Stops forwarding while keeping every connection open, and accepts new ones without
    /// forwarding them: clients see a database that never answers.
    pub fn stall(&self) {
        self.mode.send_replace(Mode::Stall);
    }

    /// Forwards again (listening again on the same port after a cut). Connections held during
    /// a stall are closed, as a database host that comes back resets them.
    pub async fn restore(&mut self) {
        if self.running.is_none() {
            let listener = TcpListener::bind(self.address)
                .await
                .expect("proxy port is free again");
            let running = tokio::spawn(forward(listener, self.upstream, self.mode.subscribe()));
            self.running = Some(running);
        }
        self.mode.send_replace(Mode::Forward);
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
async fn forward(listener: TcpListener, upstream: SocketAddr, mode: watch::Receiver<Mode>) {
    let mut pipes = JoinSet::new();
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        pipes.spawn(pipe(client, upstream, mode.clone()));
        // Reap finished pipes so the set does not grow without bound.
        while pipes.try_join_next().is_some() {}
    }
}

/// Pipes one connection until either side closes it, or until a stall, after which it holds
/// both sides silent until the proxy forwards again and then closes them.
async fn pipe(mut client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    let _held = if *mode.borrow() == Mode::Forward {
        let Ok(mut server) = TcpStream::connect(upstream).await else {
            return;
        };
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
            _ = mode.wait_for(|mode| *mode == Mode::Stall) => {}
        }
        Some(server)
    } else {
        None
    };
    let _ = mode.wait_for(|mode| *mode == Mode::Forward).await;
}
