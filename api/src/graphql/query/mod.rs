mod account;
mod user;

pub use account::AccountQuery;
pub use user::UserQuery;
