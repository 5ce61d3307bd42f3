//! The production [`PushGateway`]: Firebase Cloud Messaging's HTTP v1 API
//! (`POST /v1/projects/{project}/messages:send`).
//!
//! The OAuth 2 access token comes from the service-account key through `gcp_auth`, which signs
//! the JWT bearer grant and caches the token until shortly before it expires; build the gateway
//! once per cold start so every invocation of a warm Lambda reuses both the token and the
//! connections of its one HTTP client.
//!
//! Neither the device token, the access token nor the key ever reaches a log or an error:
//! they carry HTTP statuses and FCM's own error codes only.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use gcp_auth::{CustomServiceAccount, TokenProvider};
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::{Deserialize, Serialize};
use tokio::time::{timeout_at, Instant};

use crate::error::{AppError, AppResult};
use crate::model::PushMessage;
use crate::ports::{PushGateway, PushOutcome};

/// Where FCM's HTTP v1 API is served.
pub const DEFAULT_BASE_URL: &str = "https://fcm.googleapis.com";

/// The one OAuth 2 scope sending needs.
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// How long one send may take, token included, before it is a (retried) failure.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle connections kept per host; FCM speaks HTTP/2, so a few carry any fan-out.
const MAX_IDLE_PER_HOST: usize = 4;

/// How long an idle connection is kept for the next push.
const IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// The most of an answer's body that is read (FCM's error documents are well under 1 KiB).
const MAX_BODY: usize = 64 * 1024;

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Sends pushes through FCM's HTTP v1 API with a service account's credentials.
#[derive(Clone)]
pub struct FcmGateway {
    auth: Arc<CustomServiceAccount>,
    /// One token request at a time: `gcp_auth` does not look at its cache again once it holds
    /// its write lock, so sends that all found it empty (on several threads at a cold start)
    /// would each ask for a token.
    token_gate: Arc<tokio::sync::Mutex<()>>,
    http: HttpClient,
    project_id: String,
    send_url: Uri,
    timeout: Duration,
}

