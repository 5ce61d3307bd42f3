//! A Lambda Runtime API emulator: the HTTP API a Lambda binary's runtime loop polls for events
//! and posts its answers to (`AWS_LAMBDA_RUNTIME_API`), on a free loopback port.
//!
//! It serves the four calls a custom runtime makes (`GET /runtime/invocation/next` as a long
//! poll, `POST /runtime/invocation/{id}/response`, `POST /runtime/invocation/{id}/error` and
//! `POST /runtime/init/error`) and records when each happened, so a test can read what a
//! binary answered and the benchmark can tell when it was ready (its first `/next`).
//! Our own code, not cargo-lambda's, so no extra tool is needed and every timing is ours.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::{mpsc, watch};

/// The API version prefix every call carries.
const PREFIX: &str = "/2018-06-01/runtime";
/// Lambda's own cap on a synchronous payload (6 MB); larger answers are refused as in AWS.
const MAX_PAYLOAD: usize = 6 * 1024 * 1024;

/// What the runtime did, in the order it happened.
#[derive(Debug, Clone)]
pub enum Happening {
    /// It asked for the next event (`GET /next`); the first one ends its init.
    Next,
    /// An event was handed to it.
    Delivered { request_id: String },
    /// It answered an event.
    Response { request_id: String, body: Bytes },
    /// It reported that handling an event failed.
    Error {
        request_id: String,
        error_type: String,
        body: Bytes,
    },
    /// It reported that it could not start.
    InitError { error_type: String, body: Bytes },
}

/// One happening and when the emulator saw it.
#[derive(Debug, Clone)]
pub struct Record {
    pub at: Instant,
    pub happening: Happening,
}

/// An event waiting for the runtime's next `/next`.
struct Pending {
    request_id: String,
    event: Bytes,
    deadline_ms: u128,
}

struct Shared {
    function_arn: String,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    delivered: Mutex<HashSet<String>>,
    log: Mutex<Vec<Record>>,
    /// Bumped on every record, so waiters wake up.
    version: watch::Sender<u64>,
}

impl Shared {
    fn record(&self, happening: Happening) {
        self.log.lock().unwrap().push(Record {
            at: Instant::now(),
            happening,
        });
        self.version.send_modify(|v| *v += 1);
    }
}

/// A running emulator for one function instance; the server stops when it is dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    sender: mpsc::UnboundedSender<Pending>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Starts the emulator on `127.0.0.1:0` for the function `function_name` (its ARN is
    /// handed to the runtime with every event).
    pub async fn start(function_name: &str) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            function_arn: format!(
                "arn:aws:lambda:ap-northeast-2:123456789012:function:{function_name}"
            ),
            queue: tokio::sync::Mutex::new(receiver),
            delivered: Mutex::new(HashSet::new()),
            log: Mutex::new(Vec::new()),
            version: watch::channel(0).0,
        });
        let app = Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(
                &format!("{PREFIX}/invocation/{{id}}/response"),
                post(response),
            )
            .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .layer(DefaultBodyLimit::max(MAX_PAYLOAD))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            // Ends only when aborted; a failed accept loop leaves the runtime without an API,
            // which its own error (and the launcher's exit check) reports.
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            shared,
            sender,
            server,
        })
    }

    /// `host:port`, as `AWS_LAMBDA_RUNTIME_API` carries it (no scheme).
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues `event` for the runtime's next `/next`, due within `timeout` (the
    /// `Lambda-Runtime-Deadline-Ms` it is told); answers the request id it will carry.
    pub fn enqueue(&self, event: &str, timeout: Duration) -> String {
        let request_id = request_id();
        let deadline = SystemTime::now() + timeout;
        let deadline_ms = deadline
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        // The receiver lives as long as `self`, so the send cannot fail.
        let _ = self.sender.send(Pending {
            request_id: request_id.clone(),
            event: Bytes::copy_from_slice(event.as_bytes()),
            deadline_ms,
        });
        request_id
    }

    /// Everything recorded so far.
    pub fn log(&self) -> Vec<Record> {
        self.shared.log.lock().unwrap().clone()
    }

    /// A receiver that changes whenever something is recorded.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.shared.version.subscribe()
    }
}

