//! Every key the bank writes to its cache, in one place. Each is relative to the
//! deployment's prefix (`{REDIS_KEY_PREFIX}{database identity}:`), which the cache adds.
//! The near cache keeps local copies of the namespaces in [`NEAR_CACHED`]; renaming one
//! here renames it there too, so the two cannot drift apart.

use crate::ledger::{AccountId, UserId};

/// A session: its value is the user id, its time to live the idle timeout.
const SESSION: &str = "session:";
/// A session token's seal: its claims and a MAC, until the token expires.
const SEALED_TOKEN: &str = "sealed_token:";
/// A user's generation: bumped after every write touching them, so cached reads under an
/// older generation are never read again.
const GENERATION: &str = "gen:";
/// Sign-in failures counted per scope, and the wait a scope is under.
const LOGIN_FAILURES: &str = "login_failures:";
const LOGIN_WAIT: &str = "login_wait:";

/// Behind Sentinel: which Redis node (its run id and replication id) the cached reads were
/// last read and written on, and the era of cached reads, which a change of node ends.
const NODE: &str = "node";
const READ_ERA: &str = "read_era";

/// The namespaces whose values the near cache copies and Redis keeps in step (client
/// tracking by prefix): sessions and generations, read on every request.
pub const NEAR_CACHED: [&str; 2] = [SESSION, GENERATION];

pub fn session(session_id: &str) -> String {
    format!("{SESSION}{session_id}")
}

/// What every session's key begins with: `session(id)` is this followed by the id.
pub fn sessions() -> &'static str {
    SESSION
}

pub fn generation(user_id: UserId) -> String {
    format!("{GENERATION}{user_id}")
}

/// The prefix of a cached read (`what` of `user_id`); the generation completes it.
pub fn read_prefix(what: &str, user_id: UserId) -> String {
    format!("{what}:{user_id}:")
}

/// A cached history page's `what`.
pub fn history(account_id: AccountId, first: u64) -> String {
    format!("history:{account_id}:{first}")
}

/// A cached overview's `what`: the accounts with `first` postings of each one's history.
pub fn overview(first: u64) -> String {
    format!("overview:{first}")
}

/// `scope` is the throttle scope's name, `subject` what it counts (an address, a username).
pub fn login_failures(scope: &str, subject: &str) -> String {
    format!("{LOGIN_FAILURES}{scope}:{subject}")
}

pub fn login_wait(scope: &str, subject: &str) -> String {
    format!("{LOGIN_WAIT}{scope}:{subject}")
}

pub fn node() -> String {
    NODE.to_owned()
}

pub fn read_era() -> String {
    READ_ERA.to_owned()
}

/// The seal of a session token the api minted (`auth::TokenKeys::seal`), by the token's
/// SHA-256 in hex.
pub fn sealed_token(digest: &str) -> String {
    format!("{SEALED_TOKEN}{digest}")
}
