use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::AppResult;
use crate::model::Connection;
use crate::ports::ConnectionStore;

/// Open connections in process memory.
#[derive(Default)]
pub struct MemoryConnections {
    open: Mutex<HashMap<String, Connection>>,
}

impl MemoryConnections {
    /// No connections yet.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ConnectionStore for MemoryConnections {
    async fn open(&self, connection: &Connection) -> AppResult<()> {
        self.open
            .lock()
            .unwrap()
            .insert(connection.connection_id.clone(), connection.clone());
        Ok(())
    }

    async fn get(&self, connection_id: &str, now: DateTime<Utc>) -> AppResult<Option<Connection>> {
        Ok(self
            .open
            .lock()
            .unwrap()
            .get(connection_id)
            .filter(|c| c.expires_at > now)
            .cloned())
    }

    async fn close(&self, connection_id: &str) -> AppResult<Option<Connection>> {
        Ok(self.open.lock().unwrap().remove(connection_id))
    }
}
