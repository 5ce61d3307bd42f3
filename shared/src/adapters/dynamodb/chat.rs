//! Chat rooms, memberships and messages.
//!
//! Records table (`pk` / `sk`):
//!
//! | item | pk | sk |
//! |---|---|---|
//! | room totals | `CHAT#<roomId>` | `ROOM` (`festivalId`, `name`, `lastSeq`, `memberCount`, `lastMessage`, `lastMessageAt`) |
//! | member | `CHAT#<roomId>` | `MEMBER#<userId>` (`festivalId`, `name`, `userId`, `joinedAt`, `joinedSeq`) |
//! | the member's room | `CHATTER#<userId>` | `ROOM#<roomId>` (as the member item) |
//! | resend guard | `CHAT#<roomId>` | `SENT#<senderId>#<clientMsgId>` (`seq`, `messageId`, `ttl`) |
//!
//! Messages table: pk `chatRoomId`, sk `seq` (N), and the message's attributes.
//!
//! A message is one TransactWriteItems: a check that the sender is a member, the room's
//! `lastSeq` moved from the value read to the next under the condition that nobody moved it
//! meanwhile, the message put under that `seq`, and the sender's resend guard. So a room's
//! messages have no gap and no repeat, and a resend stores nothing: appenders that lose the
//! race for a `seq` read the room again and retry with jittered back-off.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use super::attrs::{self, Item};
use super::{
    batch_get, build_error, cancellation_codes, conflict_backoff, get_item, query_limit,
    query_partition, sdk_error, transact, Client,
};
use crate::error::{AppError, AppResult};
use crate::model::{ChatMessage, ChatRoom, Membership, RoomActivity};
use crate::ports::{Appended, ChatStore, MessageDraft};

const ROOM_PREFIX: &str = "CHAT#";
const ROOM_SK: &str = "ROOM";
const MEMBER_PREFIX: &str = "MEMBER#";
const CHATTER_PREFIX: &str = "CHATTER#";
const CHATTER_ROOM_PREFIX: &str = "ROOM#";
/// How many times a join or an append that lost a race is tried in all: every loss of an
/// append is another message stored, so a rush of this many appenders always gets through.
const RACE_ATTEMPTS: u32 = 40;
/// The back-off exponent's cap for lost races (5 ms doubling to 40 ms): the winner is done
/// at once, so the losers need only spread out, not wait long.
const RACE_BACKOFF_CAP: u32 = 3;
const CONDITION_FAILED: &str = "ConditionalCheckFailed";
/// Cancellation codes that mean "try again", not "no".
const RETRYABLE: [&str; 3] = [
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
];

/// Chat rooms and memberships in the records table, messages in the messages table.
#[derive(Debug, Clone)]
pub struct DynamoChat {
    client: Client,
    records_table: String,
    messages_table: String,
}

impl DynamoChat {
    /// The chat store on the records table (rooms, members, guards) and `messages_table`
    /// (the stack's `MESSAGES_TABLE`).
    pub fn new(
        client: Client,
        records_table: impl Into<String>,
        messages_table: impl Into<String>,
    ) -> Self {
        Self {
            client,
            records_table: records_table.into(),
            messages_table: messages_table.into(),
        }
    }
}

fn room_pk(chat_room_id: &str) -> String {
    format!("{ROOM_PREFIX}{chat_room_id}")
}

fn room_key(chat_room_id: &str) -> Item {
    attrs::key(room_pk(chat_room_id), ROOM_SK)
}

fn member_key(chat_room_id: &str, user_id: &str) -> Item {
    attrs::key(room_pk(chat_room_id), format!("{MEMBER_PREFIX}{user_id}"))
}

fn chatter_pk(user_id: &str) -> String {
    format!("{CHATTER_PREFIX}{user_id}")
}

fn chatter_key(user_id: &str, chat_room_id: &str) -> Item {
    attrs::key(
        chatter_pk(user_id),
        format!("{CHATTER_ROOM_PREFIX}{chat_room_id}"),
    )
}

