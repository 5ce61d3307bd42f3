//! The SQS-triggered planner: the scheduled run (through SNS) and its own follow-up tasks.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use festa::api::sqs_batch::{each_message, ALL_AT_ONCE};
use festa::services::reminders::{Planner, PlannerMessage};
use lambda_runtime::{service_fn, Error, LambdaEvent};

/// Runs the planner as this Lambda's handler until the runtime stops it.
pub async fn serve_planner(planner: Planner) -> Result<(), Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let planner = planner.clone();
        async move { Ok::<_, Error>(handle_planner_batch(&planner, event.payload).await) }
    }))
    .await
}

/// One batch: each message is planned on its own and only failures are reported, so one
/// festival's trouble never re-plans the others. A body that is neither a run nor a task is
/// reported too, so it ends in the dead-letter queue for a look.
pub async fn handle_planner_batch(planner: &Planner, event: SqsEvent) -> SqsBatchResponse {
    each_message(event, ALL_AT_ONCE, |message| async move {
        let id = message.message_id.unwrap_or_default();
        let parsed = PlannerMessage::parse(message.body.as_deref().unwrap_or_default());
        match parsed {
            Ok(work) => match planner.handle(&work).await {
                Ok(report) => {
                    tracing::info!(message = %id, jobs = report.jobs, tasks = report.tasks, "planned");
                    true
                }
                Err(err) => {
                    tracing::error!(error = %err, message = %id, "planning failed");
                    false
                }
            },
            Err(err) => {
                tracing::error!(error = %err, message = %id, "reminder-queue message not understood");
                false
            }
        }
    })
    .await
}
