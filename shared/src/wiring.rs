//! Builds the adapters a configuration names, once per cold start.

use std::sync::Arc;

use crate::adapters::memory::MemoryCache;
use crate::config::{CacheTarget, Config};
use crate::error::AppResult;
use crate::ports::Cache;

/// The cache the configuration names: Redis by URL, Redis found through ElastiCache, or an
/// in-process cache when nothing is configured (right for the embedded platform only).
pub async fn cache(config: &Config) -> AppResult<Arc<dyn Cache>> {
    match &config.cache {
        CacheTarget::InProcess => Ok(Arc::new(MemoryCache::new())),
        CacheTarget::Url(url) => redis(url).await,
        CacheTarget::ReplicationGroup(id) => {
            let url = replication_group_url(id).await?;
            redis(&url).await
        }
    }
}

#[cfg(feature = "redis")]
async fn redis(url: &str) -> AppResult<Arc<dyn Cache>> {
    Ok(Arc::new(
        crate::adapters::redis_cache::RedisCache::connect(url).await?,
    ))
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
