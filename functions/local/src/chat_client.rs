//! A WebSocket chat client for the black-box tests and the chat load test: frames received
//! are read by a task into a queue, so a slow test never stalls the server's writer.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, Message};

type Sink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Message,
>;

/// One open chat connection.
pub struct ChatClient {
    sink: Sink,
    frames: mpsc::UnboundedReceiver<(std::time::Instant, Value)>,
}

/// Why a connection attempt failed: the HTTP status of a refused upgrade, or another error.
#[derive(Debug)]
pub enum ConnectError {
    Refused(u16),
    Other(String),
}

impl ChatClient {
    /// Connects to `ws_base` (`ws://host:port`) with the access token.
    pub async fn connect(ws_base: &str, token: &str) -> Result<Self, ConnectError> {
        Self::connect_url(&format!("{ws_base}/ws?token={token}")).await
    }

    /// Connects to a full URL (tests use it to send no or bad tokens).
    pub async fn connect_url(url: &str) -> Result<Self, ConnectError> {
        // Small frames: a small read buffer (tungstenite zeroes it before every read).
        let config = tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
        let (stream, _) =
            match tokio_tungstenite::connect_async_with_config(url, Some(config), false).await {
                Ok(ok) => ok,
                Err(tungstenite::Error::Http(response)) => {
                    return Err(ConnectError::Refused(response.status().as_u16()))
                }
                Err(err) => return Err(ConnectError::Other(err.to_string())),
            };
        let (sink, mut stream) = stream.split();
        let (queue, frames) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                if let Message::Text(text) = message {
                    let value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                    if queue.send((std::time::Instant::now(), value)).is_err() {
                        break;
                    }
                }
            }
        });
        Ok(ChatClient { sink, frames })
    }

    /// Connects to a full URL expecting a refused upgrade: its status and `Retry-After`
    /// (seconds), or `None` when the upgrade succeeded or failed otherwise.
    pub async fn refusal(url: &str) -> Option<(u16, Option<u64>)> {
        match tokio_tungstenite::connect_async(url).await {
            Err(tungstenite::Error::Http(response)) => Some((
                response.status().as_u16(),
                response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok()),
            )),
            _ => None,
        }
    }

    /// Sends one JSON frame if the socket still takes it; false when it is closed (a client
    /// racing its own sign-out).
    pub async fn try_send(&mut self, frame: &Value) -> bool {
        self.sink
            .send(Message::Text(frame.to_string().into()))
            .await
            .is_ok()
    }

    /// Whether the server closes the socket within `wait`; frames arriving before the close
    /// are skipped.
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.frames.recv()).await {
                Ok(None) => return true,
                Ok(Some(_)) => continue,
                Err(_) => return false,
            }
        }
    }

    /// Sends one JSON frame.
    pub async fn send(&mut self, frame: &Value) {
        self.sink
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("the socket accepts a frame");
    }

    /// Sends raw text or bytes, as a misbehaving client would.
    pub async fn send_raw(&mut self, message: Message) {
        self.sink
            .send(message)
            .await
            .expect("the socket accepts a frame");
    }

    /// The next frame, with when it arrived, or `None` after `wait` of silence or when closed.
    pub async fn next_timed(&mut self, wait: Duration) -> Option<(std::time::Instant, Value)> {
        tokio::time::timeout(wait, self.frames.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next frame, or `None` after `wait` of silence or when the socket closed.
    pub async fn next(&mut self, wait: Duration) -> Option<Value> {
        self.next_timed(wait).await.map(|(_, frame)| frame)
    }

    /// The next frame of `kind` (`ack`, `message`, `unread`, `error`), skipping others.
    pub async fn next_of(&mut self, kind: &str, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next(left).await?;
            if frame["type"] == kind {
                return Some(frame);
            }
        }
    }

    /// Closes the socket.
    pub async fn close(mut self) {
        let _ = self.sink.close().await;
    }
}
