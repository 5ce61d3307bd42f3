use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::AppResult;
use crate::ports::{AdmitPolicy, AdmitTick, LineView, TickOutcome, WaitingRoom};

/// Waiting lines held in process memory, with the Redis adapter's rules step for step
/// (`adapters::redis_waiting_room` documents them); one lock makes every step atomic.
#[derive(Default)]
pub struct MemoryWaitingRoom {
    festivals: Mutex<HashMap<String, Line>>,
}

impl MemoryWaitingRoom {
    /// No lines yet.
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Default)]
struct Line {
    seq: u64,
    /// Arrival number → user, so the head is the first entry.
    queue: BTreeMap<u64, String>,
    arrivals: HashMap<String, u64>,
    /// User → end of admission, in ms.
    admitted: HashMap<String, i64>,
    /// User → (end of the admission, the booking attempt that spent it): spent admissions,
    /// remembered until they would have ended so the attempt may retry or hand them back.
    spent: HashMap<String, (i64, String)>,
    /// The chain holding the ticker lease (`chain:tick`) and when the lease lapses, in ms.
    lease: Option<(String, i64)>,
    tokens: Option<f64>,
    refilled_ms: i64,
    last_tick_ms: Option<i64>,
    measured_rate: Option<f64>,
}

impl Line {
    fn rank(&self, email: &str) -> Option<u64> {
        let arrival = *self.arrivals.get(email)?;
        Some(self.queue.range(..arrival).count() as u64 + 1)
    }

    fn admitted_until(&self, email: &str, now: i64) -> Option<i64> {
        self.admitted.get(email).copied().filter(|&end| end > now)
    }

    fn lease_holder(&self, now: i64) -> Option<&str> {
        match &self.lease {
            Some((holder, lapses)) if *lapses > now => Some(holder),
            _ => None,
        }
    }

    /// Starts `chain` when people wait and no chain holds a live lease.
    fn maybe_start(
        &mut self,
        festival_id: &str,
        chain: &str,
        now: i64,
        policy: &AdmitPolicy,
    ) -> Option<AdmitTick> {
        if self.queue.is_empty() || self.lease_holder(now).is_some() {
            return None;
        }
        let first = AdmitTick::first(festival_id, chain);
        self.lease = Some((first.lease_holder(), now + millis(policy.lease_ttl)));
        Some(first)
    }

