//! Sign-up with a mailed code, login, refresh-token rotation and sign-out.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::passwords;
use super::tokens::{sha256_hex, Identity, RefreshToken, TokenKeys, ACCESS_TTL, REFRESH_TTL};
use super::validate::{normalize_email, text_field};
use crate::error::{AppError, AppResult};
use crate::model::{Account, AccountStatus, PendingConfirmation, Role, Session};
use crate::ports::{AccountStore, Clock, IdSource, Mail, Mailer, SessionStore, SocketEviction};
use crate::prefetch::Prefetched;

/// How long a mailed code is good for.
pub const CODE_TTL: Duration = Duration::hours(24);
/// Wrong codes tolerated before the code is locked.
pub const MAX_CODE_ATTEMPTS: u32 = 5;
/// Codes one address may be mailed per window; with [`MAX_CODE_ATTEMPTS`] this bounds the
/// guesses at a stranger's address to 25 a day.
pub const MAX_CODES_PER_WINDOW: u32 = 5;
/// The window over which codes are counted.
pub const CODE_WINDOW: Duration = Duration::hours(24);
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
    /// Closes the user's chat connections when their logins end (sign-out, password reset):
    /// a revoked login must not keep talking over a socket it opened earlier. Functions that
    /// never end logins hold a refusing one.
    pub eviction: Arc<dyn SocketEviction>,
}

impl Accounts {
    /// Registers (or re-registers an unconfirmed) account and mails a 6-digit code.
    pub async fn signup(&self, req: SignupRequest) -> AppResult<SignupResponse> {
        let email = normalize_email(&req.email)?;
        let name = text_field("name", &req.name, 1, 50, false)?;
        let password_chars = req.password.chars().count();
        if password_chars < 8 {
            return Err(AppError::validation(
                "password must be at least 8 characters",
            ));
        }
        if password_chars > 128 {
            return Err(AppError::validation(
                "password must be at most 128 characters",
            ));
        }
        let existing = self.accounts.get_account(&email).await?;
        if existing
            .as_ref()
            .is_some_and(|a| a.status == AccountStatus::Confirmed)
        {
            return Err(AppError::EmailTaken);
        }
        let now = self.clock.now();
        // Each new code resets the attempts, so codes per address are capped per window.
        let previous = existing.as_ref().and_then(|a| a.confirmation.as_ref());
        let (codes_sent, window_started_at) = match previous {
            Some(p) if now < p.window_started_at + CODE_WINDOW => {
                (p.codes_sent + 1, p.window_started_at)
            }
            _ => (1, now),
        };
        if codes_sent > MAX_CODES_PER_WINDOW {
            return Err(AppError::code_attempts_exhausted());
        }
        let replaces = previous.map(|p| p.code_hash.clone());
        let code = self.ids.new_code();
        let account = Account {
            user_id: existing.map_or_else(|| self.ids.new_id(), |a| a.user_id),
            email: email.clone(),
            name,
            password_hash: passwords::hash(req.password).await?,
            status: AccountStatus::Unconfirmed,
            created_at: now,
            confirmation: Some(PendingConfirmation {
                code_hash: sha256_hex(&code),
                expires_at: now + CODE_TTL,
                failed_attempts: 0,
                codes_sent,
                window_started_at,
            }),
        };
        match self
            .accounts
            .put_unconfirmed(&account, replaces.as_deref())
            .await
        {
            Ok(()) => {}
            // Either the address was confirmed meanwhile, or another sign-up for it won a race.
            Err(AppError::EmailTaken) => {
                let now_held = self.accounts.get_account(&email).await?;
                return Err(match now_held {
                    Some(a) if a.status == AccountStatus::Confirmed => AppError::EmailTaken,
                    _ => AppError::code_attempts_exhausted(),
                });
            }
            Err(other) => return Err(other),
        }
        self.mailer
            .send(&Mail {
                to: email.clone(),
                subject: "Your Festa confirmation code".into(),
                body: format!(
                    "Hello {},\n\nyour Festa confirmation code is {code}. It is valid for 24 hours.\n",
                    account.name
                ),
                sent_at: now,
            })
            .await?;
        Ok(SignupResponse {
            user_id: account.user_id,
            email,
            name: account.name,
            status: AccountStatus::Unconfirmed,
        })
    }

    /// Confirms the account with the mailed code; locks after five wrong codes.
    pub async fn confirm(&self, req: ConfirmRequest) -> AppResult<ConfirmResponse> {
        let email = normalize_email(&req.email)?;
        let code = req.code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::validation(
                "code must be the 6 digits from the e-mail",
            ));
        }
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
        if pending.failed_attempts >= MAX_CODE_ATTEMPTS {
            return Err(AppError::code_attempts_exhausted());
        }
        if pending.expires_at <= self.clock.now() {
            return Err(AppError::CodeExpired);
        }
        // The attempt is taken before the comparison, so parallel guesses cannot outrun the limit.
        self.accounts
            .reserve_code_attempt(&email, MAX_CODE_ATTEMPTS)
            .await?;
        if sha256_hex(code) != pending.code_hash {
            return Err(AppError::CodeMismatch);
        }
        self.accounts
            .mark_confirmed(&email, &pending.code_hash, self.clock.now())
            .await?;
        Ok(ConfirmResponse {
            email,
            status: AccountStatus::Confirmed,
        })
    }

    /// Checks the password and opens a new login.
    pub async fn login(&self, req: LoginRequest) -> AppResult<TokenPair> {
        // An address that cannot be valid cannot have an account: same answer as a wrong one.
        let Ok(email) = normalize_email(&req.email) else {
            return Err(AppError::InvalidCredentials);
        };
        let account = self.accounts.get_account(&email).await?;
        let Some(account) = account else {
            // Spend the same time as a real check so unknown addresses cannot be told apart.
            passwords::verify(req.password, DUMMY_HASH.into()).await?;
            return Err(AppError::InvalidCredentials);
        };
        if !passwords::verify(req.password, account.password_hash.clone()).await? {
            return Err(AppError::InvalidCredentials);
        }
        if account.status != AccountStatus::Confirmed {
            return Err(AppError::UserNotConfirmed);
        }
        let now = self.clock.now();
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

    /// Revokes every session of the user (refresh tokens die at once; access tokens are
    /// refused by every check of the login from then on), then closes their open WebSocket
    /// connections, whose frames are refused from the moment they leave presence. In this
    /// order, a connection opened meanwhile either is found and closed here, or its `$connect`
    /// reads the login again after registering and finds it revoked. A failure to close is
    /// reported (the logins are revoked already; a retry closes what is left).
    async fn revoke_every_login(&self, email: &str, user_id: &str) -> AppResult<()> {
        self.sessions.revoke_all_sessions(email).await?;
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
