use async_trait::async_trait;

use crate::error::AppResult;
use crate::model::Session;

/// Where logins live, keyed by (e-mail, session id).
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new login.
    async fn create_session(&self, session: &Session) -> AppResult<()>;

    /// Reads a login with strong consistency (a sign-out must be seen at once).
    async fn get_session(&self, email: &str, session_id: &str) -> AppResult<Option<Session>>;

    /// Moves the login to the next refresh token if `current_hash` is still the live one and
    /// the login is not revoked. Returns false when another refresh won the race.
    async fn rotate_refresh(
        &self,
        email: &str,
        session_id: &str,
        current_hash: &str,
        next_hash: &str,
        spent_hashes: &[String],
    ) -> AppResult<bool>;

    /// Revokes one login.
    async fn revoke_session(&self, email: &str, session_id: &str) -> AppResult<()>;

    /// Revokes every login of the address; returns how many were live.
    async fn revoke_all_sessions(&self, email: &str) -> AppResult<u32>;
}
