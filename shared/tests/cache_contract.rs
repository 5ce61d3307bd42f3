//! The `Cache` contract: the same cases against the in-memory cache and (feature `redis`) a
//! real Redis at `REDIS_URL`.
//!
//! Without `REDIS_URL` the Redis run is skipped, unless `FESTA_REQUIRE_REAL=1` demands it.
//! Every run uses its own key prefix, so runs may share a server.

#[cfg(feature = "redis")]
mod real_redis;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use festa::adapters::memory::MemoryCache;
use festa::ports::Cache;

/// A key prefix no other run uses.
fn prefix(backend: &str) -> String {
    format!("festa-test:cache:{backend}:{}:", ulid::Ulid::generate())
}

async fn missing_key_is_none(cache: &dyn Cache, p: &str) {
    assert_eq!(cache.get(&format!("{p}missing")).await.unwrap(), None);
}

async fn set_then_get_round_trips(cache: &dyn Cache, p: &str) {
    let ttl = Duration::from_secs(60);
    let key = format!("{p}plain");
    cache.set(&key, "value-1", ttl).await.unwrap();
    assert_eq!(cache.get(&key).await.unwrap().as_deref(), Some("value-1"));

    let key = format!("{p}한글-키");
    let text = "부산 불꽃축제 🎆 — 예매 대기열";
    cache.set(&key, text, ttl).await.unwrap();
    assert_eq!(cache.get(&key).await.unwrap().as_deref(), Some(text));

    let key = format!("{p}empty");
    cache.set(&key, "", ttl).await.unwrap();
    assert_eq!(cache.get(&key).await.unwrap().as_deref(), Some(""));
}

async fn set_overwrites(cache: &dyn Cache, p: &str) {
    let key = format!("{p}overwrite");
    cache
        .set(&key, "first", Duration::from_secs(60))
        .await
        .unwrap();
    cache
        .set(&key, "second", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(cache.get(&key).await.unwrap().as_deref(), Some("second"));
}

/// One sleep covers three facts: a value leaves after its ttl, a longer ttl outlives it, and
/// `incr` makes a key permanent even when it was `set` with a ttl.
async fn entries_expire_and_counters_do_not(cache: &dyn Cache, p: &str) {
    let short = format!("{p}short");
    let long = format!("{p}long");
    let counter = format!("{p}counter-with-ttl");
    cache
        .set(&short, "soon gone", Duration::from_secs(1))
        .await
        .unwrap();
    cache
        .set(&long, "still here", Duration::from_secs(30))
        .await
        .unwrap();
    cache
        .set(&counter, "5", Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        cache.get(&short).await.unwrap().as_deref(),
        Some("soon gone")
    );
    assert_eq!(cache.incr(&counter).await.unwrap(), 6);

    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(cache.get(&short).await.unwrap(), None);
    assert_eq!(
        cache.get(&long).await.unwrap().as_deref(),
        Some("still here")
    );
    assert_eq!(cache.get(&counter).await.unwrap().as_deref(), Some("6"));
}

async fn incr_counts_from_zero(cache: &dyn Cache, p: &str) {
    let key = format!("{p}counter");
    assert_eq!(cache.incr(&key).await.unwrap(), 1);
    assert_eq!(cache.incr(&key).await.unwrap(), 2);
    assert_eq!(cache.get(&key).await.unwrap().as_deref(), Some("2"));
}

async fn concurrent_incr_loses_nothing(cache: Arc<dyn Cache>, p: &str) {
    const N: i64 = 50;
    let key = format!("{p}concurrent");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..N {
        let (cache, key) = (cache.clone(), key.clone());
        tasks.spawn(async move { cache.incr(&key).await.unwrap() });
    }
    let mut seen = HashSet::new();
    while let Some(value) = tasks.join_next().await {
        assert!(
            seen.insert(value.unwrap()),
            "two increments returned the same value"
        );
    }
    assert_eq!(seen, (1..=N).collect::<HashSet<_>>());
    assert_eq!(cache.get(&key).await.unwrap(), Some(N.to_string()));
}

/// Every case, in order, against one cache.
async fn run_contract(cache: Arc<dyn Cache>, backend: &str) {
    let p = prefix(backend);
    missing_key_is_none(cache.as_ref(), &p).await;
    set_then_get_round_trips(cache.as_ref(), &p).await;
    set_overwrites(cache.as_ref(), &p).await;
    entries_expire_and_counters_do_not(cache.as_ref(), &p).await;
    incr_counts_from_zero(cache.as_ref(), &p).await;
    concurrent_incr_loses_nothing(cache.clone(), &p).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_cache_meets_the_contract() {
    run_contract(Arc::new(MemoryCache::new()), "memory").await;
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_cache_meets_the_contract() {
    let Some(url) = real_redis::url("cache") else {
        return;
    };
    let cache = festa::adapters::redis_cache::connect(&url)
        .await
        .expect("connect to REDIS_URL");
    run_contract(Arc::new(cache), "redis").await;
}