/// A request id shaped like Lambda's (a UUID), unique per event.
fn request_id() -> String {
    let n: u128 = rand::random();
    let hex = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// An X-Ray trace header as Lambda hands one to the runtime.
fn trace_id() -> String {
    let n: u128 = rand::random();
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "Root=1-{epoch:08x}-{:024x};Parent={:016x};Sampled=0",
        n & ((1u128 << 96) - 1),
        (n >> 64) as u64
    )
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.record(Happening::Next);
    let pending = shared.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        return StatusCode::GONE.into_response();
    };
    shared
        .delivered
        .lock()
        .unwrap()
        .insert(pending.request_id.clone());
    shared.record(Happening::Delivered {
        request_id: pending.request_id.clone(),
    });
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    put("content-type", "application/json".into());
    put("lambda-runtime-aws-request-id", pending.request_id);
    put(
        "lambda-runtime-deadline-ms",
        pending.deadline_ms.to_string(),
    );
    put(
        "lambda-runtime-invoked-function-arn",
        shared.function_arn.clone(),
    );
    put("lambda-runtime-trace-id", trace_id());
    (StatusCode::OK, headers, pending.event).into_response()
}

/// Whether `request_id` was handed out; the real API answers 400 to a post for any other.
fn known(shared: &Shared, request_id: &str) -> bool {
    shared.delivered.lock().unwrap().contains(request_id)
}

fn unknown_request() -> Response {
    (
        StatusCode::BAD_REQUEST,
        r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#,
    )
        .into_response()
}

/// 202, as the real API answers an accepted post.
fn accepted() -> Response {
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}

fn error_type(headers: &HeaderMap) -> String {
    headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    if !known(&shared, &request_id) {
        return unknown_request();
    }
    shared.record(Happening::Response { request_id, body });
    accepted()
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !known(&shared, &request_id) {
        return unknown_request();
    }
    shared.record(Happening::Error {
        request_id,
        error_type: error_type(&headers),
        body,
    });
    accepted()
}

async fn init_error(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.record(Happening::InitError {
        error_type: error_type(&headers),
        body,
    });
    accepted()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// One HTTP/1.1 exchange on a fresh connection; answers the raw response.
    async fn exchange(api: &RuntimeApi, request: String) -> String {
        let mut stream = tokio::net::TcpStream::connect(api.address()).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8(answer).unwrap()
    }

    fn post(path: &str, headers: &str, body: &str) -> String {
        format!(
            "POST {PREFIX}{path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{headers}content-length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn hands_out_events_with_lambdas_headers_and_records_the_answers() {
        let api = RuntimeApi::start("festa-Test").await.unwrap();
        let first = api.enqueue(r#"{"n":1}"#, Duration::from_secs(10));
        let next = format!(
            "GET {PREFIX}/invocation/next HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
        );
        let got = exchange(&api, next.clone()).await.to_lowercase();
        assert!(got.starts_with("http/1.1 200"), "{got}");
        assert!(
            got.contains(&format!("lambda-runtime-aws-request-id: {first}")),
            "{got}"
        );
        assert!(got.contains("lambda-runtime-deadline-ms: "), "{got}");
        assert!(
            got.contains("lambda-runtime-invoked-function-arn: arn:aws:lambda:"),
            "{got}"
        );
        assert!(got.contains("lambda-runtime-trace-id: root=1-"), "{got}");
        assert!(got.ends_with(r#"{"n":1}"#), "{got}");

        let accepted = exchange(
            &api,
            post(&format!("/invocation/{first}/response"), "", "42"),
        )
        .await;
        assert!(accepted.starts_with("HTTP/1.1 202"), "{accepted}");
        let unknown = exchange(&api, post("/invocation/nope/response", "", "1")).await;
        assert!(unknown.starts_with("HTTP/1.1 400"), "{unknown}");

        let second = api.enqueue("{}", Duration::from_secs(10));
        exchange(&api, next).await;
        let failure = r#"{"errorType":"Boom","errorMessage":"it broke"}"#;
        let header = "lambda-runtime-function-error-type: Runtime.Boom\r\n";
        exchange(
            &api,
            post(&format!("/invocation/{second}/error"), header, failure),
        )
        .await;
        exchange(&api, post("/init/error", header, failure)).await;

        let log: Vec<Happening> = api.log().into_iter().map(|r| r.happening).collect();
        assert!(matches!(&log[0], Happening::Next));
        assert!(matches!(&log[1], Happening::Delivered { request_id } if *request_id == first));
        assert!(
            matches!(&log[2], Happening::Response { request_id, body } if *request_id == first && &body[..] == b"42")
        );
        assert!(
            matches!(&log[5], Happening::Error { request_id, error_type, .. }
            if *request_id == second && error_type == "Runtime.Boom")
        );
        assert!(matches!(&log[6], Happening::InitError { .. }));
    }
}
