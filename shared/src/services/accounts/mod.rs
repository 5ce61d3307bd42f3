//! Sign-up with a mailed code, password reset, login, refresh-token rotation and sign-out,
//! with the abuse limits that keep them from being used against someone else's address:
//! a pending sign-up is never replaced while young (no takeover), codes and failed logins are
//! capped per address, and the deployment's mail per hour is capped as a whole.
//!
//! The rules are split by concern: [`signup`] (sign-up, confirmation, resend), [`reset`]
//! (forgot / confirm-forgot password), [`login`] (login and its lockout) and [`mail`] (the
//! mail caps); the types and the session rules are here.

mod login;
mod mail;
mod reset;
mod signup;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::tokens::{sha256_hex, Identity, RefreshToken, TokenKeys, ACCESS_TTL};
use crate::error::{AppError, AppResult};
use crate::model::{AccountStatus, PendingConfirmation, Role, Session};
use crate::ports::{
    AccountStore, Clock, IdSource, Mailer, RateLimits, SessionStore, SocketEviction,
};
use crate::prefetch::Prefetched;

pub use login::{LOGIN_WINDOW, MAX_FAILED_LOGINS};
pub use mail::{mail_hour_key, CODE_WINDOW, MAX_CODES_PER_WINDOW};
pub use reset::RESET_CODE_TTL;
pub use signup::PENDING_SIGNUP_KEPT;

/// How long a mailed confirmation code is good for.
pub const CODE_TTL: Duration = Duration::hours(24);
/// Wrong codes tolerated before the code is locked.
pub const MAX_CODE_ATTEMPTS: u32 = 5;
/// Spent refresh hashes remembered per login, to recognise a replayed one.
const SPENT_HASHES_KEPT: usize = 32;

/// `POST /signup` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignupRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    #[schema(min_length = 1, max_length = 50)]
    pub name: String,
}

/// `POST /signup` answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignupResponse {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub status: AccountStatus,
}

/// `POST /confirm-signup` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(pattern = "^[0-9]{6}$")]
    pub code: String,
}

/// `POST /confirm-signup` answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmResponse {
    pub email: String,
    pub status: AccountStatus,
}

/// `POST /resend-confirmation` and `POST /forgot-password` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmailRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
}

/// `POST /confirm-forgot-password` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmForgotPasswordRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(pattern = "^[0-9]{6}$")]
    pub code: String,
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// The `202` of `POST /resend-confirmation` and `POST /forgot-password`: the same words
/// whether or not the address has an account, so the answer tells a stranger nothing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedResponse {
    pub message: String,
}

/// `POST /login` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// `POST /refresh-token` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// The token pair that login and refresh hand out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// `GET /verify-token` answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    pub valid: bool,
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: String,
}

impl From<&Identity> for VerifyResponse {
    fn from(id: &Identity) -> Self {
        VerifyResponse {
            valid: true,
            user_id: id.user_id.clone(),
            email: id.email.clone(),
            name: id.name.clone(),
            role: id.role,
            expires_at: crate::model::timestamp::format(&id.expires_at),
        }
    }
}

/// Everything the account rules need.
#[derive(Clone)]
pub struct Accounts {
    pub accounts: Arc<dyn AccountStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    /// Only the functions that sign or check tokens hold the key (least privilege); in AWS it
    /// may still be on its way from Secrets Manager when the first request arrives.
    pub keys: Option<Prefetched<TokenKeys>>,
    /// Normalised addresses that get the admin role.
    pub admins: Arc<HashSet<String>>,
    /// The abuse counters every instance shares (failed logins, mails per address and per
    /// deployment hour).
    pub limits: Arc<dyn RateLimits>,
    /// Mails the whole deployment may send in one hour (`MAIL_HOURLY_LIMIT`): a flood of
    /// sign-ups at random addresses stops there instead of at the SES bill.
    pub mail_hourly_limit: u32,
    /// Closes the user's chat connections when their logins end (sign-out, password reset):
    /// a revoked login must not keep talking over a socket it opened earlier. Functions that
    /// never end logins hold a refusing one.
    pub eviction: Arc<dyn SocketEviction>,
}

impl Accounts {
    /// Spends a refresh token for a new pair; a spent one revokes its whole login.
    pub async fn refresh(&self, req: RefreshRequest) -> AppResult<TokenPair> {
        let refused = || AppError::Unauthorized("the refresh token is invalid".into());
        let presented = RefreshToken::parse(&req.refresh_token).ok_or_else(refused)?;
        let session = self
            .sessions
            .get_session(&presented.email, &presented.session_id)
            .await?
            .ok_or_else(refused)?;
        if session.revoked || session.expires_at <= self.clock.now() {
            return Err(refused());
        }
        let presented_hash = presented.secret_hash();
        if session.spent_hashes.contains(&presented_hash) {
            tracing::warn!(session_id = %session.session_id, "spent refresh token replayed; login revoked");
            self.sessions
                .revoke_session(&session.email, &session.session_id)
                .await?;
            return Err(refused());
        }
        if presented_hash != session.refresh_hash {
            return Err(refused());
        }
        let next = RefreshToken {
            secret: self.ids.new_secret(),
            ..presented
        };
        let mut spent = Vec::with_capacity(SPENT_HASHES_KEPT);
        spent.push(presented_hash.clone());
        spent.extend(
            session
                .spent_hashes
                .iter()
                .take(SPENT_HASHES_KEPT - 1)
                .cloned(),
        );
        let rotated = self
            .sessions
            .rotate_refresh(
                &session.email,
                &session.session_id,
                &presented_hash,
                &next.secret_hash(),
                &spent,
            )
            .await?;
        if !rotated {
            // Another request spent this token first: the same token used twice.
            self.sessions
                .revoke_session(&session.email, &session.session_id)
                .await?;
            return Err(refused());
        }
        self.token_pair(&session, &next).await
    }

