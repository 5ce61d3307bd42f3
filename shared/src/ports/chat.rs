use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::AppResult;
use crate::model::{ChatMessage, ChatRoom, Connection, Membership, RoomActivity};

/// A message as its sender wrote it, before the room gives it a `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDraft {
    pub chat_room_id: String,
    pub sender_id: String,
    pub sender_name: String,
    pub content: String,
    pub client_msg_id: String,
    /// Used only if the draft is stored (a resend keeps the first id).
    pub message_id: String,
    pub sent_at: DateTime<Utc>,
    /// Until when a resend with the same `client_msg_id` is recognised.
    pub guard_expires_at: DateTime<Utc>,
}

/// What appending a draft did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Stored under the room's next `seq`.
    Stored(ChatMessage),
    /// The sender sent this `client_msg_id` before: nothing was stored, here is the first one.
    Resent(ChatMessage),
}

/// Rooms, memberships and messages (DynamoDB in AWS: the records table and the messages table).
///
/// `seq` comes from the room's counter, moved only in the same transaction that stores the
/// message and the sender's `client_msg_id` guard: a room's messages have no gap and no repeat.
#[async_trait]
pub trait ChatStore: Send + Sync {
    /// Adds the user to the room unless they are a member; either way answers their
    /// membership and the room's totals after the call.
    async fn join(
        &self,
        room: &ChatRoom,
        user_id: &str,
        at: DateTime<Utc>,
    ) -> AppResult<(Membership, RoomActivity)>;

    /// The user's membership of the room, if any.
    async fn membership(&self, chat_room_id: &str, user_id: &str) -> AppResult<Option<Membership>>;

    /// Removes the user from the room; false when they were not a member.
    async fn leave(&self, chat_room_id: &str, user_id: &str) -> AppResult<bool>;

    /// Every room the user belongs to.
    async fn memberships_of(&self, user_id: &str) -> AppResult<Vec<Membership>>;

    /// The rooms' totals, in the order asked (a silent or unknown room has zeros).
    async fn activity(&self, chat_room_ids: &[String]) -> AppResult<Vec<RoomActivity>>;

    /// Stores the draft under the room's next `seq` if its sender is a member (else
    /// `NotAMember`) and has not sent its `client_msg_id` before.
    async fn append(&self, draft: &MessageDraft) -> AppResult<Appended>;

    /// Up to `limit` messages with `seq` below `before` (all when `None`), newest first.
    async fn history(
        &self,
        chat_room_id: &str,
        before: Option<u64>,
        limit: usize,
    ) -> AppResult<Vec<ChatMessage>>;
}

/// Open WebSocket connections (a DynamoDB table with a TTL in AWS).
#[async_trait]
pub trait ConnectionStore: Send + Sync {
    /// Records a new connection.
    async fn open(&self, connection: &Connection) -> AppResult<()>;

    /// The connection, unless it is closed or expired by `now`.
    async fn get(&self, connection_id: &str, now: DateTime<Utc>) -> AppResult<Option<Connection>>;

    /// Forgets the connection; answers what it was, if it was open.
    async fn close(&self, connection_id: &str) -> AppResult<Option<Connection>>;
}

/// A connection a new message goes to, and how it should hear of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub connection_id: String,
    pub user_id: String,
    /// This connection is viewing the room.
    pub viewing: bool,
    /// The user's read marker after the delivery: viewers' markers have moved to the new
    /// message, so unread = seq − read for everyone.
    pub read_seq: u64,
}

/// Who is connected to which room, who is viewing it, read markers, and the send rate
/// (Redis in AWS: presence is short-lived and read markers change on every message).
#[async_trait]
pub trait RoomPresence: Send + Sync {
    /// Routes the room's messages to this connection of a member.
    async fn attach(&self, chat_room_id: &str, connection_id: &str, user_id: &str)
        -> AppResult<()>;

    /// Stops routing the room's messages to this connection (and its viewing).
    async fn detach(&self, chat_room_id: &str, connection_id: &str) -> AppResult<()>;

