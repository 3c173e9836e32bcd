//! How much one customer may hold or ask for at once.

/// The accounts one customer may hold.
pub const MAX_ACCOUNTS: u64 = 5;

/// The payees one customer may save.
pub const MAX_PAYEES: u64 = 50;

/// The longest period one statement covers, in days (a leap year).
pub const STATEMENT_MAX_DAYS: u64 = 366;
