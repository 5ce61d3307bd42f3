//! Per binary: what to seed through the domain's real adapters and services, how to fill the
//! placeholders of its `events/<binary>.json`, and what a right answer looks like; and the same
//! for the error fixtures of `events/errors/`, which must come back as an error answer or a
//! partial batch failure, never a crash.
//!
//! A binary without a scenario is an error, never a skip, so a new function cannot go
//! untested.

mod auth;
mod chat;
mod errors;
mod festivals;
mod notifications;
mod queue;
mod reservations;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::Value;

use crate::launcher::Outcome;
use crate::world::World;

/// The festival every sample event names (that of `create-festival.json`); scenarios swap in
/// the id of the festival they created, so runs never share Redis keys.
pub const SAMPLE_FESTIVAL: &str = "01M83TH6S0BRX93GKV0KC6Y6HC";

/// Judges an outcome, with the world at hand for side effects (rows, queues, pushes).
pub type Check =
    Box<dyn FnOnce(Arc<World>, Outcome) -> BoxFuture<'static, Result<(), String>> + Send>;

/// An event ready to send and how to judge its answer.
pub struct Prepared {
    pub event: String,
    pub check: Check,
}

/// The binaries with a scenario, by area.
pub fn binaries() -> Vec<&'static str> {
    [
        auth::BINARIES,
        festivals::BINARIES,
        queue::BINARIES,
        reservations::BINARIES,
        chat::BINARIES,
        notifications::BINARIES,
        &["openapi"],
    ]
    .concat()
}

/// Seeds what `events/<binary>.json` needs and fills it in.
pub async fn prepare(world: &Arc<World>, binary: &str) -> Result<Prepared, String> {
    if auth::BINARIES.contains(&binary) {
        auth::prepare(world, binary).await
    } else if festivals::BINARIES.contains(&binary) {
        festivals::prepare(world, binary).await
    } else if queue::BINARIES.contains(&binary) {
        queue::prepare(world, binary).await
    } else if reservations::BINARIES.contains(&binary) {
        reservations::prepare(world, binary).await
    } else if chat::BINARIES.contains(&binary) {
        chat::prepare(world, binary).await
    } else if notifications::BINARIES.contains(&binary) {
        notifications::prepare(world, binary).await
    } else if binary == "openapi" {
        // `GET /openapi.json`: public, nothing to seed.
        Ok(Prepared {
            event: fixture(binary)?,
            check: rest(200, |body| {
                let version = body["openapi"].as_str().unwrap_or_default();
                ensure(version.starts_with("3."), "an OpenAPI 3 document")
            }),
        })
    } else {
        Err(format!(
            "no scenario for the binary {binary}: add one to festa_testkit::scenarios"
        ))
    }
}

/// The error fixtures (`events/errors/*.json`, by file stem `<binary>.<case>`).
pub fn error_cases() -> Result<Vec<String>, String> {
    let dir = festa::api::replay::events_dir().join("errors");
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .filter_map(|path| Some(path.file_stem()?.to_str()?.to_string()))
        .collect();
    cases.sort();
    Ok(cases)
}

/// The binary an error case is for (`<binary>.<case>`).
pub fn error_case_binary(case: &str) -> &str {
    case.split('.').next().unwrap_or(case)
}

/// Seeds what the error fixture `case` needs and fills it in.
pub async fn prepare_error(world: &Arc<World>, case: &str) -> Result<Prepared, String> {
    errors::prepare(world, case).await
}

// ----- helpers shared by the areas -----

/// `events/<name>.json` as the file holds it.
pub fn fixture(name: &str) -> Result<String, String> {
    let path = festa::api::replay::events_dir().join(format!("{name}.json"));
    std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The event with the sample festival swapped for `festival_id` wherever it appears (paths,
/// path parameters, bodies, frames, queue messages).
pub fn for_festival(event: &str, festival_id: &str) -> String {
    event.replace(SAMPLE_FESTIVAL, festival_id)
}

/// A failed expectation unless `ok`.
pub fn ensure(ok: bool, what: impl std::fmt::Display) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("expected {what}"))
    }
}

/// The status and JSON body (`Null` when empty) of an API Gateway proxy answer.
pub fn proxy_answer(outcome: &Outcome) -> Result<(u16, Value), String> {
    let Outcome::Response(answer) = outcome else {
        return Err(format!("expected an answer, got {outcome:?}"));
    };
    let status = answer["statusCode"]
        .as_u64()
        .ok_or_else(|| format!("no statusCode in {answer}"))? as u16;
    let body = match answer["body"].as_str() {
        None | Some("") => Value::Null,
        Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into())),
    };
    Ok((status, body))
}

/// A REST answer with `status` whose JSON body passes `body_check`.
pub fn rest(
    status: u16,
    body_check: impl FnOnce(&Value) -> Result<(), String> + Send + 'static,
) -> Check {
    check(move |outcome| {
        let (got, body) = proxy_answer(outcome)?;
        ensure(got == status, format!("status {status}, got {got}: {body}"))?;
        body_check(&body).map_err(|e| format!("{e}; body: {body}"))
    })
}

/// A REST answer with `status` and, after it, an async look at the world.
pub fn rest_then<F>(status: u16, then: F) -> Check
where
    F: FnOnce(Arc<World>, Value) -> BoxFuture<'static, Result<(), String>> + Send + 'static,
{
    Box::new(move |world, outcome| {
        Box::pin(async move {
            let (got, body) = proxy_answer(&outcome)?;
            ensure(got == status, format!("status {status}, got {got}: {body}"))?;
            then(world, body).await
        })
    })
}

/// An RFC 9457 problem answer with `status` and `code`.
pub fn problem(status: u16, code: &'static str) -> Check {
    check(move |outcome| {
        let (got, body) = proxy_answer(outcome)?;
        ensure(got == status, format!("status {status}, got {got}: {body}"))?;
        ensure(body["code"] == code, format!("code {code}: {body}"))
    })
}

/// A synchronous check of the outcome alone.
pub fn check(f: impl FnOnce(&Outcome) -> Result<(), String> + Send + 'static) -> Check {
    Box::new(move |_, outcome| Box::pin(async move { f(&outcome) }))
}

/// The `itemIdentifier`s of an SQS batch answer's `batchItemFailures`.
pub fn batch_failures(outcome: &Outcome) -> Result<Vec<String>, String> {
    let Outcome::Response(answer) = outcome else {
        return Err(format!("expected a batch answer, got {outcome:?}"));
    };
    let failures = answer["batchItemFailures"]
        .as_array()
        .ok_or_else(|| format!("no batchItemFailures in {answer}"))?;
    Ok(failures
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_string())
        .collect())
}

/// The `messageId` of record `index` of an SQS event.
pub fn message_id(event: &str, index: usize) -> Result<String, String> {
    let raw: Value = serde_json::from_str(event).map_err(|e| e.to_string())?;
    raw["Records"][index]["messageId"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("the event has no record {index}"))
}

/// A protected route's event, as API Gateway forwards it once the authorizer allowed
/// `identity` (a token signed with the world's key, and the authorizer's context).
pub fn as_caller(
    world: &World,
    event: &str,
    identity: &festa::services::tokens::Identity,
) -> Result<String, String> {
    let keys = world.keys()?;
    let now = world.now();
    std::panic::catch_unwind(|| festa::api::replay::as_caller(event, &keys, identity, now))
        .map_err(|_| "the event's authorizer context does not match the authorizer's".into())
}
