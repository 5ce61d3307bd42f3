//! The shape every SQS-triggered Lambda shares: each message of a batch is handled on its own,
//! and only those not done with are reported (`ReportBatchItemFailures`), so one bad message
//! never makes SQS redeliver the rest.

use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::stream::{self, StreamExt};

/// No bound on how many of a batch's messages run at once.
pub const ALL_AT_ONCE: usize = usize::MAX;

/// Runs `handle` on every message, at most `in_flight` at a time; a message whose handler
/// answers `false` is reported as a failure, by its message id, in the batch's order.
pub async fn each_message<F, Fut>(event: SqsEvent, in_flight: usize, handle: F) -> SqsBatchResponse
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = bool>,
{
    let mut outcomes: Vec<(usize, String, bool)> =
        stream::iter(event.records.into_iter().enumerate())
            .map(|(i, message)| {
                let id = message.message_id.clone().unwrap_or_default();
                let done = handle(message);
                async move { (i, id, done.await) }
            })
            .buffer_unordered(in_flight.max(1))
            .collect()
            .await;
    outcomes.sort_unstable_by_key(|(i, _, _)| *i);
    let mut response = SqsBatchResponse::default();
    for (_, id, done) in outcomes {
        if !done {
            response.add_failure(id);
        }
    }
    response
}