/// The guard's key; user ids hold no `#`, so sender and client id cannot be confused.
fn guard_key(chat_room_id: &str, sender_id: &str, client_msg_id: &str) -> Item {
    attrs::key(
        room_pk(chat_room_id),
        format!("SENT#{sender_id}#{client_msg_id}"),
    )
}

fn message_key(chat_room_id: &str, seq: u64) -> Item {
    Item::from([
        ("chatRoomId".to_string(), attrs::s(chat_room_id)),
        ("seq".to_string(), attrs::n(seq)),
    ])
}

/// The membership's attributes on top of `key` (the member item and the user's room item
/// carry the same ones).
fn membership_item(mut item: Item, m: &Membership) -> Item {
    item.insert("festivalId".into(), attrs::s(&m.festival_id));
    item.insert("name".into(), attrs::s(&m.name));
    item.insert("userId".into(), attrs::s(&m.user_id));
    item.insert("joinedAt".into(), attrs::time(&m.joined_at));
    item.insert("joinedSeq".into(), attrs::n(m.joined_seq));
    item
}

fn membership_from(chat_room_id: &str, item: &Item) -> AppResult<Membership> {
    Ok(Membership {
        chat_room_id: chat_room_id.to_string(),
        festival_id: attrs::req_string(item, "festivalId")?,
        name: attrs::req_string(item, "name")?,
        user_id: attrs::req_string(item, "userId")?,
        joined_at: attrs::req_time(item, "joinedAt")?,
        joined_seq: attrs::req_num(item, "joinedSeq")?,
    })
}

/// The room's totals; a missing room (or attribute) counts zero.
fn activity_from(chat_room_id: &str, item: Option<&Item>) -> AppResult<RoomActivity> {
    let Some(item) = item else {
        return Ok(RoomActivity {
            chat_room_id: chat_room_id.to_string(),
            ..RoomActivity::default()
        });
    };
    let last_message_at = match attrs::opt_str(item, "lastMessageAt")? {
        Some(_) => Some(attrs::req_time(item, "lastMessageAt")?),
        None => None,
    };
    Ok(RoomActivity {
        chat_room_id: chat_room_id.to_string(),
        last_seq: attrs::opt_num(item, "lastSeq")?.unwrap_or(0),
        member_count: attrs::opt_num(item, "memberCount")?.unwrap_or(0),
        last_message: attrs::opt_str(item, "lastMessage")?.map(str::to_string),
        last_message_at,
    })
}

fn message_item(m: &ChatMessage) -> Item {
    let mut item = message_key(&m.chat_room_id, m.seq);
    item.insert("messageId".into(), attrs::s(&m.message_id));
    item.insert("senderId".into(), attrs::s(&m.sender_id));
    item.insert("senderName".into(), attrs::s(&m.sender_name));
    item.insert("content".into(), attrs::s(&m.content));
    item.insert("sentAt".into(), attrs::time(&m.sent_at));
    item.insert("clientMsgId".into(), attrs::s(&m.client_msg_id));
    item
}

fn message_from(item: &Item) -> AppResult<ChatMessage> {
    Ok(ChatMessage {
        chat_room_id: attrs::req_string(item, "chatRoomId")?,
        seq: attrs::req_num(item, "seq")?,
        message_id: attrs::req_string(item, "messageId")?,
        sender_id: attrs::req_string(item, "senderId")?,
        sender_name: attrs::req_string(item, "senderName")?,
        content: attrs::req_string(item, "content")?,
        sent_at: attrs::req_time(item, "sentAt")?,
        client_msg_id: attrs::req_string(item, "clientMsgId")?,
    })
}

/// The condition that the room's `lastSeq` is still `seen` (a silent room may lack it).
fn last_seq_is(seen: u64) -> &'static str {
    if seen == 0 {
        "attribute_not_exists(lastSeq) OR lastSeq = :seen"
    } else {
        "lastSeq = :seen"
    }
}

