//! The waiting room: joining and polling the line, admissions, and the admitter's tick.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::directory::FestivalDirectory;
use super::festival_days::has_ended;
use super::tokens::Identity;
use super::validate::normalize_email;
use crate::error::{AppError, AppResult};
use crate::ports::{
    AdmitPolicy, AdmitTick, AdmitTicks, Clock, IdSource, LineView, TickOutcome, WaitingRoom,
};

/// The shortest poll hint: about one admitter tick.
pub const MIN_POLL: Duration = Duration::from_secs(1);
/// The longest poll hint, so even the back of a long line sees movement twice a minute.
pub const MAX_POLL: Duration = Duration::from_secs(30);
/// A user is told to poll this many times before their estimated turn.
const POLLS_PER_WAIT: u64 = 5;

/// Where a user stands: what the join and rank routes answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueStatus {
    /// 1-based place in the line; -1 when not waiting (never joined, left, or admitted).
    pub rank: i64,
    /// How many are waiting in the whole line.
    pub waiting_count: u64,
    /// Estimated seconds until admission, from the admission rate measured recently
    /// (the configured rate until there is a measurement); 0 when not waiting.
    pub eta_seconds: u64,
    /// When to poll again, in ms: grows with the wait (1 s near the front, at most 30 s), so
    /// the back of a long line polls rarely; 0 when not waiting.
    pub poll_after_ms: u64,
}

/// Whether a user may book: what the allowed route answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionStatus {
    /// True while the user holds an unexpired admission.
    pub allowed: bool,
    /// When the admission ends; null without one.
    #[serde(default, with = "crate::model::timestamp::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Everything the waiting-room routes need.
#[derive(Clone)]
pub struct Queue {
    pub room: Arc<dyn WaitingRoom>,
    pub ticks: Arc<dyn AdmitTicks>,
    pub festivals: FestivalDirectory,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub policy: AdmitPolicy,
}

/// The caller's e-mail when `path_email` names the caller; anyone else's is 403.
///
/// The path segment may arrive percent-encoded (`%40` for `@`), depending on the client and
/// on API Gateway, so both its raw and decoded forms are accepted as the caller's own.
pub fn own_email(caller: &Identity, path_email: &str) -> AppResult<String> {
    let forbidden = || AppError::Forbidden("you may only act for your own e-mail address".into());
    let matches = |candidate: &str| normalize_email(candidate).is_ok_and(|e| e == caller.email);
    if matches(path_email) || percent_decode(path_email).is_some_and(|d| matches(&d)) {
        Ok(caller.email.clone())
    } else {
        Err(forbidden())
    }
}

/// `%XX` decoding of a path segment; `None` when it is not valid UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|d| d.into_owned())
}

impl Queue {
    /// The festival, if it still has a line: `FESTIVAL_NOT_FOUND` for an unknown one,
    /// `FESTIVAL_ENDED` once its last date is over in its time zone (nothing is left to
    /// book, so waiting would only cost the caller and Redis).
    async fn open_festival(&self, festival_id: &str) -> AppResult<()> {
        let festival = self.festivals.get(festival_id).await?;
        if has_ended(&festival, self.clock.now()) {
            return Err(AppError::FestivalEnded);
        }
        Ok(())
    }

    /// Joins the festival's line (keeping an earlier place or admission) and says where the
    /// user stands.
    pub async fn join(&self, festival_id: &str, email: &str) -> AppResult<QueueStatus> {
        self.open_festival(festival_id).await?;
        let chain = self.ids.new_id();
        let view = self
            .room
            .join(festival_id, email, self.clock.now(), &chain, &self.policy)
            .await?;
        self.start_chain(&view).await;
        Ok(self.status(&view))
    }

    /// Where the user stands, without joining.
    pub async fn rank(&self, festival_id: &str, email: &str) -> AppResult<QueueStatus> {
        self.open_festival(festival_id).await?;
        let chain = self.ids.new_id();
        let view = self
            .room
            .position(festival_id, email, self.clock.now(), &chain, &self.policy)
            .await?;
        self.start_chain(&view).await;
        Ok(self.status(&view))
    }

