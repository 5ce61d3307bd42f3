//! Festival reminders in the records table: the calendar the planner reads, the roster of
//! confirmed reservations, the device registry and the sent-marker ledger.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | calendar day | `FESTIVAL_DAY#<YYYY-MM-DD>` | `<festivalId>` (`name`, `timeZone`, `date`; written with the festival) |
//! | token's owner | `DEVICE#<h>` | `OWNER` (`email`, `token`, `platform`, `activatedAt`) |
//! | user's device | `DEVICES#<email>` | `DEVICE#<h>` (`token`, `platform`, `activatedAt`) |
//! | sent marker | `REMINDED#<reservationId>#<YYYY-MM-DD>` | `DEVICE#<h>` (`state`, `heldUntil`, `ttl`) |
//!
//! `<h>` is the hex SHA-256 of the FCM token: tokens run to hundreds of characters, and a
//! device's secret has no place in keys, which show up in logs and consoles. A user's devices
//! have a partition of their own, not the `USER#` one, so IAM can let the device functions
//! write devices without letting them write profiles, sessions or reservations.
//!
//! The roster is the reservations' index `gsi1` (gsi1pk `RESERVED#<festivalId>#<date>`,
//! gsi1sk `<reservationId>`), present only while a reservation is confirmed. A token's owner
//! item and its owner's device item change together in one transaction, conditioned on the
//! owner read just before, so a token never belongs to two users.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sha2::{Digest, Sha256};

use super::attrs::{self, Item};
use super::reservations::{reservation_from, reserved_pk};
use super::{
    build_error, cancellation_codes, condition_failed, conflict_backoff, get_item, query_limit,
    query_partition, sdk_error, transact, DynamoRecords,
};
use crate::error::{AppError, AppResult};
use crate::model::{Device, Festival, FestivalDay, Platform, ReservationStatus};
use crate::ports::{
    Claim, DeviceRegistry, FestivalCalendar, ReminderKey, ReminderLedger, ReservationRoster,
    ReservationStore, RosterPage,
};

const DAY_PREFIX: &str = "FESTIVAL_DAY#";
const DEVICE_PREFIX: &str = "DEVICE#";
const OWNER: &str = "OWNER";
const ROSTER_INDEX: &str = "gsi1";
const HELD: &str = "HELD";
const SETTLED: &str = "SETTLED";
/// How long a sent marker is kept: far longer than any redelivery of its job.
const MARKER_SECONDS: i64 = 30 * 24 * 60 * 60;
/// Tries of a device write that keeps finding the token's owner changed under it.
const DEVICE_ATTEMPTS: u32 = 10;
/// Tries of a claim whose rival marker vanished between the refusal and the look at it.
const CLAIM_ATTEMPTS: u32 = 3;

fn day_pk(date: NaiveDate) -> String {
    format!("{DAY_PREFIX}{}", date.format("%Y-%m-%d"))
}

/// The calendar item of one ticketed date of `f`, written with the festival.
pub(super) fn calendar_item(f: &Festival, date: NaiveDate) -> Item {
    let mut item = attrs::key(day_pk(date), &f.festival_id);
    item.insert("festivalId".into(), attrs::s(&f.festival_id));
    item.insert("name".into(), attrs::s(&f.name));
    item.insert("timeZone".into(), attrs::s(&f.time_zone));
    item.insert("date".into(), attrs::date(date));
    item
}

fn festival_day_from(item: &Item) -> AppResult<FestivalDay> {
    Ok(FestivalDay {
        festival_id: attrs::req_string(item, "festivalId")?,
        festival_name: attrs::req_string(item, "name")?,
        time_zone: attrs::req_string(item, "timeZone")?,
        date: attrs::req_date(item, "date")?,
    })
}

/// What stands for a token in keys: fixed length, and not the secret itself.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn device_sk(token: &str) -> String {
    format!("{DEVICE_PREFIX}{}", token_hash(token))
}

fn owner_key(token: &str) -> Item {
    attrs::key(device_sk(token), OWNER)
}

/// The partition of one user's devices.
fn devices_pk(email: &str) -> String {
    format!("DEVICES#{email}")
}

fn device_key(email: &str, token: &str) -> Item {
    attrs::key(devices_pk(email), device_sk(token))
}

fn platform_name(platform: Platform) -> &'static str {
    match platform {
        Platform::Web => "web",
        Platform::Android => "android",
        Platform::Ios => "ios",
    }
}

fn platform_from(name: &str) -> AppResult<Platform> {
    match name {
        "web" => Ok(Platform::Web),
        "android" => Ok(Platform::Android),
        "ios" => Ok(Platform::Ios),
        _ => Err(AppError::internal("stored device has an unknown platform")),
    }
}

