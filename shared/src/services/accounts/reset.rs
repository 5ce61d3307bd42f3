//! Password reset by a mailed code. The code proves the mailbox, so it also confirms a
//! pending account (the address's owner takes it over from whoever signed it up) and ends
//! every login the old password opened.

use chrono::Duration;

use super::login::login_key;
use super::mail::MailAllowance;
use super::{
    check_code, check_password, AcceptedResponse, Accounts, ConfirmForgotPasswordRequest,
    ConfirmResponse, EmailRequest, MAX_CODE_ATTEMPTS,
};
use crate::error::{AppError, AppResult};
use crate::model::{AccountStatus, PendingConfirmation};
use crate::ports::Mail;
use crate::services::passwords;
use crate::services::tokens::sha256_hex;
use crate::services::validate::normalize_email;

/// How long a password reset code is good for.
pub const RESET_CODE_TTL: Duration = Duration::hours(1);

/// The one answer of `POST /forgot-password`, whatever the address.
const FORGOT_ACCEPTED: &str =
    "If this address has an account, a password reset code is on its way.";

impl Accounts {
    /// Mails a 6-digit reset code valid for an hour if the address has an account (pending or
    /// confirmed); answers the same if it has none. Requests are counted per address whether
    /// or not it has an account, so the `429` past the daily codes reveals nothing either.
    pub async fn forgot_password(&self, req: EmailRequest) -> AppResult<AcceptedResponse> {
        let email = normalize_email(&req.email)?;
        let slot = match self.reserve_mail(&email).await? {
            MailAllowance::Granted(slot) => slot,
            MailAllowance::AddressCapped { retry_after } => {
                return Err(AppError::too_many_attempts(
                    "too many reset codes were requested for this address today; try again later",
                    retry_after,
                ))
            }
        };
        let now = self.clock.now();
        let code = self.ids.new_code();
        let reset = PendingConfirmation {
            code_hash: sha256_hex(&code),
            expires_at: now + RESET_CODE_TTL,
            failed_attempts: 0,
        };
        let stored = match self.accounts.put_reset_code(&email, &reset).await {
            Ok(stored) => stored,
            Err(err) => {
                self.release(slot, true).await;
                return Err(err);
            }
        };
        if stored {
            // No name in it: whoever signed the address up chose the name.
            let mail = Mail {
                to: email,
                subject: "Your Festa password reset code".into(),
                body: format!(
                    "Your Festa password reset code is {code}. It is valid for 1 hour.\n\n\
                     If you did not ask to reset your password, ignore this mail: your password \
                     stays as it is.\n"
                ),
                sent_at: now,
            };
            self.send_in_slot(slot, mail).await?;
        } else {
            // No account: nothing to mail, but the request still counts for the address.
            self.release(slot, false).await;
        }
        Ok(AcceptedResponse {
            message: FORGOT_ACCEPTED.into(),
        })
    }

    /// Replaces the password with the mailed reset code, confirms a pending account, ends
    /// every login of the user and forgets the address's failed logins. Five wrong codes lock
    /// the code (each attempt is reserved before the comparison).
    pub async fn confirm_forgot_password(
        &self,
        req: ConfirmForgotPasswordRequest,
    ) -> AppResult<ConfirmResponse> {
        let email = normalize_email(&req.email)?;
        let code = check_code(&req.code)?;
        check_password(&req.new_password)?;
        let account = self
            .accounts
            .get_account(&email)
            .await?
            .ok_or(AppError::CodeMismatch)?;
        let reset = account.password_reset.ok_or(AppError::CodeMismatch)?;
        self.try_code(
            &reset,
            code,
            self.accounts
                .reserve_reset_attempt(&email, MAX_CODE_ATTEMPTS),
        )
        .await?;
        let password_hash = passwords::hash(req.new_password).await?;
        self.accounts
            .reset_password(&email, &reset.code_hash, &password_hash, self.clock.now())
            .await?;
        self.revoke_every_login(&email, &account.user_id).await?;
        // The owner proved the mailbox: a lockout from someone's guesses is over for them.
        self.limits.clear(&login_key(&email)).await?;
        Ok(ConfirmResponse {
            email,
            status: AccountStatus::Confirmed,
        })
    }
}
