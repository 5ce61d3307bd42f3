//! Replays the sample events of `events/` through the code path a Lambda binary runs
//! ([`lambda::handle`](super::lambda::handle)), so every area's handler tests share one
//! harness and check the fixtures the same way.
//!
//! Test support only: every check here panics with what it saw instead of returning an error,
//! because its callers are tests and a panic is how a test fails. Which events belong to which
//! area, the state and the route lookup stay with each area's tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use http::StatusCode;
use lambda_http::Body;
use serde_json::Value;

use super::Route;
use crate::services::tokens::{Identity, TokenKeys};

/// The repo-root `events/` folder (found from this crate), the one place sample events live.
pub fn events_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../events"))
}

/// The name (file stem) of every sample event in `events/`, so each area's coverage test walks
/// the same list.
pub fn event_names() -> BTreeSet<String> {
    std::fs::read_dir(events_dir())
        .unwrap_or_else(|e| panic!("{}: {e}", events_dir().display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| path.file_stem().unwrap().to_str().unwrap().to_string())
        .collect()
}

/// The Lambda binaries of the crate at `manifest_dir` (`src/bin/<name>.rs`): each name and its
/// source, so a crate's tests can check that every binary has a sample event and serves it.
pub fn binaries(manifest_dir: &str) -> BTreeMap<String, String> {
    let bin_dir = std::path::Path::new(manifest_dir).join("src/bin");
    std::fs::read_dir(&bin_dir)
        .unwrap_or_else(|e| panic!("{}: {e}", bin_dir.display()))
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, source)
        })
        .collect()
}

/// The sample event `events/<name>.json` as the file holds it, so tests replay what ships.
#[track_caller]
pub fn fixture(name: &str) -> String {
    let path = events_dir().join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An event with a placeholder filled in; the placeholder must be there, so a fixture that
/// drops it fails instead of silently replaying the unfilled sample.
#[track_caller]
pub fn fill(event: &str, placeholder: &str, value: &str) -> String {
    assert!(
        event.contains(placeholder),
        "the event has no {placeholder}"
    );
    event.replace(placeholder, value)
}

/// An event edited as JSON, for changes a placeholder cannot express.
#[track_caller]
pub fn edit(event: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(event).expect("an event is JSON");
    change(&mut value);
    value.to_string()
}

/// A protected route's event as API Gateway forwards it after its authorizer allowed
/// `access_token` with `context` (what the authorizer returned, `principalId` included): the
/// header carries the token and `requestContext.authorizer` holds exactly that context. The
/// sample's context must name the same fields, so fixtures cannot drift from the authorizer.
#[track_caller]
pub fn with_authorizer(
    event: &str,
    access_token: &str,
    context: serde_json::Map<String, Value>,
) -> String {
    let event = fill(event, "<access-token>", access_token);
    edit(&event, |v| {
        let sample = v["requestContext"]["authorizer"]
            .as_object()
            .expect("an authorizer context");
        let sample_keys: BTreeSet<_> = sample.keys().collect();
        let real_keys: BTreeSet<_> = context.keys().collect();
        assert_eq!(
            sample_keys, real_keys,
            "the sample authorizer context drifted from the authorizer's"
        );
        v["requestContext"]["authorizer"] = Value::Object(context.clone());
    })
}

/// [`with_authorizer`] for `identity`: a real token signed with `keys` at `now`, and the
/// context the authorizer returns for it (`principalId` and the fields of `Identity`).
#[track_caller]
pub fn as_caller(
    event: &str,
    keys: &TokenKeys,
    identity: &Identity,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let token = keys.issue(identity, now).expect("a token for the caller");
    let Ok(Value::Object(mut context)) = serde_json::to_value(identity) else {
        panic!("an identity is a JSON object");
    };
    context.insert(
        "principalId".into(),
        Value::String(identity.user_id.clone()),
    );
    with_authorizer(event, &token, context)
}

/// The event as it would arrive with no authorizer context (a route wired without one).
#[track_caller]
pub fn without_authorizer(event: &str) -> String {
    edit(event, |v| {
        v["requestContext"]
            .as_object_mut()
            .expect("a request context")
            .remove("authorizer");
    })
}

/// What a Lambda answered; the body is parsed JSON (`Null` when empty) so asserts can show it.
#[derive(Debug)]
pub struct Replayed {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub body: Value,
}

impl Replayed {
    /// Checks for a JSON answer with `status`; answers its body for further checks.
    #[track_caller]
    pub fn assert_json(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.content_type.as_deref(), Some("application/json"));
        &self.body
    }

    /// Checks for the problem document of `status` with the error `code` (API.md).
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.content_type.as_deref(),
            Some("application/problem+json")
        );
        assert_eq!(self.body["status"], status, "{}", self.body);
        assert_eq!(self.body["code"], code, "{}", self.body);
        assert_eq!(self.body["type"], "about:blank");
    }
}

/// Runs `route` on an event as its binary does, after checking that the event is one API
/// Gateway would send to that route (resource, resource path and method), so a fixture cannot
/// drift from the route it claims to exercise.
pub async fn replay(route: &Route, event: &str) -> Replayed {
    let raw: Value = serde_json::from_str(event).expect("an event is JSON");
    assert_eq!(
        raw["resource"], route.path,
        "the event is not for {}",
        route.path
    );
    assert_eq!(raw["requestContext"]["resourcePath"], route.path);
    assert_eq!(raw["httpMethod"], route.method.as_str());
    let request = lambda_http::request::from_str(event).expect("an API Gateway REST event");
    let response = super::lambda::handle(route, &super::cors::CorsPolicy::default(), request).await;
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string());
    let body = match response.body() {
        Body::Empty => Value::Null,
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("unexpected body {other:?}"),
    };
    Replayed {
        status: response.status(),
        content_type,
        body,
    }
}
