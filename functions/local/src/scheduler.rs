//! The embedded platform's stand-in for the admit queue and its Lambda trigger: each tick
//! waits out its delay in a task, then runs the very admitter the Lambda runs.

use std::time::Duration;

use festa::adapters::memory::DueTick;
use festa::services::queue::Admitter;
use tokio::sync::mpsc::UnboundedReceiver;

/// How often a failing tick is tried in all, like the admit queue's receive count before its
/// dead-letter queue.
const ATTEMPTS: u32 = 5;

/// Runs ticks as they come due until every sender is gone.
pub fn spawn(mut ticks: UnboundedReceiver<DueTick>, admitter: Admitter) {
    tokio::spawn(async move {
        while let Some(due) = ticks.recv().await {
            let admitter = admitter.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(due.due).await;
                for attempt in 1..=ATTEMPTS {
                    match admitter.tick(&due.tick).await {
                        Ok(_) => return,
                        Err(err) => {
                            tracing::error!(error = %err, attempt, "admitter tick failed");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
            });
        }
    });
}
