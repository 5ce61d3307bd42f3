//! The production [`Cache`]: Redis (ElastiCache in AWS) through one multiplexed,
//! self-reconnecting connection that every request of a warm Lambda shares.
//!
//! `rediss://` URLs use rustls on ring with the system's roots (as the AWS SDK clients do),
//! which include the Amazon roots that sign ElastiCache's in-transit encryption certificates.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::RedisError;

use crate::error::{AppError, AppResult};
use crate::ports::Cache;

/// How long one attempt to open the connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one command may wait for its reply before the request fails.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
/// Reconnection attempts (initial connect included) before giving up; small, since a Lambda
/// has a short deadline and a failing cold start is retried by the caller anyway.
const CONNECT_RETRIES: usize = 2;
/// Redis refuses expiry times that overflow its clock; nothing here needs more than a century.
const MAX_TTL_MS: u128 = 100 * 365 * 24 * 60 * 60 * 1000;

/// A [`Cache`] backed by a Redis server.
#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
}

/// Opens the connection. The URL may carry a password, so it never appears in errors or logs.
pub async fn connect(url: &str) -> AppResult<RedisCache> {
    RedisCache::connect(url).await
}

impl RedisCache {
    /// Opens the connection; see [`connect`].
    pub async fn connect(url: &str) -> AppResult<Self> {
        // `rediss://` needs a process-wide rustls crypto provider; an error only means that
        // one is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = redis::Client::open(url).map_err(connect_error)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(CONNECT_RETRIES)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(connect_error)?;
        tracing::info!(tls = url.starts_with("rediss:"), "connected to Redis");
        Ok(Self { conn })
    }

    /// A handle on the shared connection, for callers that run their own commands or scripts.
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }
}

/// Describes a connection failure by its kind: the detail of a client-side error may quote
/// the URL, so only I/O failures (socket, DNS, TLS), whose text comes from the operating
/// system or rustls, add their own words, e.g. `invalid peer certificate: UnknownIssuer`.
fn connect_error(err: RedisError) -> AppError {
    let kind = if err.is_timeout() {
        "timed out".to_string()
    } else if err.is_connection_refusal() {
        "connection refused".to_string()
    } else if err.kind() == redis::ErrorKind::Io {
        format!("I/O error ({err})")
    } else {
        err.category().to_string()
    };
    AppError::internal(format!("could not connect to Redis: {kind}"))
}

fn command_error(command: &str) -> impl FnOnce(RedisError) -> AppError + '_ {
    move |err| AppError::internal(format!("Redis {command} failed: {err}"))
}

/// Milliseconds for `SET … PX`, rounded up so a key never lives shorter than asked; Redis
/// rejects 0, so the shortest expiry is 1 ms.
fn ttl_millis(ttl: Duration) -> u64 {
    // MAX_TTL_MS fits in u64, so the conversion cannot fail.
    ttl.as_nanos().div_ceil(1_000_000).clamp(1, MAX_TTL_MS) as u64
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> AppResult<Option<String>> {
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(key)
            .query_async(&mut conn)
            .await
            .map_err(command_error("GET"))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> AppResult<()> {
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("PX")
            .arg(ttl_millis(ttl))
            .query_async::<()>(&mut conn)
            .await
            .map_err(command_error("SET"))
    }

    async fn incr(&self, key: &str) -> AppResult<i64> {
        let mut conn = self.conn.clone();
        // Counters never expire: PERSIST drops a TTL the key may carry from an earlier `set`,
        // as the in-memory cache does. MULTI/EXEC keeps the pair atomic in one round trip.
        let (value,): (i64,) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(key)
            .cmd("PERSIST")
            .arg(key)
            .ignore()
            .query_async(&mut conn)
            .await
            .map_err(command_error("INCR"))?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_rounds_up_to_whole_milliseconds() {
        assert_eq!(ttl_millis(Duration::ZERO), 1);
        assert_eq!(ttl_millis(Duration::from_nanos(1)), 1);
        assert_eq!(ttl_millis(Duration::from_micros(1_500)), 2);
        assert_eq!(ttl_millis(Duration::from_secs(90)), 90_000);
        assert_eq!(ttl_millis(Duration::MAX), MAX_TTL_MS as u64);
    }

    #[tokio::test]
    async fn connection_errors_never_quote_the_url() {
        let url = "redis://:hunter2-secret@127.0.0.1:1/";
        let err = connect(url).await.err().expect("nothing listens on port 1");
        let text = err.to_string();
        assert!(
            text.starts_with("internal error: could not connect to Redis: "),
            "{text}"
        );
        assert!(
            !text.contains("hunter2") && !text.contains("127.0.0.1"),
            "{text}"
        );

        let err = connect("not a url with :secret@").await.err().unwrap();
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
