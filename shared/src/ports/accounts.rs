use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::AppResult;
use crate::model::Account;

/// Where accounts live, keyed by normalised e-mail address.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The account for this address, if any.
    async fn get_account(&self, email: &str) -> AppResult<Option<Account>>;

    /// Stores an unconfirmed account: a new address when `replaces` is `None`, otherwise in
    /// place of the pending sign-up whose code hash is `replaces`. Anything else found there (a
    /// confirmed account, or a sign-up that changed meanwhile) is `EmailTaken`.
    async fn put_unconfirmed(&self, account: &Account, replaces: Option<&str>) -> AppResult<()>;

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
}
