//! Festival chat: rooms, history and unread counts (REST), and the WebSocket frames.
//!
//! Messages live in the chat store with a gap-free `seq` per room. Unread counts are never
//! stored per member: a member's count is the room's last `seq` minus their read marker, so a
//! message costs the same however many members the room has.

pub mod frames;
mod order;
mod socket;

use std::sync::Arc;

use chrono::Duration;

use crate::error::{AppError, AppResult};
use crate::model::{ChatRoom, Membership, RoomJoined, RoomList, RoomSummary, RoomView};
use crate::ports::{
    ChatStore, Clock, ConnectionPusher, ConnectionStore, IdSource, RoomPresence, SessionStore,
};
use crate::services::directory::FestivalDirectory;
use crate::services::tokens::Identity;

pub use order::{RoomTurns, Turn};

/// Messages a history page holds when the caller names no `limit`.
pub const DEFAULT_HISTORY: usize = 50;
/// The largest history page.
pub const MAX_HISTORY: usize = 100;
/// API.md: `content` is 1..=2000 characters.
pub const MAX_CONTENT_CHARS: usize = 2000;
/// The longest `clientMsgId` kept as a resend guard.
pub const MAX_CLIENT_MSG_ID: usize = 100;
/// API.md: over 10 messages a second per user (all connections together) is `RATE_LIMITED`.
pub const MESSAGES_PER_SECOND: u32 = 10;
/// API.md: a user holds at most 5 open connections; a sixth upgrade is refused with `429`.
pub const MAX_CONNECTIONS_PER_USER: usize = 5;
/// How many pushes one message has in flight at once.
pub const FANOUT_CONCURRENCY: usize = 64;
/// Room ids are festival ids (ULIDs); anything longer names no room.
pub const MAX_ROOM_ID: usize = 64;

/// Whether `id` could name a room at all, checked before any store sees it.
fn plausible_room_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ROOM_ID && id.chars().all(|c| c.is_ascii_graphic())
}

/// API Gateway closes a WebSocket after 2 hours; the record outlives it a little so a late
/// `$disconnect` still finds whom it was.
pub fn connection_lifetime() -> Duration {
    Duration::minutes(130)
}

/// How long a `clientMsgId` is recognised as a resend (as long as an `Idempotency-Key`).
pub fn resend_window() -> Duration {
    Duration::hours(24)
}

/// Everything chat needs, built once per process.
#[derive(Clone)]
pub struct Chat {
    pub store: Arc<dyn ChatStore>,
    pub connections: Arc<dyn ConnectionStore>,
    pub presence: Arc<dyn RoomPresence>,
    pub pusher: Arc<dyn ConnectionPusher>,
    pub festivals: FestivalDirectory,
    /// Logins, read once more after a connection is registered: a sign-out that raced the
    /// upgrade could not close a connection it did not see yet.
    pub sessions: Arc<dyn SessionStore>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub turns: RoomTurns,
}

/// The `limit` and `before` of a history page, parsed from the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryPage {
    pub limit: usize,
    pub before: Option<u64>,
}

impl HistoryPage {
    /// Parses the raw query values; bad ones are a 400 that says what to send.
    pub fn parse(limit: Option<&str>, before: Option<&str>) -> AppResult<Self> {
        let limit = match limit.map(str::trim) {
            None | Some("") => DEFAULT_HISTORY,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_HISTORY).contains(n))
                .ok_or_else(|| {
                    AppError::validation("limit must be a whole number from 1 to 100")
                })?,
        };
        let before =
            match before.map(str::trim) {
                None | Some("") => None,
                Some(text) => Some(text.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(
                    || AppError::validation("before must be a message seq (a whole number from 1)"),
                )?),
            };
        Ok(HistoryPage { limit, before })
    }
}

impl Chat {
    /// The festival's room, or 404 for an id no festival's room has.
    async fn room(&self, chat_room_id: &str) -> AppResult<ChatRoom> {
        let unknown = || AppError::NotFound("no chat room has this id".into());
        if !plausible_room_id(chat_room_id) {
            return Err(unknown());
        }
        let festival = match self.festivals.get(chat_room_id).await {
            Ok(festival) => festival,
            Err(AppError::FestivalNotFound) => return Err(unknown()),
            Err(other) => return Err(other),
        };
        if festival.chat_room_id != chat_room_id {
            return Err(unknown());
        }
        Ok(ChatRoom {
            chat_room_id: festival.chat_room_id.clone(),
            festival_id: festival.festival_id.clone(),
            name: festival.name.clone(),
        })
    }

    /// The caller's membership, after checking the room exists (404) and they belong (403).
    async fn member(&self, caller: &Identity, chat_room_id: &str) -> AppResult<Membership> {
        if !plausible_room_id(chat_room_id) {
            return Err(AppError::NotFound("no chat room has this id".into()));
        }
        if let Some(membership) = self.store.membership(chat_room_id, &caller.user_id).await? {
            return Ok(membership);
        }
        self.room(chat_room_id).await?;
        Err(AppError::NotAMember)
    }

