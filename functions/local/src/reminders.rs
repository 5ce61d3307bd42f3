//! The embedded platform's stand-in for the reminder pipeline: the daily run and the two
//! queues become in-process steps that run the very planner and sender the Lambdas run.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Seoul;
use festa::adapters::memory::MemoryReminderQueue;
use festa::model::ReminderJob;
use festa::services::reminders::{Pending, Planner, PlannerMessage, Sender};
use festa::{AppError, AppResult};
use futures_util::stream::{self, StreamExt};
use serde::Serialize;

/// Jobs sent at once, like the sender Lambdas running side by side.
const JOBS_IN_FLIGHT: usize = 64;
/// Rounds a job that must wait is tried in all before the run gives up on it (a queue's
/// receive count before its dead-letter queue, shortened for a local run).
const ROUNDS: usize = 3;
/// The longest pause between rounds.
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// When the deployed schedule fires: 09:00 in Seoul.
pub const RUN_TIME: NaiveTime = match NaiveTime::from_hms_opt(9, 0, 0) {
    Some(time) => time,
    None => panic!("09:00 is a time"),
};

/// What one local run did, as `POST /_local/reminders/run` answers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    #[serde(with = "festa::model::timestamp")]
    pub run_at: DateTime<Utc>,
    pub festival_days: usize,
    pub tasks: usize,
    pub jobs: usize,
    pub delivered: usize,
    pub already_sent: usize,
    pub tokens_gone: usize,
    /// Jobs that sent nothing: the reservation was cancelled after planning, or the date
    /// had begun.
    pub skipped: usize,
    /// Jobs that still had to wait or were rejected when the run gave up on them.
    pub unfinished: usize,
}

/// The planner, the sender and the queue between them.
#[derive(Clone)]
pub struct LocalReminders {
    pub planner: Planner,
    pub sender: Sender,
    pub queue: Arc<MemoryReminderQueue>,
}

/// The instant the scheduled event fires on `date` (09:00 in Seoul).
pub fn run_instant(date: NaiveDate) -> DateTime<Utc> {
    Seoul
        .from_local_datetime(&date.and_time(RUN_TIME))
        .single()
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|| date.and_time(RUN_TIME).and_utc())
}

impl LocalReminders {
    /// Runs the pipeline as if the scheduled event fired at `at`: plans every slice, then
    /// sends every job, until both queues are empty.
    pub async fn run(&self, at: DateTime<Utc>) -> AppResult<RunReport> {
        let mut report = RunReport {
            run_at: at,
            ..RunReport::default()
        };
        let planned = self.planner.handle(&PlannerMessage::Run { at }).await?;
        report.festival_days = planned.festival_days;
        loop {
            let tasks = self.queue.take_tasks();
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                let planned = self.planner.handle(&PlannerMessage::Task(task)).await?;
                report.tasks += 1;
                report.jobs += planned.jobs;
            }
        }
        let mut jobs = self.queue.take_jobs();
        for round in 1..=ROUNDS {
            let (waiting, pause) = self.send_round(jobs, &mut report).await;
            if waiting.is_empty() || round == ROUNDS {
                report.unfinished = waiting.len();
                break;
            }
            tokio::time::sleep(pause.min(LONGEST_PAUSE)).await;
            jobs = waiting;
        }
        Ok(report)
    }

    /// Sends `jobs`; answers those that must be tried again and how long they asked to wait.
    async fn send_round(
        &self,
        jobs: Vec<ReminderJob>,
        report: &mut RunReport,
    ) -> (Vec<ReminderJob>, Duration) {
        let results: Vec<_> = stream::iter(jobs)
            .map(|job| async move {
                let result = self.sender.send(&job).await;
                (job, result)
            })
            .buffer_unordered(JOBS_IN_FLIGHT)
            .collect()
            .await;
        let mut waiting = Vec::new();
        let mut pause = Duration::ZERO;
        for (job, result) in results {
            match result {
                Ok(sent) => {
                    report.delivered += sent.delivered;
                    report.already_sent += sent.already_sent;
                    report.tokens_gone += sent.tokens_gone;
                    report.skipped += usize::from(sent.skipped.is_some());
                    match sent.pending {
                        None => {}
                        Some(Pending::Retry { after }) => {
                            pause = pause.max(after.unwrap_or(Duration::from_millis(200)));
                            waiting.push(job);
                        }
                        Some(Pending::Rejected(_)) => waiting.push(job),
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "local reminder job failed");
                    waiting.push(job);
                }
            }
        }
        (waiting, pause)
    }
}

/// Reads `?date=YYYY-MM-DD`; today in Seoul when absent.
pub fn run_date(raw: Option<&str>, now: DateTime<Utc>) -> AppResult<NaiveDate> {
    match raw {
        None => Ok(now.with_timezone(&Seoul).date_naive()),
        Some(text) => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::validation("date must be YYYY-MM-DD")),
    }
}

/// Runs the pipeline every day at 09:00 Seoul time, like the deployed schedule.
pub fn spawn_daily(reminders: LocalReminders) {
    tokio::spawn(async move {
        loop {
            let now = Utc::now();
            let today = now.with_timezone(&Seoul).date_naive();
            let mut next = run_instant(today);
            if next <= now {
                next = run_instant(today.succ_opt().unwrap_or(today));
            }
            let wait = (next - now).to_std().unwrap_or(Duration::from_secs(60));
            tokio::time::sleep(wait).await;
            match reminders.run(next).await {
                Ok(report) => tracing::info!(
                    jobs = report.jobs,
                    delivered = report.delivered,
                    "daily reminder run"
                ),
                Err(err) => tracing::error!(error = %err, "daily reminder run failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_is_at_nine_in_seoul() {
        let date: NaiveDate = "2026-11-23".parse().unwrap();
        assert_eq!(
            run_instant(date),
            Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap()
        );
        let late = Utc.with_ymd_and_hms(2026, 11, 23, 16, 0, 0).unwrap();
        assert_eq!(run_date(None, late).unwrap().to_string(), "2026-11-24");
        assert_eq!(
            run_date(Some("2026-02-03"), late).unwrap().to_string(),
            "2026-02-03"
        );
        assert!(run_date(Some("2026-02-30"), late).is_err());
        assert!(run_date(Some("tomorrow"), late).is_err());
    }
}