    fn view(&self, email: &str, now: i64, started_chain: Option<AdmitTick>) -> LineView {
        LineView {
            rank: self.rank(email),
            waiting: self.queue.len() as u64,
            admitted_until: self.admitted_until(email, now).and_then(from_millis),
            measured_rate: self.measured_rate,
            started_chain,
        }
    }
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn from_millis(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// The most tokens the bucket holds: two seconds' worth, so ticks that SQS delivers a little
/// late (delays are whole seconds, plus polling) still average the configured rate.
fn burst(policy: &AdmitPolicy) -> f64 {
    2.0 * f64::from(policy.rate_per_second)
}

#[async_trait]
impl WaitingRoom for MemoryWaitingRoom {
    async fn join(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
        chain: &str,
        policy: &AdmitPolicy,
    ) -> AppResult<LineView> {
        let now = now.timestamp_millis();
        let mut festivals = self.festivals.lock().unwrap();
        let line = festivals.entry(festival_id.to_string()).or_default();
        if line.admitted_until(email, now).is_none() && !line.arrivals.contains_key(email) {
            line.seq += 1;
            let seq = line.seq;
            line.queue.insert(seq, email.to_string());
            line.arrivals.insert(email.to_string(), seq);
        }
        let started = line.maybe_start(festival_id, chain, now, policy);
        Ok(line.view(email, now, started))
    }

    async fn position(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
        chain: &str,
        policy: &AdmitPolicy,
    ) -> AppResult<LineView> {
        let now = now.timestamp_millis();
        let mut festivals = self.festivals.lock().unwrap();
        let Some(line) = festivals.get_mut(festival_id) else {
            return Ok(Line::default().view(email, now, None));
        };
        let started = line.maybe_start(festival_id, chain, now, policy);
        Ok(line.view(email, now, started))
    }

    async fn admission(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<DateTime<Utc>>> {
        let festivals = self.festivals.lock().unwrap();
        Ok(festivals
            .get(festival_id)
            .and_then(|line| line.admitted_until(email, now.timestamp_millis()))
            .and_then(from_millis))
    }

    async fn leave_line(&self, festival_id: &str, email: &str) -> AppResult<()> {
        let mut festivals = self.festivals.lock().unwrap();
        if let Some(line) = festivals.get_mut(festival_id) {
            if let Some(arrival) = line.arrivals.remove(email) {
                line.queue.remove(&arrival);
            }
        }
        Ok(())
    }

    async fn give_up_admission(&self, festival_id: &str, email: &str) -> AppResult<()> {
        let mut festivals = self.festivals.lock().unwrap();
        if let Some(line) = festivals.get_mut(festival_id) {
            line.admitted.remove(email);
            line.spent.remove(email);
        }
        Ok(())
    }

    async fn spend_admission(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
        claim: &str,
    ) -> AppResult<Option<DateTime<Utc>>> {
        let now = now.timestamp_millis();
        let mut festivals = self.festivals.lock().unwrap();
        let Some(line) = festivals.get_mut(festival_id) else {
            return Ok(None);
        };
        if let Some(until) = line.admitted_until(email, now) {
            line.admitted.remove(email);
            line.spent
                .insert(email.to_string(), (until, claim.to_string()));
            return Ok(from_millis(until));
        }
        Ok(match line.spent.get(email) {
            Some((until, by)) if by == claim && *until > now => from_millis(*until),
            _ => None,
        })
    }

    async fn return_admission(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
        claim: &str,
    ) -> AppResult<bool> {
        let now = now.timestamp_millis();
        let mut festivals = self.festivals.lock().unwrap();
        let Some(line) = festivals.get_mut(festival_id) else {
            return Ok(false);
        };
        let until = match line.spent.get(email) {
            Some((until, by)) if by == claim => *until,
            _ => return Ok(false),
        };
        line.spent.remove(email);
        if until <= now {
            return Ok(false);
        }
        // Admitted again, so no longer waiting (a join while the booking was in flight).
        if let Some(arrival) = line.arrivals.remove(email) {
            line.queue.remove(&arrival);
        }
        line.admitted.insert(email.to_string(), until);
        Ok(true)
    }

    async fn release_chain(&self, next: &AdmitTick) -> AppResult<()> {
        let mut festivals = self.festivals.lock().unwrap();
        if let Some(line) = festivals.get_mut(&next.festival_id) {
            let holder = next.lease_holder();
            if line.lease.as_ref().is_some_and(|(h, _)| *h == holder) {
                line.lease = None;
            }
        }
        Ok(())
    }

    async fn admit(
        &self,
        tick: &AdmitTick,
        now: DateTime<Utc>,
        policy: &AdmitPolicy,
    ) -> AppResult<TickOutcome> {
        let now = now.timestamp_millis();
        let mut festivals = self.festivals.lock().unwrap();
        let Some(line) = festivals.get_mut(&tick.festival_id) else {
            return Ok(TickOutcome::Stale);
        };
        let expected = tick.lease_holder();
        if line.lease_holder(now) != Some(expected.as_str()) {
            return Ok(TickOutcome::Stale);
        }
        line.admitted.retain(|_, end| *end > now);
        line.spent.retain(|_, (end, _)| *end > now);

        let burst = burst(policy);
        let rate = f64::from(policy.rate_per_second);
        let mut tokens = match line.tokens {
            Some(tokens) => {
                let elapsed = (now - line.refilled_ms).max(0) as f64;
                (tokens + elapsed * rate / 1000.0).min(burst)
            }
            // A new bucket holds one second's worth: the first tick admits at the rate.
            None => rate,
        };
        let until = now + millis(policy.admission_ttl);
        let mut admitted = 0u64;
        while tokens >= 1.0 {
            let Some((_, email)) = line.queue.pop_first() else {
                break;
            };
            line.arrivals.remove(&email);
            line.admitted.insert(email, until);
            tokens -= 1.0;
            admitted += 1;
        }
        let waiting = line.queue.len();
        if admitted > 0 && waiting > 0 {
            if let Some(last) = line.last_tick_ms {
                let elapsed = now - last;
                if elapsed > 0 && elapsed <= millis(AdmitPolicy::MEASURE_WINDOW) {
                    let instant = admitted as f64 * 1000.0 / elapsed as f64;
                    line.measured_rate = Some(match line.measured_rate {
                        Some(m) => m * 0.8 + instant * 0.2,
                        None => instant,
                    });
                }
            }
        }
        line.tokens = Some(tokens);
        line.refilled_ms = now;
        line.last_tick_ms = Some(now);
        if waiting > 0 {
            let next = tick.next();
            line.lease = Some((next.lease_holder(), now + millis(policy.lease_ttl)));
            Ok(TickOutcome::Continue { admitted, next })
        } else {
            line.lease = None;
            Ok(TickOutcome::Drained { admitted })
        }
    }
}
