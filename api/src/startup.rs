//! Building the api: state from configuration, the router, and a server that stops
//! gracefully. `main` is a thin shim over this; tests bind port 0.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::routing::get;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::auth::{Auth, TokenKeys};
use crate::cache::{Cache, CachedReads, MemoryCache, RedisCache};
use crate::config::Config;
use crate::ledger::{Ledger, db};
use crate::metrics::Metrics;
use crate::state::{AppState, Services};
use crate::{graphql, graphql_http, health, rest};

/// Request bodies above this are refused with 413 before anything parses them.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let bind = config.bind;
        let state = build_state(config).await?;
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("binding {bind}"))?;
        Ok(Application {
            router: router(state.clone()),
            listener,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(banking_telemetry::shutdown_signal()).await
    }

    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop)
        .await
    }
}

/// Connects to the database (waiting for it a while), migrates when configured, builds
/// the cache, the keys and the schema.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let conn = connect_with_retry(&config).await?;
    if config.migrate_on_start {
        db::migrate(&conn).await.context("applying migrations")?;
    }
    let ledger = Ledger::new(conn);
    if config.seed_demo {
        let report = ledger
            .seed_demo()
            .await
            .map_err(|e| anyhow::anyhow!("seeding demo users: {e:?}"))?;
        if !report.created.is_empty() {
            tracing::info!(users = ?report.created, "created demo users");
        }
    }
    let cache: Arc<dyn Cache> = match &config.redis_url {
        Some(url) => Arc::new(
            RedisCache::new(
                url.expose_secret(),
                &config.redis_key_prefix,
                config.redis_pool_size,
            )
            .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?,
        ),
        None => Arc::new(MemoryCache::default()),
    };
    let keys = match &config.biscuit_private_key {
        Some(hex) => {
            TokenKeys::from_hex(hex.expose_secret()).map_err(|e| anyhow::anyhow!("{e:?}"))?
        }
        None => {
            tracing::warn!(
                "BISCUIT_PRIVATE_KEY is not set: using a key generated for this run; tokens will not survive a restart"
            );
            TokenKeys::generate()
        }
    };
    let config = Arc::new(config);
    let metrics = Arc::new(Metrics::new("banking_api").context("registering metrics")?);
    let services = Services {
        reads: CachedReads::new(cache.clone(), ledger.clone(), metrics.clone()),
        auth: Auth::new(keys, cache.clone(), &config, metrics.clone()),
        ledger,
        cache,
        config,
        metrics,
    };
    let ready = Arc::new(AtomicBool::new(false));
    watch_migrations(services.ledger.clone(), ready.clone()).await;
    Ok(AppState {
        schema: graphql::schema(services.clone()),
        services,
        ready,
    })
}

/// Ready as soon as every migration is applied; when another process is to apply them
/// (`banking-api migrate`), keep looking until it has.
async fn watch_migrations(ledger: Ledger, ready: Arc<AtomicBool>) {
    if db::is_migrated(ledger.db()).await.unwrap_or(false) {
        ready.store(true, Ordering::Release);
        return;
    }
    tracing::warn!("migrations are pending; not ready until they are applied");
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            if db::is_migrated(ledger.db()).await.unwrap_or(false) {
                ready.store(true, Ordering::Release);
                tracing::info!("migrations applied; ready");
                return;
            }
        }
    });
}

/// The database may start after us (a fresh cluster, a laptop): wait up to a minute.
pub async fn connect_with_retry(config: &Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let mut delay = Duration::from_millis(250);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match db::connect(config.database_url(), &config.db_pool).await {
            Ok(conn) => return Ok(conn),
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(error = %e, "database not reachable yet; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e).context("connecting to DATABASE_URL"),
        }
    }
}

/// Every api route, with the shared layers.
pub fn router(state: AppState) -> Router {
    let cors = cors(&state.services.config.cors_origins);
    let metrics = state.services.metrics.http.clone();
    Router::new()
        .route("/graphql", get(graphql_http::get).post(graphql_http::post))
        .merge(rest::routes())
        .merge(health::routes())
        .route("/metrics", get(metrics_text))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(cors)
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::telemetry::observe,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// `GET /metrics`, in the Prometheus text format.
async fn metrics_text(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> impl axum::response::IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.services.metrics.render(state.services.ledger.db()),
    )
}

fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            "idempotency-key".parse().unwrap_or(header::ACCEPT),
        ])
        .max_age(Duration::from_secs(600))
}
