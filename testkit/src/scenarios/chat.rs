//! The chat binaries: four REST routes and seven WebSocket routes. The WebSocket ones answer
//! API Gateway only a status; what the client sees is pushed through the management API, whose
//! stub records it.

use std::sync::Arc;

use festa::model::Role;
use festa::services::tokens::Identity;
use serde_json::{json, Value};

use super::{as_caller, ensure, fixture, for_festival, proxy_answer, rest, Check, Prepared};
use crate::world::{World, FAN};

/// The binaries this area has scenarios for.
pub const BINARIES: &[&str] = &[
    "join-chat-room",
    "enter-chat-room",
    "list-chat-rooms",
    "leave-chat-room",
    "ws-connect",
    "ws-disconnect",
    "ws-send-message",
    "ws-enter-room",
    "ws-leave-room",
    "ws-mark-read",
    "ws-default",
];

/// The connection every WebSocket sample comes from.
pub const CONNECTION: &str = "Ue3fKdQ0IE0CFTg=";

/// Status 200 to API Gateway, and then a frame of `kind` pushed to the sample's connection
/// that passes `frame_check`.
fn pushed(kind: &'static str, frame_check: fn(&Value) -> Result<(), String>) -> Check {
    Box::new(move |world, outcome| {
        Box::pin(async move {
            let (status, _) = proxy_answer(&outcome)?;
            ensure(status == 200, format!("status 200, got {status}"))?;
            let frames = world.pushed_frames(CONNECTION).await;
            let frame = frames
                .iter()
                .find(|f| f["type"] == kind)
                .ok_or_else(|| format!("a {kind} frame pushed to {CONNECTION}, got {frames:?}"))?;
            frame_check(frame).map_err(|e| format!("{e}: {frame}"))
        })
    })
}

/// Status 200 to API Gateway and a look at the connections table.
fn connection_then(open: bool, user_id: Option<String>) -> Check {
    Box::new(move |world, outcome| {
        Box::pin(async move {
            let (status, _) = proxy_answer(&outcome)?;
            ensure(status == 200, format!("status 200, got {status}"))?;
            let chat = world.chat().await?;
            let stored = chat
                .connections
                .get(CONNECTION, world.now())
                .await
                .map_err(|e| e.to_string())?;
            ensure(
                stored.is_some() == open,
                format!("the connection open: {open}"),
            )?;
            match (stored, user_id) {
                (Some(connection), Some(user_id)) => {
                    ensure(connection.user_id == user_id, "the connection is the fan's")
                }
                _ => Ok(()),
            }
        })
    })
}

/// The fan as a member of the room with the sample connection open.
async fn member_connected(world: &World, festival: &str) -> Result<Identity, String> {
    let fan = world.identity(FAN, Role::User);
    let chat = world.chat().await?;
    chat.join(&fan, festival)
        .await
        .map_err(|e| format!("joining the room: {e}"))?;
    world.live_login(&fan).await?;
    chat.connect(CONNECTION, &fan)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    Ok(fan)
}

/// `frame` sent from the sample connection through the chat service (pushes only recorded).
async fn send_frame(world: &World, frame: Value) -> Result<(), String> {
    world
        .chat()
        .await?
        .frame(CONNECTION, &frame.to_string())
        .await
        .map_err(|e| format!("seeding the frame {frame}: {e}"))
}

/// Seeds what `events/<binary>.json` needs, fills it in and says what a right answer is.
pub async fn prepare(world: &Arc<World>, binary: &str) -> Result<Prepared, String> {
    let festival = world.festival().await?.festival_id;
    let event = for_festival(&fixture(binary)?, &festival);
    let fan = world.identity(FAN, Role::User);
    Ok(match binary {
        "join-chat-room" => Prepared {
            event: as_caller(world, &event, &fan)?,
            check: rest(200, move |body| {
                ensure(
                    body["chatRoomId"] == festival.as_str(),
                    "the festival's room",
                )?;
                ensure(body["memberCount"] == 1, "one member")
            }),
        },
        "enter-chat-room" => {
            let fan = member_connected(world, &festival).await?;
            Prepared {
                event: as_caller(world, &event, &fan)?,
                check: rest(200, move |body| {
                    ensure(body["chatRoomId"] == festival.as_str(), "the room")?;
                    ensure(body["messages"].is_array(), "its history")
                }),
            }
        }
        "list-chat-rooms" => {
            let fan = member_connected(world, &festival).await?;
            Prepared {
                event: as_caller(world, &event, &fan)?,
                check: rest(200, move |body| {
                    ensure(
                        body["items"][0]["chatRoomId"] == festival.as_str(),
                        "the caller's room",
                    )
                }),
            }
        }
        "leave-chat-room" => {
            let fan = member_connected(world, &festival).await?;
            Prepared {
                event: as_caller(world, &event, &fan)?,
                check: rest(204, |_| Ok(())),
            }
        }
        // A live login's token opens the connection.
        "ws-connect" => {
            let login = world.login(FAN).await?;
            Prepared {
                event: festa::api::replay::fill(&event, "<access-token>", &login.access_token),
                check: connection_then(true, Some(login.identity.user_id)),
            }
        }
        "ws-disconnect" => {
            member_connected(world, &festival).await?;
            Prepared {
                event,
                check: connection_then(false, None),
            }
        }
        // The sender is acknowledged with the message's seq.
        "ws-send-message" => {
            member_connected(world, &festival).await?;
            Prepared {
                event,
                check: pushed("ack", |frame| {
                    ensure(frame["seq"] == 1, "seq 1")?;
                    ensure(
                        frame["clientMsgId"] == "5b0d8f3e-2c71-4a9e-9f46-1d3c7a2e8b50",
                        "the sample's clientMsgId",
                    )
                }),
            }
        }
        "ws-enter-room" => {
            member_connected(world, &festival).await?;
            Prepared {
                event,
                check: pushed("unread", |frame| {
                    ensure(frame["unreadCount"] == 0, "nothing unread")
                }),
            }
        }
        "ws-leave-room" => {
            member_connected(world, &festival).await?;
            send_frame(
                world,
                json!({"action": "enterRoom", "chatRoomId": festival}),
            )
            .await?;
            Prepared {
                event,
                check: pushed("unread", |frame| {
                    ensure(frame["unreadCount"] == 0, "nothing unread")
                }),
            }
        }
        // The fan's own message (seq 1) marked read.
        "ws-mark-read" => {
            member_connected(world, &festival).await?;
            send_frame(
                world,
                json!({"action": "sendMessage", "chatRoomId": festival, "content": "안녕하세요", "clientMsgId": "seed-1"}),
            )
            .await?;
            Prepared {
                event,
                check: pushed("unread", |frame| {
                    ensure(frame["unreadCount"] == 0, "nothing unread")
                }),
            }
        }
        // An action no route has: an INVALID_MESSAGE error frame, the connection stays.
        "ws-default" => {
            member_connected(world, &festival).await?;
            Prepared {
                event,
                check: pushed("error", |frame| {
                    ensure(frame["code"] == "INVALID_MESSAGE", "INVALID_MESSAGE")
                }),
            }
        }
        other => return Err(format!("{other} is not a chat binary")),
    })
}
