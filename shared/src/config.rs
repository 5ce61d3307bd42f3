//! Settings read once from the environment at cold start.

use std::collections::HashSet;

use crate::error::{AppError, AppResult};
use crate::services::normalize_email;

/// Where the cache lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheTarget {
    /// `REDIS_URL`.
    Url(String),
    /// `CACHE_REPLICATION_GROUP_ID`: the endpoint is looked up through ElastiCache.
    ReplicationGroup(String),
    /// Nothing configured: an in-process cache.
    InProcess,
}

/// The typed configuration of every function and of the local platform.
#[derive(Clone)]
pub struct Config {
    /// HS256 key for access tokens; `None` only where the caller supplies a fallback.
    pub jwt_secret: Option<Vec<u8>>,
    /// The Secrets Manager secret holding that key, in AWS (read once per cold start).
    pub jwt_secret_arn: Option<String>,
    /// Origins a browser may call the REST API from (`CORS_ALLOWED_ORIGINS`, comma-separated).
    pub cors_allowed_origins: Vec<String>,
    /// Normalised addresses granted the admin role.
    pub admin_emails: HashSet<String>,
    pub records_table: Option<String>,
    pub search_table: Option<String>,
    pub cache: CacheTarget,
    /// Sender address for SES; mail goes to the local outbox when absent.
    pub mail_from: Option<String>,
    /// `MAIL_HOURLY_LIMIT`: mails the whole deployment may send per hour (0 sends none), so a
    /// flood of sign-ups at random addresses stops at a known bill. When unset, Lambda
    /// functions use [`DEFAULT_MAIL_HOURLY_LIMIT`] and the local platform its own, higher one
    /// (load tests sign thousands up).
    pub mail_hourly_limit: Option<u32>,
    /// The SQS queue of admitter ticks; ticks run in process when absent (local platform).
    pub admit_queue_url: Option<String>,
    /// Waiting-room admissions per second per festival (`ADMIT_RATE_PER_SECOND`, 1..=1000).
    pub admit_rate_per_second: u32,
    /// The EventBridge bus for reservation events; events stay in memory when absent.
    pub event_bus_name: Option<String>,
    /// The chat messages table (room, seq); chat keeps messages in memory when absent.
    pub messages_table: Option<String>,
    /// The open WebSocket connections table.
    pub connections_table: Option<String>,
    /// The WebSocket API's management endpoint (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`)
    /// through which chat functions push frames.
    pub chat_callback_url: Option<String>,
    /// The reminder planner's queue (the SNS subscription, and the planner's own follow-ups).
    pub reminder_queue_url: Option<String>,
    /// The push queue the sender drains.
    pub push_queue_url: Option<String>,
    /// The FCM service account key (JSON) itself: the local platform's way to push for real.
    pub fcm_service_account: Option<String>,
    /// The Secrets Manager secret holding the FCM service account key (JSON), in AWS.
    pub fcm_service_account_secret_arn: Option<String>,
    /// Where FCM's HTTP v1 API lives (`https://fcm.googleapis.com` when unset; tests point
    /// it at a stub).
    pub fcm_base_url: Option<String>,
}

/// Mails per hour a deployment sends when `MAIL_HOURLY_LIMIT` is unset.
pub const DEFAULT_MAIL_HOURLY_LIMIT: u32 = 1000;

/// API.md's default admission rate.
pub const DEFAULT_ADMIT_RATE: u32 = 10;

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("jwt_secret_arn", &self.jwt_secret_arn)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("admin_emails", &self.admin_emails)
            .field("records_table", &self.records_table)
            .field("search_table", &self.search_table)
            .field("cache", &redacted_cache(&self.cache))
            .field("mail_from", &self.mail_from)
            .field("mail_hourly_limit", &self.mail_hourly_limit)
            .field("admit_queue_url", &self.admit_queue_url)
            .field("admit_rate_per_second", &self.admit_rate_per_second)
            .field("event_bus_name", &self.event_bus_name)
            .field("messages_table", &self.messages_table)
            .field("connections_table", &self.connections_table)
            .field("chat_callback_url", &self.chat_callback_url)
            .field("reminder_queue_url", &self.reminder_queue_url)
            .field("push_queue_url", &self.push_queue_url)
            .field(
                "fcm_service_account",
                &self.fcm_service_account.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "fcm_service_account_secret_arn",
                &self.fcm_service_account_secret_arn,
            )
            .field("fcm_base_url", &self.fcm_base_url)
            .finish()
    }
}