/// The device's attributes on top of `item` (the owner item and the user's item carry them).
fn with_device(mut item: Item, device: &Device) -> Item {
    item.insert("token".into(), attrs::s(&device.token));
    if let Some(platform) = device.platform {
        item.insert("platform".into(), attrs::s(platform_name(platform)));
    }
    item.insert("activatedAt".into(), attrs::time(&device.activated_at));
    item
}

fn device_from(item: &Item) -> AppResult<Device> {
    Ok(Device {
        token: attrs::req_string(item, "token")?,
        platform: attrs::opt_str(item, "platform")?
            .map(platform_from)
            .transpose()?,
        activated_at: attrs::req_time(item, "activatedAt")?,
    })
}

/// Whether a device transaction was refused because the token's owner changed since it was
/// read (or the emulator named no reason): a fresh read decides what to do.
fn owner_moved(err: &SdkError<TransactWriteItemsError>) -> bool {
    err.as_service_error()
        .and_then(cancellation_codes)
        .is_some_and(|codes| {
            codes.iter().all(Option::is_none)
                || codes
                    .iter()
                    .flatten()
                    .any(|c| c == "ConditionalCheckFailed")
        })
}

fn marker_key(key: &ReminderKey) -> Item {
    attrs::key(
        format!(
            "REMINDED#{}#{}",
            key.reservation_id,
            key.festival_date.format("%Y-%m-%d")
        ),
        device_sk(&key.token),
    )
}

/// When a marker written at `now` is swept by TTL (epoch seconds).
fn marker_ttl(now: DateTime<Utc>) -> i64 {
    now.timestamp().saturating_add(MARKER_SECONDS)
}

/// What an existing marker answers a claim: settled, or held until its lease ends.
fn marker_from(item: &Item) -> AppResult<Claim> {
    match attrs::req_str(item, "state")? {
        SETTLED => Ok(Claim::Settled),
        HELD => {
            let millis: i64 = attrs::req_num(item, "heldUntil")?;
            let until = Utc.timestamp_millis_opt(millis).single().ok_or_else(|| {
                AppError::internal("stored reminder marker has an out-of-range heldUntil")
            })?;
            Ok(Claim::Held { until })
        }
        _ => Err(AppError::internal(
            "stored reminder marker has an unknown state",
        )),
    }
}

/// The marker that refused a claim, when the service sent it back with the refusal.
fn refusing_marker(err: &SdkError<PutItemError>) -> Option<Item> {
    match err.as_service_error() {
        Some(PutItemError::ConditionalCheckFailedException(e)) => {
            e.item().filter(|item| !item.is_empty()).cloned()
        }
        _ => None,
    }
}

impl DynamoRecords {
    /// Who owns `token` now, read strongly consistently.
    async fn token_owner(&self, token: &str) -> AppResult<Option<String>> {
        let owner = get_item(
            &self.client,
            &self.table,
            owner_key(token),
            "GetItem (device owner)",
        )
        .await?;
        owner
            .as_ref()
            .map(|item| attrs::req_string(item, "email"))
            .transpose()
    }

    /// The transaction that gives `device` to `email`, provided `previous` still owns it.
    fn activation_items(
        &self,
        email: &str,
        device: &Device,
        previous: Option<&str>,
    ) -> AppResult<Vec<TransactWriteItem>> {
        let mut owner = with_device(owner_key(&device.token), device);
        owner.insert("email".into(), attrs::s(email));
        let owner = Put::builder().table_name(&self.table).set_item(Some(owner));
        let owner = match previous {
            None => owner.condition_expression("attribute_not_exists(pk)"),
            Some(previous) => owner
                .condition_expression("email = :previous")
                .expression_attribute_values(":previous", attrs::s(previous)),
        }
        .build()
        .map_err(|e| build_error("device owner put", e))?;
        let mine = Put::builder()
            .table_name(&self.table)
            .set_item(Some(with_device(device_key(email, &device.token), device)))
            .build()
            .map_err(|e| build_error("device put", e))?;
        let mut items = vec![
            TransactWriteItem::builder().put(owner).build(),
            TransactWriteItem::builder().put(mine).build(),
        ];
        if let Some(previous) = previous.filter(|p| *p != email) {
            let theirs = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(device_key(previous, &device.token)))
                .build()
                .map_err(|e| build_error("previous owner's device delete", e))?;
            items.push(TransactWriteItem::builder().delete(theirs).build());
        }
        Ok(items)
    }

    /// The transaction that removes `token` from `owner`, provided they still own it.
    fn removal_items(&self, owner: &str, token: &str) -> AppResult<Vec<TransactWriteItem>> {
        let owner_item = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(owner_key(token)))
            .condition_expression("email = :owner")
            .expression_attribute_values(":owner", attrs::s(owner))
            .build()
            .map_err(|e| build_error("device owner delete", e))?;
        let device = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(device_key(owner, token)))
            .build()
            .map_err(|e| build_error("device delete", e))?;
        Ok(vec![
            TransactWriteItem::builder().delete(owner_item).build(),
            TransactWriteItem::builder().delete(device).build(),
        ])
    }
}

