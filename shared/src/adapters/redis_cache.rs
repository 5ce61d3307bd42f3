//! The production [`Cache`]: Redis (ElastiCache in AWS) through one multiplexed,
//! self-reconnecting connection that every request of a warm Lambda shares.
//!
//! The same Redis holds the waiting lines, admissions and read markers, and never evicts
//! (`maxmemory-policy noeviction`), so the cache keeps itself within a [`CacheBudget`]: every
//! entry is listed with its expiry and cost, and one Lua script stores an entry and, while the
//! total is over budget, removes those closest to expiry. All of a cache's keys share one hash
//! tag (`{festa:cache}:...`), so the script stays within one slot in cluster mode too.
//!
//! `rediss://` URLs use rustls on ring with the system's roots (as the AWS SDK clients do),
//! which include the Amazon roots that sign ElastiCache's in-transit encryption certificates.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::RedisError;

use crate::error::{AppError, AppResult};
use crate::ports::{Cache, CacheBudget};

/// Redis refuses expiry times that overflow its clock; nothing here needs more than a century.
const MAX_TTL_MS: u128 = 100 * 365 * 24 * 60 * 60 * 1000;

/// The namespace of the deployment's search cache.
const NAMESPACE: &str = "festa:cache";

/// Stores one entry within the budget. KEYS: the entry, the index (entry -> expiry, ms), the
/// costs (entry -> bytes), the total. ARGV: value, ttl ms, cost, largest entry, budget.
const SET_WITHIN_BUDGET: &str = r#"
local entry, index, costs, total = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local ttl, cost = tonumber(ARGV[2]), tonumber(ARGV[3])
local largest, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function forget(member, delete)
  local size = redis.call('HGET', costs, member)
  if size then
    redis.call('HDEL', costs, member)
    redis.call('DECRBY', total, size)
  end
  redis.call('ZREM', index, member)
  if delete then redis.call('DEL', member) end
end
-- Entries past their expiry are gone already; stop counting them (a bounded sweep).
for _, member in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now, 'LIMIT', 0, 128)) do
  forget(member, false)
end
forget(entry, true)
if cost > largest then return 0 end
while tonumber(redis.call('GET', total) or '0') + cost > budget do
  local oldest = redis.call('ZRANGE', index, 0, 0)[1]
  if not oldest then break end
  forget(oldest, true)
end
redis.call('SET', entry, ARGV[1], 'PX', ttl)
redis.call('ZADD', index, now + ttl, entry)
redis.call('HSET', costs, entry, cost)
redis.call('INCRBY', total, cost)
return 1
"#;

/// Counts up a counter, which never expires and is no longer an entry of the budget. KEYS as
/// for [`SET_WITHIN_BUDGET`].
const INCR_OUTSIDE_BUDGET: &str = r#"
local size = redis.call('HGET', KEYS[3], KEYS[1])
if size then
  redis.call('HDEL', KEYS[3], KEYS[1])
  redis.call('DECRBY', KEYS[4], size)
end
redis.call('ZREM', KEYS[2], KEYS[1])
local value = redis.call('INCR', KEYS[1])
redis.call('PERSIST', KEYS[1])
return value
"#;

/// The scripts, hashed once per process (they are sent by SHA, and loaded when missing).
static SET_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(SET_WITHIN_BUDGET));
static INCR_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(INCR_OUTSIDE_BUDGET));

/// A [`Cache`] backed by a Redis server.
#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
    /// The hash tag every key of this cache carries, e.g. `{festa:cache}`.
    tag: String,
    budget: CacheBudget,
}

/// The cache on a connection to `url` that opens on first use (see
/// [`super::redis_conn::open`]); only a malformed URL fails. The URL may carry a password, so
/// it never appears in errors or logs.
pub async fn connect(url: &str) -> AppResult<RedisCache> {
    RedisCache::connect(url).await
}

impl RedisCache {
    /// The cache at `url`; see [`connect`]. Nothing is sent to Redis until the first command,
    /// so a cold start neither waits for nor fails on an unreachable Redis.
    pub async fn connect(url: &str) -> AppResult<Self> {
        let conn = super::redis_conn::open(url)?;
        tracing::info!(
            tls = url.starts_with("rediss:"),
            "Redis client ready; it connects on first use"
        );
        Ok(Self {
            conn,
            tag: format!("{{{NAMESPACE}}}"),
            budget: CacheBudget::DEFAULT,
        })
    }

    /// The cache as a separate one: its keys under `namespace`, its entries within `budget`
    /// (the connection is shared).
    pub fn partition(mut self, namespace: &str, budget: CacheBudget) -> Self {
        self.tag = format!("{{{namespace}}}");
        self.budget = budget;
        self
    }

    fn entry_key(&self, key: &str) -> String {
        format!("{}:k:{key}", self.tag)
    }

    /// The entry's key and the budget's three bookkeeping keys, as both scripts take them.
    fn script_keys(&self, key: &str) -> [String; 4] {
        [
            self.entry_key(key),
            format!("{}:index", self.tag),
            format!("{}:costs", self.tag),
            format!("{}:bytes", self.tag),
        ]
    }

    /// A handle on the shared connection, for callers that run their own commands or scripts.
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }
}

/// A failed command: an outage answers `503`, anything else is internal (see
/// [`super::redis_conn::redis_error`]).
fn command_error(command: &'static str) -> impl FnOnce(RedisError) -> AppError {
    super::redis_conn::redis_error("cache", command)
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
            .arg(self.entry_key(key))
            .query_async(&mut conn)
            .await
            .map_err(command_error("GET"))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> AppResult<()> {
        let mut conn = self.conn.clone();
        let keys = self.script_keys(key);
        let cost = CacheBudget::cost(&keys[0], value);
        SET_SCRIPT
            .key(&keys[..])
            .arg(value)
            .arg(ttl_millis(ttl))
            .arg(cost)
            .arg(self.budget.max_entry())
            .arg(self.budget.max_bytes)
            .invoke_async::<i64>(&mut conn)
            .await
            .map_err(command_error("SET"))?;
        Ok(())
    }

    async fn incr(&self, key: &str) -> AppResult<i64> {
        let mut conn = self.conn.clone();
        INCR_SCRIPT
            .key(&self.script_keys(key)[..])
            .invoke_async(&mut conn)
            .await
            .map_err(command_error("INCR"))
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
    async fn an_unreachable_redis_fails_each_command_as_unavailable_without_the_url() {
        let url = "redis://:hunter2-secret@127.0.0.1:1/";
        let cache = connect(url)
            .await
            .expect("nothing is sent before the first command");
        let err = cache.get("k").await.expect_err("nothing listens on port 1");
        assert!(matches!(err, AppError::ServiceUnavailable(_)), "{err}");
        let text = err.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("127.0.0.1"),
            "{text}"
        );

        let err = connect("not a url with :secret@").await.err().unwrap();
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
