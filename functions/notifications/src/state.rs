use std::sync::Arc;

use festa::adapters::dynamodb::DynamoRecords;
use festa::adapters::fcm::FcmGateway;
use festa::adapters::sqs_reminders::SqsQueue;
use festa::adapters::system::SystemClock;
use festa::config::Config;
use festa::ports::JobBackoff;
use festa::services::reminders::{Devices, Planner, Sender};
use festa::AppResult;

/// What the device routes need, built once per cold start.
#[derive(Clone)]
pub struct NotificationsState {
    pub devices: Devices,
}

impl NotificationsState {
    /// Production wiring: devices in the records table (`RECORDS_TABLE`).
    pub async fn from_env() -> AppResult<Self> {
        let config = Config::from_env()?;
        let aws = festa::adapters::aws::load().await;
        let records_table = Config::require(&config.records_table, "RECORDS_TABLE")?;
        Ok(NotificationsState {
            devices: Devices {
                registry: Arc::new(DynamoRecords::new(
                    festa::adapters::aws::dynamodb(&aws),
                    records_table,
                )),
                clock: Arc::new(SystemClock),
            },
        })
    }
}

/// The planner's production wiring: calendar and rosters in the records table, follow-ups on
/// `REMINDER_QUEUE_URL`, jobs on `PUSH_QUEUE_URL`.
pub async fn planner_from_env() -> AppResult<Planner> {
    let config = Config::from_env()?;
    let aws = festa::adapters::aws::load().await;
    let records_table = Config::require(&config.records_table, "RECORDS_TABLE")?;
    let tasks_url = Config::require(&config.reminder_queue_url, "REMINDER_QUEUE_URL")?;
    let jobs_url = Config::require(&config.push_queue_url, "PUSH_QUEUE_URL")?;
    let records = Arc::new(DynamoRecords::new(
        festa::adapters::aws::dynamodb(&aws),
        records_table,
    ));
    let sqs = festa::adapters::aws::sqs(&aws);
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
/// the service account from Secrets Manager (`FCM_SERVICE_ACCOUNT_SECRET_ARN`; its OAuth
/// token is cached for the life of the instance), back-off on `PUSH_QUEUE_URL`.
pub async fn sender_from_env() -> AppResult<PushSending> {
    let config = Config::from_env()?;
    let aws = festa::adapters::aws::load().await;
    let records_table = Config::require(&config.records_table, "RECORDS_TABLE")?;
    let jobs_url = Config::require(&config.push_queue_url, "PUSH_QUEUE_URL")?;
    let key = match &config.fcm_service_account {
        Some(key) => key.clone(),
        None => {
            let secret = Config::require(
                &config.fcm_service_account_secret_arn,
                "FCM_SERVICE_ACCOUNT_SECRET_ARN",
            )?;
            festa::adapters::secrets::secret_string(
                &festa::adapters::aws::secretsmanager(&aws),
                &secret,
            )
            .await?
        }
    };
    let gateway = FcmGateway::new(&key, config.fcm_base_url.as_deref())?;
    let records = Arc::new(DynamoRecords::new(
        festa::adapters::aws::dynamodb(&aws),
        records_table,
    ));
    Ok(PushSending {
        sender: Sender {
            reservations: records.clone(),
            devices: records.clone(),
            ledger: records,
            gateway: Arc::new(gateway),
            clock: Arc::new(SystemClock),
        },
        backoff: Arc::new(SqsQueue::new(festa::adapters::aws::sqs(&aws), jobs_url)),
    })
}