fn redacted_cache(target: &CacheTarget) -> String {
    match target {
        // A Redis URL may carry a password.
        CacheTarget::Url(url) => match url.split_once('@') {
            Some((_, host)) => format!("Url(<credentials>@{host})"),
            None => format!("Url({url})"),
        },
        other => format!("{other:?}"),
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> AppResult<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> AppResult<Self> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let admin_emails = match get("ADMIN_EMAILS") {
            None => HashSet::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(|e| {
                    normalize_email(e).map_err(|_| {
                        AppError::internal(format!("ADMIN_EMAILS holds an invalid address: {e}"))
                    })
                })
                .collect::<AppResult<_>>()?,
        };
        let cache = match (get("REDIS_URL"), get("CACHE_REPLICATION_GROUP_ID")) {
            (Some(url), _) => CacheTarget::Url(url),
            (None, Some(id)) => CacheTarget::ReplicationGroup(id),
            (None, None) => CacheTarget::InProcess,
        };
        let jwt_secret = get("JWT_SECRET").map(String::into_bytes);
        if jwt_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err(AppError::internal("JWT_SECRET must be at least 32 bytes"));
        }
        let admit_rate_per_second = match get("ADMIT_RATE_PER_SECOND") {
            None => DEFAULT_ADMIT_RATE,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|rate| (1..=1000).contains(rate))
                .ok_or_else(|| {
                    AppError::internal(
                        "ADMIT_RATE_PER_SECOND must be a whole number from 1 to 1000",
                    )
                })?,
        };
        let mail_hourly_limit = get("MAIL_HOURLY_LIMIT")
            .map(|text| {
                text.parse::<u32>().map_err(|_| {
                    AppError::internal("MAIL_HOURLY_LIMIT must be a whole number from 0 up")
                })
            })
            .transpose()?;
        let cors_allowed_origins = get("CORS_ALLOWED_ORIGINS")
            .map(|list| crate::api::cors::parse_origins(&list))
            .transpose()?
            .unwrap_or_default();
        Ok(Config {
            jwt_secret,
            jwt_secret_arn: get("JWT_SECRET_ARN"),
            cors_allowed_origins,
            admin_emails,
            records_table: get("RECORDS_TABLE"),
            search_table: get("SEARCH_TABLE"),
            cache,
            mail_from: get("MAIL_FROM"),
            mail_hourly_limit,
            admit_queue_url: get("ADMIT_QUEUE_URL"),
            admit_rate_per_second,
            event_bus_name: get("EVENT_BUS_NAME"),
            messages_table: get("MESSAGES_TABLE"),
            connections_table: get("CONNECTIONS_TABLE"),
            chat_callback_url: get("CHAT_CALLBACK_URL"),
            reminder_queue_url: get("REMINDER_QUEUE_URL"),
            push_queue_url: get("PUSH_QUEUE_URL"),
            fcm_service_account: get("FCM_SERVICE_ACCOUNT"),
            fcm_service_account_secret_arn: get("FCM_SERVICE_ACCOUNT_SECRET_ARN"),
            fcm_base_url: get("FCM_BASE_URL"),
        })
    }

    /// A table name a deployed function cannot run without.
    pub fn require(value: &Option<String>, name: &str) -> AppResult<String> {
        value
            .clone()
            .ok_or_else(|| AppError::internal(format!("{name} is not set")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> AppResult<Config> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn reads_admins_cache_and_tables() {
        let c = config(&[
            ("ADMIN_EMAILS", " Boss@Festa.io, ops@festa.io ,"),
            ("REDIS_URL", "redis://:pw@cache:6379"),
            ("RECORDS_TABLE", "records"),
        ])
        .unwrap();
        assert!(
            c.admin_emails.contains("boss@festa.io") && c.admin_emails.contains("ops@festa.io")
        );
        assert_eq!(c.cache, CacheTarget::Url("redis://:pw@cache:6379".into()));
        assert_eq!(c.records_table.as_deref(), Some("records"));
        assert!(!format!("{c:?}").contains("pw"));
        let c = config(&[("CACHE_REPLICATION_GROUP_ID", "festa-cache")]).unwrap();
        assert_eq!(c.cache, CacheTarget::ReplicationGroup("festa-cache".into()));
        assert_eq!(config(&[]).unwrap().cache, CacheTarget::InProcess);
    }

    #[test]
    fn refuses_weak_secrets_and_bad_admins() {
        assert!(config(&[("JWT_SECRET", "short")]).is_err());
        assert!(config(&[("ADMIN_EMAILS", "not-an-address")]).is_err());
        assert!(config(&[("ADMIT_RATE_PER_SECOND", "0")]).is_err());
        assert!(config(&[("ADMIT_RATE_PER_SECOND", "ten")]).is_err());
        assert_eq!(config(&[]).unwrap().admit_rate_per_second, 10);
        assert_eq!(
            config(&[("ADMIT_RATE_PER_SECOND", "25")])
                .unwrap()
                .admit_rate_per_second,
            25
        );
        assert!(config(&[("MAIL_HOURLY_LIMIT", "lots")]).is_err());
        assert_eq!(config(&[]).unwrap().mail_hourly_limit, None);
        assert_eq!(
            config(&[("MAIL_HOURLY_LIMIT", "250")])
                .unwrap()
                .mail_hourly_limit,
            Some(250)
        );
        let c = config(&[("JWT_SECRET", &"k".repeat(32))]).unwrap();
        assert!(!format!("{c:?}").contains("kkkk"));
    }
}
