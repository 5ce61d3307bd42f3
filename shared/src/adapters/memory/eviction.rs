use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::error::AppResult;
use crate::ports::{RoomPresence, SocketEviction};

/// Closes a user's connections as the production adapters do (forgets them in presence, so
/// their frames are refused), and records which were closed instead of closing a socket: for
/// tests and tools with no sockets of their own.
pub struct RecordedEvictions {
    presence: Arc<dyn RoomPresence>,
    closed: Mutex<Vec<String>>,
}

impl RecordedEvictions {
    /// Evicts from `presence`, the store the chat service reads.
    pub fn new(presence: Arc<dyn RoomPresence>) -> Self {
        RecordedEvictions {
            presence,
            closed: Mutex::new(Vec::new()),
        }
    }

    /// Every connection closed so far, in order, so a test can say which were.
    pub fn closed(&self) -> Vec<String> {
        self.closed.lock().unwrap().clone()
    }
}

#[async_trait]
impl SocketEviction for RecordedEvictions {
    async fn close_user_connections(&self, user_id: &str) -> AppResult<()> {
        let mut evicted = self.presence.evict(user_id).await?;
        evicted.sort();
        self.closed.lock().unwrap().extend(evicted);
        Ok(())
    }
}
