use async_trait::async_trait;

use crate::adapters::recent::Recent;
use crate::error::AppResult;
use crate::ports::{ReservationEvent, ReservationEvents};

/// Reservation events kept in memory, newest last: the embedded platform's event bus, which
/// tests read back.
pub struct RecordedEvents {
    events: Recent<ReservationEvent>,
}

impl Default for RecordedEvents {
    fn default() -> Self {
        RecordedEvents {
            events: Recent::new(KEEP),
        }
    }
}

impl RecordedEvents {
    /// Nothing published yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event kept (the latest 10,000), oldest first.
    pub fn events(&self) -> Vec<ReservationEvent> {
        self.events.read(|events| events.cloned().collect())
    }
}

/// The most events kept; older ones are dropped so a long-running platform stays bounded.
const KEEP: usize = 10_000;

#[async_trait]
impl ReservationEvents for RecordedEvents {
    async fn publish(&self, event: &ReservationEvent) -> AppResult<()> {
        self.events.push(event.clone());
        Ok(())
    }
}
