use std::sync::Arc;

use festa::adapters::dynamodb::DynamoRecords;
use festa::adapters::eventbridge::EventBridgeEvents;
use festa::adapters::memory::MemoryWaitingRoom;
use festa::adapters::system::{RandomIds, SystemClock};
use festa::config::{CacheTarget, Config};
use festa::ports::WaitingRoom;
use festa::services::directory::FestivalDirectory;
use festa::services::reservations::Reservations;
use festa::AppResult;

/// What every reservation route needs, built once per cold start.
#[derive(Clone)]
pub struct ReservationsState {
    pub reservations: Reservations,
}

impl ReservationsState {
    /// Production wiring: DynamoDB for reservations and stock, the EventBridge bus
    /// (`EVENT_BUS_NAME`), and Redis for admissions where the function has it (booking needs
    /// it; listing and cancelling run outside the VPC without `REDIS_URL`).
    pub async fn from_env() -> AppResult<Self> {
        let config = Config::from_env()?;
        let aws = festa::adapters::aws::load().await;
        let records_table = Config::require(&config.records_table, "RECORDS_TABLE")?;
        let bus = Config::require(&config.event_bus_name, "EVENT_BUS_NAME")?;
        let room: Arc<dyn WaitingRoom> = match config.cache {
            // An empty room admits nobody: a booking routed here by mistake is refused,
            // never let through.
            CacheTarget::InProcess => Arc::new(MemoryWaitingRoom::new()),
            _ => festa::wiring::waiting_room(&config).await?,
        };
        let records = Arc::new(DynamoRecords::new(
            festa::adapters::aws::dynamodb(&aws),
            records_table,
        ));
        Ok(ReservationsState {
            reservations: Reservations {
                store: records.clone(),
                room,
                festivals: FestivalDirectory::new(records),
                events: Arc::new(EventBridgeEvents::new(
                    festa::adapters::aws::eventbridge(&aws),
                    bus,
                )),
                clock: Arc::new(SystemClock),
                ids: Arc::new(RandomIds::default()),
            },
        })
    }
}
