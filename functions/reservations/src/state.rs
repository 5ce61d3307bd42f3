use std::sync::Arc;

use festa::adapters::eventbridge::EventBridgeEvents;
use festa::adapters::memory::MemoryWaitingRoom;
use festa::adapters::refusing::NoEvents;
use festa::adapters::system::{RandomIds, SystemClock};
use festa::config::Config;
use festa::ports::{ReservationEvents, WaitingRoom};
use festa::services::directory::FestivalDirectory;
use festa::services::reservations::Reservations;
use festa::wiring::LambdaEnv;
use festa::AppResult;

/// What every reservation route needs, built once per cold start.
#[derive(Clone)]
pub struct ReservationsState {
    pub reservations: Reservations,
}

/// What a reservation route reaches beyond DynamoDB.
pub struct Reaches {
    /// Redis, where the caller's admission is checked (booking only; the others run outside
    /// the VPC).
    pub room: Option<Arc<dyn WaitingRoom>>,
    /// The event bus, where a booking or cancellation is announced.
    pub events: Option<Arc<dyn ReservationEvents>>,
}

impl ReservationsState {
    /// Production wiring: DynamoDB for reservations and stock (`RECORDS_TABLE`), plus what
    /// the binary's route reaches. A route given no waiting room sees an empty one, which
    /// admits nobody: a booking routed there by mistake is refused, never let through.
    pub fn new(env: &LambdaEnv, reaches: Reaches) -> AppResult<Self> {
        let records = env.records()?;
        Ok(ReservationsState {
            reservations: Reservations {
                store: records.clone(),
                room: reaches
                    .room
                    .unwrap_or_else(|| Arc::new(MemoryWaitingRoom::new())),
                festivals: FestivalDirectory::new(records),
                events: reaches.events.unwrap_or_else(|| Arc::new(NoEvents)),
                clock: Arc::new(SystemClock),
                ids: Arc::new(RandomIds::default()),
            },
        })
    }
}

/// The stack's event bus (`EVENT_BUS_NAME`).
pub fn event_bus(env: &LambdaEnv) -> AppResult<Arc<dyn ReservationEvents>> {
    let bus = Config::require(&env.config.event_bus_name, "EVENT_BUS_NAME")?;
    Ok(Arc::new(EventBridgeEvents::new(
        festa::adapters::aws::eventbridge(&env.aws),
        bus,
    )))
}
