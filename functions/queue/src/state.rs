use std::sync::Arc;

use festa::adapters::dynamodb::DynamoRecords;
use festa::adapters::sqs_ticks::SqsTicks;
use festa::adapters::system::{RandomIds, SystemClock};
use festa::config::{CacheTarget, Config};
use festa::ports::{AdmitPolicy, AdmitTicks, Clock};
use festa::services::directory::FestivalDirectory;
use festa::services::queue::{Admitter, Queue};
use festa::AppResult;

/// What the waiting-room routes and the admitter need, built once per cold start.
#[derive(Clone)]
pub struct QueueState {
    pub queue: Queue,
    pub admitter: Admitter,
}

impl QueueState {
    /// Production wiring: Redis for the lines (`REDIS_URL`, or found through
    /// `CACHE_REPLICATION_GROUP_ID`), DynamoDB for festival lookups, SQS for ticks
    /// (`ADMIT_QUEUE_URL`), at `ADMIT_RATE_PER_SECOND`.
    pub async fn from_env() -> AppResult<Self> {
        let config = Config::from_env()?;
        let aws = festa::adapters::aws::load().await;
        let records_table = Config::require(&config.records_table, "RECORDS_TABLE")?;
        let queue_url = Config::require(&config.admit_queue_url, "ADMIT_QUEUE_URL")?;
        if config.cache == CacheTarget::InProcess {
            // An in-process line would be private to one Lambda instance: refuse to start.
            return Err(festa::AppError::internal(
                "the waiting room needs Redis: set REDIS_URL or CACHE_REPLICATION_GROUP_ID",
            ));
        }
        let room = festa::wiring::waiting_room(&config).await?;
        let ticks: Arc<dyn AdmitTicks> =
            Arc::new(SqsTicks::new(festa::adapters::aws::sqs(&aws), queue_url));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let policy = AdmitPolicy::at_rate(config.admit_rate_per_second);
        let records = DynamoRecords::new(festa::adapters::aws::dynamodb(&aws), records_table);
        Ok(QueueState {
            queue: Queue {
                room: room.clone(),
                ticks: ticks.clone(),
                festivals: FestivalDirectory::new(Arc::new(records)),
                clock: clock.clone(),
                ids: Arc::new(RandomIds::default()),
                policy,
            },
            admitter: Admitter {
                room,
                ticks,
                clock,
                policy,
            },
        })
    }
}
