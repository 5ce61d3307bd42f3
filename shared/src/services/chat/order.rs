//! Delivery order within one process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

type Rooms = Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>;

/// One turn per room at a time: a message is stored and handed to every connection before the
/// next send in the same room takes its `seq`, so receivers served by this process see each
/// room's messages in `seq` order. (Separate Lambda instances do not share turns; each frame
/// carries its `seq` for clients to order by.) A room's entry lives only while someone holds
/// or awaits its turn.
#[derive(Clone, Default)]
pub struct RoomTurns {
    rooms: Rooms,
}

/// A room's turn; the next sender in the room goes when this drops.
pub struct Turn {
    room: String,
    rooms: Rooms,
    guard: Option<OwnedMutexGuard<()>>,
}

impl RoomTurns {
    /// Waits for the room's turn.
    pub async fn take(&self, chat_room_id: &str) -> Turn {
        let lock = self
            .rooms
            .lock()
            .unwrap()
            .entry(chat_room_id.to_string())
            .or_default()
            .clone();
        Turn {
            room: chat_room_id.to_string(),
            rooms: self.rooms.clone(),
            guard: Some(lock.lock_owned().await),
        }
    }

    /// Rooms with a turn held or awaited (for tests).
    pub fn busy_rooms(&self) -> usize {
        self.rooms.lock().unwrap().len()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut rooms = self.rooms.lock().unwrap();
        if let Some(guard) = self.guard.take() {
            let lock = OwnedMutexGuard::mutex(&guard).clone();
            drop(guard);
            // Only the map and `lock` left: nobody holds or awaits this room's turn.
            if Arc::strong_count(&lock) == 2 {
                rooms.remove(&self.room);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_are_exclusive_and_forgotten_when_free() {
        let turns = RoomTurns::default();
        let first = turns.take("r").await;
        let waiting = {
            let turns = turns.clone();
            tokio::spawn(async move {
                let _second = turns.take("r").await;
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "the second waits for the first");
        assert_eq!(turns.busy_rooms(), 1);
        drop(first);
        waiting.await.unwrap();
        assert_eq!(turns.busy_rooms(), 0, "a free room leaves no entry behind");
    }
}
