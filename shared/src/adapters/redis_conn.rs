//! The one Redis connection of a process and the one way its failures are judged, shared by
//! every Redis adapter (cache, waiting room, presence).
//!
//! The connection is opened lazily, on the first command, and reopened after it drops: a
//! Lambda whose Redis is unreachable still starts and answers `503` per request, and serves
//! again as soon as Redis is back, without a restart. Every step is bounded in time
//! ([`CONNECT_TIMEOUT`], [`RESPONSE_TIMEOUT`], one quick retry of the connect), so a command
//! against a Redis that is down fails within [`WORST_CASE`], well inside the 2 s API.md allows.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, ServerErrorKind};

use crate::error::{AppError, AppResult};

/// How long one attempt to open the connection may take (a blackholed address, a VPC route
/// gone); a refused connection fails at once.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(700);
/// How long one command may wait for its reply.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Connection attempts after the first, per (re)connect: one, for a blip.
const CONNECT_RETRIES: usize = 1;
/// The longest pause between two connection attempts.
const MAX_RETRY_DELAY: Duration = Duration::from_millis(100);
/// The longest a command waits on a Redis that is down: the connect with its retry, or the
/// reply; what the tests hold the platform to, with a margin, as the outage bound.
pub const WORST_CASE: Duration = Duration::from_millis(
    (CONNECT_TIMEOUT.as_millis() as u64) * (CONNECT_RETRIES as u64 + 1)
        + MAX_RETRY_DELAY.as_millis() as u64 * CONNECT_RETRIES as u64,
);

/// A multiplexed, self-reconnecting connection to `url` that connects on its first command
/// (a cold start never waits for, or fails on, Redis). Only a malformed URL fails here; the
/// URL may carry a password, so it never appears in the error.
pub fn open(url: &str) -> AppResult<ConnectionManager> {
    // `rediss://` needs a process-wide rustls crypto provider; an error only means that one
    // is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = redis::Client::open(url)
        .map_err(|err| AppError::internal(format!("invalid Redis URL: {}", describe(&err))))?;
    ConnectionManager::new_lazy_with_config(client, config())
        .map_err(|err| AppError::internal(format!("could not set up Redis: {}", describe(&err))))
}

/// The bounds every connection gets (see the module's documentation).
fn config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(CONNECT_RETRIES)
        .set_min_delay(Duration::from_millis(20))
        .set_max_delay(MAX_RETRY_DELAY)
}

/// Whether a failure means Redis is down, unreachable, too slow or briefly unable to serve
/// (loading its data, a failover, out of memory under `noeviction`), so that the same command
/// can succeed later: an outage, answered `503` with `Retry-After`. A script error, a wrong
/// type or an unexpected reply is a fault of ours and stays internal.
pub fn is_outage(err: &RedisError) -> bool {
    if err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
    {
        return true;
    }
    match err.kind() {
        ErrorKind::Server(kind) => matches!(
            kind,
            ServerErrorKind::BusyLoading
                | ServerErrorKind::TryAgain
                | ServerErrorKind::ClusterDown
                | ServerErrorKind::MasterDown
                | ServerErrorKind::ReadOnly
        ),
        ErrorKind::ClusterConnectionNotFound => true,
        _ => matches!(err.code(), Some("OOM" | "BUSY")),
    }
}

/// What went wrong, in words that never quote a URL, a password or a reply (which may hold
/// ids): I/O failures give the operating system's or rustls's text, server errors their own,
/// anything else only its category.
fn describe(err: &RedisError) -> String {
    if err.is_timeout() {
        "timed out".to_string()
    } else if err.is_connection_refusal() {
        "connection refused".to_string()
    } else if err.kind() == ErrorKind::Io {
        format!("I/O error ({err})")
    } else if matches!(err.kind(), ErrorKind::Server(_) | ErrorKind::Extension) {
        err.to_string()
    } else {
        err.category().to_string()
    }
}

/// The error of a failed Redis command `what` of `adapter` (e.g. "waiting room", "join"):
/// [`AppError::ServiceUnavailable`] for an outage (see [`is_outage`]), internal otherwise.
pub fn redis_error(
    adapter: &'static str,
    what: &'static str,
) -> impl FnOnce(RedisError) -> AppError {
    move |err| {
        let text = format!("Redis {adapter} {what} failed: {}", describe(&err));
        if is_outage(&err) {
            AppError::unavailable(text)
        } else {
            AppError::internal(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn io_error(kind: io::ErrorKind) -> RedisError {
        RedisError::from(io::Error::new(kind, "from the socket"))
    }

    #[test]
    fn outages_are_unavailable_and_faults_stay_internal() {
        for kind in [
            io::ErrorKind::ConnectionRefused,
            io::ErrorKind::ConnectionReset,
            io::ErrorKind::BrokenPipe,
            io::ErrorKind::UnexpectedEof,
            io::ErrorKind::TimedOut,
        ] {
            let err = redis_error("cache", "GET")(io_error(kind));
            assert!(matches!(err, AppError::ServiceUnavailable(_)), "{kind:?}");
            assert_eq!(err.status(), 503);
            assert!(err.retry_after().is_some());
        }
        let loading = RedisError::from((
            ErrorKind::Server(ServerErrorKind::BusyLoading),
            "LOADING Redis is loading the dataset in memory",
        ));
        assert!(is_outage(&loading));
        let readonly = RedisError::from((ErrorKind::Server(ServerErrorKind::ReadOnly), "READONLY"));
        assert!(is_outage(&readonly));

        let script = RedisError::from((
            ErrorKind::Server(ServerErrorKind::ResponseError),
            "ERR user_script:1: bad",
        ));
        assert!(!is_outage(&script));
        let typed = RedisError::from((ErrorKind::UnexpectedReturnType, "reply was 'secret-id'"));
        let err = redis_error("presence", "view")(typed);
        assert!(matches!(err, AppError::Internal(_)));
        assert!(!err.to_string().contains("secret-id"), "{err}");
    }

    #[tokio::test]
    async fn opening_never_connects_and_hides_the_password() {
        // Nothing listens on port 1: opening still succeeds (connects on first use).
        let conn = open("redis://:hunter2-secret@127.0.0.1:1/").expect("opens lazily");
        let mut conn2 = conn.clone();
        let started = std::time::Instant::now();
        let err = redis::cmd("GET")
            .arg("k")
            .query_async::<Option<String>>(&mut conn2)
            .await
            .map_err(redis_error("cache", "GET"))
            .unwrap_err();
        assert!(
            started.elapsed() < WORST_CASE + Duration::from_secs(1),
            "within the bound"
        );
        assert!(matches!(err, AppError::ServiceUnavailable(_)), "{err}");
        let text = err.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("127.0.0.1"),
            "{text}"
        );

        let err = open("not a url with :secret@").unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
