//! Implementations of the ports: in-memory ones for the embedded platform and unit tests,
//! production ones behind cargo features so each Lambda links only the SDKs it uses.

pub mod memory;
pub mod outbox;
pub mod recent;
pub mod refusing;
pub mod system;

#[cfg(feature = "apigateway")]
pub mod apigateway_pusher;
#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "elasticache")]
pub mod elasticache;
#[cfg(feature = "eventbridge")]
pub mod eventbridge;
#[cfg(feature = "fcm")]
pub mod fcm;
#[cfg(feature = "redis")]
pub mod redis_cache;
#[cfg(feature = "redis")]
pub mod redis_conn;
#[cfg(feature = "redis")]
pub mod redis_presence;
#[cfg(feature = "redis")]
pub mod redis_waiting_room;
#[cfg(feature = "secretsmanager")]
pub mod secrets;
#[cfg(feature = "ses")]
pub mod ses;
#[cfg(feature = "sqs")]
pub mod sqs_reminders;
#[cfg(feature = "sqs")]
pub mod sqs_ticks;