/// What a cancelled transaction's reasons say, item by item.
struct Reasons(Vec<Option<String>>);

impl Reasons {
    /// The reasons of a cancelled transaction; `None` for any other failure.
    fn of(err: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>) -> Option<Self> {
        err.as_service_error()
            .and_then(cancellation_codes)
            .map(Reasons)
    }

    /// The `i`-th item's condition did not hold.
    fn failed(&self, i: usize) -> bool {
        self.0.get(i).and_then(Option::as_deref) == Some(CONDITION_FAILED)
    }

    /// The service named no reason (some emulators do not).
    fn unknown(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }

    /// Some item lost to a concurrent transaction or to throttling: worth another try.
    fn retryable(&self) -> bool {
        self.0
            .iter()
            .flatten()
            .any(|code| RETRYABLE.contains(&code.as_str()))
    }
}

/// Whether the failure is a transaction still in progress (an idempotent retry in flight).
fn in_progress(err: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>) -> bool {
    matches!(
        err.as_service_error(),
        Some(TransactWriteItemsError::TransactionInProgressException(_))
    )
}

impl DynamoChat {
    /// One item of the records table, read strongly consistently.
    async fn get_record(&self, key: Item, what: &str) -> AppResult<Option<Item>> {
        get_item(&self.client, &self.records_table, key, what).await
    }

    /// The room's totals now.
    async fn room_activity(&self, chat_room_id: &str) -> AppResult<RoomActivity> {
        let item = self
            .get_record(room_key(chat_room_id), "GetItem (chat room)")
            .await?;
        activity_from(chat_room_id, item.as_ref())
    }

