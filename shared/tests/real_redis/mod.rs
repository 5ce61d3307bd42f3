//! The real Redis the contract suites run against: where it is, and clearing a run's keys.

#![allow(dead_code)] // each suite uses its own subset

use redis::aio::ConnectionManager;

/// `REDIS_URL`, or `None` (after saying which suite is skipped) when the real run may be
/// skipped; with `FESTA_REQUIRE_REAL=1` (CI) its absence fails the test instead.
pub fn url(suite: &str) -> Option<String> {
    match std::env::var("REDIS_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        Some(url) => Some(url),
        None if std::env::var("FESTA_REQUIRE_REAL").as_deref() == Ok("1") => {
            panic!("FESTA_REQUIRE_REAL=1 but REDIS_URL is not set")
        }
        None => {
            eprintln!("skipping the Redis {suite} contract: REDIS_URL is not set");
            None
        }
    }
}

/// A connection to `REDIS_URL`, or `None` when the suite is skipped (see [`url`]).
pub async fn connect(suite: &str) -> Option<ConnectionManager> {
    let url = url(suite)?;
    Some(
        festa::adapters::redis_cache::RedisCache::connect(&url)
            .await
            .expect("connect to REDIS_URL")
            .connection(),
    )
}

/// Deletes every key matching `pattern`, so a run leaves the shared server as it found it.
pub async fn delete_matching(conn: &mut ConnectionManager, pattern: &str) {
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .expect("SCAN");
        if !keys.is_empty() {
            redis::cmd("DEL")
                .arg(&keys)
                .query_async::<()>(conn)
                .await
                .expect("DEL");
        }
        if next == 0 {
            return;
        }
        cursor = next;
    }
}
