//! Building the api: state from configuration, the router, and a server that stops
//! gracefully. `main` is a thin shim over this; tests bind port 0.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, header};
use axum::routing::get;
use banking_common::error_code::ErrorCode;
use banking_common::server::{Listeners, ServerLimits, shutdown_signal};
use banking_common::telemetry;
use secrecy::ExposeSecret;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::app_state::AppState;
use crate::auth::{Auth, ClientAddress, SessionWatch, TokenKeys};
use crate::body_limits::{self, LargeBodies};
use crate::cache::{Cache, CachedReads, Locator, MemoryCache, RedisCache};
use crate::config::Config;
use crate::ledger::{Ledger, db};
use crate::live::Live;
use crate::metrics::Metrics;
use crate::state::Services;
use crate::{graphiql, graphql, graphql_http, graphql_ws, health, rest};

pub struct Application {
    listeners: Listeners,
    router: Router,
    limits: ServerLimits,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let (bind, metrics_bind, limits) = (
            config.bind,
            config.process.metrics_bind,
            config.process.server,
        );
        let state = build_state(config).await?;
        let listeners = Listeners::bind(bind, "API_BIND", metrics_bind).await?;
        Ok(Application {
            router: router(state.clone()),
            listeners,
            limits,
            state,
        })
    }

    /// Where it listens (a test's port 0 resolved).
    pub fn listeners(&self) -> &Listeners {
        &self.listeners
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` resolves, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state.clone();
        self.listeners
            .serve(self.router, move || metrics_text(&state), self.limits, stop)
            .await
    }
}

/// Connects to the database (waiting for it a while), migrates when configured, builds
/// the cache, the keys and the schema.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let pools = connect_with_retry(&config).await?;
    if config.migrate_on_start {
        db::migrate(&pools.main)
            .await
            .context("applying migrations")?;
    }
    let ledger = Ledger::over(pools);
    if config.seed_demo {
        let report = ledger
            .seed_demo()
            .await
            .map_err(|e| anyhow::anyhow!("seeding demo users: {e:?}"))?;
        if !report.created.is_empty() {
            tracing::info!(users = ?report.created, "created demo users");
        }
    }
    // Every key outside the database names the database, so a Redis that served
    // another one (recreated, replaced) can never answer for this one.
    let identity = wait_for_identity(&ledger).await?;
    let key_prefix = format!("{}{identity}:", config.redis_key_prefix);
    let (cache, live): (Arc<dyn Cache>, Live) = match &config.redis_url {
        Some(url) => {
            // With REDIS_SENTINELS, the master is whichever node the sentinels name.
            let locator = Locator::new(
                url.expose_secret(),
                &config.redis_sentinels,
                &config.redis_sentinel_master,
            )
            .map_err(|e| anyhow::anyhow!("REDIS_URL / REDIS_SENTINELS: {e}"))?;
            // Pub/sub channels ignore the database number: the channel carries the
            // prefix, so deployments (and tests) sharing a Redis do not hear each other.
            let live = Live::over_redis(
                config.live.clone(),
                locator.clone(),
                format!("{key_prefix}postings"),
            );
            let cache = Arc::new(RedisCache::with_locator(
                locator,
                &key_prefix,
                config.redis_pool_size,
                config.cache_sizes,
            ));
            (cache, live)
        }
        None => (
            Arc::new(MemoryCache::new(config.cache_sizes.memory_bytes)),
            Live::in_process(config.live.clone()),
        ),
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
    }
    .remembering(config.cache_sizes.token_entries);
    let config = Arc::new(config);
    let metrics = Arc::new(Metrics::new("banking_api").context("registering metrics")?);
    let auth = Auth::new(keys, cache.clone(), &config, metrics.clone());
    let services = Services {
        reads: CachedReads::new(
            cache.clone(),
            ledger.clone(),
            metrics.clone(),
            &config.cache_sizes,
        ),
        watch: SessionWatch::start(auth.clone()),
        auth,
        ledger,
        cache,
        config,
        metrics,
        live,
    };
    // The identity is read from a migrated database, so by now the schema is in place.
    let ready = Arc::new(AtomicBool::new(true));
    let documents = graphql::guard::CheckedDocuments::new();
    let trusted = services.config.process.otel_endpoint.is_none().then(|| {
        Arc::new(graphql_http::Trusted::new(
            graphql::trusted_schema(services.clone()),
            documents.clone(),
        ))
    });
    Ok(AppState {
        schema: graphql::schema(services.clone(), documents),
        trusted,
        services,
        ready,
    })
}

/// The database's identity, once its migrations are applied. When another process is to
/// apply them (`banking-api migrate`, an init container), keep looking until it has:
/// nothing may be cached before the identity is known.
async fn wait_for_identity(ledger: &Ledger) -> anyhow::Result<String> {
    let mut warned = false;
    loop {
        if db::is_migrated(ledger.db()).await.unwrap_or(false) {
            return db::identity(ledger.db())
                .await
                .context("reading the database's identity");
        }
        if !warned {
            tracing::warn!("migrations are pending; waiting for them to be applied");
            warned = true;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// The database may start after us (a fresh cluster, a laptop): wait up to a minute.
pub async fn connect_with_retry(config: &Config) -> anyhow::Result<db::Pools> {
    let mut delay = Duration::from_millis(250);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match db::Pools::connect(config.database_url(), &config.db_pool).await {
            Ok(pools) => return Ok(pools),
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
        .route("/graphql", get(graphql_get).post(graphql_http::post))
        .route("/graphql/ws", get(graphql_ws::upgrade))
        .route("/graphql/assets/{version}/{name}", get(graphiql::asset))
        .merge(rest::routes())
        .merge(health::routes())
        .with_state(state)
        // A last resort: a bug (ours or a library's) that panics on some input answers
        // 500 INTERNAL instead of dropping the connection; the fuzzers treat both as failures.
        .layer(CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn_with_state(
            LargeBodies::default(),
            body_limits::limit,
        ))
        .layer(cors)
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            telemetry::observe,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// `GET /graphql`: a WebSocket upgrade (GraphQL over WebSocket), else a query or GraphiQL.
async fn graphql_get(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::extract::FromRequestParts;
    use axum::response::IntoResponse;
    let (mut parts, _) = request.into_parts();
    if graphql_ws::is_upgrade(&parts.headers) {
        let client = ClientAddress::from_request_parts(&mut parts, &state).await;
        let upgrade =
            axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &state).await;
        return match (client, upgrade) {
            (Ok(client), Ok(upgrade)) => {
                graphql_ws::upgrade(State(state), client, parts.headers.clone(), upgrade).await
            }
            (Err(never), _) => match never {},
            (_, Err(rejection)) => rejection.into_response(),
        };
    }
    let client = match ClientAddress::from_request_parts(&mut parts, &state).await {
        Ok(client) => client,
        Err(never) => match never {},
    };
    let raw = parts.uri.query().map(str::to_owned);
    graphql_http::get(
        State(state),
        client,
        parts.headers,
        axum::extract::RawQuery(raw),
    )
    .await
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    tracing::error!("a request handler panicked");
    let code = ErrorCode::Internal.as_str();
    let body = serde_json::json!({ "errors": [{ "message": "internal error", "extensions": { "code": code } }] });
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(body),
    )
        .into_response()
}

/// The api's metrics in the Prometheus text format (served on the metrics listener; in the
/// all-in-one, by the web's).
pub fn metrics_text(state: &AppState) -> String {
    let live = &state.services.live;
    let figures = crate::metrics::LiveFigures {
        open: live.open(),
        lagged: live.lagged(),
        publish_failures: live.publish_failures(),
        linked: live.is_linked(),
    };
    state
        .services
        .metrics
        .render(state.services.ledger.pools(), figures)
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
