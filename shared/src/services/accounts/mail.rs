//! The mail caps: each code mail (sign-up, resend, password reset) counts against the address's
//! daily codes and against the deployment's hourly mail, both in the shared [`RateLimits`], so
//! no address can be flooded and no flood of addresses can run up the bill.
//!
//! [`RateLimits`]: crate::ports::RateLimits

use chrono::{DateTime, Duration, Utc};

use super::{seconds_until, Accounts};
use crate::error::{AppError, AppResult};
use crate::ports::{Hit, Mail};

/// Code mails one address may get per [`CODE_WINDOW`] (sign-up, resend and reset together);
/// with five tries per code this bounds the guesses at a stranger's code to 25 a day.
pub const MAX_CODES_PER_WINDOW: u32 = 5;
/// The window over which codes per address are counted.
pub const CODE_WINDOW: Duration = Duration::hours(24);
/// The window of the deployment's mail cap.
const MAIL_HOUR: Duration = Duration::hours(1);

/// The counter of the deployment's mail in the clock hour of `at` (UTC), e.g.
/// `MAILHOUR#2026-05-01T09`: one item per hour, so the cap frees at each hour's start.
pub fn mail_hour_key(at: DateTime<Utc>) -> String {
    format!("MAILHOUR#{}", at.format("%Y-%m-%dT%H"))
}

/// The counter of the code mails to one address.
fn address_key(email: &str) -> String {
    format!("MAILTO#{email}")
}

/// One mail, counted against both caps until it is sent or handed back.
pub(super) struct MailSlot {
    hour_key: String,
    address_key: String,
}

/// Whether a code may be mailed to an address.
pub(super) enum MailAllowance {
    Granted(MailSlot),
    /// The address had its codes for today; `retry_after` seconds until one frees.
    AddressCapped {
        retry_after: u64,
    },
}

impl Accounts {
    /// Counts one mail to `email`: first against the deployment's hour (`503
    /// SERVICE_UNAVAILABLE` when it is spent, counting nothing for the address), then against
    /// the address's day (when that is spent, the hour's count is handed back).
    pub(super) async fn reserve_mail(&self, email: &str) -> AppResult<MailAllowance> {
        let now = self.clock.now();
        let hour_key = mail_hour_key(now);
        let hour = self
            .limits
            .hit(&hour_key, self.mail_hourly_limit, MAIL_HOUR, now)
            .await?;
        if !hour.counted() {
            tracing::warn!(
                limit = self.mail_hourly_limit,
                "the deployment's hourly mail cap (MAIL_HOURLY_LIMIT) is reached; mail refused"
            );
            return Err(AppError::unavailable(
                "the deployment's hourly mail cap is reached",
            ));
        }
        let address_key = address_key(email);
        let address = self
            .limits
            .hit(&address_key, MAX_CODES_PER_WINDOW, CODE_WINDOW, now)
            .await;
        match address {
            Ok(Hit::Counted { .. }) => Ok(MailAllowance::Granted(MailSlot {
                hour_key,
                address_key,
            })),
            Ok(Hit::Limited { resets_at }) => {
                self.undo(&hour_key).await;
                Ok(MailAllowance::AddressCapped {
                    retry_after: seconds_until(now, resets_at),
                })
            }
            Err(err) => {
                self.undo(&hour_key).await;
                Err(err)
            }
        }
    }

    /// Sends the slot's mail; a mail that could not be sent hands both counts back, so an
    /// outage of the mailer never uses up an address's codes.
    pub(super) async fn send_in_slot(&self, slot: MailSlot, mail: Mail) -> AppResult<()> {
        if let Err(err) = self.mailer.send(&mail).await {
            self.release(slot, true).await;
            return Err(err);
        }
        Ok(())
    }

    /// No mail is sent after all: the hour's count goes back, and the address's too when
    /// `address_too` (a request for an address with nothing to mail keeps its count, so a
    /// limit reached tells nothing about whether the address has an account).
    pub(super) async fn release(&self, slot: MailSlot, address_too: bool) {
        self.undo(&slot.hour_key).await;
        if address_too {
            self.undo(&slot.address_key).await;
        }
    }

    /// Takes a count back; a failure leaves it counted (the safe side) and is only logged.
    async fn undo(&self, key: &str) {
        let kind = key.split('#').next().unwrap_or_default();
        if let Err(err) = self.limits.undo(key, self.clock.now()).await {
            tracing::warn!(counter = kind, error = %err, "could not hand a mail count back");
        }
    }
}
