//! `FcmGateway` against an HTTP stub standing in for both Google's OAuth 2 token endpoint and
//! FCM's HTTP v1 API: what goes on the wire, that the access token is cached, how FCM's
//! answers map to `PushOutcome`, and that no secret reaches an error, a log or `Debug`.
//!
//! The service-account key is a test-only fixture (`fixtures/fcm-test-service-account.json`)
//! whose `token_uri` is pointed at the stub. The Secrets Manager part runs against moto at
//! `AWS_ENDPOINT_URL` (skipped without it, unless `FESTA_REQUIRE_REAL=1`).

#![cfg(feature = "fcm")]

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use festa::adapters::fcm::FcmGateway;
use festa::model::PushMessage;
use festa::ports::{PushGateway, PushOutcome};
use serde_json::{json, Value};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The test-only service-account key, with a placeholder `token_uri`.
const KEY: &str = include_str!("fixtures/fcm-test-service-account.json");
const TOKEN_URI_PLACEHOLDER: &str = "http://127.0.0.1:0/token";
/// A piece of the fixture's private key, to look for where it must not be.
const KEY_FRAGMENT: &str = "MIIEvgIBADANBgkqhkiG9w0BAQEFAASC";

const SEND_PATH: &str = "/v1/projects/festa-test/messages:send";
const ACCESS_TOKEN: &str = "ya29.test-token";
const DEVICE: &str = "dGVzdC1kZXZpY2U:APA91bTestDeviceToken_0123456789";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// The fixture with its `token_uri` at `server`.
fn key_for(server: &MockServer) -> String {
    assert!(KEY.contains(TOKEN_URI_PLACEHOLDER));
    assert!(KEY.contains(KEY_FRAGMENT));
    KEY.replace(TOKEN_URI_PLACEHOLDER, &format!("{}/token", server.uri()))
}

/// Google's token endpoint on `server`, answering a one-hour access token.
async fn token_stub(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS_TOKEN,
            "expires_in": 3599,
            "token_type": "Bearer"
        })))
        .mount(server)
        .await;
}

/// A stub answering every send with `answer`, and a gateway pointed at it for both.
async fn stub(answer: ResponseTemplate) -> (MockServer, FcmGateway) {
    let server = MockServer::start().await;
    token_stub(&server).await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(answer)
        .mount(&server)
        .await;
    let gateway = FcmGateway::new(&key_for(&server), Some(&server.uri())).unwrap();
    (server, gateway)
}

fn push() -> PushMessage {
    PushMessage {
        to: "guest@festa.test".into(),
        token: DEVICE.into(),
        title: "내일은 불꽃축제 🎆".into(),
        body: "2027-10-02 · 여의도 한강공원".into(),
        data: BTreeMap::from([
            ("festivalId".to_string(), "fest-1".to_string()),
            ("festivalDate".to_string(), "2027-10-02".to_string()),
            ("reservationId".to_string(), "r-42".to_string()),
        ]),
    }
}

/// An FCM v1 error document.
fn fcm_error(http: u16, status: &str, message: &str, details: Value) -> ResponseTemplate {
    ResponseTemplate::new(http).set_body_json(json!({
        "error": { "code": http, "message": message, "status": status, "details": details }
    }))
}

fn fcm_error_code(code: &str) -> Value {
    json!({ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code })
}

fn field_violation(field: &str, description: &str) -> Value {
    json!({
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{ "field": field, "description": description }]
    })
}

/// The requests the stub received at `at`.
async fn requests_to(server: &MockServer, at: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == at)
        .collect()
}

/// Neither the device token, the access token nor the key appears in `text`.
fn assert_no_secret(text: &str) {
    assert!(!text.contains(DEVICE), "the device token leaked: {text}");
    assert!(
        !text.contains(ACCESS_TOKEN),
        "the access token leaked: {text}"
    );
    assert!(!text.contains(KEY_FRAGMENT), "the key leaked: {text}");
    assert!(!text.contains("PRIVATE KEY"), "the key leaked: {text}");
}

