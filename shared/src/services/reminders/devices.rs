//! `POST /notification/activate` and `/deactivate`: the caller's devices.

use std::sync::Arc;

use serde::Deserialize;

use super::super::tokens::Identity;
use crate::error::{AppError, AppResult};
use crate::model::{Device, Platform};
use crate::ports::{Clock, DeviceRegistry};

/// The longest FCM registration token accepted (real ones are a few hundred characters).
pub const MAX_TOKEN_LEN: usize = 4096;

/// Devices one user keeps: activating another lets the least recently activated one go, so
/// no account (or script) can turn one reservation into thousands of pushes. Apps register
/// their token again when it changes, which keeps a device in use among the newest.
pub const MAX_DEVICES_PER_USER: usize = 10;

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
    /// Makes the token one of the caller's devices (moving it from anyone else), letting the
    /// caller's least recently activated devices go past [`MAX_DEVICES_PER_USER`].
    pub async fn activate(&self, caller: &Identity, request: ActivateRequest) -> AppResult<()> {
        let token = checked_token(&request.fcm_token)?;
        let device = Device {
            token: token.to_string(),
            platform: request.platform,
            activated_at: self.clock.now(),
        };
        self.registry.activate(&caller.email, &device).await?;
        let mut mine = self.registry.devices_of(&caller.email).await?;
        if mine.len() > MAX_DEVICES_PER_USER {
            mine.retain(|d| d.token != device.token);
            mine.sort_by_key(|d| d.activated_at);
            let surplus = mine.len() + 1 - MAX_DEVICES_PER_USER;
            for old in &mine[..surplus] {
                self.registry.deactivate(&caller.email, &old.token).await?;
            }
        }
        Ok(())
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
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::adapters::memory::{ManualClock, MemoryDevices};
    use crate::model::Role;

    #[tokio::test]
    async fn past_the_cap_the_least_recently_activated_device_goes() {
        let start = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::new(start));
        let registry = Arc::new(MemoryDevices::new());
        let devices = Devices {
            registry: registry.clone(),
            clock: clock.clone(),
        };
        let fan = Identity {
            user_id: "u1".into(),
            email: "fan@festa.example".into(),
            name: "fan".into(),
            role: Role::User,
            session_id: "s1".into(),
            expires_at: start + Duration::hours(1),
        };
        let activate = |token: String| ActivateRequest {
            fcm_token: token,
            platform: None,
        };
        for i in 0..MAX_DEVICES_PER_USER {
            devices
                .activate(&fan, activate(format!("t{i:02}")))
                .await
                .unwrap();
            clock.advance(Duration::seconds(1));
        }
        // The first device registers again: it is the newest now, so the second one goes.
        devices
            .activate(&fan, activate("t00".into()))
            .await
            .unwrap();
        clock.advance(Duration::seconds(1));
        devices
            .activate(&fan, activate("new".into()))
            .await
            .unwrap();
        let mut tokens: Vec<String> = registry
            .devices_of(&fan.email)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.token)
            .collect();
        tokens.sort();
        let mut expected: Vec<String> = (2..MAX_DEVICES_PER_USER)
            .map(|i| format!("t{i:02}"))
            .collect();
        expected.extend(["new".to_string(), "t00".to_string()]);
        expected.sort();
        assert_eq!(tokens, expected);
    }

    #[test]
    fn tokens_are_visible_ascii_of_bounded_length() {
        assert_eq!(checked_token(" abc:DEF-123_x ").unwrap(), "abc:DEF-123_x");
        for bad in ["", "   ", "a b", "tök", &"x".repeat(MAX_TOKEN_LEN + 1)] {
            assert!(checked_token(bad).is_err(), "{bad:?}");
        }
        assert!(checked_token(&"x".repeat(MAX_TOKEN_LEN)).is_ok());
    }
}
