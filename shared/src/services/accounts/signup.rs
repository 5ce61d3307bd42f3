//! Sign-up, its confirmation and a resent code. A pending sign-up is never replaced while it
//! is young, so a stranger cannot put their password (or, for an administrator's address, get
//! the admin role) onto an address by signing it up again before its owner confirms.

use chrono::Duration;

use super::mail::MailAllowance;
use super::{
    check_code, check_password, AcceptedResponse, Accounts, ConfirmRequest, ConfirmResponse,
    EmailRequest, SignupRequest, SignupResponse, CODE_TTL, MAX_CODE_ATTEMPTS,
};
use crate::error::{AppError, AppResult};
use crate::model::{Account, AccountStatus, PendingConfirmation};
use crate::ports::Mail;
use crate::services::passwords;
use crate::services::tokens::sha256_hex;
use crate::services::validate::{normalize_email, text_field};

/// How long a pending sign-up holds its address against a new sign-up; an older one is
/// replaced by the next sign-up (API.md: `409 SIGNUP_PENDING` while younger).
pub const PENDING_SIGNUP_KEPT: Duration = Duration::hours(24);

/// The one answer of `POST /resend-confirmation`, whatever the address.
const RESEND_ACCEPTED: &str =
    "If this address has a sign-up waiting for confirmation, a new code is on its way.";

/// The confirmation mail. It names no one: the name was typed by whoever signed the address
/// up, who may not be its owner, so it must not put words into our mail.
fn confirmation_mail(email: &str, code: &str, now: chrono::DateTime<chrono::Utc>) -> Mail {
    Mail {
        to: email.to_string(),
        subject: "Your Festa confirmation code".into(),
        body: format!(
            "Your Festa confirmation code is {code}. It is valid for 24 hours.\n\n\
             If you did not sign up for Festa, ignore this mail: no account is made without \
             this code.\n"
        ),
        sent_at: now,
    }
}

impl Accounts {
    /// Registers an account and mails a 6-digit code. A confirmed address is `EMAIL_TAKEN`;
    /// a pending sign-up younger than [`PENDING_SIGNUP_KEPT`] is `SIGNUP_PENDING` (its
    /// password stays); an older one is replaced.
    pub async fn signup(&self, req: SignupRequest) -> AppResult<SignupResponse> {
        let email = normalize_email(&req.email)?;
        let name = text_field("name", &req.name, 1, 50, false)?;
        check_password(&req.password)?;
        let now = self.clock.now();
        let existing = self.accounts.get_account(&email).await?;
        let replaces = match &existing {
            None => None,
            Some(a) if a.status == AccountStatus::Confirmed => return Err(AppError::EmailTaken),
            Some(a) if now < a.created_at + PENDING_SIGNUP_KEPT => {
                return Err(AppError::SignupPending)
            }
            Some(a) => match &a.confirmation {
                Some(pending) => Some(pending.code_hash.clone()),
                None => return Err(AppError::SignupPending),
            },
        };
        let slot = match self.reserve_mail(&email).await? {
            MailAllowance::Granted(slot) => slot,
            MailAllowance::AddressCapped { retry_after } => {
                return Err(AppError::too_many_attempts(
                    "too many codes were mailed to this address today; try again later",
                    retry_after,
                ))
            }
        };
        let code = self.ids.new_code();
        let password_hash = match passwords::hash(req.password).await {
            Ok(hash) => hash,
            Err(err) => {
                self.release(slot, true).await;
                return Err(err);
            }
        };
        let account = Account {
            user_id: self.ids.new_id(),
            email: email.clone(),
            name,
            password_hash,
            status: AccountStatus::Unconfirmed,
            created_at: now,
            confirmation: Some(PendingConfirmation {
                code_hash: sha256_hex(&code),
                expires_at: now + CODE_TTL,
                failed_attempts: 0,
            }),
            password_reset: None,
        };
        match self
            .accounts
            .put_unconfirmed(&account, replaces.as_deref())
            .await
        {
            Ok(()) => {}
            // Either the address was confirmed meanwhile, or another sign-up for it won a race.
            Err(AppError::EmailTaken) => {
                self.release(slot, true).await;
                let now_held = self.accounts.get_account(&email).await?;
                return Err(match now_held {
                    Some(a) if a.status == AccountStatus::Confirmed => AppError::EmailTaken,
                    _ => AppError::SignupPending,
                });
            }
            Err(other) => {
                self.release(slot, true).await;
                return Err(other);
            }
        }
        // A mail that fails leaves the sign-up pending: its owner asks for the code again.
        self.send_in_slot(slot, confirmation_mail(&email, &code, now))
            .await?;
        Ok(SignupResponse {
            user_id: account.user_id,
            email,
            name: account.name,
            status: AccountStatus::Unconfirmed,
        })
    }

    /// Mails a fresh code for the address's pending sign-up (same password, same name), within
    /// the address's daily codes. Answers the same whether or not there is one, and past the
    /// daily codes sends nothing and still answers the same, so it reveals nothing.
    pub async fn resend_confirmation(&self, req: EmailRequest) -> AppResult<AcceptedResponse> {
        let email = normalize_email(&req.email)?;
        let accepted = AcceptedResponse {
            message: RESEND_ACCEPTED.into(),
        };
        let account = self.accounts.get_account(&email).await?;
        let slot = match self.reserve_mail(&email).await? {
            MailAllowance::Granted(slot) => slot,
            MailAllowance::AddressCapped { .. } => {
                tracing::info!("resend past the address's daily codes; nothing mailed");
                return Ok(accepted);
            }
        };
        let pending = account
            .filter(|a| a.status == AccountStatus::Unconfirmed)
            .and_then(|a| a.confirmation);
        let Some(pending) = pending else {
            // Nothing to mail; the request still counts for the address.
            self.release(slot, false).await;
            return Ok(accepted);
        };
        let now = self.clock.now();
        let code = self.ids.new_code();
        let fresh = PendingConfirmation {
            code_hash: sha256_hex(&code),
            expires_at: now + CODE_TTL,
            failed_attempts: 0,
        };
        match self
            .accounts
            .renew_code(&email, &pending.code_hash, &fresh)
            .await
        {
            Ok(()) => {}
            // Confirmed or replaced meanwhile: nothing to mail any more.
            Err(AppError::CodeMismatch) => {
                self.release(slot, false).await;
                return Ok(accepted);
            }
            Err(err) => {
                self.release(slot, true).await;
                return Err(err);
            }
        }
        self.send_in_slot(slot, confirmation_mail(&email, &code, now))
            .await?;
        Ok(accepted)
    }

    /// Confirms the account with the mailed code; locks after five wrong codes.
    pub async fn confirm(&self, req: ConfirmRequest) -> AppResult<ConfirmResponse> {
        let email = normalize_email(&req.email)?;
        let code = check_code(&req.code)?;
        let account = self
            .accounts
            .get_account(&email)
            .await?
            .ok_or(AppError::CodeMismatch)?;
        if account.status == AccountStatus::Confirmed {
            return Ok(ConfirmResponse {
                email,
                status: AccountStatus::Confirmed,
            });
        }
        let pending = account.confirmation.ok_or(AppError::CodeMismatch)?;
        self.try_code(
            &pending,
            code,
            self.accounts
                .reserve_code_attempt(&email, MAX_CODE_ATTEMPTS),
        )
        .await?;
        self.accounts
            .mark_confirmed(&email, &pending.code_hash, self.clock.now())
            .await?;
        Ok(ConfirmResponse {
            email,
            status: AccountStatus::Confirmed,
        })
    }
}
