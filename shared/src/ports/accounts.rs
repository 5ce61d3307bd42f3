use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::AppResult;
use crate::model::Account;

/// Where accounts live, keyed by normalised e-mail address.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The account for this address, if any.
    async fn get_account(&self, email: &str) -> AppResult<Option<Account>>;

    /// Stores a new unconfirmed account, replacing an unconfirmed one for the same address.
    /// Fails with `EmailTaken` when a confirmed account holds the address, even under races.
    async fn put_unconfirmed(&self, account: &Account) -> AppResult<()>;

    /// Counts one more wrong confirmation code atomically and returns the new count.
    async fn record_failed_code(&self, email: &str) -> AppResult<u32>;

    /// Marks the account confirmed and forgets its code.
    async fn mark_confirmed(&self, email: &str, at: DateTime<Utc>) -> AppResult<()>;
}
