//! Festival chat: one room per festival, its members, their messages and connections.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A festival's chat room, as the festival names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRoom {
    pub chat_room_id: String,
    pub festival_id: String,
    /// The festival's name, so room lists need no festival reads.
    pub name: String,
}

/// One stored chat message; `seq` orders a room's messages with no gap and no repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub chat_room_id: String,
    /// 1 for a room's first message, one more for each after it.
    #[schema(minimum = 1)]
    pub seq: u64,
    pub message_id: String,
    pub sender_id: String,
    pub sender_name: String,
    pub content: String,
    #[serde(with = "super::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub sent_at: DateTime<Utc>,
    /// The sender's own id for the message, which makes a resend harmless.
    pub client_msg_id: String,
}

/// A member's place in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub chat_room_id: String,
    pub festival_id: String,
    /// The room's (festival's) name.
    pub name: String,
    pub user_id: String,
    pub joined_at: DateTime<Utc>,
    /// The room's last `seq` when the member joined: earlier messages never count as unread,
    /// even if the read marker is lost.
    pub joined_seq: u64,
}

/// A room's running totals, kept on one record that every message updates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomActivity {
    pub chat_room_id: String,
    /// The `seq` of the newest message; 0 while the room is silent.
    pub last_seq: u64,
    pub member_count: u64,
    pub last_message: Option<String>,
    pub last_message_at: Option<DateTime<Utc>>,
}

/// An open WebSocket connection and who opened it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub connection_id: String,
    pub user_id: String,
    pub name: String,
    /// The login (`Identity.session_id`) the connection was opened with, so a connection can
    /// be traced to the login whose end closes it. Empty for records written before it was kept.
    pub session_id: String,
    pub connected_at: DateTime<Utc>,
    /// API Gateway closes a connection after 2 hours; its record lives a little longer and
    /// is ignored after this instant even before DynamoDB's TTL removes it.
    pub expires_at: DateTime<Utc>,
}

/// The answer to joining a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomJoined {
    pub chat_room_id: String,
    pub festival_id: String,
    pub name: String,
    pub member_count: u64,
    #[serde(with = "super::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: DateTime<Utc>,
}

/// The answer to entering a room: a page of its history and what was unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomView {
    pub chat_room_id: String,
    pub name: String,
    pub member_count: u64,
    /// Unread messages before this call; the call then marks them all read.
    pub unread_count: u64,
    /// Oldest first.
    pub messages: Vec<ChatMessage>,
    /// The `before` for the next (older) page; `null` at the room's first message.
    pub next_before: Option<u64>,
}

/// One room in the caller's room list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomSummary {
    pub chat_room_id: String,
    pub festival_id: String,
    pub name: String,
    pub last_message: Option<String>,
    #[serde(with = "super::timestamp::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_message_at: Option<DateTime<Utc>>,
    pub unread_count: u64,
}

/// The caller's rooms, latest activity first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoomList {
    pub items: Vec<RoomSummary>,
}
