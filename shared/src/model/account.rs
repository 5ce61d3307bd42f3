//! People and their logins.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Whether the owner of the e-mail address has proved it with the mailed code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    Unconfirmed,
    Confirmed,
}

impl AccountStatus {
    /// The stored and displayed spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Unconfirmed => "UNCONFIRMED",
            AccountStatus::Confirmed => "CONFIRMED",
        }
    }

    /// Reads the stored spelling back.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "UNCONFIRMED" => Some(AccountStatus::Unconfirmed),
            "CONFIRMED" => Some(AccountStatus::Confirmed),
            _ => None,
        }
    }
}

/// What a caller may do; admins are the addresses the deployment lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    /// The spelling used in tokens and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    /// Reads the token spelling back.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A mailed code still waiting to be typed in (a sign-up's confirmation code, or a password
/// reset code); only its hash is kept. How many codes an address may be mailed is counted
/// apart from the account (`RateLimits`), so unknown addresses are counted the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingConfirmation {
    pub code_hash: String,
    pub expires_at: DateTime<Utc>,
    /// Attempts at this code so far (each is reserved before the code is compared).
    pub failed_attempts: u32,
}

/// A person who signed up; keyed by the normalised e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user_id: String,
    pub email: String,
    pub name: String,
    /// Argon2id PHC string; never logged.
    pub password_hash: String,
    pub status: AccountStatus,
    pub created_at: DateTime<Utc>,
    /// The sign-up's confirmation code, while the account is unconfirmed.
    pub confirmation: Option<PendingConfirmation>,
    /// A password reset code mailed by `POST /forgot-password`, until it is used or replaced.
    pub password_reset: Option<PendingConfirmation>,
}

/// One login: the refresh-token chain it hands out and whether it was revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub session_id: String,
    pub user_id: String,
    pub email: String,
    pub name: String,
    /// Hash of the one refresh token that may be used next.
    pub refresh_hash: String,
    /// Hashes of refresh tokens already used, newest first; presenting one is theft.
    pub spent_hashes: Vec<String>,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
