//! The SQS-triggered admitter: each message is one tick of one festival's chain.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use festa::api::sqs_batch::{each_message, ALL_AT_ONCE};
use festa::ports::AdmitTick;
use festa::services::queue::Admitter;
use lambda_runtime::{service_fn, Error, LambdaEvent};

/// Runs the admitter as this Lambda's handler until the runtime stops it.
pub async fn serve_admitter(admitter: Admitter) -> Result<(), Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let admitter = admitter.clone();
        async move { Ok::<_, Error>(handle_ticks(&admitter, event.payload).await) }
    }))
    .await
}

/// One batch: every tick runs concurrently (they are of different festivals or duplicates,
/// which the lease turns away), and only the messages that failed are reported for retry.
/// A body that is not a tick is reported too, so it ends in the dead-letter queue for a look.
pub async fn handle_ticks(admitter: &Admitter, event: SqsEvent) -> SqsBatchResponse {
    each_message(event, ALL_AT_ONCE, |message| async move {
        let id = message.message_id.unwrap_or_default();
        let tick = message
            .body
            .as_deref()
            .map(serde_json::from_str::<AdmitTick>);
        match tick {
            Some(Ok(tick)) => match admitter.tick(&tick).await {
                Ok(_) => true,
                Err(err) => {
                    tracing::error!(error = %err, message = %id, "admitter tick failed");
                    false
                }
            },
            _ => {
                tracing::error!(message = %id, "admit-queue message is not a tick");
                false
            }
        }
    })
    .await
}
