//! Builds the adapters a configuration names, once per start: [`live`] for the local platform
//! and admin tools, [`LambdaEnv`] for a deployed function.

#[cfg(feature = "aws")]
mod lambda;

#[cfg(feature = "aws")]
pub use lambda::LambdaEnv;

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

/// Every port kept in Redis.
pub struct Live {
    pub cache: Arc<dyn Cache>,
    pub waiting_room: Arc<dyn WaitingRoom>,
    pub presence: Arc<dyn RoomPresence>,
}

/// Every Redis-kept port on one connection (found once), for a process that needs several,
/// such as the local platform; in process memory when nothing is configured. The connection
/// opens on first use and reopens after a drop (see [`crate::adapters::redis_conn`]), so an
/// unreachable Redis fails requests with `503`, never the start.
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

/// Redis, connected on first use (a search while Redis is down misses the cache and answers
/// from the index); a malformed URL gives a cache that fails every call instead of a function
/// that fails to start.
#[cfg(feature = "redis")]
pub async fn cache_at(url: &str) -> AppResult<Arc<dyn Cache>> {
    match crate::adapters::redis_cache::RedisCache::connect(url).await {
        Ok(cache) => Ok(Arc::new(cache)),
        Err(err) => {
            tracing::error!(error = %err, "Redis is unusable; running without the cache");
            Ok(Arc::new(Unreachable))
        }
    }
}

/// The cache when Redis cannot be used: every call fails, which callers treat as a miss.
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
    #[tokio::test]
    async fn an_unreachable_redis_still_starts_with_a_failing_cache() {
        // Port 1 on loopback refuses connections at once.
        let cache = super::cache_at("redis://127.0.0.1:1/")
            .await
            .expect("start-up does not fail");
        assert!(cache.get("k").await.is_err());
    }
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
