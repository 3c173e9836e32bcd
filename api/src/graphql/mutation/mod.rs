mod account;
mod auth;
mod ledger;
mod payee;

pub use account::AccountMutation;
pub use auth::AuthMutation;
pub use ledger::LedgerMutation;
pub use payee::PayeeMutation;
