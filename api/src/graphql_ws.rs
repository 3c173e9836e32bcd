//! GraphQL over WebSocket: the `graphql-transport-ws` protocol (the graphql-ws library's)
//! on `/graphql/ws` and as an upgrade of `GET /graphql`. Subscriptions live here; any
//! other operation may be sent too.
//!
//! async-graphql speaks the protocol (`async_graphql::http::WebSocket`); this file adds
//! what a bank's connection needs around it:
//! - `connection_init` carries `{"authorization": "Bearer <token>"}`, checked as an HTTP
//!   request's header is (a read-only token will do); a refusal closes with 4403, and a
//!   check that could not be made (the session store down) with 1013, which clients retry;
//! - no `connection_init` within `WS_INIT_TIMEOUT_SECS`: closed with 4408;
//! - the session's end (a sign-out anywhere, its idle expiry, the token's expiry) closes
//!   with 4401 within a second, events or none (`crate::auth::SessionWatch`);
//! - a message over `WS_MAX_MESSAGE_BYTES` ends the connection (1009);
//! - a connection with no subscription for `WS_IDLE_TIMEOUT_SECS` is closed (1000), and a
//!   peer that answers no ping for a while is gone (1001);
//! - the subscriptions a connection may hold are limited in `crate::live`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{WebSocket as GraphQLSocket, WebSocketProtocols, WsMessage};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::app_state::AppState;
use crate::auth::{ClientAddress, RequestAuth, Watching, bearer_token};
use crate::live::ConnectionSlots;
use banking_common::error_code::ErrorCode;

pub const PROTOCOL: &str = "graphql-transport-ws";

/// Close codes (the protocol's, and the WebSocket standard's).
mod close {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const TRY_AGAIN_LATER: u16 = 1013;
    pub const TOO_BIG: u16 = 1009;
    pub const BAD_REQUEST: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const TOO_MANY_MESSAGES: u16 = 4429;
}

/// A connection's read buffer: messages are small, and each open connection holds one.
const READ_BUFFER: usize = 4 * 1024;
/// How often the server pings, and how long a peer may stay silent (no pong, no message).
const PING_EVERY: Duration = Duration::from_secs(30);
const SILENCE: Duration = Duration::from_secs(75);
/// Client messages waiting for the protocol engine; a client that floods more is closed.
const INBOX: usize = 32;

/// Whether `GET /graphql` is a WebSocket upgrade (then it is served here).
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn offers_protocol(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL)
}

/// `GET /graphql/ws` (and `GET /graphql` with `Upgrade: websocket`).
pub async fn upgrade(
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !offers_protocol(&headers) {
        return (
            StatusCode::BAD_REQUEST,
            "GraphQL over WebSocket needs the subprotocol graphql-transport-ws",
        )
            .into_response();
    }
    let limit = state.services.config.live.max_message_bytes;
    upgrade
        .protocols([PROTOCOL])
        .max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| serve(socket, state, client))
}

/// How `connection_init` went, for the close code: not refused (yet), refused (the token),
/// or not checked (a dependency down).
const INIT_PENDING: u8 = 0;
const INIT_REFUSED: u8 = 1;
const INIT_UNCHECKED: u8 = 2;

/// Why the loop below stopped serving.
struct Closing(u16, String);

async fn serve(socket: WebSocket, state: AppState, client: ClientAddress) {
    let settings = state.services.config.live.clone();
    let (mut sink, mut source) = socket.split();
    let slots = ConnectionSlots::default();
    let (inbox, inbox_out) = mpsc::channel::<Vec<u8>>(INBOX);
    let (watched, watching) = oneshot::channel::<Watching>();
    let mut watching = Some(watching);
    let refused = Arc::new(AtomicU8::new(INIT_PENDING));
    let on_init = connection_init(&state, client, slots.clone(), watched, refused.clone());
    let mut protocol = GraphQLSocket::new(
        state.schema.clone(),
        tokio_stream(inbox_out),
        WebSocketProtocols::GraphQLWS,
    )
    .on_connection_init(on_init);

    let started = Instant::now();
    let mut acked = false;
    let mut session: Option<Watching> = None;
    let mut last_heard = started;
    let mut idle_since = started;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut ping = tokio::time::interval_at(started + PING_EVERY, PING_EVERY);

    let closing = loop {
        tokio::select! {
            incoming = source.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    last_heard = Instant::now();
                    idle_since = last_heard;
                    if inbox.try_send(text.as_bytes().to_vec()).is_err() {
                        break Some(Closing(close::TOO_MANY_MESSAGES, "too many messages at once".into()));
                    }
                }
                Some(Ok(Message::Binary(bytes))) => {
                    last_heard = Instant::now();
                    idle_since = last_heard;
                    if inbox.try_send(bytes.to_vec()).is_err() {
                        break Some(Closing(close::TOO_MANY_MESSAGES, "too many messages at once".into()));
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => last_heard = Instant::now(),
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Err(e)) => {
                    let too_big = e.to_string().contains("too long") || e.to_string().contains("too big");
                    break too_big.then(|| Closing(close::TOO_BIG, "the message is too large".into()));
                }
            },
            outgoing = protocol.next() => match outgoing {
                Some(WsMessage::Text(text)) => {
                    if !acked && is_ack(&text) {
                        acked = true;
                        idle_since = Instant::now();
                    }
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break None;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    break Some(closing_for(code, reason, refused.load(Ordering::Acquire)));
                }
                None => break Some(Closing(close::NORMAL, String::new())),
            },
            watch = next_watch(&mut watching) => session = watch,
            why = session_ended(&mut session) => {
                break Some(Closing(close::UNAUTHORIZED, why.to_owned()));
            },
            _ = tick.tick() => {
                let now = Instant::now();
                if !acked && now.duration_since(started) >= settings.init_timeout {
                    break Some(Closing(close::INIT_TIMEOUT, "Connection initialisation timeout".into()));
                }
                if slots.open() > 0 {
                    idle_since = now;
                } else if acked && now.duration_since(idle_since) >= settings.idle_timeout {
                    break Some(Closing(close::NORMAL, "closed after a while with no subscription".into()));
                }
                if now.duration_since(last_heard) >= SILENCE {
                    break Some(Closing(close::GOING_AWAY, "no answer to pings".into()));
                }
            },
            _ = ping.tick() => {
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break None;
                }
            },
        }
    };
    if let Some(Closing(code, reason)) = closing {
        let frame = CloseFrame {
            code,
            reason: close_reason(&reason).into(),
        };
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
    let _ = sink.close().await;
}