#[tokio::test]
async fn sends_exactly_the_v1_message_with_the_granted_token_and_answers_delivered() {
    captured_logs();
    let server = MockServer::start().await;
    token_stub(&server).await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .and(header("authorization", "Bearer ya29.test-token"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "message": {
                "token": DEVICE,
                "notification": {
                    "title": "내일은 불꽃축제 🎆",
                    "body": "2027-10-02 · 여의도 한강공원"
                },
                "data": {
                    "festivalDate": "2027-10-02",
                    "festivalId": "fest-1",
                    "reservationId": "r-42"
                }
            }
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({ "name": "projects/festa-test/messages/0:1500415314455276%31bd1c9631bd1c96" }),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let gateway = FcmGateway::new(&key_for(&server), Some(&format!("{}/", server.uri()))).unwrap();

    assert_eq!(gateway.send(&push()).await.unwrap(), PushOutcome::Delivered);

    let sends = requests_to(&server, SEND_PATH).await;
    assert_eq!(sends.len(), 1, "one send, at the project's path");
    assert_eq!(sends[0].method.as_str(), "POST");
    let body: Value = serde_json::from_slice(&sends[0].body).unwrap();
    assert!(
        !String::from_utf8_lossy(&sends[0].body).contains("guest@festa.test"),
        "the holder is never sent: {body}"
    );
}

#[tokio::test]
async fn the_access_token_is_granted_once_for_a_jwt_bearer_assertion_and_reused() {
    captured_logs();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS_TOKEN,
            "expires_in": 3599,
            "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .and(header("authorization", "Bearer ya29.test-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "name": "m" })))
        .expect(5)
        .mount(&server)
        .await;
    let gateway = FcmGateway::new(&key_for(&server), Some(&server.uri())).unwrap();

    // Two concurrent sends at the "cold start", then more one after another.
    let message = push();
    let (a, b) = tokio::join!(gateway.send(&message), gateway.send(&message));
    assert_eq!(a.unwrap(), PushOutcome::Delivered);
    assert_eq!(b.unwrap(), PushOutcome::Delivered);
    for _ in 0..3 {
        assert_eq!(gateway.send(&push()).await.unwrap(), PushOutcome::Delivered);
    }

    let grants = requests_to(&server, "/token").await;
    assert_eq!(grants.len(), 1, "the token is cached");
    let form: BTreeMap<String, String> = String::from_utf8(grants[0].body.clone())
        .unwrap()
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').expect("name=value");
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .unwrap()
                    .into_owned()
            };
            (decode(name), decode(value))
        })
        .collect();
    assert_eq!(
        form.get("grant_type").map(String::as_str),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    let assertion = form.get("assertion").expect("a JWT assertion");
    let parts: Vec<&str> = assertion.split('.').collect();
    assert_eq!(parts.len(), 3, "header.claims.signature");
    let decode = |part: &str| -> Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    assert_eq!(decode(parts[0])["alg"], "RS256");
    let claims = decode(parts[1]);
    assert_eq!(claims["scope"], SCOPE);
    assert_eq!(
        claims["iss"],
        "festa-push@festa-test.iam.gserviceaccount.com"
    );
    assert_eq!(claims["aud"], format!("{}/token", server.uri()));
}

