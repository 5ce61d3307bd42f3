use std::sync::atomic::{AtomicU64, Ordering};

use crate::ports::IdSource;

/// Predictable ids, secrets and codes, so tests can name what the next one will be.
#[derive(Debug, Default)]
pub struct SequentialIds {
    next: AtomicU64,
}

impl SequentialIds {
    /// Starts at 1.
    pub fn new() -> Self {
        Self::default()
    }

    fn take(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed) + 1
    }
}

impl IdSource for SequentialIds {
    /// Valid, increasing ULIDs: the counter is the time part.
    fn new_id(&self) -> String {
        ulid::Ulid::from_parts(self.take(), 0).to_string()
    }

    fn new_secret(&self) -> String {
        format!("secret-{:040}", self.take())
    }

    fn new_code(&self) -> String {
        format!("{:06}", self.take() % 1_000_000)
    }
}
