use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use crate::error::AppResult;
use crate::model::{Device, FestivalDay, PushMessage, ReminderJob, ReminderTask, Reservation};

/// The devices that receive each user's reminders (the records table in AWS).
///
/// A token belongs to one user at a time: activating it again moves it to the latest caller,
/// so a shared or handed-on device never gets someone else's reminders.
#[async_trait]
pub trait DeviceRegistry: Send + Sync {
    /// Makes `device` one of `email`'s devices, taking it from any earlier owner.
    async fn activate(&self, email: &str, device: &Device) -> AppResult<()>;

    /// Removes `token` from `email`'s devices; `false` when it was not theirs (it may have
    /// moved to someone else, who keeps it).
    async fn deactivate(&self, email: &str, token: &str) -> AppResult<bool>;

    /// Removes `token` from whoever owns it (FCM said it is no longer valid).
    async fn forget(&self, token: &str) -> AppResult<()>;

    /// `email`'s active devices, as of the latest write.
    async fn devices_of(&self, email: &str) -> AppResult<Vec<Device>>;
}

/// Festival dates by calendar day, so the planner finds tomorrow's festivals without a scan.
#[async_trait]
pub trait FestivalCalendar: Send + Sync {
    /// Every festival with a ticketed date on `date` (in the festival's own time zone).
    async fn festival_days(&self, date: NaiveDate) -> AppResult<Vec<FestivalDay>>;
}

/// A page of one festival date's confirmed reservations, in reservation-id order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RosterPage {
    pub reservations: Vec<Reservation>,
    /// Where the next page starts; `None` when this was the last one.
    pub next: Option<String>,
}

/// The confirmed reservations of a festival date (through an index in AWS, never a scan).
#[async_trait]
pub trait ReservationRoster: Send + Sync {
    /// Up to `limit` confirmed reservations of the festival's `date` whose id sorts after
    /// `after`.
    async fn confirmed(
        &self,
        festival_id: &str,
        date: NaiveDate,
        after: Option<&str>,
        limit: usize,
    ) -> AppResult<RosterPage>;

    /// Whether the holder's reservation is still confirmed, as of the latest write: a job
    /// planned before a cancellation (or waiting out a back-off) must remind no one.
    async fn still_confirmed(&self, email: &str, reservation_id: &str) -> AppResult<bool>;
}

/// The planner's own follow-ups (its SQS queue in AWS).
#[async_trait]
pub trait ReminderTasks: Send + Sync {
    /// Queues every task, or fails having queued none or some (a retry re-queues; planning
    /// the same slice twice sends nothing twice).
    async fn enqueue_tasks(&self, tasks: &[ReminderTask]) -> AppResult<()>;
}

/// The push queue the sender drains (SQS in AWS).
#[async_trait]
pub trait ReminderJobs: Send + Sync {
    /// Queues every job (same failure rule as [`ReminderTasks::enqueue_tasks`]).
    async fn enqueue_jobs(&self, jobs: &[ReminderJob]) -> AppResult<()>;
}

/// What handing one push to the push service did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// Accepted for delivery.
    Delivered,
    /// The token is unregistered or invalid: it will never work again.
    TokenGone,
    /// Throttled or the service failed: try again, no sooner than `after` when it said so.
    Retry { after: Option<Duration> },
    /// Refused for a reason a retry will not fix (logged, and the job goes to its DLQ).
    Rejected(String),
}

/// Sends pushes to devices (FCM HTTP v1 in AWS, the outbox locally).
#[async_trait]
pub trait PushGateway: Send + Sync {
    /// Hands one push over. Transport failures are `Err` and are retried like `Retry`.
    async fn send(&self, push: &PushMessage) -> AppResult<PushOutcome>;
}

/// Which push a sent marker stands for: one device of one reservation's date.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReminderKey {
    pub reservation_id: String,
    pub festival_date: NaiveDate,
    pub token: String,
}

/// What claiming a push found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This caller holds the push until the lease ends; it must settle or release it.
    Claimed,
    /// It was sent (or settled) before: send nothing.
    Settled,
    /// Another consumer holds it until this time.
    Held { until: DateTime<Utc> },
}

/// Sent markers, one per (reservation, device, date), written conditionally so that a
/// redelivered or concurrently delivered job never pushes twice (the records table in AWS).
#[async_trait]
pub trait ReminderLedger: Send + Sync {
    /// Claims the push for `lease` unless it is settled or another unexpired claim holds it.
    async fn claim(
        &self,
        key: &ReminderKey,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> AppResult<Claim>;

    /// Marks the claimed push as done for good.
    async fn settle(&self, key: &ReminderKey, now: DateTime<Utc>) -> AppResult<()>;

    /// Gives a claim back after a failed send, so a retry may claim it at once.
    async fn release(&self, key: &ReminderKey) -> AppResult<()>;
}

/// Holds a failed job back before its next delivery (the message's visibility in SQS), so
/// throttled pushes back off instead of hammering FCM.
#[async_trait]
pub trait JobBackoff: Send + Sync {
    /// Makes the delivered message identified by `receipt` visible again after `delay`.
    async fn postpone(&self, receipt: &str, delay: Duration) -> AppResult<()>;
}
