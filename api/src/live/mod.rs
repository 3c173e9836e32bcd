//! Live postings: every committed posting reaches the subscribers of the accounts it
//! touched, on whichever replica they are connected to.
//!
//! The replica that commits a posting hands it to its own subscribers at once
//! (`hub.rs`) and publishes it on a Redis channel (`relay.rs`); every other replica hears
//! it there and hands it to its own. Without Redis (the all-in-one) there is one process
//! and the hub alone. Knows the ledger's values, not GraphQL: `crate::graphql` turns
//! deliveries into `AccountUpdate`s, `crate::graphql_ws` carries them.

mod event;
mod hub;
mod relay;
mod settings;

use std::sync::Arc;

pub use event::PostingEvent;
pub use hub::{ConnectionSlots, Delivery, LiveStream, Refusal};
pub use settings::LiveSettings;

use crate::cache::Locator;
use crate::ledger::{Posted, UserId};
use hub::Hub;
use relay::Relay;

/// Cheap to clone: the hub and the relay are shared.
#[derive(Clone)]
pub struct Live {
    hub: Arc<Hub>,
    relay: Option<Arc<Relay>>,
    /// This process, among the replicas publishing on the channel.
    origin: u64,
}

impl Live {
    /// One process: its own subscribers only.
    pub fn in_process(settings: LiveSettings) -> Live {
        Live {
            hub: Arc::new(Hub::new(settings)),
            relay: None,
            origin: rand::random(),
        }
    }

    /// Every replica on the Redis master `locator` names, on `channel` (named after the
    /// deployment's key prefix, so deployments sharing a Redis do not hear each other).
    /// Must be called within the Tokio runtime.
    pub fn over_redis(settings: LiveSettings, locator: Locator, channel: String) -> Live {
        let hub = Arc::new(Hub::new(settings));
        let origin = rand::random();
        let relay = Relay::start(Arc::downgrade(&hub), locator, channel, origin);
        Live {
            hub,
            relay: Some(Arc::new(relay)),
            origin,
        }
    }

    /// After a commit: this process's subscribers now, the other replicas' through Redis.
    /// A replay posted nothing and is not announced.
    pub async fn publish(&self, posted: &Posted) {
        let Some(event) = PostingEvent::of(self.origin, posted) else {
            return;
        };
        let event = Arc::new(event);
        self.hub.deliver(event.clone());
        let Some(relay) = &self.relay else { return };
        let message = match event.encode() {
            Ok(message) => message,
            Err(e) => {
                tracing::error!(error = %e, "encoding a posting event");
                return;
            }
        };
        if let Err(e) = relay.publish(message).await {
            tracing::warn!(error = %e, transaction = event.transaction.id, "a posting was not announced to the other replicas");
        }
    }

    /// A stream of the postings on `user`'s accounts, or why not.
    pub fn subscribe(
        &self,
        user: UserId,
        connection: &ConnectionSlots,
    ) -> Result<LiveStream, Refusal> {
        self.hub.subscribe(user, connection)
    }

    /// Subscriptions open in this process.
    pub fn open(&self) -> usize {
        self.hub.open()
    }

    /// Subscribers dropped for falling behind, since start.
    pub fn lagged(&self) -> u64 {
        self.hub.lagged()
    }

    /// Publishes that did not reach Redis, since start.
    pub fn publish_failures(&self) -> u64 {
        self.relay.as_ref().map_or(0, |r| r.failed())
    }

    /// Whether postings from other replicas can arrive (always, without Redis).
    pub fn is_linked(&self) -> bool {
        self.relay.as_ref().is_none_or(|r| r.is_up())
    }
}

/// Why a subscription was refused or ended early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveError {
    Refused(Refusal),
    /// The link to the other replicas was down: postings may be missing.
    Gap,
    /// The subscriber fell behind and was dropped.
    Lagged,
}

impl LiveError {
    pub fn message(self) -> String {
        match self {
            LiveError::Refused(refusal) => refusal.message(),
            LiveError::Gap => "live updates were interrupted and postings may have been missed; read the balances again".to_owned(),
            LiveError::Lagged => "this subscription fell too far behind and was ended; read the balances again and resubscribe".to_owned(),
        }
    }
}
