//! The local WebSocket endpoint (`/ws?token=`): the same chat service the WebSocket Lambdas
//! run, with a pusher that writes to the open sockets instead of calling API Gateway.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::Query;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use festa::ports::{ConnectionPusher, IdSource, Push, RoomPresence, SocketEviction};
use festa::services::chat::Chat;
use festa::{AppError, AppResult};
use festa_chat::TokenGate;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, Notify};

/// API Gateway's WebSocket message limit (128 KiB, sent as frames of up to 32 KiB); larger
/// messages close the socket.
const MAX_FRAME_BYTES: usize = 128 * 1024;
/// Frames a connection may have waiting to be written; a client that falls this far behind
/// is treated as gone, as API Gateway treats a dead one, instead of growing without bound.
const MAX_QUEUED_FRAMES: usize = 4096;
/// Chat frames are small; tungstenite zeroes its whole read buffer before every read, so the
/// default 128 KiB costs more than the frames themselves with many sockets open.
const READ_BUFFER_BYTES: usize = 4096;

/// One open socket: the queue its writer task drains, and the signal that closes it.
struct OpenSocket {
    queue: mpsc::Sender<String>,
    close: Arc<Notify>,
}

/// The open sockets, by connection id; each has a bounded queue its writer task drains, so a
/// push never waits on a slow client.
#[derive(Default)]
pub struct LocalSockets {
    open: Mutex<HashMap<String, OpenSocket>>,
}

impl LocalSockets {
    /// Closes the socket as API Gateway's `DeleteConnection` does: no frame is pushed to it
    /// from now on, its reader stops (so nothing it sends after this is acted on), and the
    /// client receives a close frame. Answers false when it was not open.
    fn close(&self, connection_id: &str) -> bool {
        match self.open.lock().unwrap().remove(connection_id) {
            Some(socket) => {
                socket.close.notify_one();
                true
            }
            None => false,
        }
    }
}

#[async_trait]
impl ConnectionPusher for LocalSockets {
    async fn push(&self, connection_id: &str, frame: &str) -> AppResult<Push> {
        let queue = self
            .open
            .lock()
            .unwrap()
            .get(connection_id)
            .map(|s| s.queue.clone());
        match queue {
            Some(queue) if queue.try_send(frame.to_string()).is_ok() => Ok(Push::Delivered),
            _ => Ok(Push::Gone),
        }
    }
}

/// The local [`SocketEviction`]: forgets the user's connections in presence (their frames are
/// refused from then on), then closes each socket that is open in this process.
pub struct LocalEviction {
    pub presence: Arc<dyn RoomPresence>,
    pub sockets: Arc<LocalSockets>,
}

#[async_trait]
impl SocketEviction for LocalEviction {
    async fn close_user_connections(&self, user_id: &str) -> AppResult<()> {
        for connection_id in self.presence.evict(user_id).await? {
            self.sockets.close(&connection_id);
        }
        Ok(())
    }
}

/// `GET /ws?token=<accessToken>`: a bad or missing token refuses the upgrade with 401, a user
/// who already holds 5 open connections gets 429 with `Retry-After`. The connection is
/// registered (`$connect`) before the upgrade is answered, as API Gateway does.
pub fn endpoint(
    chat: Chat,
    gate: TokenGate,
    sockets: Arc<LocalSockets>,
    ids: Arc<dyn IdSource>,
) -> MethodRouter {
    get(
        move |Query(query): Query<HashMap<String, String>>, upgrade: WebSocketUpgrade| {
            let (chat, gate, sockets, ids) =
                (chat.clone(), gate.clone(), sockets.clone(), ids.clone());
            async move {
                let identity = match gate.identify(query.get("token").map(String::as_str)).await {
                    Ok(identity) => identity,
                    Err(err) => return refusal(&err),
                };
                let connection_id = ids.new_id();
                let (queue, pending) = mpsc::channel::<String>(MAX_QUEUED_FRAMES);
                let close = Arc::new(Notify::new());
                sockets.open.lock().unwrap().insert(
                    connection_id.clone(),
                    OpenSocket {
                        queue,
                        close: close.clone(),
                    },
                );
                if let Err(err) = chat.connect(&connection_id, &identity).await {
                    sockets.open.lock().unwrap().remove(&connection_id);
                    return refusal(&err);
                }
                // Until the socket runs, dropping this (an upgrade that never completes)
                // forgets the connection, as a `$disconnect` would.
                let registered = Registered {
                    chat,
                    sockets,
                    connection_id,
                };
                upgrade
                    .max_message_size(MAX_FRAME_BYTES)
                    .read_buffer_size(READ_BUFFER_BYTES)
                    .on_upgrade(move |socket| run(socket, registered, pending, close))
                    .into_response()
            }
        },
    )
}