impl fmt::Debug for FcmGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key, the cached access token and the HTTP client stay out.
        f.debug_struct("FcmGateway")
            .field("project_id", &self.project_id)
            .field("send_url", &self.send_url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl FcmGateway {
    /// A gateway for the Firebase project of the service-account key `service_account_json`
    /// (Google's JSON key file), sending to `base_url` (default [`DEFAULT_BASE_URL`]).
    ///
    /// Fails when the key is not a usable service-account key, names no `project_id`, or the
    /// base URL is not an `http(s)` URL; the error never quotes the key.
    pub fn new(service_account_json: &str, base_url: Option<&str>) -> AppResult<Self> {
        let auth = CustomServiceAccount::from_json(service_account_json).map_err(|err| {
            AppError::internal(format!(
                "the FCM service-account key is unusable: {}",
                describe(&err)
            ))
        })?;
        let project_id = auth
            .project_id()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| AppError::internal("the FCM service-account key has no project_id"))?
            .to_owned();
        // Project ids are lower-case letters, digits and hyphens (older ones may carry a
        // `domain:` prefix); anything else could change the path it is put in.
        if !project_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '_'))
        {
            return Err(AppError::internal(
                "the FCM service-account key's project_id is not a valid project id",
            ));
        }
        let base = base_url.unwrap_or(DEFAULT_BASE_URL).trim_end_matches('/');
        let send_url = send_url(base, &project_id)?;

        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(Arc::new(rustls::crypto::ring::default_provider()))
            .map_err(|err| {
                AppError::internal(format!(
                    "FCM: failed to load the TLS root certificates: {err}"
                ))
            })?
            // Plain HTTP only reaches the stub a test or a local run points `base_url` at.
            .https_or_http()
            .enable_all_versions()
            .build();
        let http = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
            .pool_idle_timeout(IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(https);

        Ok(Self {
            auth: Arc::new(auth),
            token_gate: Arc::new(tokio::sync::Mutex::new(())),
            http,
            project_id,
            send_url,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The same gateway with another limit on each send (token and answer included).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The Firebase project pushes are sent through.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// An access token for FCM, from `gcp_auth`'s cache or freshly granted.
    async fn access_token(&self, deadline: Instant) -> AppResult<Arc<gcp_auth::Token>> {
        let token = async {
            let _gate = self.token_gate.lock().await;
            self.auth.token(&[SCOPE]).await
        };
        match timeout_at(deadline, token).await {
            Ok(Ok(token)) => Ok(token),
            Ok(Err(err)) => Err(AppError::internal(format!(
                "FCM: the OAuth token request failed: {}",
                describe(&err)
            ))),
            Err(_) => Err(AppError::internal(format!(
                "FCM: the OAuth token request timed out after {:?}",
                self.timeout
            ))),
        }
    }
}

/// `{base}/v1/projects/{project_id}/messages:send`, checked to be an `http(s)` URL.
fn send_url(base: &str, project_id: &str) -> AppResult<Uri> {
    let invalid = || AppError::internal(format!("FCM: {base:?} is not a valid http(s) base URL"));
    let url: Uri = format!("{base}/v1/projects/{project_id}/messages:send")
        .parse()
        .map_err(|_| invalid())?;
    let scheme_ok = matches!(url.scheme_str(), Some("https" | "http"));
    let authority_ok = url
        .authority()
        .is_some_and(|authority| !authority.as_str().contains('@'));
    if !scheme_ok || !authority_ok || url.query().is_some() {
        return Err(invalid());
    }
    Ok(url)
}

/// A `gcp_auth` error as text that names what failed but quotes no input, so neither the key
/// nor a token answer can reach a log through it.
fn describe(err: &gcp_auth::Error) -> String {
    match err {
        // serde's "missing field `token_uri`" names a field only; other texts may quote a value.
        gcp_auth::Error::Json(what, err) if err.to_string().starts_with("missing field") => {
            format!("{what} ({err})")
        }
        gcp_auth::Error::Json(what, err) => format!(
            "{what} ({:?} error at line {}, column {})",
            err.classify(),
            err.line(),
            err.column()
        ),
        gcp_auth::Error::Io(what, err) => format!("{what} ({})", err.kind()),
        gcp_auth::Error::Other(what, err) => format!("{what}: {}", chain(err.as_ref())),
        gcp_auth::Error::Http(what, err) => format!("{what}: {}", chain(err)),
        gcp_auth::Error::Str(what) => (*what).to_owned(),
        // Only the key-discovery helpers give this one; never a custom service account.
        other => format!("{other}"),
    }
}

/// An error and its sources, as "outer: inner: …".
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The request body: the FCM v1 `Message` with the token, the notification and the data.
#[derive(Serialize)]
struct SendRequest<'a> {
    message: Message<'a>,
}

#[derive(Serialize)]
struct Message<'a> {
    token: &'a str,
    notification: Notification<'a>,
    data: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Notification<'a> {
    title: &'a str,
    body: &'a str,
}

impl<'a> From<&'a PushMessage> for SendRequest<'a> {
    fn from(push: &'a PushMessage) -> Self {
        // `push.to` (the holder) is ours alone and never sent.
        SendRequest {
            message: Message {
                token: &push.token,
                notification: Notification {
                    title: &push.title,
                    body: &push.body,
                },
                data: &push.data,
            },
        }
    }
}

#[async_trait]
impl PushGateway for FcmGateway {
    async fn send(&self, push: &PushMessage) -> AppResult<PushOutcome> {
        let deadline = Instant::now() + self.timeout;
        let token = self.access_token(deadline).await?;

        let body = serde_json::to_vec(&SendRequest::from(push))
            .map_err(|err| AppError::internal(format!("FCM: encoding the push failed: {err}")))?;
        let mut bearer = HeaderValue::try_from(format!("Bearer {}", token.as_str()))
            .map_err(|_| AppError::internal("FCM: the OAuth token is not a valid header value"))?;
        bearer.set_sensitive(true);
        let request = Request::post(self.send_url.clone())
            .header(AUTHORIZATION, bearer)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|err| {
                AppError::internal(format!("FCM: building the request failed: {err}"))
            })?;