    /// The message stored under `seq`.
    async fn message_at(&self, chat_room_id: &str, seq: u64) -> AppResult<Option<ChatMessage>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.messages_table)
            .set_key(Some(message_key(chat_room_id, seq)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem (chat message)", &self.messages_table, e))?;
        out.item.as_ref().map(message_from).transpose()
    }

    /// The first message of the draft's `(sender, client_msg_id)` while its guard is live;
    /// `NotAMember` if the sender has left since (membership is checked first, as for a new
    /// message).
    async fn resent(&self, draft: &MessageDraft) -> AppResult<Option<ChatMessage>> {
        let key = guard_key(&draft.chat_room_id, &draft.sender_id, &draft.client_msg_id);
        let Some(guard) = self.get_record(key, "GetItem (resend guard)").await? else {
            return Ok(None);
        };
        let lapses: i64 = attrs::req_num(&guard, "ttl")?;
        if lapses <= draft.sent_at.timestamp() {
            return Ok(None);
        }
        if self
            .membership(&draft.chat_room_id, &draft.sender_id)
            .await?
            .is_none()
        {
            return Err(AppError::NotAMember);
        }
        let seq: u64 = attrs::req_num(&guard, "seq")?;
        match self.message_at(&draft.chat_room_id, seq).await? {
            Some(first) => Ok(Some(first)),
            None => Err(AppError::internal(
                "a chat resend guard points at a missing message",
            )),
        }
    }

    /// The transaction that stores `message` as the room's next after `cur`.
    fn append_items(
        &self,
        draft: &MessageDraft,
        message: &ChatMessage,
        cur: u64,
    ) -> AppResult<Vec<TransactWriteItem>> {
        let member = ConditionCheck::builder()
            .table_name(&self.records_table)
            .set_key(Some(member_key(&draft.chat_room_id, &draft.sender_id)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|e| build_error("member check", e))?;
        let room = Update::builder()
            .table_name(&self.records_table)
            .set_key(Some(room_key(&draft.chat_room_id)))
            .update_expression("SET lastSeq = :next, lastMessage = :c, lastMessageAt = :t")
            .condition_expression(last_seq_is(cur))
            .expression_attribute_values(":seen", attrs::n(cur))
            .expression_attribute_values(":next", attrs::n(message.seq))
            .expression_attribute_values(":c", attrs::s(&message.content))
            .expression_attribute_values(":t", attrs::time(&message.sent_at))
            .build()
            .map_err(|e| build_error("room update", e))?;
        let put = Put::builder()
            .table_name(&self.messages_table)
            .set_item(Some(message_item(message)))
            .condition_expression("attribute_not_exists(chatRoomId)")
            .build()
            .map_err(|e| build_error("message put", e))?;
        let mut guard = guard_key(&draft.chat_room_id, &draft.sender_id, &draft.client_msg_id);
        guard.insert("seq".into(), attrs::n(message.seq));
        guard.insert("messageId".into(), attrs::s(&message.message_id));
        guard.insert("ttl".into(), attrs::n(draft.guard_expires_at.timestamp()));
        // A lapsed guard whose item TTL has not removed yet counts as absent.
        let guard = Put::builder()
            .table_name(&self.records_table)
            .set_item(Some(guard))
            .condition_expression("attribute_not_exists(pk) OR #ttl <= :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":now", attrs::n(draft.sent_at.timestamp()))
            .build()
            .map_err(|e| build_error("resend guard put", e))?;
        Ok(vec![
            TransactWriteItem::builder().condition_check(member).build(),
            TransactWriteItem::builder().update(room).build(),
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().put(guard).build(),
        ])
    }

    /// The transaction that makes `m` a member. It does not wait for a quiet room: in a busy
    /// one `joined_seq` may be a message or two behind the true `lastSeq`, which only counts
    /// those as unread, whereas a condition on `lastSeq` could starve the join.
    fn join_items(&self, room: &ChatRoom, m: &Membership) -> AppResult<Vec<TransactWriteItem>> {
        let member = Put::builder()
            .table_name(&self.records_table)
            .set_item(Some(membership_item(
                member_key(&m.chat_room_id, &m.user_id),
                m,
            )))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| build_error("member put", e))?;
        let chatter = Put::builder()
            .table_name(&self.records_table)
            .set_item(Some(membership_item(
                chatter_key(&m.user_id, &m.chat_room_id),
                m,
            )))
            .build()
            .map_err(|e| build_error("member's room put", e))?;
        let totals = Update::builder()
            .table_name(&self.records_table)
            .set_key(Some(room_key(&m.chat_room_id)))
            .update_expression(
                "SET festivalId = :f, #name = :n, lastSeq = if_not_exists(lastSeq, :zero) \
                 ADD memberCount :one",
            )
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":f", attrs::s(&room.festival_id))
            .expression_attribute_values(":n", attrs::s(&room.name))
            .expression_attribute_values(":zero", attrs::n(0))
            .expression_attribute_values(":one", attrs::n(1))
            .build()
            .map_err(|e| build_error("room update", e))?;
        Ok(vec![
            TransactWriteItem::builder().put(member).build(),
            TransactWriteItem::builder().put(chatter).build(),
            TransactWriteItem::builder().update(totals).build(),
        ])
    }
}

