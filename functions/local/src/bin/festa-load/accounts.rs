//! Virtual users for the load tests: real accounts made through the public routes (sign-up,
//! the code from the local outbox, confirmation, login) before any clock starts.

use std::sync::Arc;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// What the load tests fail with.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The password of every virtual user.
const PASSWORD: &str = "rush-hour-pass";

/// A signed-in virtual user.
pub struct User {
    pub email: String,
    pub token: String,
}

/// The platform under test, over HTTP.
pub struct Api {
    pub http: Client,
    pub base: String,
}

impl Api {
    /// One request; the status and JSON body (Null when empty or unreadable).
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<(StatusCode, Value), Error> {
        let res = req.send().await?;
        let status = res.status();
        let text = res.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Signs up, confirms and logs in; answers the access token.
    pub async fn account(&self, email: &str, name: &str) -> Result<String, Error> {
        let body = json!({"email": email, "password": PASSWORD, "name": name});
        let (s, v) = self
            .send(self.http.post(format!("{}/signup", self.base)).json(&body))
            .await?;
        if s != StatusCode::CREATED {
            return Err(format!("signup {s}: {v}").into());
        }
        let (_, outbox) = self
            .send(
                self.http
                    .get(format!("{}/_local/outbox", self.base))
                    .query(&[("to", email)]),
            )
            .await?;
        let mail = outbox["items"][0]["body"].as_str().unwrap_or_default();
        let code: String = mail
            .split("code is ")
            .nth(1)
            .unwrap_or_default()
            .chars()
            .take(6)
            .collect();
        let (s, v) = self
            .send(
                self.http
                    .post(format!("{}/confirm-signup", self.base))
                    .json(&json!({"email": email, "code": code})),
            )
            .await?;
        if s != StatusCode::OK {
            return Err(format!("confirm {s}: {v}").into());
        }
        let (s, v) = self
            .send(
                self.http
                    .post(format!("{}/login", self.base))
                    .json(&json!({"email": email, "password": PASSWORD})),
            )
            .await?;
        match v["accessToken"].as_str() {
            Some(token) if s == StatusCode::OK => Ok(token.to_string()),
            _ => Err(format!("login {s}: {v}").into()),
        }
    }
}

/// `users` accounts, `concurrency` at a time (hashing passwords is the slow part).
pub async fn create_accounts(
    api: &Arc<Api>,
    run_id: &str,
    users: usize,
    concurrency: usize,
) -> Result<Vec<User>, Error> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (api, next, run_id) = (api.clone(), next.clone(), run_id.to_string());
        workers.spawn(async move {
            let mut made = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= users {
                    return Ok::<_, Error>(made);
                }
                let email = format!("fan{i}-{run_id}@festa.load");
                let token = api.account(&email, &format!("Fan {i}")).await?;
                made.push(User { email, token });
            }
        });
    }
    let mut accounts = Vec::with_capacity(users);
    while let Some(done) = workers.join_next().await {
        accounts.extend(done??);
    }
    Ok(accounts)
}