        let response = match timeout_at(deadline, self.http.request(request)).await {
            Ok(Ok(response)) => response,
            Ok(Err(err)) => {
                return Err(AppError::internal(format!(
                    "FCM send failed: {}",
                    chain(&err)
                )))
            }
            Err(_) => {
                return Err(AppError::internal(format!(
                    "FCM send timed out after {:?}",
                    self.timeout
                )))
            }
        };
        let (parts, body) = response.into_parts();
        // Read the (small) body whatever the status, so the connection can be reused. Once the
        // status is in, a failure to read the rest changes nothing: a 2xx is delivered, and an
        // error without its document is judged by its status alone.
        let body = match timeout_at(deadline, Limited::new(body, MAX_BODY).collect()).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(err)) => {
                tracing::debug!(status = parts.status.as_u16(), error = %err, "FCM: unread answer body");
                Bytes::new()
            }
            Err(_) => {
                tracing::debug!(status = parts.status.as_u16(), "FCM: answer body timed out");
                Bytes::new()
            }
        };
        Ok(outcome(parts.status, &parts.headers, &body))
    }
}

/// What FCM's answer means for the push (see FCM v1's `ErrorCode` documentation).
fn outcome(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> PushOutcome {
    if status.is_success() {
        tracing::debug!(status = status.as_u16(), "FCM accepted the push");
        return PushOutcome::Delivered;
    }
    let error = FcmError::parse(body);
    let code = error.error_code.as_deref();
    let invalid_argument =
        code == Some("INVALID_ARGUMENT") || error.status.as_deref() == Some("INVALID_ARGUMENT");

    // SENDER_ID_MISMATCH is not among them: every token answers it when the key is another
    // Firebase project's, and forgetting them all over one wrong secret would lose every
    // device. It is a rejection, and the job waits in the dead-letter queue.
    let outcome = if code == Some("UNREGISTERED") || (invalid_argument && error.concerns_token) {
        // The app was uninstalled, or the token expired or is malformed: it will never work
        // again.
        PushOutcome::TokenGone
    } else if status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
        || matches!(code, Some("QUOTA_EXCEEDED" | "UNAVAILABLE" | "INTERNAL"))
    {
        PushOutcome::Retry {
            after: retry_after(headers),
        }
    } else if status == StatusCode::UNAUTHORIZED || code == Some("THIRDPARTY_AUTH_ERROR") {
        // An access token that expired early, or APNs / web push credentials being fixed.
        PushOutcome::Retry { after: None }
    } else {
        PushOutcome::Rejected(error.summary(status))
    };

    let kind = match &outcome {
        PushOutcome::Delivered => "delivered",
        PushOutcome::TokenGone => "token_gone",
        PushOutcome::Retry { .. } => "retry",
        PushOutcome::Rejected(_) => "rejected",
    };
    tracing::warn!(
        status = status.as_u16(),
        fcm_status = error.status.as_deref().unwrap_or("-"),
        fcm_error_code = code.unwrap_or("-"),
        outcome = kind,
        "FCM did not accept the push"
    );
    outcome
}

/// `Retry-After` in seconds (an HTTP-date is ignored: FCM sends seconds).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    value.parse::<u64>().ok().map(Duration::from_secs)
}

/// What an FCM error document says, reduced to what is safe to log: Google's status, FCM's
/// `errorCode`, the names of the fields it objects to, and whether it is about the token.
#[derive(Debug, Default)]
struct FcmError {
    status: Option<String>,
    error_code: Option<String>,
    fields: Vec<String>,
    concerns_token: bool,
}

/// `{"error": google.rpc.Status}`, as every Google API answers a failure.
#[derive(Deserialize)]
struct Envelope {
    error: GoogleStatus,
}

#[derive(Deserialize)]
struct GoogleStatus {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    details: Vec<serde_json::Value>,
}

