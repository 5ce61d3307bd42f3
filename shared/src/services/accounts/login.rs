//! Login, with the lockout of an address after five failed logins in fifteen minutes, counted
//! in the shared [`RateLimits`](crate::ports::RateLimits) so every instance sees one count.

use chrono::Duration;

use super::{seconds_until, Accounts, LoginRequest, TokenPair, DUMMY_HASH};
use crate::error::{AppError, AppResult};
use crate::model::{AccountStatus, Session};
use crate::ports::Hit;
use crate::services::passwords;
use crate::services::tokens::{RefreshToken, REFRESH_TTL};
use crate::services::validate::normalize_email;

/// Failed logins one address may have in a [`LOGIN_WINDOW`]; then even the right password is
/// refused until the window ends.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// The window over which failed logins are counted (it opens at the first attempt).
pub const LOGIN_WINDOW: Duration = Duration::minutes(15);

/// The counter of an address's failed logins.
pub(super) fn login_key(email: &str) -> String {
    format!("LOGINFAIL#{email}")
}

impl Accounts {
    /// Checks the password and opens a new login. Every attempt is counted before the
    /// password is checked, so parallel guesses cannot outrun the limit, and a successful login
    /// clears the count; unknown addresses are counted the same way, so a `429` tells nothing.
    pub async fn login(&self, req: LoginRequest) -> AppResult<TokenPair> {
        // An address that cannot be valid cannot have an account: same answer as a wrong one.
        let Ok(email) = normalize_email(&req.email) else {
            return Err(AppError::InvalidCredentials);
        };
        let now = self.clock.now();
        let key = login_key(&email);
        let hit = self
            .limits
            .hit(&key, MAX_FAILED_LOGINS, LOGIN_WINDOW, now)
            .await?;
        if let Hit::Limited { resets_at } = hit {
            return Err(AppError::too_many_attempts(
                "too many failed logins for this address; try again later or reset the password",
                seconds_until(now, resets_at),
            ));
        }
        let account = self.accounts.get_account(&email).await?;
        let Some(account) = account else {
            // Spend the same time as a real check so unknown addresses cannot be told apart.
            passwords::verify(req.password, DUMMY_HASH.into()).await?;
            return Err(AppError::InvalidCredentials);
        };
        if !passwords::verify(req.password, account.password_hash.clone()).await? {
            return Err(AppError::InvalidCredentials);
        }
        self.limits.clear(&key).await?;
        if account.status != AccountStatus::Confirmed {
            return Err(AppError::UserNotConfirmed);
        }
        let refresh = RefreshToken {
            email: email.clone(),
            session_id: self.ids.new_id(),
            secret: self.ids.new_secret(),
        };
        let session = Session {
            session_id: refresh.session_id.clone(),
            user_id: account.user_id,
            email,
            name: account.name,
            refresh_hash: refresh.secret_hash(),
            spent_hashes: Vec::new(),
            revoked: false,
            created_at: now,
            expires_at: now + REFRESH_TTL,
        };
        self.sessions.create_session(&session).await?;
        self.token_pair(&session, &refresh).await
    }
}
