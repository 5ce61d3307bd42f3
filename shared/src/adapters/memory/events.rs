use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::AppResult;
use crate::ports::{ReservationEvent, ReservationEvents};

/// Reservation events kept in memory, newest last: the embedded platform's event bus, which
/// tests read back.
#[derive(Default)]
pub struct RecordedEvents {
    events: Mutex<VecDeque<ReservationEvent>>,
}

impl RecordedEvents {
    /// Nothing published yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event published so far, oldest first.
    pub fn events(&self) -> Vec<ReservationEvent> {
        self.events.lock().unwrap().iter().cloned().collect()
    }
}

/// The most events kept; older ones are dropped so a long-running platform stays bounded.
const KEEP: usize = 10_000;

#[async_trait]
impl ReservationEvents for RecordedEvents {
    async fn publish(&self, event: &ReservationEvent) -> AppResult<()> {
        let mut events = self.events.lock().unwrap();
        if events.len() >= KEEP {
            events.pop_front();
        }
        events.push_back(event.clone());
        Ok(())
    }
}
