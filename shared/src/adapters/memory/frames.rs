use std::collections::HashSet;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::AppResult;
use crate::ports::{ConnectionPusher, Push};

/// A pusher that keeps every frame it is given, for tests of the chat rules; connections
/// marked gone answer `Push::Gone` as API Gateway does for a closed connection.
#[derive(Default)]
pub struct RecordedFrames {
    frames: Mutex<Vec<(String, String)>>,
    gone: Mutex<HashSet<String>>,
}

impl RecordedFrames {
    /// Nothing pushed yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// From now on the connection answers `Gone`.
    pub fn close(&self, connection_id: &str) {
        self.gone.lock().unwrap().insert(connection_id.to_string());
    }

    /// The frames pushed to the connection so far, parsed, oldest first.
    pub fn to(&self, connection_id: &str) -> Vec<serde_json::Value> {
        self.frames
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, _)| c == connection_id)
            .filter_map(|(_, f)| serde_json::from_str(f).ok())
            .collect()
    }
}

#[async_trait]
impl ConnectionPusher for RecordedFrames {
    async fn push(&self, connection_id: &str, frame: &str) -> AppResult<Push> {
        if self.gone.lock().unwrap().contains(connection_id) {
            return Ok(Push::Gone);
        }
        self.frames
            .lock()
            .unwrap()
            .push((connection_id.to_string(), frame.to_string()));
        Ok(Push::Delivered)
    }
}
