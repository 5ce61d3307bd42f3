//! The production [`AdmitTicks`]: the admit queue in SQS, where a message's delay is the time
//! to the tick (SQS allows up to 15 minutes).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;

use crate::error::{AppError, AppResult};
use crate::ports::{AdmitTick, AdmitTicks};

/// SQS's longest message delay, in seconds.
const MAX_DELAY_SECONDS: u64 = 900;

/// Admitter ticks as delayed messages on the admit queue.
#[derive(Debug, Clone)]
pub struct SqsTicks {
    client: Client,
    queue_url: String,
}

impl SqsTicks {
    /// Ticks on the queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        SqsTicks {
            client,
            queue_url: queue_url.into(),
        }
    }
}

/// Whole seconds for `DelaySeconds`, rounded up so a tick never comes early.
fn delay_seconds(delay: Duration) -> i32 {
    let seconds = delay.as_nanos().div_ceil(1_000_000_000);
    // At most 900, so the conversion cannot fail.
    u64::try_from(seconds).map_or(MAX_DELAY_SECONDS, |s| s.min(MAX_DELAY_SECONDS)) as i32
}

#[async_trait]
impl AdmitTicks for SqsTicks {
    async fn schedule(&self, tick: &AdmitTick, delay: Duration) -> AppResult<()> {
        let body = serde_json::to_string(tick).map_err(AppError::internal)?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(delay_seconds(delay))
            .send()
            .await
            .map_err(|e| super::aws::call_failed("SQS SendMessage (admit tick)", &e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_up_to_whole_seconds_within_the_sqs_limit() {
        assert_eq!(delay_seconds(Duration::ZERO), 0);
        assert_eq!(delay_seconds(Duration::from_millis(1)), 1);
        assert_eq!(delay_seconds(Duration::from_secs(1)), 1);
        assert_eq!(delay_seconds(Duration::from_millis(1_001)), 2);
        assert_eq!(delay_seconds(Duration::from_secs(3_600)), 900);
    }
}
