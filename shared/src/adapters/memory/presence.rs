use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::AppResult;
use crate::ports::{Recipient, RoomPresence};

/// One room's live state.
#[derive(Default)]
struct RoomState {
    /// Attached connection → its user.
    attached: HashMap<String, String>,
    viewing: HashSet<String>,
    /// User → read marker.
    read: HashMap<String, u64>,
}

#[derive(Default)]
struct State {
    rooms: HashMap<String, RoomState>,
    /// User → (second, messages counted in it).
    sent: HashMap<String, (i64, u32)>,
    /// User → their open connections and when each expires.
    devices: HashMap<String, HashMap<String, DateTime<Utc>>>,
}

/// Presence, read markers and send rates in process memory, with the Redis adapter's
/// semantics; one lock makes every call atomic, as the Redis scripts are.
#[derive(Default)]
pub struct MemoryPresence {
    state: Mutex<State>,
}

impl MemoryPresence {
    /// Nobody present.
    pub fn new() -> Self {
        Self::default()
    }
}

fn advance(read: &mut HashMap<String, u64>, user_id: &str, seq: u64) -> u64 {
    let marker = read.entry(user_id.to_string()).or_insert(0);
    *marker = (*marker).max(seq);
    *marker
}

#[async_trait]
impl RoomPresence for MemoryPresence {
    async fn attach(
        &self,
        chat_room_id: &str,
        connection_id: &str,
        user_id: &str,
    ) -> AppResult<()> {
        let mut state = self.state.lock().unwrap();
        let room = state.rooms.entry(chat_room_id.to_string()).or_default();
        room.attached
            .insert(connection_id.to_string(), user_id.to_string());
        Ok(())
    }

    async fn detach(&self, chat_room_id: &str, connection_id: &str) -> AppResult<()> {
        let mut state = self.state.lock().unwrap();
        if let Some(room) = state.rooms.get_mut(chat_room_id) {
            room.attached.remove(connection_id);
            room.viewing.remove(connection_id);
        }
        Ok(())
    }

    async fn view(
        &self,
        chat_room_id: &str,
        connection_id: &str,
        user_id: &str,
        seq: u64,
    ) -> AppResult<u64> {
        let mut state = self.state.lock().unwrap();
        let room = state.rooms.entry(chat_room_id.to_string()).or_default();
        room.attached
            .insert(connection_id.to_string(), user_id.to_string());
        room.viewing.insert(connection_id.to_string());
        Ok(advance(&mut room.read, user_id, seq))
    }

    async fn unview(
        &self,
        chat_room_id: &str,
        connection_id: &str,
        user_id: &str,
    ) -> AppResult<u64> {
        let mut state = self.state.lock().unwrap();
        let room = state.rooms.entry(chat_room_id.to_string()).or_default();
        room.viewing.remove(connection_id);
        Ok(room.read.get(user_id).copied().unwrap_or(0))
    }

    async fn mark_read(&self, chat_room_id: &str, user_id: &str, seq: u64) -> AppResult<u64> {
        let mut state = self.state.lock().unwrap();
        let room = state.rooms.entry(chat_room_id.to_string()).or_default();
        Ok(advance(&mut room.read, user_id, seq))
    }

    async fn forget_member(&self, chat_room_id: &str, user_id: &str) -> AppResult<()> {
        let mut state = self.state.lock().unwrap();
        if let Some(room) = state.rooms.get_mut(chat_room_id) {
            room.read.remove(user_id);
            let theirs: Vec<String> = room
                .attached
                .iter()
                .filter(|(_, user)| *user == user_id)
                .map(|(connection, _)| connection.clone())
                .collect();
            for connection in theirs {
                room.attached.remove(&connection);
                room.viewing.remove(&connection);
            }
        }
        Ok(())
    }

    async fn read_markers(&self, chat_room_ids: &[String], user_id: &str) -> AppResult<Vec<u64>> {
        let state = self.state.lock().unwrap();
        Ok(chat_room_ids
            .iter()
            .map(|id| {
                state
                    .rooms
                    .get(id)
                    .and_then(|r| r.read.get(user_id).copied())
                    .unwrap_or(0)
            })
            .collect())
    }

    async fn deliver(&self, chat_room_id: &str, seq: u64) -> AppResult<Vec<Recipient>> {
        let mut state = self.state.lock().unwrap();
        let Some(room) = state.rooms.get_mut(chat_room_id) else {
            return Ok(Vec::new());
        };
        let viewers: Vec<String> = room
            .viewing
            .iter()
            .filter_map(|c| room.attached.get(c).cloned())
            .collect();
        for user in viewers {
            advance(&mut room.read, &user, seq);
        }
        Ok(room
            .attached
            .iter()
            .map(|(connection_id, user_id)| Recipient {
                connection_id: connection_id.clone(),
                user_id: user_id.clone(),
                viewing: room.viewing.contains(connection_id),
                read_seq: room.read.get(user_id).copied().unwrap_or(0),
            })
            .collect())
    }

    async fn track(
        &self,
        user_id: &str,
        connection_id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        max: usize,
    ) -> AppResult<bool> {
        let mut state = self.state.lock().unwrap();
        let devices = state.devices.entry(user_id.to_string()).or_default();
        devices.retain(|_, expires| *expires > now);
        if !devices.contains_key(connection_id) && devices.len() >= max {
            return Ok(false);
        }
        let held = devices
            .entry(connection_id.to_string())
            .or_insert(expires_at);
        *held = (*held).max(expires_at);
        Ok(true)
    }

    async fn untrack(&self, user_id: &str, connection_id: &str) -> AppResult<()> {
        let mut state = self.state.lock().unwrap();
        if let Some(devices) = state.devices.get_mut(user_id) {
            devices.remove(connection_id);
            if devices.is_empty() {
                state.devices.remove(user_id);
            }
        }
        Ok(())
    }

    async fn connections_of(&self, user_id: &str) -> AppResult<Vec<String>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .devices
            .get(user_id)
            .map(|d| d.keys().cloned().collect())
            .unwrap_or_default())
    }

    async fn holds(
        &self,
        user_id: &str,
        connection_id: &str,
        now: DateTime<Utc>,
    ) -> AppResult<bool> {
        let state = self.state.lock().unwrap();
        Ok(state
            .devices
            .get(user_id)
            .and_then(|d| d.get(connection_id))
            .is_some_and(|expires| *expires > now))
    }

    async fn evict(&self, user_id: &str) -> AppResult<Vec<String>> {
        let mut state = self.state.lock().unwrap();
        Ok(state
            .devices
            .remove(user_id)
            .map(|d| d.into_keys().collect())
            .unwrap_or_default())
    }

    async fn allow_message(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
        per_second: u32,
    ) -> AppResult<bool> {
        let mut state = self.state.lock().unwrap();
        let second = now.timestamp();
        // Counters of past seconds mean nothing: drop them before they pile up.
        if state.sent.len() >= 10_000 {
            state.sent.retain(|_, (at, _)| *at == second);
        }
        let slot = state.sent.entry(user_id.to_string()).or_insert((second, 0));
        if slot.0 != second {
            *slot = (second, 0);
        }
        if slot.1 >= per_second {
            return Ok(false);
        }
        slot.1 += 1;
        Ok(true)
    }
}