    /// Whether the user holds an unexpired admission.
    pub async fn allowed(&self, festival_id: &str, email: &str) -> AppResult<AdmissionStatus> {
        self.open_festival(festival_id).await?;
        let until = self
            .room
            .admission(festival_id, email, self.clock.now())
            .await?;
        Ok(AdmissionStatus {
            allowed: until.is_some(),
            expires_at: until,
        })
    }

    /// Leaves the line. Also once the festival is over: leaving only removes state, so a
    /// client tidying up after the festival gets its `204` rather than an error.
    pub async fn leave(&self, festival_id: &str, email: &str) -> AppResult<()> {
        self.festivals.get(festival_id).await?;
        self.room.leave_line(festival_id, email).await
    }

    /// Gives the admission up; like [`Queue::leave`], also once the festival is over.
    pub async fn leave_admission(&self, festival_id: &str, email: &str) -> AppResult<()> {
        self.festivals.get(festival_id).await?;
        self.room.give_up_admission(festival_id, email).await
    }

    /// Schedules the first tick of a chain this call started. A failure is logged, not
    /// answered: the user's place is kept, and the unticked lease lapses so a later poll
    /// starts the chain again.
    async fn start_chain(&self, view: &LineView) {
        if let Some(tick) = &view.started_chain {
            if let Err(err) = self.ticks.schedule(tick, Duration::ZERO).await {
                tracing::error!(error = %err, festival = %tick.festival_id, "could not start the admitter");
            }
        }
    }

    fn status(&self, view: &LineView) -> QueueStatus {
        status(view, &self.policy)
    }
}

/// The answer for a view: ETA from the measured (else configured) rate, poll hint from ETA.
fn status(view: &LineView, policy: &AdmitPolicy) -> QueueStatus {
    let Some(rank) = view.rank else {
        return QueueStatus {
            rank: -1,
            waiting_count: view.waiting,
            eta_seconds: 0,
            poll_after_ms: 0,
        };
    };
    let rate = view
        .measured_rate
        .unwrap_or(f64::from(policy.rate_per_second))
        .max(0.01);
    let eta = rank as f64 / rate;
    QueueStatus {
        rank: i64::try_from(rank).unwrap_or(i64::MAX),
        waiting_count: view.waiting,
        eta_seconds: eta.ceil() as u64,
        poll_after_ms: poll_after(eta).as_millis() as u64,
    }
}

/// When someone whose turn is `eta_seconds` away should ask again: [`POLLS_PER_WAIT`] times
/// before their turn, never more often than [`MIN_POLL`] nor less than [`MAX_POLL`]. Public so
/// the cost model counts the very polls the clients are told to make.
pub fn poll_after(eta_seconds: f64) -> Duration {
    let ms = (eta_seconds.max(0.0) * 1000.0 / POLLS_PER_WAIT as f64) as u64;
    Duration::from_millis(ms.clamp(MIN_POLL.as_millis() as u64, MAX_POLL.as_millis() as u64))
}

/// The admitter: runs one tick of a festival's chain and schedules the next.
#[derive(Clone)]
pub struct Admitter {
    pub room: Arc<dyn WaitingRoom>,
    pub ticks: Arc<dyn AdmitTicks>,
    pub clock: Arc<dyn Clock>,
    pub policy: AdmitPolicy,
}