/// The field FCM names when the registration token itself is wrong.
const TOKEN_FIELD: &str = "message.token";

impl FcmError {
    fn parse(body: &[u8]) -> Self {
        let Ok(Envelope { error }) = serde_json::from_slice::<Envelope>(body) else {
            return Self::default();
        };
        let mut parsed = Self {
            status: error.status.filter(|s| is_code(s)),
            concerns_token: mentions_token(&error.message),
            ..Self::default()
        };
        for detail in &error.details {
            let kind = detail.get("@type").and_then(|t| t.as_str()).unwrap_or("");
            if kind.ends_with("/google.firebase.fcm.v1.FcmError") {
                if let Some(code) = detail.get("errorCode").and_then(|c| c.as_str()) {
                    if is_code(code) {
                        parsed.error_code = Some(code.to_owned());
                    }
                }
            } else if kind.ends_with("/google.rpc.BadRequest") {
                let violations = detail.get("fieldViolations").and_then(|v| v.as_array());
                for violation in violations.into_iter().flatten() {
                    let field = violation.get("field").and_then(|f| f.as_str());
                    let description = violation
                        .get("description")
                        .and_then(|d| d.as_str())
                        .unwrap_or("");
                    if field == Some(TOKEN_FIELD) || mentions_token(description) {
                        parsed.concerns_token = true;
                    }
                    if let Some(field) = field.filter(|f| is_field_path(f)) {
                        parsed.fields.push(field.to_owned());
                    }
                }
            }
        }
        parsed
    }

    /// "FCM refused the push: HTTP 400, INVALID_ARGUMENT/INVALID_ARGUMENT, fields message.data".
    fn summary(&self, status: StatusCode) -> String {
        let mut text = format!("FCM refused the push: HTTP {}", status.as_u16());
        if self.status.is_some() || self.error_code.is_some() {
            text.push_str(&format!(
                ", {}/{}",
                self.status.as_deref().unwrap_or("-"),
                self.error_code.as_deref().unwrap_or("-")
            ));
        }
        if !self.fields.is_empty() {
            text.push_str(&format!(", fields {}", self.fields.join(" ")));
        }
        text
    }
}

/// Whether an error text is about the registration token (FCM: "The registration token is
/// not a valid FCM registration token").
fn mentions_token(text: &str) -> bool {
    text.to_ascii_lowercase().contains("registration token")
}

/// An enum-like code such as `INVALID_ARGUMENT`; anything else is not repeated.
fn is_code(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A field path such as `message.android.ttl` or `message.data[0].key`.
fn is_field_path(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '[' | ']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> PushOutcome {
        outcome(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn the_token_field_violation_marks_an_invalid_argument_as_token_gone() {
        let body = r#"{"error":{"code":400,"message":"Request contains an invalid argument.",
            "status":"INVALID_ARGUMENT","details":[
            {"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"},
            {"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[
              {"field":"message.token","description":"Invalid value"}]}]}}"#;
        assert_eq!(answer(400, body), PushOutcome::TokenGone);
    }

    #[test]
    fn a_rejection_names_codes_and_fields_but_no_free_text() {
        let body = r#"{"error":{"code":400,"message":"bad data for tok-123",
            "status":"INVALID_ARGUMENT","details":[
            {"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[
              {"field":"message.data","description":"tok-123 is bad"},
              {"field":"evil tok-123","description":"x"}]}]}}"#;
        let PushOutcome::Rejected(text) = answer(400, body) else {
            panic!("rejected")
        };
        assert_eq!(
            text,
            "FCM refused the push: HTTP 400, INVALID_ARGUMENT/-, fields message.data"
        );
    }

    #[test]
    fn an_unexplained_404_is_rejected_not_token_gone() {
        // A wrong project answers 404 too; forgetting the token then would lose a device.
        let body = r#"{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND"}}"#;
        assert!(matches!(answer(404, body), PushOutcome::Rejected(_)));
    }

    #[test]
    fn an_http_date_retry_after_is_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static(" 12 "));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(12)));
    }
}
