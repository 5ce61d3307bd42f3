//! DynamoDB adapters: the single-table records store (accounts, sessions, festivals, their
//! ticket stock and reservations, chat rooms and memberships, the festival calendar, reminder
//! devices and sent markers), the n-gram search index, the chat messages and the open
//! WebSocket connections.
//!
//! The item layout is described in `docs/deployment-contract.md` (tables) and below; the
//! semantics match the in-memory adapters exactly, which the contract suites in
//! `tests/contract` and `tests/chat_store_contract.rs` check against both.
//!
//! Records table (`pk` / `sk`, GSI `gsi1` on `gsi1pk` / `gsi1sk`):
//!
//! | item | pk | sk |
//! |---|---|---|
//! | account | `USER#<email>` | `PROFILE` |
//! | session | `USER#<email>` | `SESSION#<sessionId>` |
//! | festival | `FESTIVAL#<id>` | `META` (gsi1pk `FESTIVALS`, gsi1sk `<id>`) |
//! | ticket stock | `FESTIVAL#<id>` | `STOCK#<YYYY-MM-DD>` |
//! | calendar day | `FESTIVAL_DAY#<YYYY-MM-DD>` | `<festivalId>` (one per ticketed date, written with the festival) |
//! | reservation | `USER#<email>` | `RESERVATION#<id>` (gsi1pk `RESERVED#<festivalId>#<date>` while confirmed) |
//! | one-per-date guard | `USER#<email>` | `GUARD#<festivalId>#<date>` |
//! | idempotency key | `USER#<email>` | `IDEMPOTENCY#<key>` (`ttl`) |
//! | chat room totals | `CHAT#<roomId>` | `ROOM` (`lastSeq`, `memberCount`, `lastMessage`, `lastMessageAt`) |
//! | chat member | `CHAT#<roomId>` | `MEMBER#<userId>` (`joinedSeq`) |
//! | the member's room | `CHATTER#<userId>` | `ROOM#<roomId>` (as the member item) |
//! | resend guard | `CHAT#<roomId>` | `SENT#<senderId>#<clientMsgId>` (`seq`, `messageId`, `ttl`) |
//! | token's owner | `DEVICE#<sha256(token)>` | `OWNER` (`email`, `token`, `platform`, `activatedAt`) |
//! | user's device | `DEVICES#<email>` | `DEVICE#<sha256(token)>` (`token`, `platform`, `activatedAt`) |
//! | reminder sent marker | `REMINDED#<reservationId>#<date>` | `DEVICE#<sha256(token)>` (`state`, `heldUntil`, `ttl`) |
//! | failed logins of an address | `LOGINFAIL#<email>` | `LIMIT` (`hits`, `windowEnds`, `ttl`) |
//! | codes mailed to an address | `MAILTO#<email>` | `LIMIT` (as above) |
//! | mails the deployment sent in an hour | `MAILHOUR#<YYYY-MM-DDTHH>` | `LIMIT` (as above) |
//!
//! Search table: pk `<gram>`, sk `<festivalId>`.
//!
//! Messages table: pk `chatRoomId` (S), sk `seq` (N).
//!
//! Connections table: pk `connectionId` (S), expiring through `ttl` (epoch seconds of
//! `expiresAt`); a user's open connections are tracked in Redis.

mod accounts;
mod attrs;
mod calendar_backfill;
mod chat;
mod connections;
mod festivals;
mod limits;
mod reminders;
mod reservations;
mod search;
mod sessions;
mod tables;

use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;

use attrs::Item;

use crate::error::{AppError, AppResult};

pub use aws_sdk_dynamodb::Client;
pub use chat::DynamoChat;
pub use connections::DynamoConnections;
pub use sessions::SESSION_ATTRIBUTES;
pub use tables::{ensure_chat_tables, ensure_tables};

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
/// values, so no secret reaches the log. An outage (unreachable, timed out, throttled, 5xx)
/// becomes `503 SERVICE_UNAVAILABLE` (see [`super::aws::call_failed`]).
fn sdk_error<E>(op: &str, table: &str, err: SdkError<E>) -> AppError
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
{
    super::aws::call_failed(format_args!("DynamoDB {op} on table {table}"), &err)
}

