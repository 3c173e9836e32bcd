//! Prometheus metrics, on a registry of our own passed around explicitly (no global
//! registry): requests, GraphQL operations, transfers, sign-ins, cache and pool use,
//! and the process itself.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use banking_common::telemetry::HttpMetrics;
use prometheus::{Encoder, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};
use sea_orm::DatabaseConnection;

/// At most this many distinct GraphQL operation names become label values; clients
/// choose the names, so the rest are counted as "other".
const MAX_OPERATION_NAMES: usize = 64;

pub struct Metrics {
    registry: Registry,
    /// Requests and the process; shared with the web.
    pub http: Arc<HttpMetrics>,
    graphql_operations: IntCounterVec,
    operation_names: Mutex<HashSet<String>>,
    transfers: IntCounterVec,
    logins: IntCounterVec,
    token_checks: IntCounterVec,
    cache_reads: IntCounterVec,
    db_pool: IntGaugeVec,
    /// Live subscriptions: open now, and since start the subscribers dropped for lagging
    /// and the postings not announced to other replicas (set at each scrape).
    live: IntGaugeVec,
}

/// What `crate::live` reports at a scrape.
pub struct LiveFigures {
    pub open: usize,
    pub lagged: u64,
    pub publish_failures: u64,
    pub linked: bool,
}

impl Metrics {
    pub fn new(namespace: &str) -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let opts = |name: &str, help: &str| Opts::new(name, help).namespace(namespace.to_owned());
        let http = Arc::new(HttpMetrics::register(&registry, namespace)?);
        let graphql_operations = IntCounterVec::new(
            opts(
                "graphql_operations_total",
                "GraphQL operations by name and outcome (ok or the first error code)",
            ),
            &["operation", "outcome"],
        )?;
        let transfers = IntCounterVec::new(
            opts(
                "ledger_postings_total",
                "Deposits and transfers by kind and outcome",
            ),
            &["kind", "outcome"],
        )?;
        let logins = IntCounterVec::new(
            opts(
                "auth_logins_total",
                "Sign-in attempts by outcome (ok, failed, throttled, unavailable)",
            ),
            &["outcome"],
        )?;
        let token_checks = IntCounterVec::new(
            opts(
                "auth_token_checks_total",
                "Tokens found valid, by how (remembered, seal, full_check)",
            ),
            &["path"],
        )?;
        let cache_reads = IntCounterVec::new(
            opts(
                "cache_reads_total",
                "Cached reads by result (first: not asked lately, read from the database alone; hit, miss, error)",
            ),
            &["result"],
        )?;
        let db_pool = IntGaugeVec::new(
            opts(
                "db_pool_connections",
                "Database pool connections by state (in_use, idle)",
            ),
            &["state"],
        )?;
        registry.register(Box::new(graphql_operations.clone()))?;
        registry.register(Box::new(transfers.clone()))?;
        registry.register(Box::new(logins.clone()))?;
        registry.register(Box::new(cache_reads.clone()))?;
        registry.register(Box::new(token_checks.clone()))?;
        let live = IntGaugeVec::new(
            opts(
                "live_subscriptions",
                "Live subscriptions: open (now), lagged and publish_failed (since start), linked (1 while postings from other replicas can arrive)",
            ),
            &["state"],
        )?;
        registry.register(Box::new(db_pool.clone()))?;
        registry.register(Box::new(live.clone()))?;
        Ok(Metrics {
            registry,
            http,
            graphql_operations,
            operation_names: Mutex::new(HashSet::new()),
            transfers,
            logins,
            token_checks,
            cache_reads,
            db_pool,
            live,
        })
    }

    pub fn graphql_operation(&self, name: Option<&str>, outcome: &str) {
        let name = match name {
            None => "anonymous".to_owned(),
            Some(name) => {
                let plausible = name.len() <= 64
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                let mut known = self
                    .operation_names
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if plausible && (known.contains(name) || known.len() < MAX_OPERATION_NAMES) {
                    known.insert(name.to_owned());
                    name.to_owned()
                } else {
                    "other".to_owned()
                }
            }
        };
        self.graphql_operations
            .with_label_values(&[&name, outcome])
            .inc();
    }

    pub fn posting(&self, kind: &str, outcome: &str) {
        self.transfers.with_label_values(&[kind, outcome]).inc();
    }

    pub fn login(&self, outcome: &str) {
        self.logins.with_label_values(&[outcome]).inc();
    }

    pub fn token_check(&self, path: &str) {
        self.token_checks.with_label_values(&[path]).inc();
    }

    pub fn cache_read(&self, result: &str) {
        self.cache_reads.with_label_values(&[result]).inc();
    }

    /// The text exposition, with the pool gauges read now.
    /// `pools`: the ledger's, summed.
    pub fn render<'a>(
        &self,
        pools: impl Iterator<Item = &'a DatabaseConnection>,
        live: LiveFigures,
    ) -> String {
        let gauge = |state: &str, value: i64| self.live.with_label_values(&[state]).set(value);
        gauge("open", live.open as i64);
        gauge("lagged", live.lagged as i64);
        gauge("publish_failed", live.publish_failures as i64);
        gauge("linked", i64::from(live.linked));
        let (size, idle) = pools
            .map(pool_usage)
            .fold((0, 0), |(s, i), (size, idle)| (s + size, i + idle));
        self.db_pool
            .with_label_values(&["in_use"])
            .set(size.saturating_sub(idle) as i64);
        self.db_pool.with_label_values(&["idle"]).set(idle as i64);
        let mut buffer = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::warn!(error = %e, "encoding metrics");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

fn pool_usage(db: &DatabaseConnection) -> (u32, u32) {
    use sea_orm::DatabaseConnectionType as Pool;
    match &db.inner {
        Pool::SqlxPostgresPoolConnection(_) => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle() as u32)
        }
        Pool::SqlxSqlitePoolConnection(_) => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle() as u32)
        }
        _ => (0, 0),
    }
}