#[async_trait]
impl ChatStore for DynamoChat {
    async fn join(
        &self,
        room: &ChatRoom,
        user_id: &str,
        at: DateTime<Utc>,
    ) -> AppResult<(Membership, RoomActivity)> {
        let id = &room.chat_room_id;
        for attempt in 0..RACE_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(conflict_backoff(attempt.min(RACE_BACKOFF_CAP))).await;
            }
            let seen = self.room_activity(id).await?.last_seq;
            let membership = Membership {
                chat_room_id: id.clone(),
                festival_id: room.festival_id.clone(),
                name: room.name.clone(),
                user_id: user_id.to_string(),
                joined_at: at,
                joined_seq: seen,
            };
            let items = self.join_items(room, &membership)?;
            let err = match transact(&self.client, "chat join", items).await {
                Ok(()) => return Ok((membership, self.room_activity(id).await?)),
                Err(err) => err,
            };
            let Some(reasons) = Reasons::of(&err) else {
                if in_progress(&err) {
                    continue;
                }
                return Err(sdk_error(
                    "TransactWriteItems (chat join)",
                    &self.records_table,
                    err,
                ));
            };
            if reasons.failed(0) || reasons.unknown() {
                // Joined before (or just now, by a concurrent call): answer that membership.
                if let Some(existing) = self.membership(id, user_id).await? {
                    return Ok((existing, self.room_activity(id).await?));
                }
                // They left meanwhile: join afresh.
                continue;
            }
            if reasons.retryable() {
                // Another transaction on the room was in flight.
                continue;
            }
            return Err(sdk_error(
                "TransactWriteItems (chat join)",
                &self.records_table,
                err,
            ));
        }
        Err(AppError::internal(format!(
            "chat join still losing races after {RACE_ATTEMPTS} attempts"
        )))
    }

    async fn membership(&self, chat_room_id: &str, user_id: &str) -> AppResult<Option<Membership>> {
        self.get_record(member_key(chat_room_id, user_id), "GetItem (chat member)")
            .await?
            .map(|item| membership_from(chat_room_id, &item))
            .transpose()
    }

    async fn leave(&self, chat_room_id: &str, user_id: &str) -> AppResult<bool> {
        let member = Delete::builder()
            .table_name(&self.records_table)
            .set_key(Some(member_key(chat_room_id, user_id)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|e| build_error("member delete", e))?;
        let chatter = Delete::builder()
            .table_name(&self.records_table)
            .set_key(Some(chatter_key(user_id, chat_room_id)))
            .build()
            .map_err(|e| build_error("member's room delete", e))?;
        let totals = Update::builder()
            .table_name(&self.records_table)
            .set_key(Some(room_key(chat_room_id)))
            .update_expression("ADD memberCount :minus_one")
            .expression_attribute_values(":minus_one", attrs::n(-1))
            .build()
            .map_err(|e| build_error("room update", e))?;
        let items = vec![
            TransactWriteItem::builder().delete(member).build(),
            TransactWriteItem::builder().delete(chatter).build(),
            TransactWriteItem::builder().update(totals).build(),
        ];
        let err = match transact(&self.client, "chat leave", items).await {
            Ok(()) => return Ok(true),
            Err(err) => err,
        };
        match Reasons::of(&err) {
            Some(reasons) if reasons.failed(0) => Ok(false),
            // No reasons named: the member item tells whether it was the condition.
            Some(reasons)
                if reasons.unknown() && self.membership(chat_room_id, user_id).await?.is_none() =>
            {
                Ok(false)
            }
            _ => Err(sdk_error(
                "TransactWriteItems (chat leave)",
                &self.records_table,
                err,
            )),
        }
    }

    async fn memberships_of(&self, user_id: &str) -> AppResult<Vec<Membership>> {
        let items = query_partition(
            &self.client,
            &self.records_table,
            chatter_pk(user_id),
            None,
            "Query (chat memberships)",
        )
        .await?;
        items
            .iter()
            .map(|item| {
                let room_id = attrs::req_str(item, "sk")?
                    .strip_prefix(CHATTER_ROOM_PREFIX)
                    .ok_or_else(|| AppError::internal("a chat membership item has a foreign sk"))?;
                membership_from(room_id, item)
            })
            .collect()
    }

    async fn activity(&self, chat_room_ids: &[String]) -> AppResult<Vec<RoomActivity>> {
        // BatchGetItem refuses a key asked twice.
        let mut unique: Vec<&str> = chat_room_ids.iter().map(String::as_str).collect();
        unique.sort_unstable();
        unique.dedup();
        let keys = unique.iter().map(|id| room_key(id)).collect();
        let mut rooms: HashMap<String, Item> = HashMap::new();
        for item in batch_get(&self.client, &self.records_table, keys).await? {
            let id = attrs::req_str(&item, "pk")?
                .strip_prefix(ROOM_PREFIX)
                .ok_or_else(|| AppError::internal("a chat room item has a foreign pk"))?
                .to_string();
            rooms.insert(id, item);
        }
        chat_room_ids
            .iter()
            .map(|id| activity_from(id, rooms.get(id)))
            .collect()
    }

    async fn append(&self, draft: &MessageDraft) -> AppResult<Appended> {
        let mut check_guard = true;
        for attempt in 0..RACE_ATTEMPTS {
            if check_guard {
                if let Some(first) = self.resent(draft).await? {
                    // Our own earlier attempt may have committed (a transaction retried after
                    // an in-progress answer): then this call stored it.
                    if first.message_id == draft.message_id {
                        return Ok(Appended::Stored(first));
                    }
                    return Ok(Appended::Resent(first));
                }
                check_guard = false;
            } else if attempt > 0 {
                tokio::time::sleep(conflict_backoff(attempt.min(RACE_BACKOFF_CAP))).await;
            }
            let cur = self.room_activity(&draft.chat_room_id).await?.last_seq;
            let message = ChatMessage {
                chat_room_id: draft.chat_room_id.clone(),
                seq: cur + 1,
                message_id: draft.message_id.clone(),
                sender_id: draft.sender_id.clone(),
                sender_name: draft.sender_name.clone(),
                content: draft.content.clone(),
                sent_at: draft.sent_at,
                client_msg_id: draft.client_msg_id.clone(),
            };
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(self.append_items(draft, &message, cur)?))
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(Appended::Stored(message)),
                Err(err) => err,
            };
            let Some(reasons) = Reasons::of(&err) else {
                if in_progress(&err) {
                    continue;
                }
                return Err(sdk_error(
                    "TransactWriteItems (chat message)",
                    &self.records_table,
                    err,
                ));
            };
            if reasons.failed(0) {
                return Err(AppError::NotAMember);
            }
            if reasons.failed(3) {
                // The same (sender, client_msg_id) was stored meanwhile: answer it.
                check_guard = true;
                continue;
            }
            if reasons.unknown() {
                // No reasons named: find out by reading, then try again.
                if self
                    .membership(&draft.chat_room_id, &draft.sender_id)
                    .await?
                    .is_none()
                {
                    return Err(AppError::NotAMember);
                }
                check_guard = true;
                tokio::time::sleep(conflict_backoff(attempt.min(RACE_BACKOFF_CAP))).await;
                continue;
            }
            if reasons.failed(1) || reasons.retryable() {
                // Another message took the seq, or another transaction was in flight.
                tracing::debug!(attempt, "chat seq taken; retrying");
                continue;
            }
            return Err(sdk_error(
                "TransactWriteItems (chat message)",
                &self.records_table,
                err,
            ));
        }
        Err(AppError::internal(format!(
            "chat message still losing the race for a seq after {RACE_ATTEMPTS} attempts"
        )))
    }

    async fn history(
        &self,
        chat_room_id: &str,
        before: Option<u64>,
        limit: usize,
    ) -> AppResult<Vec<ChatMessage>> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        while found.len() < limit {
            let mut query = self
                .client
                .query()
                .table_name(&self.messages_table)
                .expression_attribute_values(":r", attrs::s(chat_room_id))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(query_limit(limit - found.len()))
                .set_exclusive_start_key(start.take());
            query = match before {
                Some(before) => query
                    .key_condition_expression("chatRoomId = :r AND seq < :before")
                    .expression_attribute_values(":before", attrs::n(before)),
                None => query.key_condition_expression("chatRoomId = :r"),
            };
            let out = query
                .send()
                .await
                .map_err(|e| sdk_error("Query (chat history)", &self.messages_table, e))?;
            for item in out.items() {
                if found.len() < limit {
                    found.push(message_from(item)?);
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(found)
    }
}
