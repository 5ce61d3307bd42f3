use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::AppResult;
use crate::model::{Account, PendingConfirmation};

/// Where accounts live, keyed by normalised e-mail address.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The account for this address, if any.
    async fn get_account(&self, email: &str) -> AppResult<Option<Account>>;

    /// Stores an unconfirmed account: a new address when `replaces` is `None`, otherwise in
    /// place of the pending sign-up whose code hash is `replaces`. Anything else found there (a
    /// confirmed account, or a sign-up that changed meanwhile) is `EmailTaken`.
    async fn put_unconfirmed(&self, account: &Account, replaces: Option<&str>) -> AppResult<()>;

    /// Gives a pending sign-up a fresh code in place of the one whose hash is `replaces`,
    /// keeping everything else (password, name, age, a pending reset code); the new code starts
    /// with no attempts. `CodeMismatch` when the sign-up is not pending with that code any more.
    async fn renew_code(
        &self,
        email: &str,
        replaces: &str,
        code: &PendingConfirmation,
    ) -> AppResult<()>;

    /// Takes one attempt at the pending code, atomically, if fewer than `max` were taken:
    /// returns the new count, `TooManyAttempts` past the limit, `CodeMismatch` with no code.
    async fn reserve_code_attempt(&self, email: &str, max: u32) -> AppResult<u32>;

    /// Confirms the account if `code_hash` is still its pending code (`CodeMismatch` otherwise)
    /// and forgets the code.
    async fn mark_confirmed(
        &self,
        email: &str,
        code_hash: &str,
        at: DateTime<Utc>,
    ) -> AppResult<()>;

    /// Sets the account's password reset code (pending or confirmed account alike), in place of
    /// any earlier one, with no attempts taken. Returns false, storing nothing, when the
    /// address has no account.
    async fn put_reset_code(&self, email: &str, reset: &PendingConfirmation) -> AppResult<bool>;

    /// Takes one attempt at the reset code, atomically, if fewer than `max` were taken: returns
    /// the new count, `TooManyAttempts` past the limit, `CodeMismatch` with no reset code.
    async fn reserve_reset_attempt(&self, email: &str, max: u32) -> AppResult<u32>;

    /// If `code_hash` is still the reset code: replaces the password hash, confirms the account
    /// (the code proved the mailbox) and forgets both codes. `CodeMismatch` otherwise, changing
    /// nothing.
    async fn reset_password(
        &self,
        email: &str,
        code_hash: &str,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> AppResult<()>;
}
