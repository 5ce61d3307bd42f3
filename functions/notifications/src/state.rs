use std::sync::Arc;

use festa::adapters::fcm::FcmGateway;
use festa::adapters::sqs_reminders::SqsQueue;
use festa::adapters::system::SystemClock;
use festa::config::Config;
use festa::ports::JobBackoff;
use festa::prefetch::Prefetched;
use festa::services::reminders::{Devices, Planner, Sender};
use festa::wiring::LambdaEnv;
use festa::AppResult;

/// What the device routes need, built once per cold start.
#[derive(Clone)]
pub struct NotificationsState {
    pub devices: Devices,
}

impl NotificationsState {
    /// Production wiring: devices in the records table (`RECORDS_TABLE`).
    pub fn new(env: &LambdaEnv) -> AppResult<Self> {
        Ok(NotificationsState {
            devices: Devices {
                registry: env.records()?,
                clock: Arc::new(SystemClock),
            },
        })
    }
}

/// The planner's production wiring: calendar and rosters in the records table, follow-ups on
/// `REMINDER_QUEUE_URL`, jobs on `PUSH_QUEUE_URL`.
pub fn planner(env: &LambdaEnv) -> AppResult<Planner> {
    let tasks_url = Config::require(&env.config.reminder_queue_url, "REMINDER_QUEUE_URL")?;
    let jobs_url = Config::require(&env.config.push_queue_url, "PUSH_QUEUE_URL")?;
    let records = env.records()?;
    let sqs = env.sqs();
    Ok(Planner::new(
        records.clone(),
        records,
        Arc::new(SqsQueue::new(sqs.clone(), tasks_url)),
        Arc::new(SqsQueue::new(sqs, jobs_url)),
        Arc::new(SystemClock),
    ))
}

/// The sender and where it postpones jobs that must wait.
#[derive(Clone)]
pub struct PushSending {
    pub sender: Sender,
    pub backoff: Arc<dyn JobBackoff>,
}

/// The sender's production wiring: devices and sent markers in the records table, FCM with
/// the service account from Secrets Manager (`FCM_SERVICE_ACCOUNT_SECRET_ARN`, read in the
/// background from cold start, so the first batch waits for it instead of the start-up; its
/// OAuth token is cached for the life of the instance), back-off on `PUSH_QUEUE_URL`.
pub async fn sender(env: &LambdaEnv) -> AppResult<PushSending> {
    let config = &env.config;
    let jobs_url = Config::require(&config.push_queue_url, "PUSH_QUEUE_URL")?;
    let base_url = config.fcm_base_url.clone();
    let gateway = match &config.fcm_service_account {
        Some(key) => Prefetched::ready(FcmGateway::new(key, base_url.as_deref())?),
        None => {
            let secret = Config::require(
                &config.fcm_service_account_secret_arn,
                "FCM_SERVICE_ACCOUNT_SECRET_ARN",
            )?;
            env.secret_then(secret, move |key| {
                FcmGateway::new(&key, base_url.as_deref())
            })
        }
    };
    let records = env.records()?;
    Ok(PushSending {
        sender: Sender {
            reservations: records.clone(),
            devices: records.clone(),
            ledger: records,
            gateway: Arc::new(gateway),
            clock: Arc::new(SystemClock),
        },
        backoff: Arc::new(SqsQueue::new(env.sqs(), jobs_url)),
    })
}