    /// Marks the connection as viewing the room and moves the user's read marker to `seq`.
    async fn view(
        &self,
        chat_room_id: &str,
        connection_id: &str,
        user_id: &str,
        seq: u64,
    ) -> AppResult<u64>;

    /// The connection stops viewing the room; answers the user's read marker.
    async fn unview(
        &self,
        chat_room_id: &str,
        connection_id: &str,
        user_id: &str,
    ) -> AppResult<u64>;

    /// Moves the user's read marker forward to `seq` (never back); answers the marker.
    async fn mark_read(&self, chat_room_id: &str, user_id: &str, seq: u64) -> AppResult<u64>;

    /// The user left the room: atomically forgets their read marker and detaches every
    /// connection of theirs, whichever device or process attached it.
    async fn forget_member(&self, chat_room_id: &str, user_id: &str) -> AppResult<()>;

    /// The user's read marker in each room, in the order asked (0 when unknown).
    async fn read_markers(&self, chat_room_ids: &[String], user_id: &str) -> AppResult<Vec<u64>>;

    /// Atomically: moves the marker of every user viewing the room to `seq`, and answers
    /// every attached connection with the marker of its user.
    async fn deliver(&self, chat_room_id: &str, seq: u64) -> AppResult<Vec<Recipient>>;

    /// Remembers an open connection of the user (every device), so that joining a room routes
    /// it at once; read consistently, unlike an index of the connections table. Atomically
    /// refuses (answers false, remembering nothing) when the user already holds `max`
    /// connections that have not expired by `now`; expired ones are forgotten on the way, so a
    /// connection whose `$disconnect` was lost stops counting at its `expires_at`. Tracking a
    /// connection already held is harmless and always allowed.
    async fn track(
        &self,
        user_id: &str,
        connection_id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        max: usize,
    ) -> AppResult<bool>;

    /// Forgets a closed connection of the user.
    async fn untrack(&self, user_id: &str, connection_id: &str) -> AppResult<()>;

    /// The user's tracked connections (some may have expired and not been forgotten yet).
    async fn connections_of(&self, user_id: &str) -> AppResult<Vec<String>>;

    /// Whether the connection is still tracked for the user and unexpired at `now`: false
    /// once it was untracked or evicted, so frames of a signed-out connection are refused.
    async fn holds(
        &self,
        user_id: &str,
        connection_id: &str,
        now: DateTime<Utc>,
    ) -> AppResult<bool>;

    /// The user's login ended: atomically forgets every tracked connection of theirs and
    /// answers them (expired ones included), so the caller can close them.
    async fn evict(&self, user_id: &str) -> AppResult<Vec<String>>;

    /// Counts one message from the user (all their connections together) in the current
    /// second; false once the user has sent `per_second` messages in it.
    async fn allow_message(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
        per_second: u32,
    ) -> AppResult<bool>;
}

/// Closes every open WebSocket connection of a user whose logins were revoked (sign-out, a
/// password reset): `DeleteConnection` through API Gateway's management API in AWS, the open
/// socket in the local platform. Implementations forget the connections in the presence store
/// first ([`RoomPresence::evict`]), so a frame racing the close is refused even before the
/// socket is gone.
#[async_trait]
pub trait SocketEviction: Send + Sync {
    /// Closes the user's connections; a connection already gone is fine. Fails only when a
    /// live connection could not be closed, after trying every one.
    async fn close_user_connections(&self, user_id: &str) -> AppResult<()>;
}

/// What pushing a frame to a connection found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    Delivered,
    /// The connection is closed (API Gateway's `GoneException`): forget it.
    Gone,
}

/// Writes frames to open WebSocket connections (API Gateway's management API in AWS, the
/// open sockets in the local platform).
#[async_trait]
pub trait ConnectionPusher: Send + Sync {
    /// Sends one text frame to the connection.
    async fn push(&self, connection_id: &str, frame: &str) -> AppResult<Push>;
}
