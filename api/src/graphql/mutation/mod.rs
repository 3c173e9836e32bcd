mod auth;
mod ledger;

pub use auth::AuthMutation;
pub use ledger::LedgerMutation;
