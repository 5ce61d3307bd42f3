use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::{AppError, AppResult};
use crate::model::{ChatMessage, ChatRoom, Membership, RoomActivity};
use crate::ports::{Appended, ChatStore, MessageDraft};

/// One room: its totals, members and messages.
#[derive(Default)]
struct Room {
    activity: RoomActivity,
    members: HashMap<String, Membership>,
    messages: BTreeMap<u64, ChatMessage>,
    /// (sender, client_msg_id) → the seq it was stored under, and when the guard lapses.
    sent: HashMap<(String, String), (u64, DateTime<Utc>)>,
}

/// Chat rooms, memberships and messages in process memory; one lock makes every call atomic,
/// as the DynamoDB transactions make them.
#[derive(Default)]
pub struct MemoryChat {
    rooms: Mutex<HashMap<String, Room>>,
}

impl MemoryChat {
    /// No rooms yet.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ChatStore for MemoryChat {
    async fn join(
        &self,
        room: &ChatRoom,
        user_id: &str,
        at: DateTime<Utc>,
    ) -> AppResult<(Membership, RoomActivity)> {
        let mut rooms = self.rooms.lock().unwrap();
        let entry = rooms.entry(room.chat_room_id.clone()).or_default();
        entry.activity.chat_room_id = room.chat_room_id.clone();
        let last_seq = entry.activity.last_seq;
        let mut joined = false;
        let membership = entry
            .members
            .entry(user_id.to_string())
            .or_insert_with(|| {
                joined = true;
                Membership {
                    chat_room_id: room.chat_room_id.clone(),
                    festival_id: room.festival_id.clone(),
                    name: room.name.clone(),
                    user_id: user_id.to_string(),
                    joined_at: at,
                    joined_seq: last_seq,
                }
            })
            .clone();
        if joined {
            entry.activity.member_count += 1;
        }
        Ok((membership, entry.activity.clone()))
    }

    async fn membership(&self, chat_room_id: &str, user_id: &str) -> AppResult<Option<Membership>> {
        let rooms = self.rooms.lock().unwrap();
        Ok(rooms
            .get(chat_room_id)
            .and_then(|r| r.members.get(user_id))
            .cloned())
    }

    async fn leave(&self, chat_room_id: &str, user_id: &str) -> AppResult<bool> {
        let mut rooms = self.rooms.lock().unwrap();
        let Some(room) = rooms.get_mut(chat_room_id) else {
            return Ok(false);
        };
        if room.members.remove(user_id).is_none() {
            return Ok(false);
        }
        room.activity.member_count -= 1;
        Ok(true)
    }

    async fn memberships_of(&self, user_id: &str) -> AppResult<Vec<Membership>> {
        let rooms = self.rooms.lock().unwrap();
        Ok(rooms
            .values()
            .filter_map(|r| r.members.get(user_id).cloned())
            .collect())
    }

    async fn activity(&self, chat_room_ids: &[String]) -> AppResult<Vec<RoomActivity>> {
        let rooms = self.rooms.lock().unwrap();
        Ok(chat_room_ids
            .iter()
            .map(|id| match rooms.get(id) {
                Some(room) => room.activity.clone(),
                None => RoomActivity {
                    chat_room_id: id.clone(),
                    ..RoomActivity::default()
                },
            })
            .collect())
    }

    async fn append(&self, draft: &MessageDraft) -> AppResult<Appended> {
        let mut rooms = self.rooms.lock().unwrap();
        let room = rooms
            .get_mut(&draft.chat_room_id)
            .filter(|r| r.members.contains_key(&draft.sender_id))
            .ok_or(AppError::NotAMember)?;
        let guard = (draft.sender_id.clone(), draft.client_msg_id.clone());
        if let Some((seq, lapses)) = room.sent.get(&guard) {
            if *lapses > draft.sent_at {
                if let Some(first) = room.messages.get(seq) {
                    return Ok(Appended::Resent(first.clone()));
                }
            }
        }
        let seq = room.activity.last_seq + 1;
        let message = ChatMessage {
            chat_room_id: draft.chat_room_id.clone(),
            seq,
            message_id: draft.message_id.clone(),
            sender_id: draft.sender_id.clone(),
            sender_name: draft.sender_name.clone(),
            content: draft.content.clone(),
            sent_at: draft.sent_at,
            client_msg_id: draft.client_msg_id.clone(),
        };
        room.activity.last_seq = seq;
        room.activity.last_message = Some(draft.content.clone());
        room.activity.last_message_at = Some(draft.sent_at);
        room.messages.insert(seq, message.clone());
        room.sent.insert(guard, (seq, draft.guard_expires_at));
        Ok(Appended::Stored(message))
    }

    async fn history(
        &self,
        chat_room_id: &str,
        before: Option<u64>,
        limit: usize,
    ) -> AppResult<Vec<ChatMessage>> {
        let rooms = self.rooms.lock().unwrap();
        let Some(room) = rooms.get(chat_room_id) else {
            return Ok(Vec::new());
        };
        Ok(room
            .messages
            .range(..before.unwrap_or(u64::MAX))
            .rev()
            .take(limit)
            .map(|(_, m)| m.clone())
            .collect())
    }
}
