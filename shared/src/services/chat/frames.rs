//! The WebSocket frames of API.md (chat), as the client sends them and as the server answers.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::ChatMessage;

/// A frame a client sends, chosen by its `action` (API Gateway routes on the same field).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ClientFrame {
    SendMessage {
        chat_room_id: String,
        content: String,
        client_msg_id: String,
    },
    EnterRoom {
        chat_room_id: String,
    },
    LeaveRoom {
        chat_room_id: String,
    },
    MarkRead {
        chat_room_id: String,
        seq: u64,
    },
}

/// A frame the server pushes to a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ServerFrame {
    /// The sender's message is stored under `seq` (again, for a resend).
    Ack {
        client_msg_id: String,
        seq: u64,
        message_id: String,
    },
    /// A new message of a room the connection's user belongs to.
    Message(ChatMessage),
    /// The user's unread count for a room changed (or was asked for).
    Unread {
        chat_room_id: String,
        unread_count: u64,
    },
    /// A frame could not be carried out; other frames and connections are unaffected.
    Error {
        code: String,
        message: String,
        client_msg_id: Option<String>,
    },
}

impl ServerFrame {
    /// The error frame for a failure; internal details stay in the log.
    pub fn error(err: &AppError, client_msg_id: Option<String>) -> Self {
        let code = match err {
            AppError::Validation(_) | AppError::PayloadTooLarge(_) => "INVALID_MESSAGE",
            other => other.code(),
        };
        let message = match err {
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "chat frame failed");
                "something went wrong on our side; try again".to_string()
            }
            // A store is down: the client may send the frame again in a moment (a resend of
            // the same clientMsgId is never stored twice); the detail stays in the log.
            AppError::ServiceUnavailable(detail) => {
                tracing::warn!(error = %detail, "chat frame failed: a store is unavailable");
                err.problem().detail
            }
            other => other.to_string(),
        };
        ServerFrame::Error {
            code: code.to_string(),
            message,
            client_msg_id,
        }
    }

    /// The frame as the text pushed over the socket.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Parses a client frame; anything unreadable is a validation error naming what to fix,
/// with the frame's `clientMsgId` when one can be read, so the sender can match the error.
pub fn parse(text: &str) -> Result<ClientFrame, (AppError, Option<String>)> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| (AppError::validation("a frame must be a JSON object"), None))?;
    let client_msg_id = value
        .get("clientMsgId")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let action = value
        .get("action")
        .and_then(|a| a.as_str())
        .unwrap_or("")
        .to_string();
    if !matches!(
        action.as_str(),
        "sendMessage" | "enterRoom" | "leaveRoom" | "markRead"
    ) {
        return Err((
            AppError::validation(
                "unknown action; use sendMessage, enterRoom, leaveRoom or markRead",
            ),
            client_msg_id,
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        (
            AppError::validation(format!("invalid {action} frame: {e}")),
            client_msg_id,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_and_write_as_api_md_shows_them() {
        assert_eq!(
            parse(r#"{"action":"markRead","chatRoomId":"r","seq":3}"#).unwrap(),
            ClientFrame::MarkRead {
                chat_room_id: "r".into(),
                seq: 3
            }
        );
        let (err, id) =
            parse(r#"{"action":"sendMessage","chatRoomId":"r","clientMsgId":"c"}"#).unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(id.as_deref(), Some("c"));
        assert!(parse(r#"{"action":"dance"}"#).is_err());
        assert!(parse("[1]").is_err());
        assert!(parse(r#"{"action":"markRead","chatRoomId":"r","seq":-1}"#).is_err());
        let ack = ServerFrame::Ack {
            client_msg_id: "c".into(),
            seq: 1,
            message_id: "m".into(),
        };
        assert_eq!(
            ack.to_text(),
            r#"{"type":"ack","clientMsgId":"c","seq":1,"messageId":"m"}"#
        );
        let error = ServerFrame::error(&AppError::NotAMember, None).to_text();
        assert!(error.contains(r#""code":"NOT_A_MEMBER""#), "{error}");
    }
}
