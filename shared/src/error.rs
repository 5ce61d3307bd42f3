//! The one error type of the platform and its RFC 9457 problem document.

use http::StatusCode;
use serde::Serialize;

/// Every failure a service can report; each maps to one status and one stable `code`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Validation(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("an account with this e-mail address already exists")]
    EmailTaken,
    #[error("the confirmation code does not match")]
    CodeMismatch,
    #[error("the confirmation code has expired; sign up again for a new one")]
    CodeExpired,
    /// A per-address limit (codes, mails, failed logins) was reached; try again after
    /// `retry_after` seconds.
    #[error("{message}")]
    TooManyAttempts { message: String, retry_after: u64 },
    #[error("the e-mail address or password is wrong")]
    InvalidCredentials,
    #[error("the account is not confirmed yet")]
    UserNotConfirmed,
    #[error("an unconfirmed sign-up for this address is pending; confirm it with the mailed code, ask for the code again, or reset the password")]
    SignupPending,
    #[error("no festival has this id")]
    FestivalNotFound,
    #[error("this festival is over")]
    FestivalEnded,
    #[error("{0}")]
    NotFound(String),
    #[error("this festival's waiting room has not admitted you, or your admission has expired; join the waiting room first")]
    QueueAdmissionRequired,
    #[error("no tickets are left for this date")]
    SoldOut,
    #[error("you already hold a reservation for this festival date")]
    AlreadyReserved,
    #[error("this festival date has already begun and can no longer be booked")]
    DatePassed,
    #[error("join this chat room first")]
    NotAMember,
    #[error("{0}")]
    RateLimited(String),
    /// A backing store (Redis, DynamoDB, a queue) is down or too slow; the caller may retry
    /// after [`SERVICE_RETRY_AFTER_SECS`]. Its text is logged, never shown.
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    /// A fault of ours or of a dependency; its text is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Seconds a caller should wait after a `503 SERVICE_UNAVAILABLE`.
pub const SERVICE_RETRY_AFTER_SECS: u64 = 2;
/// Seconds a caller should wait after a chat `RATE_LIMITED` (the limit is per second).
pub const RATE_LIMIT_RETRY_AFTER_SECS: u64 = 1;

/// Shorthand for results across the domain.
pub type AppResult<T> = Result<T, AppError>;

/// The RFC 9457 body every error answer carries.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
}

