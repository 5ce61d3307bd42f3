//! Starts one Lambda binary as its own process, the way Lambda starts a custom runtime: a
//! cleared environment holding exactly the function's variables, the ones Lambda itself sets,
//! and `AWS_ENDPOINT_URL` for the emulator; nothing of the test process leaks in, so a binary
//! that needs a variable the template does not give fails here as it would in AWS.
//!
//! It captures the process's output, notices when it exits, and reads its peak resident set
//! (`VmHWM`) before stopping it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

use crate::runtime_api::{Happening, RuntimeApi};

/// How much of stderr an `Exited` outcome quotes.
const STDERR_TAIL: usize = 4096;

/// What to start: a binary and the environment its function has.
#[derive(Debug, Clone)]
pub struct Launch {
    pub binary: PathBuf,
    /// The function's name in Lambda (`AWS_LAMBDA_FUNCTION_NAME`).
    pub function_name: String,
    /// The function's own variables, already resolved to local values.
    pub variables: BTreeMap<String, String>,
    pub memory_mb: u32,
    pub timeout: Duration,
    /// The template's `Handler` (`_HANDLER`).
    pub handler: String,
    /// Region and credentials Lambda hands the process, and the AWS emulator's endpoint.
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub aws_endpoint_url: String,
}

/// What one invocation came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The runtime posted an answer (parsed as JSON; a non-JSON answer is a JSON string).
    Response(Value),
    /// The runtime reported that the handler failed.
    Error {
        error_type: String,
        error_message: String,
    },
    /// The runtime reported that it could not start.
    InitError {
        error_type: String,
        error_message: String,
    },
    /// The process ended without answering.
    Exited { status: String, stderr_tail: String },
    /// No answer within the time allowed.
    TimedOut,
}

/// A running function instance: its process and its Runtime API.
pub struct Instance {
    api: RuntimeApi,
    child: Child,
    pid: Option<u32>,
    spawned_at: Instant,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    exited: Option<ExitStatus>,
    timeout: Duration,
}

/// What a stopped instance leaves behind.
#[derive(Debug, Clone)]
pub struct Stopped {
    /// Peak resident set in KiB (`VmHWM`), read just before the stop.
    pub peak_rss_kib: Option<u64>,
    pub stdout: String,
    pub stderr: String,
}

impl Instance {
    /// Starts the binary with a Runtime API of its own.
    pub async fn start(launch: &Launch) -> std::io::Result<Self> {
        let api = RuntimeApi::start(&launch.function_name).await?;
        let mut command = Command::new(&launch.binary);
        command
            .env_clear()
            .envs(lambda_environment(launch, &api.address()))
            .envs(&launch.variables)
            .current_dir(task_root(&launch.binary))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let spawned_at = Instant::now();
        let mut child = command.spawn()?;
        let pid = child.id();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = child.stdout.take() {
            tokio::spawn(drain(out, stdout.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(drain(err, stderr.clone()));
        }
        Ok(Self {
            api,
            child,
            pid,
            spawned_at,
            stdout,
            stderr,
            exited: None,
            timeout: launch.timeout,
        })
    }

    /// Sends `event` through `/next` and waits, at most the function's timeout, for what the
    /// runtime posts back or for the process to end.
    pub async fn invoke(&mut self, event: &str) -> (String, Outcome) {
        let mut changes = self.api.watch();
        let request_id = self.api.enqueue(event, self.timeout);
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            if let Some(outcome) = self.outcome_of(&request_id) {
                return (request_id, outcome);
            }
            if let Some(status) = self.exited {
                // Let the output drain before quoting it.
                tokio::time::sleep(Duration::from_millis(50)).await;
                if let Some(outcome) = self.outcome_of(&request_id) {
                    return (request_id, outcome);
                }
                return (
                    request_id,
                    Outcome::Exited {
                        status: status.to_string(),
                        stderr_tail: tail(&self.stderr_text(), STDERR_TAIL),
                    },
                );
            }
            tokio::select! {
                _ = changes.changed() => {}
                status = self.child.wait() => {
                    self.exited = Some(status.unwrap_or_else(|_| failed_status()));
                }
                _ = tokio::time::sleep_until(deadline) => return (request_id, Outcome::TimedOut),
            }
        }
    }

    /// Whether the runtime, its answer posted, asks for the next event within `within` and is
    /// still running: a binary that answers and then dies would fail every later invocation.
    pub async fn polls_again(&mut self, within: Duration) -> bool {
        let mut changes = self.api.watch();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if self.exited.is_some() {
                return false;
            }
            let polls = self
                .api
                .log()
                .iter()
                .filter(|r| matches!(r.happening, Happening::Next))
                .count();
            if polls >= 2 {
                return true;
            }
            tokio::select! {
                _ = changes.changed() => {}
                status = self.child.wait() => {
                    self.exited = Some(status.unwrap_or_else(|_| failed_status()));
                }
                _ = tokio::time::sleep_until(deadline) => return false,
            }
        }
    }

    /// The outcome of `request_id` (or of the init), if the runtime posted one.
    fn outcome_of(&self, request_id: &str) -> Option<Outcome> {
        self.api
            .log()
            .into_iter()
            .find_map(|record| match record.happening {
                Happening::Response {
                    request_id: id,
                    body,
                } if id == request_id => Some(Outcome::Response(
                    serde_json::from_slice(&body).unwrap_or_else(|_| {
                        Value::String(String::from_utf8_lossy(&body).into_owned())
                    }),
                )),
                Happening::Error {
                    request_id: id,
                    error_type,
                    body,
                } if id == request_id => {
                    let (error_type, error_message) = diagnostic(&error_type, &body);
                    Some(Outcome::Error {
                        error_type,
                        error_message,
                    })
                }
                Happening::InitError { error_type, body } => {
                    let (error_type, error_message) = diagnostic(&error_type, &body);
                    Some(Outcome::InitError {
                        error_type,
                        error_message,
                    })
                }
                _ => None,
            })
    }