/// The `connection_init` handler: the token as an HTTP request's header carries it. On
/// success the connection's data holds the caller's credentials (checked again for each
/// operation), the client's address and the connection's subscription count, and its
/// session is watched.
fn connection_init(
    state: &AppState,
    client: ClientAddress,
    slots: ConnectionSlots,
    watched: oneshot::Sender<Watching>,
    refused: Arc<AtomicU8>,
) -> impl FnOnce(serde_json::Value) -> futures::future::BoxFuture<'static, async_graphql::Result<Data>>
+ Send
+ 'static {
    let auth = state.services.auth.clone();
    let watch = state.services.watch.clone();
    move |payload: serde_json::Value| {
        Box::pin(async move {
            let value = payload
                .get("authorization")
                .or_else(|| payload.get("Authorization"))
                .and_then(serde_json::Value::as_str);
            let token = bearer_token(value);
            let credentials = RequestAuth::for_connection(auth, token.clone());
            let claims = match credentials.claims().await {
                Ok(claims) => claims,
                Err(e) => {
                    let why = if e.code() == ErrorCode::Unavailable {
                        INIT_UNCHECKED
                    } else {
                        INIT_REFUSED
                    };
                    refused.store(why, Ordering::Release);
                    return Err(async_graphql::Error::new(e.message()));
                }
            };
            if let Some(token) = &token {
                let _ = watched.send(watch.watch(token, &claims));
            }
            let mut data = Data::default();
            data.insert(credentials);
            data.insert(client);
            data.insert(slots);
            Ok(data)
        })
    }
}

/// async-graphql closes with the older protocol's codes in a few places; the
/// graphql-transport-ws ones say more (and graphql-ws clients act on them).
fn closing_for(code: u16, reason: String, init: u8) -> Closing {
    match code {
        1002 if init == INIT_REFUSED => Closing(close::FORBIDDEN, reason),
        1002 if init == INIT_UNCHECKED => Closing(close::TRY_AGAIN_LATER, reason),
        1002 => Closing(close::BAD_REQUEST, reason),
        1011 => Closing(close::UNAUTHORIZED, "Unauthorized".into()),
        other => Closing(other, reason),
    }
}

/// The session's watch, once `connection_init` has been accepted (then never again).
async fn next_watch(receiver: &mut Option<oneshot::Receiver<Watching>>) -> Option<Watching> {
    match receiver {
        Some(pending) => {
            let watch = pending.await.ok();
            *receiver = None;
            watch
        }
        None => std::future::pending().await,
    }
}

/// Why the watched session ended; never, before there is one.
async fn session_ended(session: &mut Option<Watching>) -> &'static str {
    match session {
        Some(watch) => watch.ended().await,
        None => std::future::pending().await,
    }
}

fn is_ack(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .is_some_and(|v| v.get("type").and_then(|t| t.as_str()) == Some("connection_ack"))
}

/// A close frame's reason is at most 123 bytes.
fn close_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

fn tokio_stream(mut receiver: mpsc::Receiver<Vec<u8>>) -> impl futures::Stream<Item = Vec<u8>> {
    futures::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_frame() {
        let long = "é".repeat(100);
        let cut = close_reason(&long);
        assert!(cut.len() <= 123 && long.starts_with(&cut));
    }

    #[test]
    fn the_older_codes_become_the_protocols() {
        assert_eq!(
            closing_for(1002, "no".into(), INIT_REFUSED).0,
            close::FORBIDDEN
        );
        assert_eq!(
            closing_for(1002, "later".into(), INIT_UNCHECKED).0,
            close::TRY_AGAIN_LATER
        );
        assert_eq!(
            closing_for(1002, "bad".into(), INIT_PENDING).0,
            close::BAD_REQUEST
        );
        assert_eq!(
            closing_for(1011, String::new(), INIT_PENDING).0,
            close::UNAUTHORIZED
        );
        assert_eq!(closing_for(4429, String::new(), INIT_PENDING).0, 4429);
    }
}
