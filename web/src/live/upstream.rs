//! The web's side of one subscription to the api: a graphql-transport-ws client, just
//! enough of the protocol for `accountUpdated`.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::Url;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The handshake (TCP, WebSocket, `connection_ack`) must be done within this.
const HANDSHAKE: Duration = Duration::from_secs(5);
/// The api's messages to the web are small; anything bigger ends the stream.
const MAX_MESSAGE: usize = 64 * 1024;

const SUBSCRIPTION: &str = "subscription LiveDashboard { accountUpdated { account { accountNumber } transaction { id } } }";

/// What the api said.
#[derive(Debug, PartialEq, Eq)]
pub enum Upstream {
    /// Money moved on this account.
    Posting(String),
    /// Postings may have been missed: read everything again.
    Resync,
    /// The session is over (signed out, expired, refused): stop for good.
    SessionEnded,
    /// The connection ended otherwise: the browser may try again later.
    Lost,
}

/// `http://api:8000/graphql` → `ws://api:8000/graphql/ws`.
pub fn ws_url(graphql: &Url) -> Option<Url> {
    let mut url = graphql.clone();
    let scheme = match graphql.scheme() {
        "http" => "ws",
        "https" => "wss",
        _ => return None,
    };
    url.set_scheme(scheme).ok()?;
    url.set_path("/graphql/ws");
    url.set_query(None);
    Some(url)
}

pub struct Subscription {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Subscription {
    /// Connects, authorises with `token` and subscribes. `Err` says how it ended.
    pub async fn open(url: &Url, token: &str) -> Result<Subscription, Upstream> {
        tokio::time::timeout(HANDSHAKE, Subscription::handshake(url, token))
            .await
            .unwrap_or(Err(Upstream::Lost))
    }

    async fn handshake(url: &Url, token: &str) -> Result<Subscription, Upstream> {
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|_| Upstream::Lost)?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), false)
                .await
                .map_err(|e| {
                    tracing::debug!(error = %e, "the api's WebSocket could not be opened");
                    Upstream::Lost
                })?;
        let mut subscription = Subscription { socket };
        subscription
            .send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
            .await?;
        match subscription.message().await? {
            m if m["type"] == "connection_ack" => {}
            _ => return Err(Upstream::Lost),
        }
        subscription
            .send(json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } }))
            .await?;
        Ok(subscription)
    }

    async fn send(&mut self, message: Value) -> Result<(), Upstream> {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .map_err(|_| Upstream::Lost)
    }

    /// The next protocol message, answering the api's pings on the way.
    async fn message(&mut self) -> Result<Value, Upstream> {
        loop {
            match self.socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).map_err(|_| Upstream::Lost)?;
                    if message["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await?;
                        continue;
                    }
                    return Ok(message);
                }
                Some(Ok(Message::Close(frame))) => {
                    let code = frame.map(|f| u16::from(f.code));
                    return Err(match code {
                        // Unauthorized, Forbidden: the session is over.
                        Some(4401 | 4403) => Upstream::SessionEnded,
                        _ => Upstream::Lost,
                    });
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(Upstream::Lost),
            }
        }
    }

    /// What happened next; after anything but a posting or a resync, nothing more will.
    pub async fn next(&mut self) -> Upstream {
        match self.message().await {
            Ok(m) if m["type"] == "next" => {
                if m["payload"]["errors"].is_array() {
                    return Upstream::Resync;
                }
                match m["payload"]["data"]["accountUpdated"]["account"]["accountNumber"].as_str() {
                    Some(number) => Upstream::Posting(number.to_owned()),
                    None => Upstream::Resync,
                }
            }
            Ok(m) if m["type"] == "error" => {
                let code = m["payload"][0]["extensions"]["code"].as_str();
                if matches!(code, Some("UNAUTHENTICATED" | "FORBIDDEN")) {
                    Upstream::SessionEnded
                } else {
                    Upstream::Lost
                }
            }
            Ok(_) => Upstream::Lost,
            Err(ended) => ended,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_websocket_sits_beside_the_graphql_url() {
        let url = Url::parse("http://banking-backend:8000/graphql").expect("url");
        assert_eq!(
            ws_url(&url).map(|u| u.to_string()).as_deref(),
            Some("ws://banking-backend:8000/graphql/ws")
        );
        let tls = Url::parse("https://bank.example/graphql?x=1").expect("url");
        assert_eq!(
            ws_url(&tls).map(|u| u.to_string()).as_deref(),
            Some("wss://bank.example/graphql/ws")
        );
    }
}