    /// Spawn → the runtime's first `/next`: how long the binary took to be ready.
    pub fn init_time(&self) -> Option<Duration> {
        self.api.log().into_iter().find_map(|record| {
            matches!(record.happening, Happening::Next).then(|| record.at - self.spawned_at)
        })
    }

    /// Spawn → the answer to `request_id` was posted.
    pub fn answer_time(&self, request_id: &str) -> Option<Duration> {
        self.api
            .log()
            .into_iter()
            .find_map(|record| match record.happening {
                Happening::Response { request_id: id, .. }
                | Happening::Error { request_id: id, .. }
                    if id == request_id =>
                {
                    Some(record.at - self.spawned_at)
                }
                _ => None,
            })
    }

    fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Reads the peak resident set, then kills the process (as Lambda ends an instance) and
    /// collects its output.
    pub async fn stop(mut self) -> Stopped {
        let peak_rss_kib = self.pid.and_then(peak_rss_kib);
        if self.exited.is_none() {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
        // The pipes close with the process; give the readers a moment to finish.
        tokio::time::sleep(Duration::from_millis(20)).await;
        Stopped {
            peak_rss_kib,
            stdout: String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned(),
            stderr: self.stderr_text(),
        }
    }
}

/// What Lambda itself sets for a custom runtime (`provided.al2023`), plus the emulator's
/// endpoint for the AWS SDK; the function's own variables come on top.
fn lambda_environment(launch: &Launch, runtime_api: &str) -> Vec<(&'static str, String)> {
    let name = &launch.function_name;
    let today = chrono::Utc::now().format("%Y/%m/%d");
    vec![
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            launch.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            format!("{today}/[$LATEST]{:032x}", rand::random::<u128>()),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_REGION", launch.region.clone()),
        ("AWS_DEFAULT_REGION", launch.region.clone()),
        ("AWS_ACCESS_KEY_ID", launch.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", launch.secret_access_key.clone()),
        ("AWS_SESSION_TOKEN", "festa-testkit-session".into()),
        ("_HANDLER", launch.handler.clone()),
        (
            "LAMBDA_TASK_ROOT",
            task_root(&launch.binary).display().to_string(),
        ),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".into()),
        ("TZ", ":UTC".into()),
        ("LANG", "en_US.UTF-8".into()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()),
        (
            "LD_LIBRARY_PATH",
            "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"
                .into(),
        ),
        ("AWS_ENDPOINT_URL", launch.aws_endpoint_url.clone()),
    ]
}

/// The folder holding the binary, as `/var/task` holds `bootstrap`.
fn task_root(binary: &Path) -> PathBuf {
    binary
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

async fn drain(mut pipe: impl tokio::io::AsyncRead + Unpin, into: Arc<Mutex<Vec<u8>>>) {
    let mut buf = [0u8; 8192];
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 {
            break;
        }
        into.lock().unwrap().extend_from_slice(&buf[..n]);
    }
}

/// `errorType` and `errorMessage` of a posted diagnostic (the header's type when the body
/// names none).
fn diagnostic(header_type: &str, body: &[u8]) -> (String, String) {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error_type = parsed["errorType"]
        .as_str()
        .filter(|t| !t.is_empty())
        .unwrap_or(header_type)
        .to_string();
    let error_message = parsed["errorMessage"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    (error_type, error_message)
}

/// `VmHWM` of `/proc/<pid>/status`, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The last `max` bytes of `text`, cut at a character boundary.
pub fn tail(text: &str, max: usize) -> String {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_string()
}

/// The status of a process whose wait failed: reported as a failure, never as success.
fn failed_status() -> ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    ExitStatus::from_raw(255 << 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(binary: &str) -> Launch {
        Launch {
            binary: PathBuf::from(binary),
            function_name: "festa-Test".into(),
            variables: BTreeMap::from([("ONLY_THIS".into(), "1".into())]),
            memory_mb: 256,
            timeout: Duration::from_secs(5),
            handler: "bootstrap".into(),
            region: "ap-northeast-2".into(),
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
            aws_endpoint_url: "http://127.0.0.1:1".into(),
        }
    }

    #[tokio::test]
    async fn a_binary_that_exits_without_answering_is_reported_as_exited() {
        let mut instance = Instance::start(&launch("/bin/false")).await.unwrap();
        let (_, outcome) = instance.invoke("{}").await;
        assert!(
            matches!(&outcome, Outcome::Exited { status, .. } if status.contains('1')),
            "{outcome:?}"
        );
        assert_eq!(instance.init_time(), None, "it never asked for an event");
        assert!(!instance.polls_again(Duration::from_millis(100)).await);
    }

    #[test]
    fn the_environment_is_lambdas_and_names_the_emulator() {
        let env: BTreeMap<_, _> = lambda_environment(&launch("/x/bootstrap"), "127.0.0.1:9")
            .into_iter()
            .collect();
        assert_eq!(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
        assert_eq!(env["_HANDLER"], "bootstrap");
        assert_eq!(env["LAMBDA_TASK_ROOT"], "/x");
        assert_eq!(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:1");
    }

    #[test]
    fn reads_the_peak_resident_set_of_a_live_process() {
        let kib = peak_rss_kib(std::process::id()).expect("VmHWM of this test");
        assert!(kib > 0);
        assert_eq!(tail("가나다", 4), "다");
    }
}
