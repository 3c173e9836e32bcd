//! This process's subscribers, by customer: an event goes only to the subscribers of the
//! customers whose accounts it touched, each through a bounded queue of its own.
//!
//! A subscriber whose queue is full (it reads more slowly than postings arrive) is not
//! allowed to hold memory or to miss postings silently: it is dropped, and its stream
//! ends with an error that tells the client to read the balances again and resubscribe.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc;

use super::event::PostingEvent;
use super::settings::LiveSettings;
use crate::ledger::UserId;

/// Events a subscriber may have waiting before it counts as too slow.
const QUEUE: usize = 64;

/// What a subscription's stream yields.
#[derive(Clone, Debug)]
pub enum Delivery {
    Posting(Arc<PostingEvent>),
    /// The link to the other replicas was down for a while: postings made elsewhere in
    /// that time may be missing. The subscription goes on.
    Gap,
    /// This subscriber fell behind and was dropped; the stream ends after this.
    Lagged,
}

/// Why a subscription was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The process holds `SUBSCRIPTIONS_MAX`.
    ProcessFull(usize),
    /// The customer holds `SUBSCRIPTIONS_PER_USER` here.
    UserFull(usize),
    /// The connection holds `SUBSCRIPTIONS_PER_CONNECTION`.
    ConnectionFull(usize),
}

impl Refusal {
    pub fn message(self) -> String {
        match self {
            Refusal::ProcessFull(n) => {
                format!("this server already holds its {n} live subscriptions; try again shortly")
            }
            Refusal::UserFull(n) => {
                format!("at most {n} live subscriptions per customer are allowed at once")
            }
            Refusal::ConnectionFull(n) => {
                format!("at most {n} subscriptions per connection are allowed at once")
            }
        }
    }
}

/// The subscriptions open on one WebSocket connection.
#[derive(Clone, Debug, Default)]
pub struct ConnectionSlots(Arc<AtomicUsize>);

