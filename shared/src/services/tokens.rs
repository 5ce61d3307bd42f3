//! Access tokens (signed JWTs) and refresh tokens (random, stored only as hashes).

use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::model::Role;

/// How long an access token is honoured.
pub const ACCESS_TTL: Duration = Duration::minutes(15);
/// How long a login may be refreshed.
pub const REFRESH_TTL: Duration = Duration::days(14);

/// Who is calling, as the authorizer establishes it for every protected route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub session_id: String,
    #[serde(with = "crate::model::timestamp")]
    pub expires_at: DateTime<Utc>,
}

impl Identity {
    /// Whether the caller may administer the catalogue.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    email: String,
    name: String,
    role: String,
    sid: String,
    iat: i64,
    exp: i64,
}

/// Signs and checks access tokens with the deployment's key.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(<redacted>)")
    }
}

impl TokenKeys {
    /// Keys from the HS256 secret; it must be at least 32 bytes.
    pub fn from_secret(secret: &[u8]) -> AppResult<Self> {
        if secret.len() < 32 {
            return Err(AppError::internal("JWT_SECRET must be at least 32 bytes"));
        }
        super::hs256::install();
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        })
    }

    /// A signed access token for this identity, valid until `identity.expires_at`.
    pub fn issue(&self, identity: &Identity, now: DateTime<Utc>) -> AppResult<String> {
        let claims = Claims {
            sub: identity.user_id.clone(),
            email: identity.email.clone(),
            name: identity.name.clone(),
            role: identity.role.as_str().into(),
            sid: identity.session_id.clone(),
            iat: now.timestamp(),
            exp: identity.expires_at.timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)
    }

    /// The identity a token carries, if its signature holds and it has not expired at `now`.
    /// Revocation is checked by the caller against the session store.
    pub fn decode(&self, token: &str, now: DateTime<Utc>) -> AppResult<Identity> {
        let unauthorized = || AppError::Unauthorized("the access token is invalid".into());
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below against the injected clock, not the system clock.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "sub"].into_iter().map(String::from).collect();
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| unauthorized())?;
        let claims = data.claims;
        let expires_at = Utc
            .timestamp_opt(claims.exp, 0)
            .single()
            .ok_or_else(unauthorized)?;
        if expires_at <= now {
            return Err(AppError::Unauthorized(
                "the access token has expired".into(),
            ));
        }
        Ok(Identity {
            user_id: claims.sub,
            email: claims.email,
            name: claims.name,
            role: Role::parse(&claims.role).ok_or_else(unauthorized)?,
            session_id: claims.sid,
            expires_at,
        })
    }
}

/// A refresh token: it names its login so the store can be read by key, plus a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub email: String,
    pub session_id: String,
    pub secret: String,
}

impl RefreshToken {
    /// The opaque string handed to the client.
    pub fn encode(&self) -> String {
        let email = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.email);
        format!("{email}.{}.{}", self.session_id, self.secret)
    }

    /// Reads a client's string back; anything malformed is simply not a token.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.');
        let (email, session_id, secret) = (parts.next()?, parts.next()?, parts.next()?);
        // Bounded so a forged token can never make an oversized store key (a 5xx, not a 401).
        let sane = |part: &str, max: usize| !part.is_empty() && part.len() <= max;
        if parts.next().is_some()
            || !sane(email, 400)
            || !sane(session_id, 64)
            || !(32..=128).contains(&secret.len())
        {
            return None;
        }
        let email = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(email)
            .ok()?;
        Some(Self {
            email: String::from_utf8(email).ok()?,
            session_id: session_id.to_string(),
            secret: secret.to_string(),
        })
    }

    /// The only form in which the secret is stored.
    pub fn secret_hash(&self) -> String {
        sha256_hex(&self.secret)
    }
}

/// Hex SHA-256, for secrets that are already random (codes and refresh secrets).
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(expires_at: DateTime<Utc>) -> Identity {
        Identity {
            user_id: "u1".into(),
            email: "a@b.io".into(),
            name: "김철수".into(),
            role: Role::Admin,
            session_id: "s1".into(),
            expires_at,
        }
    }

    #[test]
    fn a_token_round_trips_until_it_expires() {
        let keys = TokenKeys::from_secret(&[7u8; 32]).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap();
        let id = identity(now + ACCESS_TTL);
        let token = keys.issue(&id, now).unwrap();
        assert_eq!(keys.decode(&token, now).unwrap(), id);
        assert!(keys.decode(&token, now + ACCESS_TTL).is_err());
    }

    #[test]
    fn another_key_or_a_tampered_token_is_refused() {
        let keys = TokenKeys::from_secret(&[7u8; 32]).unwrap();
        let other = TokenKeys::from_secret(&[8u8; 32]).unwrap();
        let now = Utc::now();
        let token = keys.issue(&identity(now + ACCESS_TTL), now).unwrap();
        assert!(other.decode(&token, now).is_err());
        let mut tampered = token.clone();
        tampered.insert(token.len() / 2, 'x');
        assert!(keys.decode(&tampered, now).is_err());
        assert!(keys.decode("", now).is_err());
        assert!(TokenKeys::from_secret(b"short").is_err());
    }

    #[test]
    fn refresh_tokens_round_trip_and_reject_garbage() {
        let t = RefreshToken {
            email: "a.b@c.io".into(),
            session_id: "01J".into(),
            secret: "s".repeat(43),
        };
        assert_eq!(RefreshToken::parse(&t.encode()), Some(t));
        let huge_email = format!("{}.01J.{}", "YQ".repeat(5000), "s".repeat(43));
        let long_secret = format!("YQ.01J.{}", "s".repeat(500));
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.x.yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
            "YQ..short",
            &huge_email,
            &long_secret,
        ] {
            assert_eq!(RefreshToken::parse(bad), None, "{bad}");
        }
    }
}