#[async_trait]
impl FestivalCalendar for DynamoRecords {
    async fn festival_days(&self, date: NaiveDate) -> AppResult<Vec<FestivalDay>> {
        let items = query_partition(
            &self.client,
            &self.table,
            day_pk(date),
            None,
            "Query (festival calendar)",
        )
        .await?;
        items.iter().map(festival_day_from).collect()
    }
}

#[async_trait]
impl ReservationRoster for DynamoRecords {
    async fn confirmed(
        &self,
        festival_id: &str,
        date: NaiveDate,
        after: Option<&str>,
        limit: usize,
    ) -> AppResult<RosterPage> {
        if limit == 0 {
            return Ok(RosterPage::default());
        }
        // One more than asked tells whether another page follows, so the last page says so
        // even when it is full (no empty follow-up page).
        let wanted = limit.saturating_add(1);
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        while found.len() < wanted {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(ROSTER_INDEX)
                .expression_attribute_values(":pk", attrs::s(reserved_pk(festival_id, date)))
                .limit(query_limit(wanted - found.len()))
                .set_exclusive_start_key(start.take());
            query = match after {
                Some(id) => query
                    .key_condition_expression("gsi1pk = :pk AND gsi1sk > :after")
                    .expression_attribute_values(":after", attrs::s(id)),
                None => query.key_condition_expression("gsi1pk = :pk"),
            };
            let out = query
                .send()
                .await
                .map_err(|e| sdk_error("Query (reservation roster)", &self.table, e))?;
            for item in out.items() {
                let r = reservation_from(item)?;
                // The index trails the table: a just-cancelled reservation may still show.
                if r.status == ReservationStatus::Confirmed && found.len() < wanted {
                    found.push(r);
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        let next = if found.len() > limit {
            found.truncate(limit);
            found.last().map(|r| r.reservation_id.clone())
        } else {
            None
        };
        Ok(RosterPage {
            reservations: found,
            next,
        })
    }

    async fn still_confirmed(&self, email: &str, reservation_id: &str) -> AppResult<bool> {
        let reservation = self.get_reservation(email, reservation_id).await?;
        Ok(reservation.is_some_and(|r| r.status == ReservationStatus::Confirmed))
    }
}

#[async_trait]
impl DeviceRegistry for DynamoRecords {
    async fn activate(&self, email: &str, device: &Device) -> AppResult<()> {
        for attempt in 0..DEVICE_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(conflict_backoff(attempt)).await;
            }
            let previous = self.token_owner(&device.token).await?;
            let items = self.activation_items(email, device, previous.as_deref())?;
            match transact(&self.client, "device activation", items).await {
                Ok(()) => return Ok(()),
                // Activated or removed meanwhile by someone else: read the owner again.
                Err(err) if owner_moved(&err) => continue,
                Err(err) => {
                    return Err(sdk_error(
                        "TransactWriteItems (device activation)",
                        &self.table,
                        err,
                    ))
                }
            }
        }
        Err(AppError::internal(format!(
            "device activation lost to concurrent ones {DEVICE_ATTEMPTS} times"
        )))
    }

    async fn deactivate(&self, email: &str, token: &str) -> AppResult<bool> {
        let items = self.removal_items(email, token)?;
        match transact(&self.client, "device deactivation", items).await {
            Ok(()) => Ok(true),
            // Not theirs (any more): whoever owns it keeps it.
            Err(err) if owner_moved(&err) => Ok(false),
            Err(err) => Err(sdk_error(
                "TransactWriteItems (device deactivation)",
                &self.table,
                err,
            )),
        }
    }

    async fn forget(&self, token: &str) -> AppResult<()> {
        for attempt in 0..DEVICE_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(conflict_backoff(attempt)).await;
            }
            let Some(owner) = self.token_owner(token).await? else {
                return Ok(());
            };
            let items = self.removal_items(&owner, token)?;
            match transact(&self.client, "device removal", items).await {
                Ok(()) => return Ok(()),
                // It moved meanwhile: remove it from its new owner.
                Err(err) if owner_moved(&err) => continue,
                Err(err) => {
                    return Err(sdk_error(
                        "TransactWriteItems (device removal)",
                        &self.table,
                        err,
                    ))
                }
            }
        }
        Err(AppError::internal(format!(
            "device removal lost to concurrent activations {DEVICE_ATTEMPTS} times"
        )))
    }

    async fn devices_of(&self, email: &str) -> AppResult<Vec<Device>> {
        let items = query_partition(
            &self.client,
            &self.table,
            devices_pk(email),
            None,
            "Query (devices)",
        )
        .await?;
        let mut devices = items
            .iter()
            .map(device_from)
            .collect::<AppResult<Vec<_>>>()?;
        // Keys sort by the token's hash; a listing by token is stable for people to read.
        devices.sort_by(|a, b| a.token.cmp(&b.token));
        Ok(devices)
    }
}

