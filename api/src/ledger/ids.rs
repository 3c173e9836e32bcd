//! Which customer, which account: the database's ids as types of their own, so a user id
//! cannot be passed where an account id is meant. Clients see them as GraphQL `ID`s and
//! REST path segments; the ledger sees only these.

use std::fmt;

use sea_orm::Value;

use super::{Error, Input};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl $name {
            /// An id a client sent as a string (a GraphQL `ID`, a REST path segment or
            /// parameter) in `field`.
            pub fn parse(input: &str, field: Input) -> Result<$name, Error> {
                input
                    .parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .map($name)
                    .ok_or_else(|| Error::invalid(field, "not a valid id"))
            }
        }

        /// Lets a query compare a column with the id (`Column::UserId.eq(user_id)`).
        impl From<$name> for Value {
            fn from(id: $name) -> Value {
                id.0.into()
            }
        }
    };
}

id!(
    /// A customer: `users.id`.
    UserId
);
id!(
    /// An account: `accounts.id`.
    AccountId
);
id!(
    /// A saved payee: `payees.id`.
    PayeeId
);
