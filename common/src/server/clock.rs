//! The header and idle timeouts, kept at the socket: a connection's clock says which phase
//! it is in, and its stream fails a read that waits past the phase's deadline.
//!
//! Why not hyper's own `header_read_timeout`: hyper 1.x starts that timer when it begins
//! waiting for a request head, which on a kept-alive connection is right after the
//! previous response (hyper PR #3828), so one timer would bound both the idle wait and the
//! header read; there is no separate idle timeout (hyperium/hyper#3454, #3828). Envoy and
//! Go distinguish them, and so do we:
//!
//! * a new connection must deliver a request's headers within `header_timeout`;
//! * after a response, a kept-alive connection may stay silent for `idle_timeout`; its
//!   next request's headers must then arrive within `header_timeout` of its first byte;
//! * while a request is being handled (body, handler, response), the socket has no
//!   deadline here: the body and request timeouts of `request.rs` bound that phase;
//! * after a protocol upgrade (`101 Switching Protocols`, the coming WebSocket on
//!   `/graphql/ws`), the connection is no longer HTTP: no deadline applies.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};

#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Waiting for a request: silent since `since`, or its first byte came at `first_byte`.
    Waiting {
        since: Instant,
        first_byte: Option<Instant>,
    },
    /// A request's headers are in; the request is being served.
    Serving,
    /// Switched to another protocol: no HTTP deadline applies any more.
    Upgraded,
}

/// Where one connection stands; shared by its stream and the requests it carries.
#[derive(Debug)]
pub struct ConnectionClock {
    phase: Mutex<Phase>,
    header_timeout: Duration,
    idle_timeout: Duration,
}

impl ConnectionClock {
    /// A connection just accepted: its first request's headers are due within
    /// `header_timeout` from now, whether or not it has sent anything.
    pub fn new(header_timeout: Duration, idle_timeout: Duration) -> Arc<ConnectionClock> {
        let now = Instant::now();
        Arc::new(ConnectionClock {
            phase: Mutex::new(Phase::Waiting {
                since: now,
                first_byte: Some(now),
            }),
            header_timeout,
            idle_timeout,
        })
    }

    fn with_phase<T>(&self, f: impl FnOnce(&mut Phase) -> T) -> T {
        // A poisoned lock only means another thread panicked mid-update of a plain enum.
        let mut phase = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut phase)
    }

    /// The headers of a request are complete.
    pub fn request_started(&self) {
        self.with_phase(|phase| {
            if !matches!(phase, Phase::Upgraded) {
                *phase = Phase::Serving;
            }
        });
    }

    /// The response has been written (or abandoned): idle until the next request.
    pub fn response_finished(&self) {
        self.with_phase(|phase| {
            if matches!(phase, Phase::Serving) {
                *phase = Phase::Waiting {
                    since: Instant::now(),
                    first_byte: None,
                };
            }
        });
    }

    /// The connection switched protocols (WebSocket): never timed out here again.
    pub fn upgraded(&self) {
        self.with_phase(|phase| *phase = Phase::Upgraded);
    }

    fn bytes_arrived(&self) {
        self.with_phase(|phase| {
            if let Phase::Waiting {
                first_byte: first @ None,
                ..
            } = phase
            {
                *first = Some(Instant::now());
            }
        });
    }

    /// When a read waiting now must give up, if ever.
    fn read_deadline(&self) -> Option<Instant> {
        self.with_phase(|phase| match *phase {
            Phase::Waiting {
                first_byte: Some(first),
                ..
            } => Some(first + self.header_timeout),
            Phase::Waiting { since, .. } => Some(since + self.idle_timeout),
            Phase::Serving | Phase::Upgraded => None,
        })
    }
}

/// A socket whose reads fail with `TimedOut` past the connection clock's deadline. It
/// also holds the connection's slot, so the slot is freed only when the socket closes
/// (an upgraded connection keeps its slot for as long as it lives).
pub struct TimedStream<S> {
    inner: S,
    clock: Arc<ConnectionClock>,
    sleep: Pin<Box<Sleep>>,
    armed_for: Option<Instant>,
    _slot: OwnedSemaphorePermit,
}

impl<S> TimedStream<S> {
    pub fn new(inner: S, clock: Arc<ConnectionClock>, slot: OwnedSemaphorePermit) -> Self {
        TimedStream {
            inner,
            clock,
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed_for: None,
            _slot: slot,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for TimedStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        if let Poll::Ready(result) = Pin::new(&mut this.inner).poll_read(cx, buf) {
            if result.is_ok() && buf.filled().len() > before {
                this.clock.bytes_arrived();
            }
            return Poll::Ready(result);
        }
        let Some(deadline) = this.clock.read_deadline() else {
            return Poll::Pending;
        };
        if this.armed_for != Some(deadline) {
            this.sleep.as_mut().reset(deadline);
            this.armed_for = Some(deadline);
        }
        ready!(this.sleep.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client was too slow to send a request",
        )))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for TimedStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `deadline` is `after` from now, give or take the time the test itself takes.
    fn about(deadline: Option<Instant>, after: Duration) -> bool {
        deadline.is_some_and(|d| {
            let expected = Instant::now() + after;
            d <= expected && d + Duration::from_millis(200) >= expected
        })
    }

    #[tokio::test]
    async fn deadlines_follow_the_phases() {
        let clock = ConnectionClock::new(Duration::from_secs(2), Duration::from_secs(7));
        assert!(
            about(clock.read_deadline(), Duration::from_secs(2)),
            "new: headers due"
        );
        clock.bytes_arrived();
        assert!(
            about(clock.read_deadline(), Duration::from_secs(2)),
            "still from the opening"
        );
        clock.request_started();
        assert_eq!(clock.read_deadline(), None, "serving: no socket deadline");
        clock.response_finished();
        assert!(about(clock.read_deadline(), Duration::from_secs(7)), "idle");
        clock.bytes_arrived();
        assert!(
            about(clock.read_deadline(), Duration::from_secs(2)),
            "the next request's headers are due a header timeout after its first byte"
        );
        clock.request_started();
        clock.upgraded();
        clock.response_finished();
        assert_eq!(
            clock.read_deadline(),
            None,
            "an upgraded connection is never cut"
        );
    }
}
