//! A small graphql-transport-ws client for tests and benchmarks: connect with a token,
//! subscribe, read what arrives, see how the server closed.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const SUBSCRIBE_ACCOUNT_UPDATED: &str = "subscription { accountUpdated { account { id accountNumber balance } transaction { id amount fromAccountNumber toAccountNumber createdAt } } }";

/// What the server did next.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A protocol message (`next`, `error`, `complete`, `connection_ack`, `pong`…).
    Message(Value),
    /// The server closed the connection with this code and reason.
    Closed(u16, String),
    /// The connection ended without a close frame.
    Dropped,
}

pub struct GraphQLWs {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl GraphQLWs {
    /// Opens a WebSocket to `url` (ws://…/graphql/ws) offering graphql-transport-ws.
    pub async fn open(url: &str) -> Result<GraphQLWs, String> {
        let mut request = url.into_client_request().map_err(|e| e.to_string())?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| e.to_string())?;
        Ok(GraphQLWs { socket })
    }

    /// Opens, sends `connection_init` with the token and waits for the ack.
    pub async fn connect(url: &str, token: &str) -> Result<GraphQLWs, Event> {
        let mut ws = GraphQLWs::open(url).await.map_err(|_| Event::Dropped)?;
        ws.init(json!({ "authorization": format!("Bearer {token}") }))
            .await;
        // Generous: a debug build under a whole suite's load can take seconds to answer.
        match ws.next_event(Duration::from_secs(15)).await {
            Some(Event::Message(m)) if m["type"] == "connection_ack" => Ok(ws),
            Some(other) => Err(other),
            None => Err(Event::Dropped),
        }
    }

    pub async fn init(&mut self, payload: Value) {
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
    }

    pub async fn subscribe(&mut self, id: &str, query: &str) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query } }))
            .await;
    }

    pub async fn complete(&mut self, id: &str) {
        self.send(json!({ "id": id, "type": "complete" })).await;
    }

    pub async fn send(&mut self, message: Value) {
        let _ = self
            .socket
            .send(Message::Text(message.to_string().into()))
            .await;
    }

    pub async fn send_raw(&mut self, text: String) {
        let _ = self.socket.send(Message::Text(text.into())).await;
    }

    /// The next protocol message or the close, within `within`; `None` if nothing came.
    pub async fn next_event(&mut self, within: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()?;
            return Some(match frame {
                Some(Ok(Message::Text(text))) => {
                    Event::Message(serde_json::from_str(&text).unwrap_or(Value::Null))
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map_or((1005, String::new()), |CloseFrame { code, reason }| {
                            (u16::from(code), reason.to_string())
                        });
                    Event::Closed(code, reason)
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => Event::Dropped,
            });
        }
    }

    /// The next `next` payload for any subscription, skipping pings and pongs.
    pub async fn next_payload(&mut self, within: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_event(left).await? {
                Event::Message(m) if m["type"] == "ping" => {
                    self.send(json!({ "type": "pong" })).await;
                }
                Event::Message(m) if m["type"] == "pong" => {}
                other => return Some(other),
            }
        }
    }
}
