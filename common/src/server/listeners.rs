//! The two listeners of each process, the public port and the metrics port, and serving
//! both until one stop signal.

use std::io;
use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

use super::limits::ServerLimits;
use super::serve::{Stop, metrics_limits, metrics_router, serve};

/// The bound public and metrics listeners of one process.
pub struct Listeners {
    public: TcpListener,
    metrics: TcpListener,
}

impl Listeners {
    /// Binds both; an error names the variable that chose the address (`public_var`,
    /// `METRICS_BIND`).
    pub async fn bind(
        public: SocketAddr,
        public_var: &str,
        metrics: SocketAddr,
    ) -> io::Result<Listeners> {
        let named = |var: &str, address: SocketAddr, e: io::Error| {
            io::Error::new(e.kind(), format!("binding {address} ({var}): {e}"))
        };
        Ok(Listeners {
            public: TcpListener::bind(public)
                .await
                .map_err(|e| named(public_var, public, e))?,
            metrics: TcpListener::bind(metrics)
                .await
                .map_err(|e| named("METRICS_BIND", metrics, e))?,
        })
    }

    /// The public address (a test's port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.public
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The public port.
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The port `GET /metrics` answers on.
    pub fn metrics_port(&self) -> u16 {
        self.metrics
            .local_addr()
            .map_or(0, |address| address.port())
    }

    /// Serves `router` publicly and `render_metrics` at `GET /metrics` until `stop`
    /// (e.g. [`super::shutdown_signal`]), then lets in-flight requests finish on both.
    pub async fn serve(
        self,
        router: Router,
        render_metrics: impl Fn() -> String + Clone + Send + Sync + 'static,
        limits: ServerLimits,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let stop = Stop::on(stop);
        let (public, metrics) = tokio::join!(
            serve(self.public, router, limits, stop.clone()),
            serve(
                self.metrics,
                metrics_router(render_metrics),
                metrics_limits(limits),
                stop
            ),
        );
        public.and(metrics)
    }
}
