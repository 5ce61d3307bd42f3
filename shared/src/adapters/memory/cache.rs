use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::error::AppResult;
use crate::ports::{Cache, CacheBudget};

/// A process-local cache with the expiry semantics of Redis `SET PX`, kept within a
/// [`CacheBudget`] as the Redis cache is.
pub struct MemoryCache {
    budget: CacheBudget,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    entries: HashMap<String, Entry>,
    /// Expiring entries by deadline (then arrival), so the first is the next to go.
    by_deadline: BTreeSet<(Instant, u64, String)>,
    /// What the expiring entries cost against the budget.
    bytes: usize,
    arrivals: u64,
}

struct Entry {
    value: String,
    /// `None` for counters, which never expire and never count against the budget.
    expiry: Option<(Instant, u64)>,
    cost: usize,
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self::with_budget(CacheBudget::DEFAULT)
    }
}

impl MemoryCache {
    /// An empty cache with the default budget.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty cache that holds at most `budget`.
    pub fn with_budget(budget: CacheBudget) -> Self {
        MemoryCache {
            budget,
            state: Mutex::new(State::default()),
        }
    }
}

impl State {
    fn forget(&mut self, key: &str) -> Option<Entry> {
        let entry = self.entries.remove(key)?;
        if let Some((deadline, arrival)) = entry.expiry {
            self.by_deadline
                .remove(&(deadline, arrival, key.to_string()));
            self.bytes -= entry.cost;
        }
        Some(entry)
    }

    fn drop_expired(&mut self, now: Instant) {
        while let Some((deadline, _, key)) = self.by_deadline.first().cloned() {
            if deadline > now {
                break;
            }
            self.forget(&key);
        }
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> AppResult<Option<String>> {
        let mut state = self.state.lock().unwrap();
        state.drop_expired(Instant::now());
        Ok(state.entries.get(key).map(|e| e.value.clone()))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> AppResult<()> {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap();
        state.drop_expired(now);
        state.forget(key);
        let cost = CacheBudget::cost(key, value);
        if cost > self.budget.max_entry() {
            return Ok(());
        }
        while state.bytes + cost > self.budget.max_bytes {
            let Some((_, _, oldest)) = state.by_deadline.first().cloned() else {
                break;
            };
            state.forget(&oldest);
        }
        state.arrivals += 1;
        let expiry = (now + ttl, state.arrivals);
        state
            .by_deadline
            .insert((expiry.0, expiry.1, key.to_string()));
        state.bytes += cost;
        state.entries.insert(
            key.to_string(),
            Entry {
                value: value.to_string(),
                expiry: Some(expiry),
                cost,
            },
        );
        Ok(())
    }

    async fn incr(&self, key: &str) -> AppResult<i64> {
        let mut state = self.state.lock().unwrap();
        // An expired value counts as missing, as it would in Redis.
        state.drop_expired(Instant::now());
        let current = state
            .forget(key)
            .map_or(0, |e| e.value.parse::<i64>().unwrap_or(0));
        let next = current + 1;
        state.entries.insert(
            key.to_string(),
            Entry {
                value: next.to_string(),
                expiry: None,
                cost: 0,
            },
        );
        Ok(next)
    }
}
