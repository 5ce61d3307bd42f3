//! What every black-box test of the local platform needs: start it, call it, make accounts.

#![allow(dead_code)] // each test file uses its own subset

use std::collections::HashMap;

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};

pub struct Platform {
    pub base: String,
    pub http: Client,
    /// Reservation events, when kept in memory.
    pub events: Option<std::sync::Arc<festa::adapters::memory::RecordedEvents>>,
}

pub async fn start(vars: &[(&str, String)]) -> Platform {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let config = festa::config::Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let platform = festa_local::build(config).await.unwrap();
    let events = platform.events.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, platform.router).await.unwrap() });
    Platform {
        base,
        http: Client::new(),
        events,
    }
}

impl Platform {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.unwrap()).await
    }

    pub async fn raw(&self, path: &str, content: Vec<u8>) -> (StatusCode, Value) {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(content);
        read(req.send().await.unwrap()).await
    }

    pub async fn code_for(&self, email: &str) -> String {
        let (status, outbox) = self
            .call(
                Method::GET,
                &format!("/_local/outbox?to={email}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 200);
        let body = outbox["items"][0]["body"]
            .as_str()
            .expect("a mail was sent")
            .to_string();
        let at = body.find("code is ").unwrap() + "code is ".len();
        body[at..at + 6].to_string()
    }

    /// Signs up, confirms through the outbox and logs in; returns the token pair.
    pub async fn account(&self, email: &str) -> Value {
        let (s, _) = self
            .call(
                Method::POST,
                "/signup",
                None,
                Some(json!({"email": email, "password": "festival-pass", "name": "페스타 팬"})),
            )
            .await;
        assert_eq!(s, 201);
        let code = self.code_for(email).await;
        let (s, _) = self
            .call(
                Method::POST,
                "/confirm-signup",
                None,
                Some(json!({"email": email, "code": code})),
            )
            .await;
        assert_eq!(s, 200);
        let (s, tokens) = self
            .call(
                Method::POST,
                "/login",
                None,
                Some(json!({"email": email, "password": "festival-pass"})),
            )
            .await;
        assert_eq!(s, 200, "{tokens}");
        tokens
    }

    /// Sends raw bytes over TCP and returns the status line, for requests no client would make.
    pub async fn raw_tcp(&self, request: &[u8]) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.base.trim_start_matches("http://"))
            .await
            .unwrap();
        stream.write_all(request).await.unwrap();
        let mut answer = vec![0u8; 512];
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
            .await
            .unwrap()
            .unwrap();
        String::from_utf8_lossy(&answer[..n])
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }

    /// Logs an existing confirmed account in; returns the access token.
    pub async fn login(&self, email: &str) -> String {
        let (s, tokens) = self
            .call(
                Method::POST,
                "/login",
                None,
                Some(json!({"email": email, "password": "festival-pass"})),
            )
            .await;
        assert_eq!(s, 200, "{tokens}");
        tokens["accessToken"].as_str().unwrap().to_string()
    }
}

pub async fn read(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let problem = res
        .headers()
        .get("content-type")
        .is_some_and(|v| v == "application/problem+json");
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    if status.is_client_error() || status.is_server_error() {
        assert!(
            problem,
            "error answers are problem documents: {status} {body}"
        );
        assert_eq!(body["status"], status.as_u16(), "{body}");
    }
    (status, body)
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}@festa.test", ulid_like())
}

pub fn ulid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}")
}

pub fn festival(name: &str, description: &str) -> Value {
    json!({"name": name, "description": description, "location": "서울 여의도", "startDate": "2026-10-03",
           "endDate": "2026-10-04", "ticketsPerDay": 100, "price": 10000})
}

pub fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The Redis URL for a run on the real backends (Redis, and moto at `AWS_ENDPOINT_URL`), or
/// `None` after a note when they are not configured; with `FESTA_REQUIRE_REAL` set (CI),
/// their absence fails the test instead.
pub fn real_redis() -> Option<String> {
    match (
        std::env::var("REDIS_URL"),
        std::env::var("AWS_ENDPOINT_URL"),
    ) {
        (Ok(redis), Ok(_)) => Some(redis),
        _ => {
            assert!(
                std::env::var("FESTA_REQUIRE_REAL").is_err(),
                "REDIS_URL and AWS_ENDPOINT_URL are required"
            );
            eprintln!("skipped: set REDIS_URL and AWS_ENDPOINT_URL (scripts/test.sh does)");
            None
        }
    }
}
