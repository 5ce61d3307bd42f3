//! The reminder planner: turns the daily run into push jobs, a bounded slice per invocation.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::schedule::{day_starts_at, due_on, scheduled_run_of};
use crate::error::{AppError, AppResult};
use crate::model::{ReminderJob, ReminderTask};
use crate::ports::{Clock, FestivalCalendar, ReminderJobs, ReminderTasks, ReservationRoster};

/// Reservations read per roster page.
pub const PAGE_SIZE: usize = 1000;
/// Pages one invocation plans before it hands the rest on (5,000 reservations: a few
/// seconds of work, far from any timeout, for a festival of any size).
pub const PAGES_PER_TASK: usize = 5;

/// What arrives on the planner's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannerMessage {
    /// The scheduled event fired at this instant (EventBridge → SNS → SQS).
    Run { at: DateTime<Utc> },
    /// A slice of one festival date still to plan (the planner's own follow-up).
    Task(ReminderTask),
}

impl PlannerMessage {
    /// Reads an SQS body: a task, or the scheduled event (raw or in an SNS envelope).
    pub fn parse(body: &str) -> AppResult<Self> {
        if let Ok(task) = serde_json::from_str::<ReminderTask>(body) {
            return Ok(PlannerMessage::Task(task));
        }
        scheduled_run_of(body)
            .map(|at| PlannerMessage::Run { at })
            .ok_or_else(|| AppError::validation("neither a reminder task nor a scheduled event"))
    }
}

/// What one planner message did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanReport {
    /// Festival dates found due (on a run).
    pub festival_days: usize,
    /// Follow-up tasks queued.
    pub tasks: usize,
    /// Push jobs queued.
    pub jobs: usize,
}

/// Plans reminders; every step is safe to repeat, since the sender's ledger sends each push
/// once however often its job is queued.
#[derive(Clone)]
pub struct Planner {
    pub calendar: Arc<dyn FestivalCalendar>,
    pub roster: Arc<dyn ReservationRoster>,
    pub tasks: Arc<dyn ReminderTasks>,
    pub jobs: Arc<dyn ReminderJobs>,
    /// Judges whether a date has begun, so a run or slice delivered too late plans nothing.
    pub clock: Arc<dyn Clock>,
    pub page_size: usize,
    pub pages_per_task: usize,
}

impl Planner {
    /// A planner with the default slice ([`PAGES_PER_TASK`] pages of [`PAGE_SIZE`]).
    pub fn new(
        calendar: Arc<dyn FestivalCalendar>,
        roster: Arc<dyn ReservationRoster>,
        tasks: Arc<dyn ReminderTasks>,
        jobs: Arc<dyn ReminderJobs>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Planner {
            calendar,
            roster,
            tasks,
            jobs,
            clock,
            page_size: PAGE_SIZE,
            pages_per_task: PAGES_PER_TASK,
        }
    }

    /// Handles one message of the planner's queue.
    pub async fn handle(&self, message: &PlannerMessage) -> AppResult<PlanReport> {
        match message {
            PlannerMessage::Run { at } => self.run(*at).await,
            PlannerMessage::Task(task) => self.plan(task).await,
        }
    }

    /// A run queues one task per festival date due, so each festival is planned (and may
    /// fail and be retried) on its own. A run delivered once a date has begun (a dead letter
    /// redriven days later) plans nothing for that date: "tomorrow" would be wrong.
    async fn run(&self, at: DateTime<Utc>) -> AppResult<PlanReport> {
        let days = due_on(at, self.calendar.as_ref()).await?;
        let now = self.clock.now();
        let tasks: Vec<ReminderTask> = days
            .iter()
            .map(|day| ReminderTask {
                festival_id: day.festival_id.clone(),
                festival_name: day.festival_name.clone(),
                festival_date: day.date,
                starts_at: day_starts_at(day),
                after: None,
            })
            .filter(|task| {
                let late = task.starts_at <= now;
                if late {
                    tracing::warn!(%at, festival = %task.festival_id, date = %task.festival_date, "reminder run came after the date began; nothing planned for it");
                }
                !late
            })
            .collect();
        self.tasks.enqueue_tasks(&tasks).await?;
        tracing::info!(%at, festival_days = days.len(), "reminder run planned");
        Ok(PlanReport {
            festival_days: days.len(),
            tasks: tasks.len(),
            jobs: 0,
        })
    }

    /// Queues jobs for up to `pages_per_task` pages of the slice, then queues the rest as
    /// one follow-up task.
    async fn plan(&self, task: &ReminderTask) -> AppResult<PlanReport> {
        let mut report = PlanReport::default();
        if task.starts_at <= self.clock.now() {
            tracing::warn!(festival = %task.festival_id, date = %task.festival_date, "reminder slice came after the date began; nothing planned");
            return Ok(report);
        }
        let mut after = task.after.clone();
        for _ in 0..self.pages_per_task.max(1) {
            let page = self
                .roster
                .confirmed(
                    &task.festival_id,
                    task.festival_date,
                    after.as_deref(),
                    self.page_size.max(1),
                )
                .await?;
            let jobs: Vec<ReminderJob> = page
                .reservations
                .iter()
                .map(|r| ReminderJob {
                    reservation_id: r.reservation_id.clone(),
                    email: r.email.clone(),
                    festival_id: task.festival_id.clone(),
                    festival_name: task.festival_name.clone(),
                    festival_date: task.festival_date,
                    starts_at: task.starts_at,
                })
                .collect();
            self.jobs.enqueue_jobs(&jobs).await?;
            report.jobs += jobs.len();
            after = page.next;
            if after.is_none() {
                return Ok(report);
            }
        }
        self.tasks
            .enqueue_tasks(&[ReminderTask {
                after,
                ..task.clone()
            }])
            .await?;
        report.tasks = 1;
        Ok(report)
    }
}
