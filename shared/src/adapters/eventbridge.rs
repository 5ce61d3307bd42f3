//! The production [`ReservationEvents`]: the platform's EventBridge bus.

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;

use crate::error::{AppError, AppResult};
use crate::ports::{ReservationEvent, ReservationEvents};

/// Reservation events on an EventBridge bus (`source` `festa.reservations`).
#[derive(Debug, Clone)]
pub struct EventBridgeEvents {
    client: Client,
    bus_name: String,
}

impl EventBridgeEvents {
    /// Events on the bus named `bus_name`.
    pub fn new(client: Client, bus_name: impl Into<String>) -> Self {
        EventBridgeEvents {
            client,
            bus_name: bus_name.into(),
        }
    }
}

#[async_trait]
impl ReservationEvents for EventBridgeEvents {
    async fn publish(&self, event: &ReservationEvent) -> AppResult<()> {
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(ReservationEvent::SOURCE)
            .detail_type(event.detail_type())
            .detail(event.detail_json())
            .build();
        let out = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| super::aws::call_failed("EventBridge PutEvents", &e))?;
        // PutEvents answers 200 even when an entry was refused; the entry says why.
        if out.failed_entry_count() > 0 {
            let reason = out
                .entries()
                .iter()
                .find_map(|e| e.error_code())
                .unwrap_or("unknown");
            let text = format!("EventBridge refused the reservation event: {reason}");
            // A throttled or failed entry is the bus's outage; any other code is our fault.
            return Err(
                if matches!(reason, "ThrottlingException" | "InternalFailure") {
                    AppError::unavailable(text)
                } else {
                    AppError::internal(text)
                },
            );
        }
        Ok(())
    }
}
