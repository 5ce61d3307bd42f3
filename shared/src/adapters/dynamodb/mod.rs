//! DynamoDB adapters: the single-table records store (accounts, sessions, festivals, their
//! ticket stock and reservations) and the n-gram search index.
//!
//! The item layout is described in `docs/deployment-contract.md` (tables) and below; the
//! semantics match the in-memory adapters exactly, which the contract suite in
//! `tests/contract` checks against both.
//!
//! Records table (`pk` / `sk`, GSI `gsi1` on `gsi1pk` / `gsi1sk`):
//!
//! | item | pk | sk |
//! |---|---|---|
//! | account | `USER#<email>` | `PROFILE` |
//! | session | `USER#<email>` | `SESSION#<sessionId>` |
//! | festival | `FESTIVAL#<id>` | `META` (gsi1pk `FESTIVALS`, gsi1sk `<id>`) |
//! | ticket stock | `FESTIVAL#<id>` | `STOCK#<YYYY-MM-DD>` |
//! | reservation | `USER#<email>` | `RESERVATION#<id>` (gsi1pk `RESERVED#<festivalId>#<date>` while confirmed) |
//! | one-per-date guard | `USER#<email>` | `GUARD#<festivalId>#<date>` |
//! | idempotency key | `USER#<email>` | `IDEMPOTENCY#<key>` (`ttl`) |
//!
//! Search table: pk `<gram>`, sk `<festivalId>`.

mod accounts;
mod attrs;
mod festivals;
mod reservations;
mod search;
mod sessions;
mod tables;

use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;

use crate::error::AppError;

pub use aws_sdk_dynamodb::Client;
pub use tables::ensure_tables;

/// Accounts, sessions and festivals in the single-table records table.
#[derive(Debug, Clone)]
pub struct DynamoRecords {
    client: Client,
    table: String,
}

impl DynamoRecords {
    /// The records store on `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// The n-gram posting lists in the search table.
#[derive(Debug, Clone)]
pub struct DynamoSearchIndex {
    client: Client,
    table: String,
}

impl DynamoSearchIndex {
    /// The search index on `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// How many times a batch call is repeated for its unprocessed part before giving up.
const BATCH_ATTEMPTS: u32 = 10;

/// Back-off before the `attempt`-th retry of a batch's unprocessed part (25 ms doubling,
/// capped at 1.6 s).
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(25u64 << attempt.min(6))
}

/// Wraps an SDK failure with the operation and table; the SDK's error text carries no item
/// values, so no secret reaches the log.
fn sdk_error<E, R>(op: &str, table: &str, err: SdkError<E, R>) -> AppError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    super::aws::call_failed(format_args!("DynamoDB {op} on table {table}"), &err)
}

/// A malformed builder input (a bug of ours, never of the caller).
/// Whether a write failed only because its condition did not hold (a domain answer, not a fault).
fn condition_failed<E, R>(err: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

fn build_error(what: &str, err: aws_sdk_dynamodb::error::BuildError) -> AppError {
    AppError::internal(format!("could not build DynamoDB {what}: {err}"))
}

/// DynamoDB's `Limit` is an `i32`.
fn query_limit(limit: usize) -> i32 {
    i32::try_from(limit).unwrap_or(i32::MAX)
}
