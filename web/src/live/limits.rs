//! How many event streams may be open: per session and per process. A place is taken
//! when a stream opens and given back when it is dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use banking_common::config::{ConfigError, number};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveStreamLimits {
    /// `LIVE_STREAMS_PER_SESSION`: tabs of one signed-in browser.
    pub per_session: usize,
    /// `LIVE_STREAMS_MAX`: each holds a connection to the api.
    pub max: usize,
}

impl Default for LiveStreamLimits {
    fn default() -> LiveStreamLimits {
        LiveStreamLimits {
            per_session: 4,
            max: 5000,
        }
    }
}

impl LiveStreamLimits {
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<LiveStreamLimits, ConfigError> {
        let mut limits = LiveStreamLimits::default();
        if let Some(n) = lookup("LIVE_STREAMS_PER_SESSION") {
            limits.per_session = number("LIVE_STREAMS_PER_SESSION", &n, 1, 100)? as usize;
        }
        if let Some(n) = lookup("LIVE_STREAMS_MAX") {
            limits.max = number("LIVE_STREAMS_MAX", &n, 1, 1_000_000)? as usize;
        }
        Ok(limits)
    }
}

/// The open streams, and the signal that ends them all when the process stops.
#[derive(Clone)]
pub struct Streams {
    limits: LiveStreamLimits,
    open: Arc<AtomicUsize>,
    /// Open streams by session (a hash of its token: the map holds no credential).
    sessions: Arc<Mutex<HashMap<[u8; 32], usize>>>,
    stopping: watch::Receiver<bool>,
    stop: Arc<watch::Sender<bool>>,
}

impl Streams {
    pub fn new(limits: LiveStreamLimits) -> Streams {
        let (stop, stopping) = watch::channel(false);
        Streams {
            limits,
            open: Arc::new(AtomicUsize::new(0)),
            sessions: Arc::new(Mutex::new(HashMap::new())),
            stopping,
            stop: Arc::new(stop),
        }
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Ends every stream (the process is stopping: graceful shutdown waits for open
    /// responses, and these never end by themselves).
    pub fn stop_all(&self) {
        let _ = self.stop.send(true);
    }

    pub(super) fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.clone()
    }

    /// A place for one more stream of the session holding `token`, if there is one.
    pub(super) fn take(&self, token: &str) -> Option<Place> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let held = sessions.get(&key).copied().unwrap_or(0);
        if held >= self.limits.per_session || self.open() >= self.limits.max {
            return None;
        }
        sessions.insert(key, held + 1);
        self.open.fetch_add(1, Ordering::AcqRel);
        Some(Place {
            streams: self.clone(),
            key,
        })
    }
}

/// One stream's place, given back on drop.
pub struct Place {
    streams: Streams,
    key: [u8; 32],
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut sessions = self
            .streams
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(held) = sessions.get_mut(&self.key) {
            *held -= 1;
            if *held == 0 {
                sessions.remove(&self.key);
            }
        }
        self.streams.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_bounded_per_session_and_process_and_given_back() {
        let streams = Streams::new(LiveStreamLimits {
            per_session: 2,
            max: 3,
        });
        let a = streams.take("alice").expect("first");
        let _b = streams.take("alice").expect("second");
        assert!(streams.take("alice").is_none(), "per session");
        let _c = streams.take("bob").expect("bob");
        assert!(streams.take("carol").is_none(), "per process");
        drop(a);
        assert_eq!(streams.open(), 2);
        streams.take("alice").expect("a place came back");
    }
}
