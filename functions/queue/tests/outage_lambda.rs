//! The `join-queue` binary as a Lambda whose Redis is unreachable: it still cold-starts (the
//! connection opens on first use), answers each request `503 SERVICE_UNAVAILABLE` with
//! `Retry-After` within the bound, keeps polling for the next event, and serves the same
//! request once a Redis listens at that address, without a restart.
//!
//! Started through the testkit's Runtime API emulator with the template's environment, as
//! `tests/runtime.rs` does; skipped without `REDIS_URL`/`AWS_ENDPOINT_URL` (scripts/test.sh).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use festa_testkit::launcher::{Instance, Outcome};
use festa_testkit::template::Template;
use festa_testkit::world::{Services, World};
use serde_json::Value;

/// The answer-time bound under an outage (API.md: promptly), with a margin for a loaded
/// machine; a correctness bound, not a speed measurement.
const BOUND: Duration = Duration::from_millis(2500);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The REST answer the runtime posted: status, `Retry-After`, body.
fn answer(outcome: &Outcome) -> (i64, Option<String>, Value) {
    let Outcome::Response(response) = outcome else {
        panic!("the handler answered nothing: {outcome:?}");
    };
    let status = response["statusCode"].as_i64().expect("a statusCode");
    // API Gateway's REST answer may carry a header in either map.
    let header = |name: &str| {
        ["headers", "multiValueHeaders"].iter().find_map(|map| {
            let (_, value) = response[*map]
                .as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))?;
            value
                .as_str()
                .or_else(|| value.get(0)?.as_str())
                .map(str::to_string)
        })
    };
    let body = response["body"]
        .as_str()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, header("retry-after"), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lambda_with_redis_down_starts_answers_503_and_recovers() {
    let Some(services) = Services::from_env() else {
        return;
    };
    let template = Template::load().unwrap();
    let function = template.function("join-queue").expect("join-queue");
    let world = Arc::new(World::new(&services, function, &template).await.unwrap());
    let prepared = festa_testkit::scenarios::prepare(&world, "join-queue")
        .await
        .unwrap();
    let port = free_port();
    let mut launch = world.launch(Path::new(env!("CARGO_BIN_EXE_join-queue")));
    launch
        .variables
        .insert("REDIS_URL".into(), format!("redis://127.0.0.1:{port}/"));
    let mut instance = Instance::start(&launch).await.unwrap();

    // Cold start with nothing listening: no init error, and every request answers 503.
    for _ in 0..3 {
        let started = Instant::now();
        let (_, outcome) = instance.invoke(&prepared.event).await;
        let took = started.elapsed();
        let (status, retry_after, body) = answer(&outcome);
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["code"], "SERVICE_UNAVAILABLE", "{body}");
        assert!(
            retry_after
                .as_deref()
                .is_some_and(|r| r.parse::<u64>().unwrap() >= 1),
            "Retry-After: {outcome:?}"
        );
        assert!(took < BOUND, "answered in {took:?}, over {BOUND:?}");
        eprintln!("join-queue with Redis down: 503 in {took:?}");
    }
    assert!(instance.polls_again(Duration::from_secs(5)).await);

    // Redis comes up at that address: the same process serves the same request.
    let mut redis = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server on the path (scripts/test.sh installs it)");
    let started = Instant::now();
    let served = loop {
        let (_, outcome) = instance.invoke(&prepared.event).await;
        let (status, _, body) = answer(&outcome);
        if status == 200 {
            break body;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "never recovered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(served["rank"].is_number(), "{served}");
    eprintln!(
        "join-queue after Redis came up: 200 after {:?}",
        started.elapsed()
    );
    let stopped = instance.stop().await;
    let _ = redis.kill();
    let _ = redis.wait();
    assert!(
        !stopped.stderr.contains("panicked"),
        "{}",
        festa_testkit::launcher::tail(&stopped.stderr, 2000)
    );
}
