use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::error::AppResult;

/// What a [`RateLimits::hit`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// The event was counted: `count` events so far in the window that ends at `resets_at`.
    Counted {
        count: u32,
        resets_at: DateTime<Utc>,
    },
    /// The window already holds `limit` events; nothing was counted. A new window opens at
    /// `resets_at`.
    Limited { resets_at: DateTime<Utc> },
}

impl Hit {
    /// Whether the event was counted (and so may happen).
    pub fn counted(&self) -> bool {
        matches!(self, Hit::Counted { .. })
    }
}

/// Fixed-window counters that every instance of every function shares, for the abuse limits
/// (failed logins per address, mails per address, mails per deployment hour): a count kept in
/// one process would let each Lambda instance allow the limit again.
///
/// A key's window opens at the first hit after the previous window ended and lasts the
/// `window` of that hit; every operation is atomic, so parallel hits never count past `limit`.
#[async_trait]
pub trait RateLimits: Send + Sync {
    /// Counts one event under `key` if its current window holds fewer than `limit`.
    async fn hit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: DateTime<Utc>,
    ) -> AppResult<Hit>;

    /// Takes one counted event back (it did not happen after all, e.g. its mail could not be
    /// sent). Nothing happens when the window has ended or holds no event.
    async fn undo(&self, key: &str, now: DateTime<Utc>) -> AppResult<()>;

    /// Forgets the key's count (e.g. a successful login clears its failures).
    async fn clear(&self, key: &str) -> AppResult<()>;
}
