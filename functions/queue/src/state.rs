use std::sync::Arc;

use festa::adapters::refusing::NoTicks;
use festa::adapters::sqs_ticks::SqsTicks;
use festa::adapters::system::{RandomIds, SystemClock};
use festa::config::Config;
use festa::ports::{AdmitPolicy, AdmitTicks, Clock};
use festa::services::directory::FestivalDirectory;
use festa::services::queue::{Admitter, Queue};
use festa::wiring::LambdaEnv;
use festa::AppResult;

/// What the waiting-room routes and the admitter need, built once per cold start.
#[derive(Clone)]
pub struct QueueState {
    pub queue: Queue,
    pub admitter: Admitter,
}

impl QueueState {
    /// Production wiring of a waiting-room route: Redis for the lines (`REDIS_URL`), DynamoDB
    /// for festival lookups, at `ADMIT_RATE_PER_SECOND`, and SQS ticks for the routes that
    /// start the admitter (joining, asking one's rank); the others are given none.
    pub async fn new(env: &LambdaEnv, ticks: Option<Arc<dyn AdmitTicks>>) -> AppResult<Self> {
        let ticks = ticks.unwrap_or_else(|| Arc::new(NoTicks));
        let admitter = admitter(env, ticks).await?;
        Ok(QueueState {
            queue: Queue {
                room: admitter.room.clone(),
                ticks: admitter.ticks.clone(),
                festivals: FestivalDirectory::new(env.records()?),
                clock: admitter.clock.clone(),
                ids: Arc::new(RandomIds::default()),
                policy: admitter.policy,
            },
            admitter,
        })
    }
}

/// Ticks sent to the admit queue (`ADMIT_QUEUE_URL`).
pub fn admit_ticks(env: &LambdaEnv) -> AppResult<Arc<dyn AdmitTicks>> {
    let queue_url = Config::require(&env.config.admit_queue_url, "ADMIT_QUEUE_URL")?;
    Ok(Arc::new(SqsTicks::new(env.sqs(), queue_url)))
}

/// The admitter's wiring: the lines in Redis and the ticks it chains; it never reads a
/// festival, so it has no DynamoDB client.
pub async fn admitter(env: &LambdaEnv, ticks: Arc<dyn AdmitTicks>) -> AppResult<Admitter> {
    let room = env.waiting_room().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Ok(Admitter {
        room,
        ticks,
        clock,
        policy: AdmitPolicy::at_rate(env.config.admit_rate_per_second),
    })
}
