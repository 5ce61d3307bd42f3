use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::AppResult;

/// One e-mail to one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    #[serde(with = "crate::model::timestamp")]
    pub sent_at: DateTime<Utc>,
}

/// Sends e-mail (SES in AWS, an inspectable outbox locally).
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Hands the mail over for delivery.
    async fn send(&self, mail: &Mail) -> AppResult<()>;
}