impl AppError {
    /// Wraps a dependency failure so its message reaches the logs but not the caller.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        AppError::Internal(err.to_string())
    }

    /// Wraps an outage of a backing store: logged, answered `503` with `Retry-After`.
    pub fn unavailable(err: impl std::fmt::Display) -> Self {
        AppError::ServiceUnavailable(err.to_string())
    }

    /// A `429 TOO_MANY_ATTEMPTS` that says what to do and when to come back.
    pub fn too_many_attempts(message: impl Into<String>, retry_after: u64) -> Self {
        AppError::TooManyAttempts {
            message: message.into(),
            retry_after: retry_after.max(1),
        }
    }

    /// The pending code took its five wrong tries: only a new code (resend, or a password
    /// reset) helps, so the wait is nominal.
    pub fn code_attempts_exhausted() -> Self {
        Self::too_many_attempts(
            "too many wrong codes; ask for a new code (at most 5 codes a day)",
            60,
        )
    }

    /// Seconds the caller should wait before trying again (`Retry-After`), for the errors
    /// that are about time rather than about the request.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::TooManyAttempts { retry_after, .. } => Some(*retry_after),
            AppError::RateLimited(_) => Some(RATE_LIMIT_RETRY_AFTER_SECS),
            AppError::ServiceUnavailable(_) => Some(SERVICE_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    /// A 400 with a message that tells the caller what to fix.
    pub fn validation(msg: impl Into<String>) -> Self {
        AppError::Validation(msg.into())
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_) | AppError::CodeMismatch | AppError::CodeExpired => {
                StatusCode::BAD_REQUEST
            }
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unauthorized(_) | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::UserNotConfirmed => StatusCode::FORBIDDEN,
            AppError::EmailTaken
            | AppError::SignupPending
            | AppError::SoldOut
            | AppError::AlreadyReserved
            | AppError::DatePassed
            | AppError::FestivalEnded => StatusCode::CONFLICT,
            AppError::QueueAdmissionRequired => StatusCode::FORBIDDEN,
            AppError::NotAMember => StatusCode::FORBIDDEN,
            AppError::TooManyAttempts { .. } | AppError::RateLimited(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::FestivalNotFound | AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code of API.md.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "VALIDATION_FAILED",
            AppError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            AppError::Unauthorized(_) => "UNAUTHORIZED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::EmailTaken => "EMAIL_TAKEN",
            AppError::CodeMismatch => "CODE_MISMATCH",
            AppError::CodeExpired => "CODE_EXPIRED",
            AppError::TooManyAttempts { .. } => "TOO_MANY_ATTEMPTS",
            AppError::InvalidCredentials => "INVALID_CREDENTIALS",
            AppError::UserNotConfirmed => "USER_NOT_CONFIRMED",
            AppError::SignupPending => "SIGNUP_PENDING",
            AppError::FestivalNotFound => "FESTIVAL_NOT_FOUND",
            AppError::FestivalEnded => "FESTIVAL_ENDED",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::QueueAdmissionRequired => "QUEUE_ADMISSION_REQUIRED",
            AppError::SoldOut => "SOLD_OUT",
            AppError::AlreadyReserved => "ALREADY_RESERVED",
            AppError::DatePassed => "DATE_PASSED",
            AppError::NotAMember => "NOT_A_MEMBER",
            AppError::RateLimited(_) => "RATE_LIMITED",
            AppError::ServiceUnavailable(_) => "SERVICE_UNAVAILABLE",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    /// The problem document; internal details are replaced by a generic sentence.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let detail = match self {
            AppError::Internal(_) => "something went wrong on our side; try again".to_string(),
            AppError::ServiceUnavailable(_) => {
                "the service is briefly unavailable; try again in a moment".to_string()
            }
            other => other.to_string(),
        };
        Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail,
            code: self.code().into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_never_reach_the_caller() {
        let p = AppError::internal("dynamo exploded at table secret-table").problem();
        assert_eq!(p.status, 500);
        assert_eq!(p.code, "INTERNAL");
        assert!(!p.detail.contains("secret-table"));
    }

    #[test]
    fn outages_hide_their_cause_and_say_when_to_retry() {
        let err = AppError::unavailable("redis at 10.0.0.7:6379 refused");
        assert!(!err.problem().detail.contains("10.0.0.7"));
        assert_eq!(err.retry_after(), Some(SERVICE_RETRY_AFTER_SECS));
        assert_eq!(
            AppError::too_many_attempts("wait", 0).retry_after(),
            Some(1)
        );
        assert_eq!(AppError::SoldOut.retry_after(), None);
    }

    #[test]
    fn codes_and_statuses_follow_the_contract() {
        let cases = [
            (AppError::validation("x"), 400, "VALIDATION_FAILED"),
            (AppError::PayloadTooLarge(65536), 413, "PAYLOAD_TOO_LARGE"),
            (AppError::EmailTaken, 409, "EMAIL_TAKEN"),
            (AppError::CodeExpired, 400, "CODE_EXPIRED"),
            (
                AppError::too_many_attempts("slow down", 60),
                429,
                "TOO_MANY_ATTEMPTS",
            ),
            (AppError::SignupPending, 409, "SIGNUP_PENDING"),
            (AppError::DatePassed, 409, "DATE_PASSED"),
            (AppError::FestivalEnded, 409, "FESTIVAL_ENDED"),
            (AppError::unavailable("redis"), 503, "SERVICE_UNAVAILABLE"),
            (AppError::InvalidCredentials, 401, "INVALID_CREDENTIALS"),
            (AppError::UserNotConfirmed, 403, "USER_NOT_CONFIRMED"),
            (AppError::FestivalNotFound, 404, "FESTIVAL_NOT_FOUND"),
            (
                AppError::QueueAdmissionRequired,
                403,
                "QUEUE_ADMISSION_REQUIRED",
            ),
            (AppError::SoldOut, 409, "SOLD_OUT"),
            (AppError::AlreadyReserved, 409, "ALREADY_RESERVED"),
        ];
        for (err, status, code) in cases {
            let p = err.problem();
            assert_eq!((p.status, p.code.as_str()), (status, code));
            assert_eq!(p.kind, "about:blank");
        }
    }
}
