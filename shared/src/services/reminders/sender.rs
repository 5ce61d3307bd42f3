//! The push sender: one job is one reservation; each of its holder's devices gets the push
//! at most once, whatever SQS redelivers.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::try_join;
use futures_util::stream::{self, StreamExt};

use super::content::push_for;
use crate::error::AppResult;
use crate::model::{Device, ReminderJob};
use crate::ports::{
    Claim, Clock, DeviceRegistry, PushGateway, PushOutcome, ReminderKey, ReminderLedger,
    ReservationRoster,
};

/// How long a claim holds a push: longer than one FCM call with its timeout, so a consumer
/// that died mid-send is retried once it lapses.
pub const CLAIM_LEASE: Duration = Duration::from_secs(120);

/// One job's pushes in flight at once (a holder has at most
/// [`MAX_DEVICES_PER_USER`](super::MAX_DEVICES_PER_USER) devices).
const DEVICE_PUSHES_IN_FLIGHT: usize = 4;

/// Why a job is not finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// Some push was throttled, failed in transit or is held by another consumer: redeliver,
    /// no sooner than `after` when known.
    Retry { after: Option<Duration> },
    /// FCM refused a push for good; the job should end in the dead-letter queue for a look.
    Rejected(String),
}

/// What one job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobReport {
    pub delivered: usize,
    /// Pushes sent by an earlier delivery of the job.
    pub already_sent: usize,
    /// Devices FCM no longer knows, now deactivated.
    pub tokens_gone: usize,
    /// Why nothing was sent, when the job no longer called for a reminder.
    pub skipped: Option<Skipped>,
    pub pending: Option<Pending>,
}

/// Why a job sent nothing, and is done with all the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// The reservation was cancelled after the job was planned.
    Cancelled,
    /// The festival date has begun: a "tomorrow" push would be wrong.
    TooLate,
}

/// What happened to one device's push.
enum DeviceResult {
    Delivered,
    AlreadySent,
    TokenGone,
    Pending(Pending),
}

/// Sends reminder jobs.
#[derive(Clone)]
pub struct Sender {
    /// Asked whether each job's reservation still stands when its turn comes.
    pub reservations: Arc<dyn ReservationRoster>,
    pub devices: Arc<dyn DeviceRegistry>,
    pub ledger: Arc<dyn ReminderLedger>,
    pub gateway: Arc<dyn PushGateway>,
    pub clock: Arc<dyn Clock>,
}

impl Sender {
    /// Pushes the reminder to every active device of the job's holder that has not had it,
    /// unless the reservation was cancelled since the job was planned or the date has begun. `Err` only when the
    /// reservation or the holder's devices cannot be read (the whole job is retried).
    pub async fn send(&self, job: &ReminderJob) -> AppResult<JobReport> {
        if job.starts_at <= self.clock.now() {
            tracing::warn!(reservation = %job.reservation_id, date = %job.festival_date, "reminder job came after the date began; nothing sent");
            return Ok(JobReport {
                skipped: Some(Skipped::TooLate),
                ..JobReport::default()
            });
        }
        let (confirmed, devices) = try_join(
            self.reservations
                .still_confirmed(&job.email, &job.reservation_id),
            self.devices.devices_of(&job.email),
        )
        .await?;
        if !confirmed {
            tracing::info!(reservation = %job.reservation_id, "cancelled since planned: no reminder");
            return Ok(JobReport {
                skipped: Some(Skipped::Cancelled),
                ..JobReport::default()
            });
        }
        let results: Vec<DeviceResult> = stream::iter(devices)
            .map(|device| async move { self.push_once(job, &device).await })
            .buffer_unordered(DEVICE_PUSHES_IN_FLIGHT)
            .collect()
            .await;
        let mut report = JobReport::default();
        for result in results {
            match result {
                DeviceResult::Delivered => report.delivered += 1,
                DeviceResult::AlreadySent => report.already_sent += 1,
                DeviceResult::TokenGone => report.tokens_gone += 1,
                DeviceResult::Pending(pending) => {
                    report.pending = Some(merge(report.pending.take(), pending))
                }
            }
        }
        Ok(report)
    }

    async fn push_once(&self, job: &ReminderJob, device: &Device) -> DeviceResult {
        let key = ReminderKey {
            reservation_id: job.reservation_id.clone(),
            festival_date: job.festival_date,
            token: device.token.clone(),
        };
        let now = self.clock.now();
        match self.ledger.claim(&key, now, CLAIM_LEASE).await {
            Ok(Claim::Claimed) => {}
            Ok(Claim::Settled) => return DeviceResult::AlreadySent,
            Ok(Claim::Held { until }) => {
                let after = (until - now).to_std().ok();
                return DeviceResult::Pending(Pending::Retry { after });
            }
            Err(err) => {
                tracing::warn!(error = %err, reservation = %job.reservation_id, "could not claim a reminder push");
                return DeviceResult::Pending(Pending::Retry { after: None });
            }
        }
        let outcome = self.gateway.send(&push_for(job, &device.token)).await;
        let result = match outcome {
            Ok(PushOutcome::Delivered) => DeviceResult::Delivered,
            Ok(PushOutcome::TokenGone) => {
                if let Err(err) = self.devices.forget(&device.token).await {
                    // The push is settled either way: the token will never work.
                    tracing::warn!(error = %err, "could not deactivate an unregistered device");
                }
                DeviceResult::TokenGone
            }
            Ok(PushOutcome::Retry { after }) => DeviceResult::Pending(Pending::Retry { after }),
            Ok(PushOutcome::Rejected(reason)) => {
                tracing::error!(reason = %reason, reservation = %job.reservation_id, "FCM rejected a reminder push");
                DeviceResult::Pending(Pending::Rejected(reason))
            }
            Err(err) => {
                tracing::warn!(error = %err, reservation = %job.reservation_id, "reminder push failed in transit");
                DeviceResult::Pending(Pending::Retry { after: None })
            }
        };
        let kept = match &result {
            DeviceResult::Delivered | DeviceResult::TokenGone => {
                self.ledger.settle(&key, self.clock.now()).await
            }
            _ => self.ledger.release(&key).await,
        };
        if let Err(err) = kept {
            // A lost settle leaves a claim that lapses: at worst one repeat after the lease.
            tracing::warn!(error = %err, reservation = %job.reservation_id, "could not record a reminder push");
        }
        result
    }
}

/// Two devices' pending states as one for the job: a rejection wins (a retry cannot finish
/// the job), else the longest wait.
fn merge(a: Option<Pending>, b: Pending) -> Pending {
    match (a, b) {
        (Some(Pending::Rejected(r)), _) | (_, Pending::Rejected(r)) => Pending::Rejected(r),
        (Some(Pending::Retry { after: x }), Pending::Retry { after: y }) => {
            Pending::Retry { after: x.max(y) }
        }
        (None, pending) => pending,
    }
}
