use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::auth::Auth;
use crate::cache::{Cache, CachedReads};
use crate::config::Config;
use crate::graphql::BankSchema;
use crate::ledger::Ledger;

/// What resolvers and handlers work with. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub ledger: Ledger,
    pub reads: CachedReads,
    pub auth: Auth,
    pub cache: Arc<dyn Cache>,
    pub config: Arc<Config>,
}

/// The router's state: the services, the schema over them, and readiness.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub schema: BankSchema,
    /// Set once migrations are applied and pools are built.
    pub ready: Arc<AtomicBool>,
}