impl ConnectionSlots {
    pub fn open(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

struct Subscriber {
    id: u64,
    queue: mpsc::Sender<Delivery>,
    lagged: Arc<AtomicBool>,
}

pub struct Hub {
    settings: LiveSettings,
    by_user: Mutex<HashMap<UserId, Vec<Subscriber>>>,
    open: AtomicUsize,
    next_id: AtomicU64,
    /// Events that found a subscriber full and dropped it.
    lagged: AtomicU64,
}

impl Hub {
    pub fn new(settings: LiveSettings) -> Hub {
        Hub {
            settings,
            by_user: Mutex::new(HashMap::new()),
            open: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            lagged: AtomicU64::new(0),
        }
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    pub fn lagged(&self) -> u64 {
        self.lagged.load(Ordering::Relaxed)
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Vec<Subscriber>>> {
        // A panic while holding the lock leaves plain data behind, still consistent.
        self.by_user.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A stream of the postings on `user`'s accounts, counted against the connection's,
    /// the customer's and the process's limits.
    pub fn subscribe(
        self: &Arc<Self>,
        user: UserId,
        connection: &ConnectionSlots,
    ) -> Result<LiveStream, Refusal> {
        let limits = &self.settings;
        let mut registry = self.registry();
        if connection.open() >= limits.per_connection {
            return Err(Refusal::ConnectionFull(limits.per_connection));
        }
        let held = registry.get(&user).map_or(0, Vec::len);
        if held >= limits.per_user {
            return Err(Refusal::UserFull(limits.per_user));
        }
        if self.open() >= limits.max_subscriptions {
            return Err(Refusal::ProcessFull(limits.max_subscriptions));
        }
        let (queue, receiver) = mpsc::channel(QUEUE);
        let lagged = Arc::new(AtomicBool::new(false));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        registry.entry(user).or_default().push(Subscriber {
            id,
            queue,
            lagged: lagged.clone(),
        });
        self.open.fetch_add(1, Ordering::AcqRel);
        connection.0.fetch_add(1, Ordering::AcqRel);
        Ok(LiveStream {
            receiver,
            lagged,
            ended: false,
            _slot: Slot {
                hub: Arc::downgrade(self),
                user,
                id,
                connection: connection.clone(),
            },
        })
    }

    /// Hands `event` to the subscribers of each customer it concerns.
    pub fn deliver(&self, event: Arc<PostingEvent>) {
        let owners = event.owners();
        let mut registry = self.registry();
        for owner in owners {
            if let Some(subscribers) = registry.get_mut(&owner) {
                self.offer(subscribers, &Delivery::Posting(event.clone()));
                if subscribers.is_empty() {
                    registry.remove(&owner);
                }
            }
        }
    }

    /// Tells every subscriber that postings may have been missed.
    pub fn gap(&self) {
        let mut registry = self.registry();
        for subscribers in registry.values_mut() {
            self.offer(subscribers, &Delivery::Gap);
        }
        registry.retain(|_, subscribers| !subscribers.is_empty());
    }

    /// Queues `delivery` for each subscriber; drops those that are full (lagging) or gone.
    fn offer(&self, subscribers: &mut Vec<Subscriber>, delivery: &Delivery) {
        subscribers.retain(|s| match s.queue.try_send(delivery.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                s.lagged.store(true, Ordering::Release);
                self.lagged.fetch_add(1, Ordering::Relaxed);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
    }

    fn remove(&self, user: UserId, id: u64) {
        let mut registry = self.registry();
        if let Some(subscribers) = registry.get_mut(&user) {
            subscribers.retain(|s| s.id != id);
            if subscribers.is_empty() {
                registry.remove(&user);
            }
        }
    }
}

/// Gives the subscription's places back (process, customer, connection) when its stream
/// is dropped: the client stopped it, the connection closed, or it lagged.
struct Slot {
    hub: Weak<Hub>,
    user: UserId,
    id: u64,
    connection: ConnectionSlots,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            hub.remove(self.user, self.id);
            hub.open.fetch_sub(1, Ordering::AcqRel);
        }
        self.connection.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One subscription's deliveries.
pub struct LiveStream {
    receiver: mpsc::Receiver<Delivery>,
    lagged: Arc<AtomicBool>,
    ended: bool,
    _slot: Slot,
}

impl Stream for LiveStream {
    type Item = Delivery;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        if self.ended {
            return Poll::Ready(None);
        }
        match self.receiver.poll_recv(cx) {
            Poll::Ready(Some(delivery)) => Poll::Ready(Some(delivery)),
            // The hub let go of the sender: the subscriber lagged (or the hub is gone).
            Poll::Ready(None) => {
                self.ended = true;
                if self.lagged.load(Ordering::Acquire) {
                    Poll::Ready(Some(Delivery::Lagged))
                } else {
                    Poll::Ready(None)
                }
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;
    use crate::ledger::{Account, AccountId, AccountType, Money, Transaction};

    fn account(id: i64, user: i64) -> Account {
        Account {
            id: AccountId(id),
            user_id: UserId(user),
            number: format!("{id:010}"),
            account_type: AccountType::Checking,
            balance: Money::from_stored(100).expect("money"),
            currency: "USD".into(),
            created_at: chrono::Utc::now(),
        }
    }

    fn transfer(from: Account, to: Account) -> Arc<PostingEvent> {
        Arc::new(PostingEvent {
            origin: 1,
            transaction: Transaction {
                id: 7,
                from_account: Some(from.id),
                to_account: to.id,
                amount: Money::from_stored(5).expect("money"),
                description: None,
                created_at: chrono::Utc::now(),
            },
            accounts: vec![from, to],
        })
    }

    fn hub(settings: LiveSettings) -> Arc<Hub> {
        Arc::new(Hub::new(settings))
    }

    #[tokio::test]
    async fn an_event_reaches_only_the_owners_subscribers() {
        let hub = hub(LiveSettings::default());
        let conn = ConnectionSlots::default();
        let mut alice = hub.subscribe(UserId(1), &conn).expect("alice");
        let mut bob = hub.subscribe(UserId(2), &conn).expect("bob");
        let mut carol = hub.subscribe(UserId(3), &conn).expect("carol");
        hub.deliver(transfer(account(10, 1), account(20, 2)));
        assert!(matches!(alice.next().await, Some(Delivery::Posting(_))));
        assert!(matches!(bob.next().await, Some(Delivery::Posting(_))));
        let nothing = tokio::time::timeout(std::time::Duration::from_millis(50), carol.next());
        assert!(
            nothing.await.is_err(),
            "carol got another customer's posting"
        );
    }

    #[tokio::test]
    async fn limits_are_counted_and_given_back() {
        let hub = hub(LiveSettings {
            max_subscriptions: 3,
            per_connection: 2,
            per_user: 2,
            ..LiveSettings::default()
        });
        let (one, two) = (ConnectionSlots::default(), ConnectionSlots::default());
        let a = hub.subscribe(UserId(1), &one).expect("first");
        let _b = hub.subscribe(UserId(2), &one).expect("second");
        assert_eq!(
            hub.subscribe(UserId(3), &one).err(),
            Some(Refusal::ConnectionFull(2))
        );
        let _c = hub.subscribe(UserId(1), &two).expect("third");
        assert_eq!(
            hub.subscribe(UserId(1), &two).err(),
            Some(Refusal::UserFull(2))
        );
        assert_eq!(
            hub.subscribe(UserId(4), &two).err(),
            Some(Refusal::ProcessFull(3))
        );
        drop(a);
        assert_eq!((hub.open(), one.open()), (2, 1));
        hub.subscribe(UserId(4), &two)
            .expect("a place was given back");
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_told_and_dropped() {
        let hub = hub(LiveSettings::default());
        let conn = ConnectionSlots::default();
        let mut slow = hub.subscribe(UserId(1), &conn).expect("slow");
        for _ in 0..=QUEUE {
            hub.deliver(transfer(account(10, 1), account(20, 2)));
        }
        let mut postings = 0;
        let mut last = None;
        while let Some(delivery) = slow.next().await {
            match delivery {
                Delivery::Posting(_) => postings += 1,
                other => last = Some(other),
            }
        }
        assert_eq!(postings, QUEUE);
        assert!(matches!(last, Some(Delivery::Lagged)));
        assert_eq!(hub.open(), 1, "counted until the stream is dropped");
        drop(slow);
        assert_eq!((hub.open(), conn.open()), (0, 0));
    }
}
