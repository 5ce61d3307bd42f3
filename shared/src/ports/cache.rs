use std::time::Duration;

use async_trait::async_trait;

use crate::error::AppResult;

/// A shared key-value cache with expiry (Redis in AWS).
///
/// A cache lives beside authoritative state (the waiting lines, admissions and read markers
/// share its Redis, which never evicts), so every implementation keeps within a
/// [`CacheBudget`]: past it, the entries closest to expiry go first, and a `set` never fails
/// for lack of room.
#[async_trait]
pub trait Cache: Send + Sync {
    /// The value, if present and not expired.
    async fn get(&self, key: &str) -> AppResult<Option<String>>;

    /// Stores the value for `ttl`, within the budget: an entry larger than
    /// [`CacheBudget::max_entry`] is not kept at all.
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> AppResult<()>;

    /// Adds one to a counter (missing counts as 0) and returns the new value; never expires,
    /// and is never evicted to make room (counters are a few bytes each).
    async fn incr(&self, key: &str) -> AppResult<i64>;
}

/// How many bytes of cached entries a cache may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheBudget {
    pub max_bytes: usize,
}

impl CacheBudget {
    /// What the deployment's search cache may take of Redis: 32 MiB, a small part of even
    /// the smallest ElastiCache node, however many distinct searches arrive.
    pub const DEFAULT: CacheBudget = CacheBudget {
        max_bytes: 32 * 1024 * 1024,
    };

    /// What keeping one entry costs: its key and value and a fixed allowance for the store's
    /// own bookkeeping, so many tiny entries cannot slip past the budget.
    pub fn cost(key: &str, value: &str) -> usize {
        key.len() + value.len() + ENTRY_OVERHEAD
    }

    /// The largest entry kept: a sixteenth of the budget, so one huge answer never flushes
    /// the rest.
    pub fn max_entry(&self) -> usize {
        self.max_bytes / 16
    }
}

/// Bytes counted per entry beyond its key and value (Redis keeps ~100 per key with an expiry,
/// plus our index entry).
const ENTRY_OVERHEAD: usize = 160;
