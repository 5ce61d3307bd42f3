//! The real clock and the real source of ids and secrets.

use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngExt;

use crate::ports::{Clock, IdSource};

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// ULIDs and secrets from the operating system's random source.
///
/// Ids are monotonic within the process, so things created in the same millisecond still list
/// in creation order.
#[derive(Debug, Default)]
pub struct RandomIds {
    generator: std::sync::Mutex<ulid::Generator>,
}

impl IdSource for RandomIds {
    fn new_id(&self) -> String {
        let mut generator = self.generator.lock().unwrap();
        // The generator only fails after 2^80 ids in one millisecond; fall back to a fresh one.
        generator
            .generate()
            .unwrap_or_else(|_| ulid::Ulid::generate())
            .to_string()
    }

    fn new_secret(&self) -> String {
        let bytes: [u8; 32] = rand::rng().random();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn new_code(&self) -> String {
        format!("{:06}", rand::rng().random_range(0..1_000_000u32))
    }
}
