use chrono::{DateTime, Utc};

/// The current time, replaceable so tests can move past expiries.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}
