//! How long a push that FCM throttled or failed waits before its next try.

use std::time::Duration;

/// The first retry's wait.
const FIRST: Duration = Duration::from_secs(30);
/// The longest wait (SQS allows a visibility timeout of up to 12 hours).
const LONGEST: Duration = Duration::from_secs(15 * 60);

/// The wait before try `receive_count + 1`: 30 s doubling per receive up to 15 minutes,
/// never shorter than the service's own `Retry-After`.
pub fn retry_delay(receive_count: u32, retry_after: Option<Duration>) -> Duration {
    let doublings = receive_count.saturating_sub(1).min(16);
    let exponential = FIRST.saturating_mul(1 << doublings).min(LONGEST);
    match retry_after {
        Some(after) => exponential.max(after.min(LONGEST)),
        None => exponential,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_a_cap_and_honours_retry_after() {
        assert_eq!(retry_delay(1, None), Duration::from_secs(30));
        assert_eq!(retry_delay(2, None), Duration::from_secs(60));
        assert_eq!(retry_delay(4, None), Duration::from_secs(240));
        assert_eq!(retry_delay(50, None), LONGEST);
        assert_eq!(retry_delay(0, None), Duration::from_secs(30));
        assert_eq!(
            retry_delay(1, Some(Duration::from_secs(120))),
            Duration::from_secs(120)
        );
        assert_eq!(retry_delay(1, Some(Duration::from_secs(86_400))), LONGEST);
    }
}
