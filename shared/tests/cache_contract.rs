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
use festa::ports::{Cache, CacheBudget};

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

/// The budget of [`a_full_cache_forgets_what_expires_first`]: room for about fifty entries.
const SMALL: CacheBudget = CacheBudget {
    max_bytes: 64 * 1024,
};

/// A cache filled far past its budget: no `set` fails, the newest entries stay and the oldest
/// go, what is kept stays within the budget, counters are never evicted, and an entry larger
/// than a sixteenth of the budget is not kept (nor is the value it replaced).
async fn a_full_cache_forgets_what_expires_first(cache: &dyn Cache, p: &str) {
    let ttl = Duration::from_secs(60);
    let counter = format!("{p}generation");
    assert_eq!(cache.incr(&counter).await.unwrap(), 1);
    let value = "x".repeat(1_000);
    let key = |i: usize| format!("{p}search:{i:04}");
    for i in 0..200 {
        cache.set(&key(i), &value, ttl).await.unwrap();
    }
    let mut kept = Vec::new();
    for i in 0..200 {
        if cache.get(&key(i)).await.unwrap().is_some() {
            kept.push(i);
        }
    }
    assert!(kept.contains(&199), "the newest entry is kept");
    assert!(!kept.contains(&0), "the oldest entry made room");
    // Room for the last ones, in arrival order: nothing newer was dropped for something older.
    let first = kept[0];
    assert_eq!(kept, (first..200).collect::<Vec<_>>());
    let cost = kept.len() * value.len();
    assert!(cost <= SMALL.max_bytes, "{} entries kept", kept.len());
    assert!(kept.len() >= 20, "only {} entries kept", kept.len());
    assert_eq!(cache.get(&counter).await.unwrap().as_deref(), Some("1"));
    assert_eq!(cache.incr(&counter).await.unwrap(), 2);

    let huge = "y".repeat(SMALL.max_entry() + 1);
    cache.set(&key(199), &huge, ttl).await.unwrap();
    assert_eq!(cache.get(&key(199)).await.unwrap(), None);
    assert!(cache.get(&key(198)).await.unwrap().is_some());
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

#[tokio::test]
async fn memory_cache_keeps_within_its_budget() {
    let cache = MemoryCache::with_budget(SMALL);
    a_full_cache_forgets_what_expires_first(&cache, &prefix("memory")).await;
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

#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_cache_keeps_within_its_budget() {
    let Some(url) = real_redis::url("cache") else {
        return;
    };
    let namespace = format!("festa-test:cache:{}", ulid::Ulid::generate());
    let cache = festa::adapters::redis_cache::connect(&url)
        .await
        .expect("connect to REDIS_URL")
        .partition(&namespace, SMALL);
    a_full_cache_forgets_what_expires_first(&cache, "").await;
    real_redis::delete_matching(&mut cache.connection(), &format!("{{{namespace}}}*")).await;
}

/// Redis holds the waiting lines too and never evicts them, so the cache must never be what
/// fills it: a Redis of its own with 3 MB of memory takes 4 MB of cache writes through a
/// 512 KiB budget without one refusal, and still has room for other keys. The same writes as
/// plain `SET`s fill it up, which shows the server really is that small.
#[cfg(feature = "redis")]
#[tokio::test]
async fn a_small_redis_that_never_evicts_is_never_filled_by_the_cache() {
    let Some(server) = small_redis::start("3mb") else {
        return;
    };
    let budget = CacheBudget {
        max_bytes: 512 * 1024,
    };
    let cache = festa::adapters::redis_cache::connect(&server.url)
        .await
        .expect("connect to the small Redis")
        .partition("festa:cache", budget);
    let mut conn = cache.connection();
    let answer = "a".repeat(2_000);
    for i in 0..2_000 {
        cache
            .set(
                &format!("festa:search:1:{i}"),
                &answer,
                Duration::from_secs(600),
            )
            .await
            .unwrap_or_else(|e| panic!("cache write {i} was refused: {e}"));
    }
    let used = small_redis::used_memory(&mut conn).await;
    assert!(used < 3 * 1024 * 1024, "used_memory {used}");
    // Authoritative state still fits beside the cache.
    redis::cmd("SET")
        .arg("festa:queue:{f}:line")
        .arg("b".repeat(100_000))
        .query_async::<()>(&mut conn)
        .await
        .expect("room for the waiting room");

    let mut refused = None;
    for i in 0..2_000 {
        let plain = redis::cmd("SET")
            .arg(format!("plain:{i}"))
            .arg(&answer)
            .query_async::<()>(&mut conn)
            .await;
        if let Err(err) = plain {
            refused = Some(err);
            break;
        }
    }
    let err = refused.expect("unbounded writes fill a 3 MB Redis");
    assert!(err.to_string().contains("OOM"), "{err}");
}

/// A throw-away `redis-server` with little memory and no eviction, on a Unix socket (no port
/// to race for), stopped when dropped.
#[cfg(feature = "redis")]
mod small_redis {
    use std::process::{Child, Command, Stdio};
    use std::time::Duration;

    pub struct SmallRedis {
        pub url: String,
        child: Child,
        dir: std::path::PathBuf,
    }

    impl Drop for SmallRedis {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// The server, or `None` when `redis-server` is missing and the run may be skipped.
    pub fn start(maxmemory: &str) -> Option<SmallRedis> {
        let dir =
            std::env::temp_dir().join(format!("festa-small-redis-{}", ulid::Ulid::generate()));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("redis.sock");
        let spawned = Command::new("redis-server")
            .args(["--port", "0", "--save", "", "--appendonly", "no"])
            .args(["--maxmemory", maxmemory, "--maxmemory-policy", "noeviction"])
            .arg("--unixsocket")
            .arg(&socket)
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(_) if std::env::var("FESTA_REQUIRE_REAL").as_deref() != Ok("1") => {
                eprintln!("skipping the small-Redis test: redis-server is not installed");
                return None;
            }
            Err(err) => panic!("FESTA_REQUIRE_REAL=1 but redis-server cannot start: {err}"),
        };
        for _ in 0..100 {
            if socket.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(socket.exists(), "redis-server did not open its socket");
        Some(SmallRedis {
            url: format!("redis+unix://{}", socket.display()),
            child,
            dir,
        })
    }

    /// `used_memory` from `INFO memory`.
    pub async fn used_memory(conn: &mut redis::aio::ConnectionManager) -> u64 {
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query_async(conn)
            .await
            .unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("INFO memory names used_memory")
    }
}
