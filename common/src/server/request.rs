//! One request on a connection: the peer address for handlers, the body and request
//! timeouts, and telling the connection clock when the request starts and ends.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;

use super::clock::ConnectionClock;
use super::limits::ServerLimits;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Serves one request through `router`.
///
/// The request timeout covers the handler producing its response, not the life of an
/// upgraded connection: a WebSocket handler answers `101` at once and the socket is then
/// served by a task of its own, outside this timeout (and outside the clock's deadlines,
/// see `clock.rs`). The response body streams after the timeout too; ours are small.
pub async fn serve_request<B>(
    router: Router,
    clock: Arc<ConnectionClock>,
    limits: ServerLimits,
    peer: SocketAddr,
    request: Request<B>,
) -> Result<Response<EndOfResponse>, Infallible>
where
    B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    clock.request_started();
    let started = Instant::now();
    let (mut parts, body) = request.into_parts();
    // Handlers that need the client's address (sign-in throttling) read it as
    // `ConnectInfo<SocketAddr>`, as with axum's `into_make_service_with_connect_info`.
    parts.extensions.insert(ConnectInfo(peer));
    let progress = Arc::new(BodyProgress::default());
    let body = DeadlineBody::new(body, started + limits.body_timeout, progress.clone());
    let request = Request::from_parts(parts, Body::new(body));
    let response = match tokio::time::timeout(limits.request_timeout, router.oneshot(request)).await
    {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        // Still waiting for the client's body: the client's fault (408). Otherwise we were
        // too slow (503, so a load balancer may try another replica).
        Err(_) if !progress.complete.load(Ordering::Acquire) => timed_out(
            StatusCode::REQUEST_TIMEOUT,
            "the request body did not arrive in time",
        ),
        Err(_) => timed_out(
            StatusCode::SERVICE_UNAVAILABLE,
            "the request took too long; try again",
        ),
    };
    // A handler that failed reading a body that timed out answered 400 or similar; say what
    // really happened.
    let response = if progress.timed_out.load(Ordering::Acquire) {
        timed_out(
            StatusCode::REQUEST_TIMEOUT,
            "the request body did not arrive in time",
        )
    } else {
        response
    };
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        clock.upgraded();
    }
    Ok(response.map(|body| EndOfResponse {
        inner: body,
        clock: Some(clock),
    }))
}

/// A short plain-text answer that also closes the connection: after a timeout the rest of
/// the client's bytes can no longer be trusted to line up with a request.
fn timed_out(status: StatusCode, message: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[derive(Default)]
struct BodyProgress {
    complete: AtomicBool,
    timed_out: AtomicBool,
}

/// The request body, failing once `deadline` passes before its end.
struct DeadlineBody<B> {
    inner: B,
    sleep: Pin<Box<Sleep>>,
    progress: Arc<BodyProgress>,
}

impl<B: http_body::Body> DeadlineBody<B> {
    fn new(inner: B, deadline: Instant, progress: Arc<BodyProgress>) -> Self {
        if inner.is_end_stream() {
            progress.complete.store(true, Ordering::Release);
        }
        DeadlineBody {
            inner,
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
            progress,
        }
    }
}

/// The body did not arrive within `BODY_TIMEOUT_SECS`.
#[derive(Debug)]
struct BodyTimeout;

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl StdError for BodyTimeout {}

impl<B> http_body::Body for DeadlineBody<B>
where
    B: http_body::Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                this.progress.complete.store(true, Ordering::Release);
                Poll::Ready(None)
            }
            Poll::Ready(Some(frame)) => {
                if this.inner.is_end_stream() {
                    this.progress.complete.store(true, Ordering::Release);
                }
                Poll::Ready(Some(frame.map_err(Into::into)))
            }
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.progress.timed_out.store(true, Ordering::Release);
                    Poll::Ready(Some(Err(Box::new(BodyTimeout))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The response body; when it ends (or hyper drops it, written or abandoned), the
/// connection becomes idle.
pub struct EndOfResponse {
    inner: Body,
    clock: Option<Arc<ConnectionClock>>,
}

impl EndOfResponse {
    fn finish(&mut self) {
        if let Some(clock) = self.clock.take() {
            clock.response_finished();
        }
    }
}

impl http_body::Body for EndOfResponse {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            this.finish();
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for EndOfResponse {
    fn drop(&mut self) {
        self.finish();
    }
}
