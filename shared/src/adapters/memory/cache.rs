use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::error::AppResult;
use crate::ports::Cache;

/// A process-local cache with the expiry semantics of Redis `SET EX`.
#[derive(Default)]
pub struct MemoryCache {
    entries: Mutex<HashMap<String, (String, Option<Instant>)>>,
}

impl MemoryCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> AppResult<Option<String>> {
        let mut entries = self.entries.lock().unwrap();
        match entries.get(key) {
            Some((_, Some(deadline))) if *deadline <= Instant::now() => {
                entries.remove(key);
                Ok(None)
            }
            Some((value, _)) => Ok(Some(value.clone())),
            None => Ok(None),
        }
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> AppResult<()> {
        let deadline = Instant::now() + ttl;
        let mut entries = self.entries.lock().unwrap();
        // Drop expired entries now and then so an idle local platform does not grow forever.
        if entries.len() > 10_000 {
            let now = Instant::now();
            entries.retain(|_, (_, d)| d.is_none_or(|d| d > now));
        }
        entries.insert(key.to_string(), (value.to_string(), Some(deadline)));
        Ok(())
    }

    async fn incr(&self, key: &str) -> AppResult<i64> {
        let mut entries = self.entries.lock().unwrap();
        // An expired value counts as missing, as it would in Redis.
        if matches!(entries.get(key), Some((_, Some(deadline))) if *deadline <= Instant::now()) {
            entries.remove(key);
        }
        let entry = entries
            .entry(key.to_string())
            .or_insert_with(|| ("0".into(), None));
        let next = entry.0.parse::<i64>().unwrap_or(0) + 1;
        *entry = (next.to_string(), None);
        Ok(next)
    }
}
