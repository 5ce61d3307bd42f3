//! `POST /notification/activate` and `/deactivate`: the caller's devices.

use std::sync::Arc;

use serde::Deserialize;

use super::super::tokens::Identity;
use crate::error::{AppError, AppResult};
use crate::model::{Device, Platform};
use crate::ports::{Clock, DeviceRegistry};

/// The longest FCM registration token accepted (real ones are a few hundred characters).
pub const MAX_TOKEN_LEN: usize = 4096;

/// `POST /notification/activate` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivateRequest {
    /// The device's FCM registration token.
    #[schema(min_length = 1, max_length = 4096)]
    pub fcm_token: String,
    #[serde(default)]
    pub platform: Option<Platform>,
}

/// `POST /notification/deactivate` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeactivateRequest {
    #[schema(min_length = 1, max_length = 4096)]
    pub fcm_token: String,
}

/// The device routes' service.
#[derive(Clone)]
pub struct Devices {
    pub registry: Arc<dyn DeviceRegistry>,
    pub clock: Arc<dyn Clock>,
}

/// A token as FCM issues them: visible ASCII, no spaces, at most [`MAX_TOKEN_LEN`].
fn checked_token(raw: &str) -> AppResult<&str> {
    let token = raw.trim();
    if token.is_empty()
        || token.len() > MAX_TOKEN_LEN
        || !token.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(AppError::validation(
            "fcmToken must be 1 to 4096 visible ASCII characters",
        ));
    }
    Ok(token)
}

impl Devices {
    /// Makes the token one of the caller's devices (moving it from anyone else).
    pub async fn activate(&self, caller: &Identity, request: ActivateRequest) -> AppResult<()> {
        let token = checked_token(&request.fcm_token)?;
        let device = Device {
            token: token.to_string(),
            platform: request.platform,
            activated_at: self.clock.now(),
        };
        self.registry.activate(&caller.email, &device).await
    }

    /// Stops pushes to the token if it is the caller's; a token that is not (never was, or
    /// moved on to someone else) is left alone, and the answer is the same.
    pub async fn deactivate(&self, caller: &Identity, request: DeactivateRequest) -> AppResult<()> {
        let token = checked_token(&request.fcm_token)?;
        self.registry.deactivate(&caller.email, token).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_visible_ascii_of_bounded_length() {
        assert_eq!(checked_token(" abc:DEF-123_x ").unwrap(), "abc:DEF-123_x");
        for bad in ["", "   ", "a b", "tök", &"x".repeat(MAX_TOKEN_LEN + 1)] {
            assert!(checked_token(bad).is_err(), "{bad:?}");
        }
        assert!(checked_token(&"x".repeat(MAX_TOKEN_LEN)).is_ok());
    }
}