#[tokio::test]
async fn fcm_answers_map_to_outcomes() {
    captured_logs();
    let token_message = "The registration token is not a valid FCM registration token";
    let cases: Vec<(&str, ResponseTemplate, PushOutcome)> = vec![
        (
            "404 UNREGISTERED",
            fcm_error(
                404,
                "NOT_FOUND",
                "Requested entity was not found.",
                json!([fcm_error_code("UNREGISTERED")]),
            ),
            PushOutcome::TokenGone,
        ),
        (
            "400 INVALID_ARGUMENT about the token (message)",
            fcm_error(
                400,
                "INVALID_ARGUMENT",
                token_message,
                json!([fcm_error_code("INVALID_ARGUMENT")]),
            ),
            PushOutcome::TokenGone,
        ),
        (
            "400 INVALID_ARGUMENT about the token (field violation)",
            fcm_error(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
                json!([
                    fcm_error_code("INVALID_ARGUMENT"),
                    field_violation("message.token", "Invalid value")
                ]),
            ),
            PushOutcome::TokenGone,
        ),
        (
            "429 QUOTA_EXCEEDED with Retry-After",
            fcm_error(
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded.",
                json!([fcm_error_code("QUOTA_EXCEEDED")]),
            )
            .insert_header("retry-after", "30"),
            PushOutcome::Retry {
                after: Some(Duration::from_secs(30)),
            },
        ),
        (
            "503 UNAVAILABLE",
            fcm_error(
                503,
                "UNAVAILABLE",
                "The service is currently unavailable.",
                json!([fcm_error_code("UNAVAILABLE")]),
            ),
            PushOutcome::Retry { after: None },
        ),
        (
            "500 with an HTML body",
            ResponseTemplate::new(500).set_body_raw(
                "<html><body>Internal Server Error</body></html>",
                "text/html",
            ),
            PushOutcome::Retry { after: None },
        ),
        (
            "401 expired access token",
            fcm_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
                json!([]),
            ),
            PushOutcome::Retry { after: None },
        ),
        (
            "401 THIRDPARTY_AUTH_ERROR",
            fcm_error(
                401,
                "UNAUTHENTICATED",
                "Auth error from APNS or Web Push Service",
                json!([fcm_error_code("THIRDPARTY_AUTH_ERROR")]),
            ),
            PushOutcome::Retry { after: None },
        ),
    ];
    for (case, answer, want) in cases {
        let (_server, gateway) = stub(answer).await;
        let got = gateway.send(&push()).await.unwrap();
        assert_eq!(got, want, "{case}");
    }
}

