//! The local WebSocket endpoint (`/ws?token=`): the same chat service the WebSocket Lambdas
//! run, with a pusher that writes to the open sockets instead of calling API Gateway.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, MethodRouter};
use festa::ports::{ConnectionPusher, IdSource, Push};
use festa::services::chat::Chat;
use festa::services::tokens::Identity;
use festa::{AppError, AppResult};
use festa_chat::TokenGate;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

/// API Gateway's WebSocket message limit (128 KiB, sent as frames of up to 32 KiB); larger
/// messages close the socket.
const MAX_FRAME_BYTES: usize = 128 * 1024;
/// Frames a connection may have waiting to be written; a client that falls this far behind
/// is treated as gone, as API Gateway treats a dead one, instead of growing without bound.
const MAX_QUEUED_FRAMES: usize = 4096;
/// Chat frames are small; tungstenite zeroes its whole read buffer before every read, so the
/// default 128 KiB costs more than the frames themselves with many sockets open.
const READ_BUFFER_BYTES: usize = 4096;

/// The open sockets, by connection id; each has a bounded queue its writer task drains, so a
/// push never waits on a slow client.
#[derive(Default)]
pub struct LocalSockets {
    open: Mutex<HashMap<String, mpsc::Sender<String>>>,
}

#[async_trait]
impl ConnectionPusher for LocalSockets {
    async fn push(&self, connection_id: &str, frame: &str) -> AppResult<Push> {
        let queue = self.open.lock().unwrap().get(connection_id).cloned();
        match queue {
            Some(queue) if queue.try_send(frame.to_string()).is_ok() => Ok(Push::Delivered),
            _ => Ok(Push::Gone),
        }
    }
}

/// `GET /ws?token=<accessToken>`: a bad or missing token refuses the upgrade with 401.
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
                upgrade
                    .max_message_size(MAX_FRAME_BYTES)
                    .read_buffer_size(READ_BUFFER_BYTES)
                    .on_upgrade(move |socket| run(socket, chat, sockets, connection_id, identity))
                    .into_response()
            }
        },
    )
}

/// The answer to an upgrade that cannot go ahead: `401` for a bad token, `503` with
/// `Retry-After` while the session store is down (as API Gateway refuses a `$connect` that
/// answers 503), `500` for a fault of ours.
fn refusal(err: &AppError) -> axum::response::Response {
    match err {
        AppError::Internal(_) => {
            tracing::error!(error = %err, "could not check a WebSocket token");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        AppError::ServiceUnavailable(_) => {
            tracing::warn!(error = %err, "could not check a WebSocket token: store unavailable");
            let retry = err.retry_after().unwrap_or(1).to_string();
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(axum::http::header::RETRY_AFTER, retry)],
            )
                .into_response()
        }
        _ => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// One socket's life: `$connect`, its frames in order, then `$disconnect`. A `$connect` that
/// fails after the upgrade (a store went down) is told to the client as one error frame
/// (`SERVICE_UNAVAILABLE` for an outage) before the socket closes, so the client reconnects
/// later instead of waiting on a socket that would never receive its rooms' messages.
async fn run(
    socket: WebSocket,
    chat: Chat,
    sockets: Arc<LocalSockets>,
    connection_id: String,
    identity: Identity,
) {
    let (queue, mut pending) = mpsc::channel::<String>(MAX_QUEUED_FRAMES);
    sockets
        .open
        .lock()
        .unwrap()
        .insert(connection_id.clone(), queue);
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
    if let Err(err) = chat.connect(&connection_id, &identity).await {
        tracing::warn!(error = %err, "could not record a WebSocket connection");
        let frame = festa::services::chat::frames::ServerFrame::error(&err, None).to_text();
        let queue = sockets.open.lock().unwrap().get(&connection_id).cloned();
        if let Some(queue) = queue {
            let _ = queue.try_send(frame);
        }
    } else {
        while let Some(Ok(message)) = stream.next().await {
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
    }
    sockets.open.lock().unwrap().remove(&connection_id);
    if let Err(err) = chat.disconnect(&connection_id).await {
        tracing::error!(error = %err, "could not forget a WebSocket connection");
    }
    let _ = writer.await;
}
