//! The local platform's mailer: keeps every mail so people and tests can read the codes.

use async_trait::async_trait;

use super::recent::Recent;
use crate::error::AppResult;
use crate::ports::{Mail, Mailer};

/// How many mails the outbox keeps; older ones are dropped, so it never grows without bound.
pub const OUTBOX_CAPACITY: usize = 1000;

/// Mail that would have been sent, in sending order (the latest [`OUTBOX_CAPACITY`]).
pub struct Outbox {
    mails: Recent<Mail>,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            mails: Recent::new(OUTBOX_CAPACITY),
        }
    }
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Mail sent so far, newest first, optionally only to one address (case-insensitive).
    pub fn mails(&self, to: Option<&str>) -> Vec<Mail> {
        self.mails.read(|mails| {
            mails
                .rev()
                .filter(|m| to.is_none_or(|to| m.to.eq_ignore_ascii_case(to.trim())))
                .cloned()
                .collect()
        })
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: &Mail) -> AppResult<()> {
        tracing::info!(subject = %mail.subject, "mail kept in the local outbox");
        self.mails.push(mail.clone());
        Ok(())
    }
}