#[async_trait]
impl ReminderLedger for DynamoRecords {
    async fn claim(
        &self,
        key: &ReminderKey,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> AppResult<Claim> {
        let until = chrono::Duration::from_std(lease)
            .ok()
            .and_then(|lease| now.checked_add_signed(lease))
            .ok_or_else(|| AppError::internal("reminder lease out of range"))?;
        for _ in 0..CLAIM_ATTEMPTS {
            let mut item = marker_key(key);
            item.insert("state".into(), attrs::s(HELD));
            item.insert("heldUntil".into(), attrs::n(until.timestamp_millis()));
            item.insert("ttl".into(), attrs::n(marker_ttl(now)));
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                // A lapsed lease is as good as none: its holder failed or gave up.
                .condition_expression(
                    "attribute_not_exists(pk) OR (#state = :held AND heldUntil <= :now)",
                )
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":held", attrs::s(HELD))
                .expression_attribute_values(":now", attrs::n(now.timestamp_millis()))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(Claim::Claimed),
                Err(err) if condition_failed(&err) => err,
                Err(err) => return Err(sdk_error("PutItem (reminder claim)", &self.table, err)),
            };
            // Emulators may not send the refusing item back: then read it.
            let marker = match refusing_marker(&err) {
                Some(item) => Some(item),
                None => {
                    get_item(
                        &self.client,
                        &self.table,
                        marker_key(key),
                        "GetItem (reminder marker)",
                    )
                    .await?
                }
            };
            match marker.as_ref().map(marker_from).transpose()? {
                // Released, or (read later) lapsed, since the refusal: claim again.
                None => continue,
                Some(Claim::Held { until }) if until <= now => continue,
                Some(answer) => return Ok(answer),
            }
        }
        Err(AppError::internal(format!(
            "reminder claim raced with releases {CLAIM_ATTEMPTS} times"
        )))
    }

    async fn settle(&self, key: &ReminderKey, now: DateTime<Utc>) -> AppResult<()> {
        let mut item = marker_key(key);
        item.insert("state".into(), attrs::s(SETTLED));
        item.insert("ttl".into(), attrs::n(marker_ttl(now)));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem (reminder settle)", &self.table, e))?;
        Ok(())
    }

    async fn release(&self, key: &ReminderKey) -> AppResult<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(marker_key(key)))
            // A settled push stays settled.
            .condition_expression("#state = :held")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":held", attrs::s(HELD))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Ok(()),
            Err(err) => Err(sdk_error("DeleteItem (reminder release)", &self.table, err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_keys_are_fixed_length_and_hide_the_token() {
        let token = "x".repeat(300);
        let key = owner_key(&token);
        let Some(aws_sdk_dynamodb::types::AttributeValue::S(pk)) = key.get("pk") else {
            panic!("no pk");
        };
        assert_eq!(pk.len(), DEVICE_PREFIX.len() + 64);
        assert!(!pk.contains(&token[..20]));
        assert_eq!(device_sk(&token), *pk);
    }

    #[test]
    fn markers_read_back() {
        let until = Utc.timestamp_millis_opt(1_790_000_000_123).unwrap();
        let held = Item::from([
            ("state".into(), attrs::s(HELD)),
            ("heldUntil".into(), attrs::n(until.timestamp_millis())),
        ]);
        assert_eq!(marker_from(&held).unwrap(), Claim::Held { until });
        let settled = Item::from([("state".into(), attrs::s(SETTLED))]);
        assert_eq!(marker_from(&settled).unwrap(), Claim::Settled);
        let odd = Item::from([("state".into(), attrs::s("SENT"))]);
        assert!(marker_from(&odd).is_err());
    }
}
