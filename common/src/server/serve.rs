//! Accepting connections under the limits, and stopping gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::clock::{ConnectionClock, TimedStream};
use super::limits::ServerLimits;
use super::request;

/// A stop signal shared by several listeners of one process (public and metrics).
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Resolves `stop` once, then tells every listener holding a copy.
    pub fn on(stop: impl Future<Output = ()> + Send + 'static) -> Stop {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            stop.await;
            let _ = tx.send(true);
        });
        Stop(rx)
    }

    async fn wait(mut self) {
        // An error means the sender is gone without a signal: the process is ending.
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }
}

/// Serves `router` on `listener` until `stop`, then stops accepting, lets in-flight
/// requests finish, closes idle connections and returns when every connection is done.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    stop: Stop,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Every connection task holds a receiver; `closed()` below waits for all to finish.
    let (closing, connections) = watch::channel(false);
    let stop = stop.wait();
    tokio::pin!(stop);
    loop {
        // At the cap, stop accepting: new clients wait in the kernel's backlog, and a slot
        // frees within the header or idle timeout of the slowest connection.
        let slot = tokio::select! {
            () = &mut stop => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        tokio::spawn(serve_connection(
            stream,
            peer,
            slot,
            router.clone(),
            limits,
            connections.clone(),
        ));
    }
    drop(listener);
    drop(connections);
    let _ = closing.send(true);
    closing.closed().await;
    Ok(())
}

/// Out of file descriptors or memory: wait a little rather than spin; a refused or reset
/// connection: nothing to wait for.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "accepting a connection failed; pausing");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    slot: OwnedSemaphorePermit,
    router: Router,
    limits: ServerLimits,
    mut closing: watch::Receiver<bool>,
) {
    // Responses go out in one write each; don't hold back their last segment.
    let _ = stream.set_nodelay(true);
    let clock = ConnectionClock::new(limits.header_timeout, limits.idle_timeout);
    let io = TokioIo::new(TimedStream::new(stream, clock.clone(), slot));
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        request::serve_request(router.clone(), clock.clone(), limits, peer, request)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        // Our clock (clock.rs) times headers and idle connections; hyper's own header
        // timer would bound both with one value.
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = async { let _ = closing.wait_for(|closing| *closing).await; } => {
            // Finish the request in progress, if any, then close.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// The metrics listener's one route: `GET /metrics` in the Prometheus text format,
/// rendered at each scrape. It runs on a port of its own, which the Services the Ingress
/// uses never expose.
pub fn metrics_router(render: impl Fn() -> String + Clone + Send + Sync + 'static) -> Router {
    Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let render = render.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4",
                    )],
                    render(),
                )
            }
        }),
    )
}

/// The metrics listener needs few connections: Prometheus keeps one alive.
pub fn metrics_limits(limits: ServerLimits) -> ServerLimits {
    ServerLimits {
        max_connections: limits.max_connections.min(64),
        ..limits
    }
}
