mod account;
mod payee;
mod user;

pub use account::AccountQuery;
pub use payee::PayeeQuery;
pub use user::UserQuery;
