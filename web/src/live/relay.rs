//! `GET /events`: the signed-in session's postings as Server-Sent Events.
//!
//! Events: `ready` once the api's subscription is up (the browser refreshes on a `ready`
//! after a reconnection, to catch what it missed), `posting` with the account number
//! when money moved, `resync` when postings may have been missed, `ended` when the
//! session is over (the browser then stops listening). A stream that simply ends is
//! reconnected by the browser after the `retry` hint.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;

use super::upstream::{Subscription, Upstream, ws_url};
use crate::pages::WebState;
use crate::session::Session;

/// How long the browser waits before reconnecting a stream that ended.
const RETRY: Duration = Duration::from_secs(3);

pub async fn events(State(state): State<WebState>, session: Session) -> Response {
    let Some(place) = state.live.take(&session.token) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "too many live updates are open for this session",
        )
            .into_response();
    };
    let Some(url) = ws_url(state.api.graphql_url()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut stopping = state.live.stopping();
    let token = session.token;
    let stream = async_stream(move |mut emit| async move {
        let _place = place;
        emit.retry().await;
        let mut upstream = match Subscription::open(&url, &token).await {
            Ok(upstream) => upstream,
            Err(Upstream::SessionEnded) => {
                emit.event("ended", "").await;
                return;
            }
            Err(_) => return,
        };
        emit.event("ready", "").await;
        loop {
            let next = tokio::select! {
                next = upstream.next() => next,
                _ = stopping.wait_for(|stop| *stop) => return,
            };
            match next {
                Upstream::Posting(account) => {
                    emit.event(
                        "posting",
                        &serde_json::json!({ "account": account }).to_string(),
                    )
                    .await
                }
                Upstream::Resync => emit.event("resync", "").await,
                Upstream::SessionEnded => {
                    emit.event("ended", "").await;
                    return;
                }
                Upstream::Lost => return,
            }
            if emit.closed() {
                return;
            }
        }
    });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    // nginx (the Ingress) would otherwise buffer the events.
    response.headers_mut().insert(
        axum::http::HeaderName::from_static("x-accel-buffering"),
        axum::http::HeaderValue::from_static("no"),
    );
    response
}

/// Hands events to the response body through a small bounded channel: a browser that
/// stops reading makes the producer wait, never grow.
struct Emitter(tokio::sync::mpsc::Sender<Event>);

impl Emitter {
    async fn event(&mut self, name: &str, data: &str) {
        let _ = self.0.send(Event::default().event(name).data(data)).await;
    }

    async fn retry(&mut self) {
        let _ = self
            .0
            .send(Event::default().retry(RETRY).comment("live"))
            .await;
    }

    fn closed(&self) -> bool {
        self.0.is_closed()
    }
}

fn async_stream<F, Fut>(body: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(Emitter) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Event>(8);
    let task = tokio::spawn(body(Emitter(sender)));
    // Dropping the response (the browser went away) ends the relay and its api connection.
    let guard = AbortOnDrop(task.abort_handle());
    futures::stream::poll_fn(move |cx| {
        let _ = &guard;
        receiver.poll_recv(cx).map(|event| event.map(Ok))
    })
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