#[tokio::test]
async fn refusals_a_retry_cannot_fix_are_rejected_with_codes_only() {
    captured_logs();
    let cases = [
        (
            "400 INVALID_ARGUMENT about the data",
            fcm_error(
                400,
                "INVALID_ARGUMENT",
                &format!("Invalid data payload for {DEVICE}"),
                json!([
                    fcm_error_code("INVALID_ARGUMENT"),
                    field_violation("message.data", "Invalid value")
                ]),
            ),
            "FCM refused the push: HTTP 400, INVALID_ARGUMENT/INVALID_ARGUMENT, fields message.data",
        ),
        (
            // The service account may not send (or FCM is off for the project): our fault,
            // and the device must be kept.
            "403 PERMISSION_DENIED",
            fcm_error(
                403,
                "PERMISSION_DENIED",
                "Permission 'cloudmessaging.messages.create' denied",
                json!([]),
            ),
            "FCM refused the push: HTTP 403, PERMISSION_DENIED/-",
        ),
        (
            // Every token answers this when the key is another Firebase project's: forgetting
            // them would wipe every user's devices over one wrong secret.
            "403 SENDER_ID_MISMATCH",
            fcm_error(
                403,
                "PERMISSION_DENIED",
                "SenderId mismatch",
                json!([fcm_error_code("SENDER_ID_MISMATCH")]),
            ),
            "FCM refused the push: HTTP 403, PERMISSION_DENIED/SENDER_ID_MISMATCH",
        ),
        (
            "404 without UNREGISTERED",
            fcm_error(
                404,
                "NOT_FOUND",
                "Requested entity was not found.",
                json!([]),
            ),
            "FCM refused the push: HTTP 404, NOT_FOUND/-",
        ),
    ];
    for (case, answer, want) in cases {
        let (_server, gateway) = stub(answer).await;
        match gateway.send(&push()).await.unwrap() {
            PushOutcome::Rejected(text) => {
                assert_eq!(text, want, "{case}");
                assert_no_secret(&text);
            }
            other => panic!("{case}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_unreachable_fcm_is_an_error_without_secrets() {
    captured_logs();
    let server = MockServer::start().await;
    token_stub(&server).await;
    // Nothing listens on the discard port.
    let gateway = FcmGateway::new(&key_for(&server), Some("http://127.0.0.1:9")).unwrap();

    let err = gateway
        .send(&push())
        .await
        .expect_err("no connection is a failure");
    let text = format!("{err} {err:?}");
    assert!(text.contains("FCM send failed"), "{text}");
    assert_no_secret(&text);
    assert_eq!(err.problem().status, 500);
}

#[tokio::test]
async fn a_failed_token_grant_is_an_error_and_nothing_is_sent() {
    captured_logs();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant", "error_description": "Invalid JWT Signature."
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let gateway = FcmGateway::new(&key_for(&server), Some(&server.uri())).unwrap();

    let err = gateway.send(&push()).await.expect_err("no token, no send");
    let text = format!("{err} {err:?}");
    assert!(text.contains("OAuth token request failed"), "{text}");
    assert_no_secret(&text);
}

#[tokio::test]
async fn a_stuck_fcm_times_out() {
    captured_logs();
    let (_server, gateway) = stub(
        ResponseTemplate::new(200)
            .set_body_json(json!({ "name": "m" }))
            .set_delay(Duration::from_secs(15)),
    )
    .await;
    let gateway = gateway.with_timeout(Duration::from_secs(1));

    let started = Instant::now();
    let err = gateway
        .send(&push())
        .await
        .expect_err("a stuck send is a failure");
    let elapsed = started.elapsed();
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(
        elapsed < Duration::from_secs(5),
        "gave up after {elapsed:?}"
    );
}

#[tokio::test]
async fn the_default_timeout_is_ten_seconds() {
    captured_logs();
    let (_server, gateway) = stub(ResponseTemplate::new(200)).await;
    let text = format!("{gateway:?}");
    assert!(text.contains("timeout: 10s"), "{text}");
    assert!(text.contains("festa-test"), "{text}");
}

#[tokio::test]
async fn bad_keys_are_refused_without_quoting_them() {
    captured_logs();
    let server = MockServer::start().await;
    let key = key_for(&server);
    let mut without_project: Value = serde_json::from_str(&key).unwrap();
    without_project
        .as_object_mut()
        .unwrap()
        .remove("project_id");
    let mut without_token_uri: Value = serde_json::from_str(&key).unwrap();
    without_token_uri
        .as_object_mut()
        .unwrap()
        .remove("token_uri");
    let mut key_as_number: Value = serde_json::from_str(&key).unwrap();
    key_as_number["client_email"] = json!([KEY_FRAGMENT]);
    let mut bad_private_key: Value = serde_json::from_str(&key).unwrap();
    bad_private_key["private_key"] =
        format!("-----BEGIN PRIVATE KEY-----\n{KEY_FRAGMENT}AAAA\n-----END PRIVATE KEY-----\n")
            .into();
    // Cut inside the private key, as a truncated secret would be.
    let truncated = &key[..key.find(KEY_FRAGMENT).unwrap() + KEY_FRAGMENT.len() + 8];
    let garbage = format!("private_key={KEY_FRAGMENT}");

    let cases = [
        ("no project_id", without_project.to_string()),
        ("no token_uri", without_token_uri.to_string()),
        ("a mistyped field", key_as_number.to_string()),
        ("an invalid private key", bad_private_key.to_string()),
        ("truncated JSON", truncated.to_string()),
        ("not JSON", garbage),
        ("empty", String::new()),
    ];
    for (case, key) in cases {
        let err = FcmGateway::new(&key, None).expect_err(case);
        let text = format!("{err} {err:?}");
        assert!(text.contains("FCM service-account key"), "{case}: {text}");
        assert_no_secret(&text);
    }
}

#[tokio::test]
async fn bad_base_urls_are_refused() {
    captured_logs();
    let server = MockServer::start().await;
    let key = key_for(&server);
    for base in [
        "fcm.googleapis.com",
        "ftp://fcm.example",
        "https://user:pw@fcm.example",
    ] {
        let err = FcmGateway::new(&key, Some(base)).expect_err(base);
        assert!(!err.to_string().contains("PRIVATE KEY"));
    }
}

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything every test of this binary logged, at every level. Each test calls this first,
/// so the global subscriber is in place before any log statement runs (a per-test scoped
/// subscriber would race with the other tests' threads over tracing's callsite cache).
fn captured_logs() -> String {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    let logs = LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        logs
    });
    String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned()
}

#[tokio::test]
async fn logs_and_debug_carry_no_secret() {
    captured_logs();
    for answer in [
        ResponseTemplate::new(200).set_body_json(json!({ "name": "m" })),
        fcm_error(
            400,
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
            json!([fcm_error_code("INVALID_ARGUMENT")]),
        ),
        fcm_error(
            400,
            "INVALID_ARGUMENT",
            "Invalid data",
            json!([field_violation("message.data", "bad")]),
        ),
        fcm_error(503, "UNAVAILABLE", "down", json!([])),
    ] {
        let (_server, gateway) = stub(answer).await;
        gateway.send(&push()).await.unwrap();
        assert_no_secret(&format!("{gateway:?}"));
    }

    // These logs, and whatever the tests running alongside have logged so far.
    let logs = captured_logs();
    assert!(
        logs.contains("FCM did not accept the push"),
        "the refusals are logged: {logs}"
    );
    assert!(logs.contains("fcm_status=\"INVALID_ARGUMENT\""), "{logs}");
    assert_no_secret(&logs);
}

/// Reading the key from Secrets Manager (moto at `AWS_ENDPOINT_URL`).
#[cfg(feature = "secretsmanager")]
mod secrets {
    use festa::adapters::secrets::secret_string;

    /// A client for the configured endpoint, or `None` (after a note) when there is none.
    async fn client() -> Option<aws_sdk_secretsmanager::Client> {
        if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
            if std::env::var("FESTA_REQUIRE_REAL").as_deref() == Ok("1") {
                panic!("FESTA_REQUIRE_REAL=1 but AWS_ENDPOINT_URL is not set");
            }
            eprintln!("skipped: set AWS_ENDPOINT_URL to run the Secrets Manager test");
            return None;
        }
        let config = festa::adapters::aws::load().await;
        Some(festa::adapters::aws::secretsmanager(&config))
    }

    #[tokio::test]
    async fn reads_a_secret_back_and_a_missing_one_is_an_error() {
        super::captured_logs();
        let Some(client) = client().await else { return };
        let run = ulid::Ulid::generate().to_string().to_lowercase();
        let name = format!("festa/{run}/fcm-service-account");
        let value = super::KEY;
        client
            .create_secret()
            .name(&name)
            .secret_string(value)
            .send()
            .await
            .expect("create the secret");

        assert_eq!(secret_string(&client, &name).await.unwrap(), value);
        // The key read back is one the gateway accepts.
        festa::adapters::fcm::FcmGateway::new(&secret_string(&client, &name).await.unwrap(), None)
            .expect("a usable key");

        let missing = format!("festa/{run}/missing");
        let err = secret_string(&client, &missing)
            .await
            .expect_err("a missing secret is an error");
        let text = err.to_string();
        assert!(
            text.contains(&missing),
            "the error names the secret: {text}"
        );
        assert!(text.contains("GetSecretValue"), "{text}");
        assert_eq!(err.problem().status, 500);
    }
}
