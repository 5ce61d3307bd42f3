//! Delivery order within one process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One turn per room at a time: a message is stored and handed to every connection before the
/// next send in the same room takes its `seq`, so receivers served by this process see each
/// room's messages in `seq` order. (Separate Lambda instances do not share turns; each frame
/// carries its `seq` for clients to order by.)
#[derive(Clone, Default)]
pub struct RoomTurns {
    rooms: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl RoomTurns {
    /// Waits for the room's turn; the turn ends when the guard drops.
    pub async fn take(&self, chat_room_id: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let turn = self
            .rooms
            .lock()
            .unwrap()
            .entry(chat_room_id.to_string())
            .or_default()
            .clone();
        turn.lock_owned().await
    }
}