impl Admitter {
    /// Runs `tick` if it is its chain's current tick (duplicates and dead chains are dropped)
    /// and, while people wait, schedules the next one a tick interval later.
    pub async fn tick(&self, tick: &AdmitTick) -> AppResult<TickOutcome> {
        let outcome = self
            .room
            .admit(tick, self.clock.now(), &self.policy)
            .await?;
        match &outcome {
            TickOutcome::Continue { admitted, next } => {
                tracing::info!(festival = %tick.festival_id, admitted, tick = tick.tick, "admitted");
                if let Err(err) = self.ticks.schedule(next, self.policy.tick_interval).await {
                    // A redelivery of this tick would be stale, so it cannot continue the
                    // chain: end it now, and the next join or poll starts a new one.
                    if let Err(release) = self.room.release_chain(next).await {
                        tracing::error!(error = %release, "could not release the admitter lease");
                    }
                    return Err(err);
                }
            }
            TickOutcome::Drained { admitted } => {
                tracing::info!(festival = %tick.festival_id, admitted, "line drained; chain ends");
            }
            TickOutcome::Stale => {
                tracing::info!(festival = %tick.festival_id, tick = tick.tick, "stale tick dropped");
            }
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    fn view(rank: Option<u64>, rate: Option<f64>) -> LineView {
        LineView {
            rank,
            waiting: 1000,
            admitted_until: None,
            measured_rate: rate,
            started_chain: None,
        }
    }

    #[test]
    fn the_eta_follows_the_measured_rate_and_polls_thin_out_towards_the_back() {
        let policy = AdmitPolicy::at_rate(10);
        let front = status(&view(Some(1), None), &policy);
        assert_eq!(
            (front.rank, front.eta_seconds, front.poll_after_ms),
            (1, 1, 1000)
        );
        let back = status(&view(Some(1000), None), &policy);
        assert_eq!((back.eta_seconds, back.poll_after_ms), (100, 20_000));
        let slow = status(&view(Some(1000), Some(5.0)), &policy);
        assert_eq!((slow.eta_seconds, slow.poll_after_ms), (200, 30_000));
        let out = status(&view(None, None), &policy);
        assert_eq!((out.rank, out.eta_seconds, out.poll_after_ms), (-1, 0, 0));
    }

    /// Ticks that cannot be scheduled, like an SQS outage.
    struct Unschedulable;

    #[async_trait::async_trait]
    impl AdmitTicks for Unschedulable {
        async fn schedule(&self, _tick: &AdmitTick, _delay: Duration) -> AppResult<()> {
            Err(AppError::internal("SQS is down"))
        }
    }

    #[tokio::test]
    async fn a_tick_that_cannot_be_scheduled_ends_its_chain_for_the_next_poll_to_restart() {
        use crate::adapters::memory::MemoryWaitingRoom;
        use crate::adapters::system::SystemClock;
        let room: Arc<dyn WaitingRoom> = Arc::new(MemoryWaitingRoom::new());
        let policy = AdmitPolicy::at_rate(1);
        let now = Utc::now();
        let first = room
            .join("f", "a@festa.io", now, "c1", &policy)
            .await
            .unwrap()
            .started_chain
            .expect("the first join starts the chain");
        room.join("f", "b@festa.io", now, "c2", &policy)
            .await
            .unwrap();
        let admitter = Admitter {
            room: room.clone(),
            ticks: Arc::new(Unschedulable),
            clock: Arc::new(SystemClock),
            policy,
        };
        assert!(admitter.tick(&first).await.is_err());
        // "a" was admitted; "b" still waits, and the next poll starts a new chain at once
        // rather than after the lease lapses.
        let seen = room
            .position("f", "b@festa.io", Utc::now(), "restart", &policy)
            .await
            .unwrap();
        assert_eq!(seen.rank, Some(1));
        assert_eq!(
            seen.started_chain.map(|t| t.chain).as_deref(),
            Some("restart")
        );
    }

    #[test]
    fn only_the_callers_own_address_passes() {
        let caller = Identity {
            user_id: "u".into(),
            email: "kim@festa.io".into(),
            name: "Kim".into(),
            role: Role::User,
            session_id: "s".into(),
            expires_at: Utc::now(),
        };
        assert_eq!(own_email(&caller, "kim@festa.io").unwrap(), "kim@festa.io");
        assert_eq!(
            own_email(&caller, "Kim%40Festa.io").unwrap(),
            "kim@festa.io"
        );
        for other in ["lee@festa.io", "lee%40festa.io", "", "%zz", "kim@festa.io%"] {
            assert_eq!(
                own_email(&caller, other).unwrap_err().status(),
                403,
                "{other}"
            );
        }
    }
}
