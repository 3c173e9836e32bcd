//! A client that misbehaves on purpose, on a bare TCP socket: it drips headers, promises a
//! body it never sends, or sits idle.
#![allow(dead_code)]

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;

pub async fn connect(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to the server")
}

/// What the server did with a connection: what it sent, and whether (and when, counted
/// from the start of the wait) it closed it.
pub struct Outcome {
    pub received: String,
    pub closed_after: Option<Duration>,
}

/// Reads until the server closes the connection or `limit` passes.
pub async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Outcome {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Outcome {
                    received: String::from_utf8_lossy(&received).into_owned(),
                    closed_after: Some(started.elapsed()),
                };
            }
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => {
                return Outcome {
                    received: String::from_utf8_lossy(&received).into_owned(),
                    closed_after: None,
                };
            }
        }
    }
}

/// Sends `bytes` one at a time, one each `interval`, until the server closes the
/// connection or `limit` passes; returns when it closed, counted from the first byte.
pub async fn drip(
    stream: &mut TcpStream,
    bytes: &[u8],
    interval: Duration,
    limit: Duration,
) -> Outcome {
    let started = Instant::now();
    let mut received = String::new();
    for byte in bytes.iter().cycle() {
        if started.elapsed() >= limit {
            break;
        }
        if stream.write_all(&[*byte]).await.is_err() {
            return Outcome {
                received,
                closed_after: Some(started.elapsed()),
            };
        }
        let outcome = read_until_closed(stream, interval).await;
        received.push_str(&outcome.received);
        if outcome.closed_after.is_some() {
            return Outcome {
                received,
                closed_after: Some(started.elapsed()),
            };
        }
    }
    Outcome {
        received,
        closed_after: None,
    }
}

/// The first line of the first response in `received`, e.g. `HTTP/1.1 408 Request Timeout`.
pub fn status_line(received: &str) -> &str {
    received.lines().next().unwrap_or("")
}

/// Request headers that never end: a header line padded for as long as a drip lasts.
pub fn endless_headers(path: &str) -> Vec<u8> {
    let mut bytes = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nX-Padding: ").into_bytes();
    bytes.extend(std::iter::repeat_n(b'a', 4000));
    bytes
}