    /// Ends every login of the caller and closes their chat connections.
    pub async fn signout(&self, caller: &Identity) -> AppResult<()> {
        self.revoke_every_login(&caller.email, &caller.user_id)
            .await
    }

    /// Ends every login of a user: sign-out and a password reset both end here. Revokes
    /// every session (refresh tokens die at once; access tokens are refused by every check of
    /// the login from then on), then closes their open WebSocket connections, whose frames
    /// are refused from the moment they leave presence. In this order, a connection opened
    /// meanwhile either is found and closed here, or its `$connect` reads the login again
    /// after registering and finds it revoked. A failure to close is reported (the logins are
    /// revoked already; a retry closes what is left).
    async fn revoke_every_login(&self, email: &str, user_id: &str) -> AppResult<()> {
        let revoked = self.sessions.revoke_all_sessions(email).await?;
        tracing::info!(user_id, revoked, "every login of the user revoked");
        self.eviction.close_user_connections(user_id).await
    }

    /// The signing key; a function deployed without one (`JWT_SECRET_ARN`, or `JWT_SECRET`
    /// locally) cannot issue or check tokens.
    pub async fn token_keys(&self) -> AppResult<&TokenKeys> {
        self.keys
            .as_ref()
            .ok_or_else(|| AppError::internal("JWT_SECRET is not configured for this function"))?
            .get()
            .await
    }

    async fn token_pair(&self, session: &Session, refresh: &RefreshToken) -> AppResult<TokenPair> {
        let now = self.clock.now();
        let identity = Identity {
            user_id: session.user_id.clone(),
            email: session.email.clone(),
            name: session.name.clone(),
            role: role_for(&self.admins, &session.email),
            session_id: session.session_id.clone(),
            expires_at: now + ACCESS_TTL,
        };
        Ok(TokenPair {
            access_token: self.token_keys().await?.issue(&identity, now)?,
            refresh_token: refresh.encode(),
            token_type: "Bearer".into(),
            expires_in: ACCESS_TTL.num_seconds(),
        })
    }
}

/// The role the deployment grants this address.
pub fn role_for(admins: &HashSet<String>, email: &str) -> Role {
    if admins.contains(email) {
        Role::Admin
    } else {
        Role::User
    }
}

/// Checks a bearer token: signature, expiry, and that its login is still live.
pub async fn authenticate(
    keys: &TokenKeys,
    sessions: &dyn SessionStore,
    clock: &dyn Clock,
    authorization: Option<&str>,
) -> AppResult<Identity> {
    let header = authorization.ok_or_else(|| {
        AppError::Unauthorized("an Authorization: Bearer token is required".into())
    })?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
        })?;
    let now = clock.now();
    let identity = keys.decode(token, now)?;
    let live = sessions
        .get_session(&identity.email, &identity.session_id)
        .await?
        .is_some_and(|s| !s.revoked && s.expires_at > now);
    if !live {
        return Err(AppError::Unauthorized(
            "the login has ended; log in again".into(),
        ));
    }
    Ok(identity)
}

/// The password rules of sign-up and reset: 8 to 128 characters.
fn check_password(password: &str) -> AppResult<()> {
    let chars = password.chars().count();
    if chars < 8 {
        return Err(AppError::validation(
            "password must be at least 8 characters",
        ));
    }
    if chars > 128 {
        return Err(AppError::validation(
            "password must be at most 128 characters",
        ));
    }
    Ok(())
}

/// A mailed code as typed: exactly six digits (surrounding blanks forgiven).
fn check_code(code: &str) -> AppResult<&str> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::validation(
            "code must be the 6 digits from the e-mail",
        ));
    }
    Ok(code)
}

impl Accounts {
    /// Tries a mailed code (confirmation or reset) against the pending one: a code that took
    /// its five wrong tries, or has expired, is refused before anything is counted; otherwise
    /// `reserve_attempt` takes one try in the store, atomically, before the comparison, so
    /// parallel guesses cannot outrun the limit.
    async fn try_code(
        &self,
        pending: &PendingConfirmation,
        code: &str,
        reserve_attempt: impl std::future::Future<Output = AppResult<u32>>,
    ) -> AppResult<()> {
        if pending.failed_attempts >= MAX_CODE_ATTEMPTS {
            return Err(AppError::code_attempts_exhausted());
        }
        if pending.expires_at <= self.clock.now() {
            return Err(AppError::CodeExpired);
        }
        reserve_attempt.await?;
        if sha256_hex(code) != pending.code_hash {
            return Err(AppError::CodeMismatch);
        }
        Ok(())
    }
}

/// Whole seconds from `now` until `at`, at least 1: a `Retry-After`.
fn seconds_until(now: chrono::DateTime<chrono::Utc>, at: chrono::DateTime<chrono::Utc>) -> u64 {
    let millis = (at - now).num_milliseconds().max(0) as u64;
    millis.div_ceil(1000).max(1)
}

/// A real Argon2id hash of a random password, so unknown addresses cost a real verification.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0y2xJ3bW2y0wHqkq3m0m3mJ6cQh7m0c2Xb0x3n5aJ9E";

#[cfg(test)]
mod tests {
    use argon2::PasswordHash;

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        // If it did not parse, unknown addresses would be answered faster than wrong passwords.
        let parsed = PasswordHash::new(super::DUMMY_HASH).expect("a PHC string");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(parsed.hash.is_some());
    }
}