/// Whether a write failed only because its condition did not hold (a domain answer, not a fault).
fn condition_failed<E, R>(err: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

/// A malformed builder input (a bug of ours, never of the caller).
fn build_error(what: &str, err: aws_sdk_dynamodb::error::BuildError) -> AppError {
    AppError::internal(format!("could not build DynamoDB {what}: {err}"))
}

/// How many times a transaction that lost a conflict is tried in all.
const CONFLICT_ATTEMPTS: u32 = 12;

/// Why a transaction was cancelled, item by item (`None` where an item was fine).
fn cancellation_codes(err: &TransactWriteItemsError) -> Option<Vec<Option<String>>> {
    match err {
        TransactWriteItemsError::TransactionCanceledException(e) => Some(
            e.cancellation_reasons()
                .iter()
                .map(|r| r.code().filter(|c| *c != "None").map(str::to_string))
                .collect(),
        ),
        _ => None,
    }
}

/// Whether the transaction lost only to another one in flight (worth retrying).
fn lost_conflict(err: &TransactWriteItemsError) -> bool {
    match err {
        TransactWriteItemsError::TransactionCanceledException(e) => {
            let reasons = e.cancellation_reasons();
            reasons
                .iter()
                .any(|r| r.code() == Some("TransactionConflict"))
                && !reasons
                    .iter()
                    .any(|r| r.code() == Some("ConditionalCheckFailed"))
        }
        TransactWriteItemsError::TransactionInProgressException(_) => true,
        _ => false,
    }
}

/// Jittered exponential back-off before retry `attempt` (5 ms doubling to 320 ms, halved to
/// full at random so a rush of losers spreads out).
fn conflict_backoff(attempt: u32) -> Duration {
    let ceiling = 5u64 << attempt.min(6);
    Duration::from_millis(ceiling / 2 + rand::random::<u64>() % (ceiling / 2 + 1))
}

/// Runs a transaction, retrying the losses to concurrent transactions (a rush makes such
/// conflicts routine); a condition that does not hold is answered at once.
async fn transact(
    client: &Client,
    what: &str,
    items: Vec<TransactWriteItem>,
) -> Result<(), SdkError<TransactWriteItemsError>> {
    transact_with_token(client, what, items, None).await
}

/// [`transact`] under one `ClientRequestToken` for every try (the SDK makes a fresh one per
/// call when `None`): DynamoDB applies a committed transaction with the same token and
/// parameters only once within 10 minutes, and runs a failed one again.
async fn transact_with_token(
    client: &Client,
    what: &str,
    items: Vec<TransactWriteItem>,
    token: Option<&str>,
) -> Result<(), SdkError<TransactWriteItemsError>> {
    let mut attempt = 0;
    loop {
        let result = client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .set_client_request_token(token.map(str::to_string))
            .send()
            .await;
        match result {
            Err(err)
                if attempt + 1 < CONFLICT_ATTEMPTS
                    && err.as_service_error().is_some_and(lost_conflict) =>
            {
                attempt += 1;
                tracing::debug!(what, attempt, "transaction conflict; retrying");
                tokio::time::sleep(conflict_backoff(attempt)).await;
            }
            other => return other.map(|_| ()),
        }
    }
}

/// DynamoDB's `Limit` is an `i32`.
fn query_limit(limit: usize) -> i32 {
    i32::try_from(limit).unwrap_or(i32::MAX)
}

/// Keys one BatchGetItem call may name.
const BATCH_GET_KEYS: usize = 100;
/// BatchGetItem calls in flight at once for one large read.
const BATCH_GET_CONCURRENCY: usize = 8;

/// Every item of the partition `pk` (only those whose sort key starts with `sk_prefix`, when
/// given), read strongly consistently page after page: for partitions that stay small, such as
/// a festival with its stock, a user's devices or a calendar day.
async fn query_partition(
    client: &Client,
    table: &str,
    pk: String,
    sk_prefix: Option<&str>,
    what: &str,
) -> AppResult<Vec<Item>> {
    let mut items = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let query = client
            .query()
            .table_name(table)
            .expression_attribute_values(":pk", attrs::s(pk.as_str()))
            .consistent_read(true)
            .set_exclusive_start_key(start.take());
        let query = match sk_prefix {
            Some(prefix) => query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", attrs::s(prefix)),
            None => query.key_condition_expression("pk = :pk"),
        };
        let out = query.send().await.map_err(|e| sdk_error(what, table, e))?;
        items.extend(out.items.unwrap_or_default());
        match out.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(items),
        }
    }
}

/// One item read strongly consistently.
async fn get_item(client: &Client, table: &str, key: Item, what: &str) -> AppResult<Option<Item>> {
    let out = client
        .get_item()
        .table_name(table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| sdk_error(what, table, e))?;
    Ok(out.item)
}

/// Every item of `keys` that exists (distinct keys; any number), read strongly consistently
/// 100 at a time with a few calls in flight, retrying unprocessed keys with back-off.
async fn batch_get(client: &Client, table: &str, keys: Vec<Item>) -> AppResult<Vec<Item>> {
    use futures_util::{stream, StreamExt, TryStreamExt};
    let chunks: Vec<Vec<Item>> = keys.chunks(BATCH_GET_KEYS).map(<[Item]>::to_vec).collect();
    let pages: Vec<Vec<Item>> = stream::iter(chunks)
        .map(|chunk| batch_get_chunk(client, table, chunk))
        .buffer_unordered(BATCH_GET_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(pages.into_iter().flatten().collect())
}

async fn batch_get_chunk(client: &Client, table: &str, keys: Vec<Item>) -> AppResult<Vec<Item>> {
    use aws_sdk_dynamodb::types::KeysAndAttributes;
    let mut found = Vec::new();
    let mut pending = KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .consistent_read(true)
        .build()
        .map_err(|e| build_error("BatchGetItem keys", e))?;
    for attempt in 0..BATCH_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let mut out = client
            .batch_get_item()
            .request_items(table, pending)
            .send()
            .await
            .map_err(|e| sdk_error("BatchGetItem", table, e))?;
        if let Some(mut responses) = out.responses.take() {
            found.extend(responses.remove(table).unwrap_or_default());
        }
        match out
            .unprocessed_keys
            .take()
            .and_then(|mut u| u.remove(table))
        {
            Some(rest) if !rest.keys().is_empty() => pending = rest,
            _ => return Ok(found),
        }
    }
    // Keys left unprocessed attempt after attempt: the table is throttled, not wrong.
    Err(AppError::unavailable(format!(
        "DynamoDB BatchGetItem on table {table} left keys unprocessed after {BATCH_ATTEMPTS} attempts"
    )))
}
