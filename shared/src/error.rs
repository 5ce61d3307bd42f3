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
    #[error(
        "too many confirmation attempts; sign up again for a new code (at most 5 codes a day)"
    )]
    TooManyAttempts,
    #[error("the e-mail address or password is wrong")]
    InvalidCredentials,
    #[error("the account is not confirmed yet")]
    UserNotConfirmed,
    #[error("no festival has this id")]
    FestivalNotFound,
    #[error("{0}")]
    NotFound(String),
    #[error("this festival's waiting room has not admitted you, or your admission has expired; join the waiting room first")]
    QueueAdmissionRequired,
    #[error("no tickets are left for this date")]
    SoldOut,
    #[error("you already hold a reservation for this festival date")]
    AlreadyReserved,
    #[error("join this chat room first")]
    NotAMember,
    #[error("{0}")]
    RateLimited(String),
    /// A fault of ours or of a dependency; its text is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

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
            AppError::EmailTaken | AppError::SoldOut | AppError::AlreadyReserved => {
                StatusCode::CONFLICT
            }
            AppError::QueueAdmissionRequired => StatusCode::FORBIDDEN,
            AppError::NotAMember => StatusCode::FORBIDDEN,
            AppError::TooManyAttempts | AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::FestivalNotFound | AppError::NotFound(_) => StatusCode::NOT_FOUND,
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
            AppError::TooManyAttempts => "TOO_MANY_ATTEMPTS",
            AppError::InvalidCredentials => "INVALID_CREDENTIALS",
            AppError::UserNotConfirmed => "USER_NOT_CONFIRMED",
            AppError::FestivalNotFound => "FESTIVAL_NOT_FOUND",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::QueueAdmissionRequired => "QUEUE_ADMISSION_REQUIRED",
            AppError::SoldOut => "SOLD_OUT",
            AppError::AlreadyReserved => "ALREADY_RESERVED",
            AppError::NotAMember => "NOT_A_MEMBER",
            AppError::RateLimited(_) => "RATE_LIMITED",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    /// The problem document; internal details are replaced by a generic sentence.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let detail = match self {
            AppError::Internal(_) => "something went wrong on our side; try again".to_string(),
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
    fn codes_and_statuses_follow_the_contract() {
        let cases = [
            (AppError::validation("x"), 400, "VALIDATION_FAILED"),
            (AppError::PayloadTooLarge(65536), 413, "PAYLOAD_TOO_LARGE"),
            (AppError::EmailTaken, 409, "EMAIL_TAKEN"),
            (AppError::CodeExpired, 400, "CODE_EXPIRED"),
            (AppError::TooManyAttempts, 429, "TOO_MANY_ATTEMPTS"),
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
