//! The local platform's outbox: keeps every mail and push it would have sent, so people and
//! tests can read codes and reminders back.

use async_trait::async_trait;
use chrono::Utc;

use super::recent::Recent;
use crate::error::AppResult;
use crate::model::{PushMessage, SentPush};
use crate::ports::{Mail, Mailer, PushGateway, PushOutcome};

/// How many entries the outbox keeps; older ones are dropped, so it never grows without bound.
pub const OUTBOX_CAPACITY: usize = 1000;

/// One thing the outbox kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Mail(Mail),
    Push(SentPush),
}

impl Sent {
    /// The address it was for (a push's is its device owner's).
    pub fn to(&self) -> &str {
        match self {
            Sent::Mail(mail) => &mail.to,
            Sent::Push(push) => &push.push.to,
        }
    }
}

/// Mail and pushes that would have been sent, in sending order (the latest
/// [`OUTBOX_CAPACITY`]).
pub struct Outbox {
    sent: Recent<Sent>,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            sent: Recent::new(OUTBOX_CAPACITY),
        }
    }
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything kept so far, newest first, optionally only for one address
    /// (case-insensitive).
    pub fn entries(&self, to: Option<&str>) -> Vec<Sent> {
        self.sent.read(|sent| {
            sent.rev()
                .filter(|s| to.is_none_or(|to| s.to().eq_ignore_ascii_case(to.trim())))
                .cloned()
                .collect()
        })
    }

    /// Mail sent so far, newest first, optionally only to one address (case-insensitive).
    pub fn mails(&self, to: Option<&str>) -> Vec<Mail> {
        self.entries(to)
            .into_iter()
            .filter_map(|s| match s {
                Sent::Mail(mail) => Some(mail),
                Sent::Push(_) => None,
            })
            .collect()
    }

    /// Pushes sent so far, newest first, optionally only to one owner (case-insensitive).
    pub fn pushes(&self, to: Option<&str>) -> Vec<SentPush> {
        self.entries(to)
            .into_iter()
            .filter_map(|s| match s {
                Sent::Push(push) => Some(push),
                Sent::Mail(_) => None,
            })
            .collect()
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: &Mail) -> AppResult<()> {
        tracing::info!(subject = %mail.subject, "mail kept in the local outbox");
        self.sent.push(Sent::Mail(mail.clone()));
        Ok(())
    }
}

#[async_trait]
impl PushGateway for Outbox {
    async fn send(&self, push: &PushMessage) -> AppResult<PushOutcome> {
        self.sent.push(Sent::Push(SentPush {
            push: push.clone(),
            sent_at: Utc::now(),
        }));
        Ok(PushOutcome::Delivered)
    }
}
