//! A tiny TCP proxy: one address for the api, forwarding to a port the test chooses and
//! switches, as PgBouncer or a Kubernetes Service in front of the primary would after a
//! failover. Switching also cuts every connection made to the old target, as the old
//! primary's death (or a fencing operator) would.

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct TcpProxy {
    pub port: u16,
    target: Arc<watch::Sender<u16>>,
    accept: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// Listens on a spare port of 127.0.0.1 and forwards to `127.0.0.1:target`.
    pub async fn start(target: u16) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let target = Arc::new(watch::channel(target).0);
        let switch = target.clone();
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let mut switched = switch.subscribe();
                let to = *switched.borrow_and_update();
                tokio::spawn(forward(inbound, to, switched));
            }
        });
        TcpProxy {
            port,
            target,
            accept,
        }
    }

    /// New connections go to `127.0.0.1:port`; the open ones are closed.
    pub fn switch_to(&self, port: u16) {
        self.target.send_replace(port);
    }
}

/// Copies both ways until either side closes or the target is switched.
async fn forward(mut inbound: TcpStream, to: u16, mut switched: watch::Receiver<u16>) {
    // The target refusing (a dead server) closes the client's connection at once.
    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", to)).await else {
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
        _ = switched.changed() => {}
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
