//! The reminder queues in SQS: the planner's follow-up tasks, the push jobs, and the push
//! queue's visibility for back-off.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_sdk_sqs::Client;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::model::{ReminderJob, ReminderTask};
use crate::ports::{JobBackoff, ReminderJobs, ReminderTasks};

/// SQS's most entries per SendMessageBatch.
const BATCH: usize = 10;
/// Batches in flight at once: a 1,000-job page goes out in about ten round trips.
const BATCHES_IN_FLIGHT: usize = 16;
/// Tries per batch for entries SQS failed on its side.
const TRIES: usize = 3;
/// SQS's longest visibility timeout (12 hours), in seconds.
const MAX_VISIBILITY_SECONDS: u64 = 43_200;

/// One SQS queue carrying JSON bodies.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
}

impl SqsQueue {
    /// The queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// Sends every item as one message, ten to a batch, several batches at once; entries
    /// SQS reports as failed are sent again, and any still failing fail the call.
    async fn send_all<T: Serialize>(&self, items: &[T], what: &'static str) -> AppResult<()> {
        let bodies = items
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()
            .map_err(AppError::internal)?;
        let batches: Vec<Vec<String>> = bodies.chunks(BATCH).map(<[String]>::to_vec).collect();
        stream::iter(batches)
            .map(|batch| async move { self.send_batch(&batch, what).await })
            .buffer_unordered(BATCHES_IN_FLIGHT)
            .try_collect::<()>()
            .await
    }

    async fn send_batch(&self, bodies: &[String], what: &'static str) -> AppResult<()> {
        let mut pending: Vec<(String, &String)> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| (i.to_string(), body))
            .collect();
        for _ in 0..TRIES {
            let entries = pending
                .iter()
                .map(|(id, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(id)
                        .message_body(body.as_str())
                        .build()
                        .map_err(AppError::internal)
                })
                .collect::<AppResult<Vec<_>>>()?;
            let sent = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| super::aws::call_failed(what, &e))?;
            let failed: Vec<&str> = sent.failed().iter().map(|f| f.id()).collect();
            if failed.is_empty() {
                return Ok(());
            }
            if let Some(entry) = sent.failed().iter().find(|f| f.sender_fault()) {
                return Err(AppError::internal(format!(
                    "{what}: SQS refused a message ({})",
                    entry.code()
                )));
            }
            pending.retain(|(id, _)| failed.contains(&id.as_str()));
        }
        // Only SQS's own faults are left (a sender fault returned above): it is unavailable.
        Err(AppError::unavailable(format!(
            "{what}: {} messages still failing after {TRIES} tries",
            pending.len()
        )))
    }
}

#[async_trait]
impl ReminderTasks for SqsQueue {
    async fn enqueue_tasks(&self, tasks: &[ReminderTask]) -> AppResult<()> {
        self.send_all(tasks, "SQS SendMessageBatch (reminder tasks)")
            .await
    }
}

#[async_trait]
impl ReminderJobs for SqsQueue {
    async fn enqueue_jobs(&self, jobs: &[ReminderJob]) -> AppResult<()> {
        self.send_all(jobs, "SQS SendMessageBatch (push jobs)")
            .await
    }
}

#[async_trait]
impl JobBackoff for SqsQueue {
    async fn postpone(&self, receipt: &str, delay: Duration) -> AppResult<()> {
        let seconds = delay.as_secs().min(MAX_VISIBILITY_SECONDS) as i32;
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| super::aws::call_failed("SQS ChangeMessageVisibility (push job)", &e))?;
        Ok(())
    }
}