/// The answer to an upgrade that is refused: the error's status (401; 429 with Retry-After;
/// 503 with Retry-After while a store is down, as API Gateway refuses a `$connect` that
/// answers 503),
/// and a 500 that says nothing for what went wrong on our side.
fn refusal(err: &AppError) -> Response {
    match err {
        AppError::Internal(_) => {
            tracing::error!(error = %err, "could not open a WebSocket connection");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        AppError::ServiceUnavailable(_) => {
            tracing::warn!(error = %err, "could not open a WebSocket connection: store unavailable")
        }
        _ => {}
    }
    let status = StatusCode::from_u16(err.status().as_u16()).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut response = status.into_response();
    if let Some(seconds) = err.retry_after() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// A connection registered with the chat service; forgotten when dropped.
struct Registered {
    chat: Chat,
    sockets: Arc<LocalSockets>,
    connection_id: String,
}

impl Registered {
    /// The socket ended: out of the open sockets (the writer's last sender goes), then
    /// `$disconnect`, awaited.
    async fn end(mut self) {
        let connection_id = std::mem::take(&mut self.connection_id);
        self.sockets.open.lock().unwrap().remove(&connection_id);
        if let Err(err) = self.chat.disconnect(&connection_id).await {
            tracing::error!(error = %err, "could not forget a WebSocket connection");
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        if self.connection_id.is_empty() {
            return;
        }
        self.sockets
            .open
            .lock()
            .unwrap()
            .remove(&self.connection_id);
        let (chat, connection_id) = (self.chat.clone(), std::mem::take(&mut self.connection_id));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(err) = chat.disconnect(&connection_id).await {
                    tracing::error!(error = %err, "could not forget a WebSocket connection");
                }
            });
        }
    }
}

/// One socket's life after `$connect`: its frames in order until the client closes it or it
/// is closed from our side (sign-out), then `$disconnect`.
async fn run(
    socket: WebSocket,
    registered: Registered,
    mut pending: mpsc::Receiver<String>,
    close: Arc<Notify>,
) {
    let (mut sink, mut stream) = socket.split();
    let writer = tokio::spawn(async move {
        // Whatever is already queued goes out in the same write: under load a busy room's
        // frames leave in a few system calls instead of one each.
        'open: while let Some(text) = pending.recv().await {
            if sink.feed(Message::Text(text.into())).await.is_err() {
                break;
            }
            while let Ok(text) = pending.try_recv() {
                if sink.feed(Message::Text(text.into())).await.is_err() {
                    break 'open;
                }
            }
            if sink.flush().await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let chat = registered.chat.clone();
    let connection_id = registered.connection_id.clone();
    loop {
        let message = tokio::select! {
            biased;
            // Closed from our side: nothing read after this is acted on.
            () = close.notified() => break,
            message = stream.next() => message,
        };
        let Some(Ok(message)) = message else { break };
        let done = match message {
            Message::Text(text) => chat.frame(&connection_id, text.as_str()).await,
            Message::Binary(_) => chat.refuse_binary(&connection_id).await,
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => Ok(()),
        };
        if let Err(err) = done {
            tracing::error!(error = %err, "a chat frame failed");
        }
    }
    registered.end().await;
    let _ = writer.await;
}
