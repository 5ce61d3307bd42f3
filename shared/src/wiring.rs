//! Builds the adapters a configuration names, once per cold start.

use std::sync::Arc;

use crate::adapters::memory::MemoryCache;
use crate::config::{CacheTarget, Config};
use crate::error::AppResult;
use crate::ports::{Cache, RoomPresence, WaitingRoom};

/// Where Redis is, if the configuration names it: by URL, or looked up through ElastiCache.
async fn redis_url(config: &Config) -> AppResult<Option<String>> {
    match &config.cache {
        CacheTarget::InProcess => Ok(None),
        CacheTarget::Url(url) => Ok(Some(url.clone())),
        CacheTarget::ReplicationGroup(id) => replication_group_url(id).await.map(Some),
    }
}

/// The cache the configuration names: Redis by URL, Redis found through ElastiCache, or an
/// in-process cache when nothing is configured (right for the embedded platform only).
pub async fn cache(config: &Config) -> AppResult<Arc<dyn Cache>> {
    match redis_url(config).await? {
        None => Ok(Arc::new(MemoryCache::new())),
        Some(url) => redis(&url).await,
    }
}

/// The waiting room the configuration names: Redis (by URL or through ElastiCache), or lines
/// in process memory when nothing is configured (right for the embedded platform only).
/// Unlike the cache, the waiting room cannot work without Redis, so a failed connection fails.
pub async fn waiting_room(config: &Config) -> AppResult<Arc<dyn WaitingRoom>> {
    Ok(live(config).await?.waiting_room)
}

/// Chat presence and read markers: Redis, or process memory when nothing is configured.
/// Presence cannot work without Redis, so a failed connection fails.
pub async fn presence(config: &Config) -> AppResult<Arc<dyn RoomPresence>> {
    Ok(live(config).await?.presence)
}

/// Every port kept in Redis.
pub struct Live {
    pub cache: Arc<dyn Cache>,
    pub waiting_room: Arc<dyn WaitingRoom>,
    pub presence: Arc<dyn RoomPresence>,
}

/// Every Redis-kept port on one connection (found once), for a process that needs several,
/// such as the local platform; in process memory when nothing is configured. The waiting
/// room and presence need Redis, so a failed connection fails.
pub async fn live(config: &Config) -> AppResult<Live> {
    match redis_url(config).await? {
        None => Ok(Live {
            cache: Arc::new(MemoryCache::new()),
            waiting_room: Arc::new(crate::adapters::memory::MemoryWaitingRoom::new()),
            presence: Arc::new(crate::adapters::memory::MemoryPresence::new()),
        }),
        Some(url) => redis_live(&url).await,
    }
}

#[cfg(feature = "redis")]
async fn redis_live(url: &str) -> AppResult<Live> {
    let redis = crate::adapters::redis_cache::RedisCache::connect(url).await?;
    let waiting_room =
        crate::adapters::redis_waiting_room::RedisWaitingRoom::new(redis.connection());
    let presence = crate::adapters::redis_presence::RedisPresence::new(redis.connection());
    Ok(Live {
        cache: Arc::new(redis),
        waiting_room: Arc::new(waiting_room),
        presence: Arc::new(presence),
    })
}

#[cfg(not(feature = "redis"))]
async fn redis_live(_url: &str) -> AppResult<Live> {
    Err(crate::error::AppError::internal(
        "REDIS_URL is set but this build has no Redis adapter",
    ))
}

/// Redis, or when it cannot be reached at start-up a cache that fails every call: the search
/// then answers from the index instead of the whole function failing to start.
#[cfg(feature = "redis")]
async fn redis(url: &str) -> AppResult<Arc<dyn Cache>> {
    match crate::adapters::redis_cache::RedisCache::connect(url).await {
        Ok(cache) => Ok(Arc::new(cache)),
        Err(err) => {
            tracing::error!(error = %err, "Redis is unreachable; running without the cache");
            Ok(Arc::new(Unreachable))
        }
    }
}

/// The cache when Redis could not be reached: every call fails, which callers treat as a miss.
#[cfg(feature = "redis")]
struct Unreachable;

#[cfg(feature = "redis")]
#[async_trait::async_trait]
impl Cache for Unreachable {
    async fn get(&self, _key: &str) -> AppResult<Option<String>> {
        Err(crate::error::AppError::internal("the cache is unreachable"))
    }

    async fn set(&self, _key: &str, _value: &str, _ttl: std::time::Duration) -> AppResult<()> {
        Err(crate::error::AppError::internal("the cache is unreachable"))
    }

    async fn incr(&self, _key: &str) -> AppResult<i64> {
        Err(crate::error::AppError::internal("the cache is unreachable"))
    }
}

#[cfg(all(test, feature = "redis"))]
mod tests {
    use crate::config::Config;

    #[tokio::test]
    async fn an_unreachable_redis_still_starts_with_a_failing_cache() {
        // Port 1 on loopback refuses connections at once.
        let config =
            Config::from_lookup(|k| (k == "REDIS_URL").then(|| "redis://127.0.0.1:1/".to_string()))
                .unwrap();
        let cache = super::cache(&config).await.expect("start-up does not fail");
        assert!(cache.get("k").await.is_err());
    }
}

#[cfg(not(feature = "redis"))]
async fn redis(_url: &str) -> AppResult<Arc<dyn Cache>> {
    Err(crate::error::AppError::internal(
        "REDIS_URL is set but this build has no Redis adapter",
    ))
}

#[cfg(feature = "elasticache")]
async fn replication_group_url(id: &str) -> AppResult<String> {
    let aws = crate::adapters::aws::load().await;
    crate::adapters::elasticache::resolve_redis_url(&crate::adapters::aws::elasticache(&aws), id)
        .await
}

#[cfg(not(feature = "elasticache"))]
async fn replication_group_url(_id: &str) -> AppResult<String> {
    Err(crate::error::AppError::internal(
        "CACHE_REPLICATION_GROUP_ID is set but this build has no ElastiCache lookup",
    ))
}