    /// Joins the room (harmless when already a member). Earlier messages do not count as
    /// unread, and the caller's open connections start receiving the room's messages.
    pub async fn join(&self, caller: &Identity, chat_room_id: &str) -> AppResult<RoomJoined> {
        let room = self.room(chat_room_id).await?;
        let now = self.clock.now();
        let (membership, activity) = self.store.join(&room, &caller.user_id, now).await?;
        self.presence
            .mark_read(chat_room_id, &caller.user_id, membership.joined_seq)
            .await?;
        for connection_id in self.presence.connections_of(&caller.user_id).await? {
            self.presence
                .attach(chat_room_id, &connection_id, &caller.user_id)
                .await?;
        }
        Ok(RoomJoined {
            chat_room_id: room.chat_room_id,
            festival_id: room.festival_id,
            name: room.name,
            member_count: activity.member_count,
            joined_at: membership.joined_at,
        })
    }

    /// A page of the room's history with the caller's unread count before this call; then
    /// every message is marked read.
    pub async fn enter(
        &self,
        caller: &Identity,
        chat_room_id: &str,
        page: HistoryPage,
    ) -> AppResult<RoomView> {
        let membership = self.member(caller, chat_room_id).await?;
        let ids = [chat_room_id.to_string()];
        let activity = self.store.activity(&ids).await?.remove(0);
        let read = self.presence.read_markers(&ids, &caller.user_id).await?[0];
        let unread_count = unread(activity.last_seq, read, &membership);
        let mut messages = self
            .store
            .history(chat_room_id, page.before, page.limit)
            .await?;
        messages.reverse();
        let next_before = messages.first().map(|m| m.seq).filter(|seq| *seq > 1);
        self.presence
            .mark_read(chat_room_id, &caller.user_id, activity.last_seq)
            .await?;
        Ok(RoomView {
            chat_room_id: membership.chat_room_id,
            name: membership.name,
            member_count: activity.member_count,
            unread_count,
            messages,
            next_before,
        })
    }

    /// The caller's rooms, latest activity (last message, else joining) first.
    pub async fn rooms(&self, caller: &Identity) -> AppResult<RoomList> {
        let memberships = self.store.memberships_of(&caller.user_id).await?;
        let ids: Vec<String> = memberships.iter().map(|m| m.chat_room_id.clone()).collect();
        let activity = self.store.activity(&ids).await?;
        let read = self.presence.read_markers(&ids, &caller.user_id).await?;
        let mut rooms: Vec<(chrono::DateTime<chrono::Utc>, RoomSummary)> = memberships
            .into_iter()
            .zip(activity)
            .zip(read)
            .map(|((membership, activity), read)| {
                let latest = activity
                    .last_message_at
                    .map_or(membership.joined_at, |at| at.max(membership.joined_at));
                let summary = RoomSummary {
                    unread_count: unread(activity.last_seq, read, &membership),
                    chat_room_id: membership.chat_room_id,
                    festival_id: membership.festival_id,
                    name: membership.name,
                    last_message: activity.last_message,
                    last_message_at: activity.last_message_at,
                };
                (latest, summary)
            })
            .collect();
        rooms.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| a.1.chat_room_id.cmp(&b.1.chat_room_id))
        });
        Ok(RoomList {
            items: rooms.into_iter().map(|(_, summary)| summary).collect(),
        })
    }

    /// Leaves the room: its messages stop reaching the caller's connections. 404 when the
    /// caller is not a member, checked before anything touches the room: forgetting a member
    /// scans the room's presence, which a stranger must not be able to make us do. Live state
    /// goes before the membership record, so a retry after a failure finishes the job instead
    /// of answering 404 over a half-done leave.
    pub async fn leave(&self, caller: &Identity, chat_room_id: &str) -> AppResult<()> {
        if chat_room_id.is_empty() {
            return Err(AppError::validation("chatRoomId is required"));
        }
        let not_member = || AppError::NotFound("you are not a member of this chat room".into());
        if !plausible_room_id(chat_room_id) {
            return Err(not_member());
        }
        if self
            .store
            .membership(chat_room_id, &caller.user_id)
            .await?
            .is_none()
        {
            return Err(not_member());
        }
        self.presence
            .forget_member(chat_room_id, &caller.user_id)
            .await?;
        if !self.store.leave(chat_room_id, &caller.user_id).await? {
            return Err(not_member());
        }
        Ok(())
    }
}

/// Messages after the member's read marker, never counting those sent before they joined.
fn unread(last_seq: u64, read: u64, membership: &Membership) -> u64 {
    last_seq.saturating_sub(read.max(membership.joined_seq))
}
