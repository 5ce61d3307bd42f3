use std::time::Duration;

use async_trait::async_trait;

use crate::error::AppResult;

/// A shared key-value cache with expiry (Redis in AWS).
#[async_trait]
pub trait Cache: Send + Sync {
    /// The value, if present and not expired.
    async fn get(&self, key: &str) -> AppResult<Option<String>>;

    /// Stores the value for `ttl`.
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> AppResult<()>;

    /// Adds one to a counter (missing counts as 0) and returns the new value; never expires.
    async fn incr(&self, key: &str) -> AppResult<i64>;
}
