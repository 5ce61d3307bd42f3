//! The shared abuse counters, in process memory (one process is every instance here).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::MemoryRecords;
use crate::error::AppResult;
use crate::ports::{Hit, RateLimits};

#[async_trait]
impl RateLimits for MemoryRecords {
    async fn hit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: DateTime<Utc>,
    ) -> AppResult<Hit> {
        let mut limits = self.limits.lock().unwrap();
        let entry = limits.entry(key.to_string()).or_insert((0, now));
        if entry.1 <= now {
            // The previous window has ended (or there was none): this hit opens a new one.
            *entry = (0, now + window);
        }
        if entry.0 >= limit {
            return Ok(Hit::Limited { resets_at: entry.1 });
        }
        entry.0 += 1;
        Ok(Hit::Counted {
            count: entry.0,
            resets_at: entry.1,
        })
    }

    async fn undo(&self, key: &str, now: DateTime<Utc>) -> AppResult<()> {
        if let Some(entry) = self.limits.lock().unwrap().get_mut(key) {
            if entry.1 > now && entry.0 > 0 {
                entry.0 -= 1;
            }
        }
        Ok(())
    }

    async fn clear(&self, key: &str) -> AppResult<()> {
        self.limits.lock().unwrap().remove(key);
        Ok(())
    }
}
