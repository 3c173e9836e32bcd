//! SeaORM models of the banking tables. Behaviour lives in `api::ledger`.

pub mod accounts;
pub mod bank_identity;
pub mod payees;
pub mod transactions;
pub mod users;

pub mod prelude {
    pub use crate::accounts::Entity as Accounts;
    pub use crate::bank_identity::Entity as BankIdentity;
    pub use crate::payees::Entity as Payees;
    pub use crate::transactions::Entity as Transactions;
    pub use crate::users::Entity as Users;
}
