//! The SQS-triggered push sender.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use festa::api::sqs_batch::each_message;
use festa::model::ReminderJob;
use festa::services::reminders::{retry_delay, Pending};
use lambda_runtime::{service_fn, Error, LambdaEvent};

use crate::PushSending;

/// Jobs sent at once per invocation: a batch of ten jobs of a few devices each stays well
/// within FCM's per-project rate while the event source's maximum concurrency bounds the total.
pub const JOBS_IN_FLIGHT: usize = 10;

/// Runs the sender as this Lambda's handler until the runtime stops it.
pub async fn serve_sender(sending: PushSending) -> Result<(), Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let sending = sending.clone();
        async move { Ok::<_, Error>(handle_push_batch(&sending, event.payload).await) }
    }))
    .await
}

/// One batch: every job is sent on its own, at most [`JOBS_IN_FLIGHT`] at a time. A job that
/// must be retried is postponed by its back-off (through the message's visibility) and
/// reported as failed; the rest of the batch is done for good.
pub async fn handle_push_batch(sending: &PushSending, event: SqsEvent) -> SqsBatchResponse {
    each_message(event, JOBS_IN_FLIGHT, |message| async move {
        send_one(sending, &message).await
    })
    .await
}

/// Sends one job; `true` when the message is finished with.
async fn send_one(sending: &PushSending, message: &SqsMessage) -> bool {
    let id = message.message_id.as_deref().unwrap_or_default();
    let job = match serde_json::from_str::<ReminderJob>(message.body.as_deref().unwrap_or_default())
    {
        Ok(job) => job,
        Err(err) => {
            tracing::error!(error = %err, message = %id, "push-queue message is not a reminder job");
            return false;
        }
    };
    let pending = match sending.sender.send(&job).await {
        Ok(report) => {
            tracing::info!(
                message = %id,
                reservation = %job.reservation_id,
                delivered = report.delivered,
                already_sent = report.already_sent,
                tokens_gone = report.tokens_gone,
                skipped = ?report.skipped,
                "reminder job sent"
            );
            match report.pending {
                None => return true,
                Some(pending) => pending,
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, message = %id, "reminder job failed");
            Pending::Retry { after: None }
        }
    };
    if let Pending::Retry { after } = pending {
        let delay = retry_delay(receive_count(message), after);
        if let Some(receipt) = message.receipt_handle.as_deref() {
            if let Err(err) = sending.backoff.postpone(receipt, delay).await {
                // The queue's own visibility timeout still spaces the retry.
                tracing::warn!(error = %err, message = %id, "could not postpone a push job");
            }
        }
    }
    false
}

/// How many times SQS has delivered this message (1 on the first delivery).
fn receive_count(message: &SqsMessage) -> u32 {
    message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}
