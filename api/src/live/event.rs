//! One committed posting as it travels between replicas: the transaction and the
//! accounts it touched, as the commit left them. JSON on the Redis channel.

use serde::{Deserialize, Serialize};

use crate::ledger::{Account, Posted, Transaction, UserId};

/// Larger messages on the channel are not ours (two accounts and a description are well
/// under this) and are dropped unread.
pub const MAX_EVENT_BYTES: usize = 16 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingEvent {
    /// The process that committed it: it delivered the event to its own subscribers
    /// already and skips the copy Redis sends back.
    pub origin: u64,
    pub transaction: Transaction,
    /// Source first (for a transfer), then target.
    pub accounts: Vec<Account>,
}

impl PostingEvent {
    /// `None` for a replay: nothing was posted now.
    pub fn of(origin: u64, posted: &Posted) -> Option<PostingEvent> {
        (!posted.replayed && !posted.accounts.is_empty()).then(|| PostingEvent {
            origin,
            transaction: posted.transaction.clone(),
            accounts: posted.accounts.clone(),
        })
    }

    /// The customers whose accounts it touched, each once.
    pub fn owners(&self) -> Vec<UserId> {
        let mut owners: Vec<UserId> = self.accounts.iter().map(|a| a.user_id).collect();
        owners.sort();
        owners.dedup();
        owners
    }

    /// The accounts of `user` it touched: one update each.
    pub fn accounts_of(&self, user: UserId) -> impl Iterator<Item = &Account> {
        self.accounts.iter().filter(move |a| a.user_id == user)
    }

    pub fn encode(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    pub fn decode(bytes: &[u8]) -> Option<PostingEvent> {
        if bytes.len() > MAX_EVENT_BYTES {
            return None;
        }
        serde_json::from_slice(bytes).ok()
    }
}
