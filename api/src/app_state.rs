//! The router's state: the services, the schema over them, and readiness. Apart from
//! `state` (the services alone), because the schema is built over the services: the
//! GraphQL resolvers take `Services`, the handlers take this.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::auth::{KnowsProxies, TrustedProxies};
use crate::graphql::BankSchema;
use crate::graphql_http::Trusted;
use crate::state::Services;

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub schema: BankSchema,
    /// Queries identical to one that passed every check, on the schema without
    /// extensions; `None` while traces are exported (they keep their per-field spans).
    pub trusted: Option<Arc<Trusted>>,
    /// Set once migrations are applied and pools are built.
    pub ready: Arc<AtomicBool>,
}

impl KnowsProxies for AppState {
    fn trusted_proxies(&self) -> &TrustedProxies {
        &self.services.config.process.trusted_proxies
    }
}
