use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppResult;

/// One tick of a festival's admitter chain: the body of an admit-queue message.
///
/// `chain` names the chain that holds the festival's ticker lease and `tick` counts its ticks,
/// so a duplicated or stale message is recognised and dropped instead of admitting twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmitTick {
    pub festival_id: String,
    pub chain: String,
    pub tick: u64,
}

impl AdmitTick {
    /// The first tick of chain `chain`.
    pub fn first(festival_id: &str, chain: &str) -> Self {
        AdmitTick {
            festival_id: festival_id.to_string(),
            chain: chain.to_string(),
            tick: 0,
        }
    }

    /// The tick after this one, in the same chain.
    pub fn next(&self) -> Self {
        AdmitTick {
            tick: self.tick + 1,
            ..self.clone()
        }
    }

    /// What the festival's lease holds while this tick is the one allowed to run
    /// (`chain:tick`); every adapter keeps leases in this form.
    pub fn lease_holder(&self) -> String {
        format!("{}:{}", self.chain, self.tick)
    }
}

/// How fast and for how long the admitter lets people in; configured per deployment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdmitPolicy {
    /// Admissions per second per festival, through a token bucket that starts with one
    /// second's worth and holds at most two: by any time `t` after a chain starts, at most
    /// `rate × (t + 1)` people have been admitted, and late ticks still average the rate.
    pub rate_per_second: u32,
    /// How long an admission lasts.
    pub admission_ttl: Duration,
    /// Time between ticks of a chain.
    pub tick_interval: Duration,
    /// How long a chain may go without ticking before anyone may start a new one: the longest
    /// a lost message can stall a line.
    pub lease_ttl: Duration,
}

impl AdmitPolicy {
    /// Ticks further apart than this (a chain that stopped and restarted) do not count
    /// towards the measured admission rate.
    pub const MEASURE_WINDOW: Duration = Duration::from_secs(10);

    /// API.md's policy (5-minute admissions, one tick a second) at `rate_per_second`.
    pub fn at_rate(rate_per_second: u32) -> Self {
        AdmitPolicy {
            rate_per_second: rate_per_second.max(1),
            admission_ttl: Duration::from_secs(5 * 60),
            tick_interval: Duration::from_secs(1),
            lease_ttl: Duration::from_secs(10),
        }
    }
}

impl Default for AdmitPolicy {
    fn default() -> Self {
        Self::at_rate(10)
    }
}

/// What one read of the line says about one user.
#[derive(Debug, Clone, PartialEq)]
pub struct LineView {
    /// 1-based place in the line; `None` when not waiting.
    pub rank: Option<u64>,
    /// How many are waiting in all.
    pub waiting: u64,
    /// When the user's unexpired admission ends, if they hold one.
    pub admitted_until: Option<DateTime<Utc>>,
    /// Admissions per second the admitter achieved recently, once it has been measured.
    pub measured_rate: Option<f64>,
    /// Set when this call found people waiting and no live admitter chain, and started one:
    /// the caller must schedule this first tick.
    pub started_chain: Option<AdmitTick>,
}

/// What an admitter tick did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TickOutcome {
    /// The message was a duplicate or from a dead chain; nothing happened.
    Stale,
    /// `admitted` moved in; people still wait, so `next` must be scheduled.
    Continue { admitted: u64, next: AdmitTick },
    /// `admitted` moved in and the line is empty: the chain ends and its lease is released.
    Drained { admitted: u64 },
}

/// Every festival's waiting line and its admissions (Redis in AWS).
///
/// Every method is one atomic step, so concurrent callers can never admit a user twice, skip
/// one or lose one. Times are passed in, so the rules follow the platform's clock.
#[async_trait]
pub trait WaitingRoom: Send + Sync {
    /// Puts the user at the back of the line unless they are in it or hold an unexpired
    /// admission; when people wait and no chain holds the lease, starts chain `chain`.
    async fn join(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
        chain: &str,
        policy: &AdmitPolicy,
    ) -> AppResult<LineView>;

    /// The user's place, without joining; starts chain `chain` like [`WaitingRoom::join`], so
    /// a lost tick never stalls a line that people are polling.
    async fn position(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
        chain: &str,
        policy: &AdmitPolicy,
    ) -> AppResult<LineView>;

    /// The end of the user's admission, if it has not expired by `now`.
    async fn admission(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<DateTime<Utc>>>;

    /// Takes the user out of the line (no-op when not in it).
    async fn leave_line(&self, festival_id: &str, email: &str) -> AppResult<()>;

    /// Ends the user's admission (no-op without one), and forgets an admission a booking
    /// attempt is spending, so a failed attempt cannot hand back what the user gave up.
    async fn give_up_admission(&self, festival_id: &str, email: &str) -> AppResult<()>;

    /// Spends the user's unexpired admission on the booking attempt `claim`, atomically: of
    /// concurrent attempts holding one admission, exactly one gets it. Answers when the
    /// admission would have ended, or `None` when there is none to spend.
    ///
    /// A spent admission is no longer an admission ([`WaitingRoom::admission`] is `None`, and
    /// a join puts the user back in the line), but it is remembered, until it would have
    /// ended, under `claim`: the same `claim` (a retry of the same booking, e.g. with the same
    /// `Idempotency-Key`) may spend it again, and [`WaitingRoom::return_admission`] may give
    /// it back.
    async fn spend_admission(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
        claim: &str,
    ) -> AppResult<Option<DateTime<Utc>>>;

    /// Gives back the admission the attempt `claim` spent, when its booking failed for a
    /// reason that is not the user's doing (sold out, already reserved, an outage), so the
    /// user keeps their turn until the admission would have ended. Answers whether it was
    /// given back: `false` when `claim` holds no spent admission (another attempt spent it
    /// since, it was given up, or it was given back already) or the admission has ended.
    async fn return_admission(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
        claim: &str,
    ) -> AppResult<bool>;

    /// One tick of `tick`'s chain, if it is the chain's current tick: expires stale admissions,
    /// admits the head of the line within the rate, and advances or releases the lease.
    async fn admit(
        &self,
        tick: &AdmitTick,
        now: DateTime<Utc>,
        policy: &AdmitPolicy,
    ) -> AppResult<TickOutcome>;

    /// Releases the festival's lease if `next` still holds it, so a chain whose next tick could
    /// not be scheduled ends at once and the next join or poll starts a new one, instead of
    /// the line waiting for the lease to lapse. A no-op once the chain moved on.
    async fn release_chain(&self, next: &AdmitTick) -> AppResult<()>;
}

/// Delivers admitter ticks after a delay (SQS in AWS, an in-process timer locally).
#[async_trait]
pub trait AdmitTicks: Send + Sync {
    /// Delivers `tick` to the admitter no sooner than `delay` from now.
    async fn schedule(&self, tick: &AdmitTick, delay: Duration) -> AppResult<()>;
}
