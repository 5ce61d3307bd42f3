//! Reservations, in the holder's partition, and the stock they move, in the festival's:
//!
//! | item | pk | sk |
//! |---|---|---|
//! | reservation | `USER#<email>` | `RESERVATION#<reservationId>` (gsi1pk `RESERVED#<festivalId>#<date>`, gsi1sk `<reservationId>` while confirmed) |
//! | one-per-date guard | `USER#<email>` | `GUARD#<festivalId>#<date>` (`reservationId`) |
//! | idempotency key | `USER#<email>` | `IDEMPOTENCY#<key>` (what it booked; `ttl`) |
//! | ticket stock | `FESTIVAL#<id>` | `STOCK#<date>` (`remaining`) |
//!
//! A booking is one TransactWriteItems over the stock (decrement under `remaining >= :q`), the
//! reservation, the guard and the key; a cancellation is one over the reservation (status
//! condition), the stock (increment) and the guard (delete). Transactions that lose a race
//! with another transaction on the same stock item (`TransactionConflict`) are retried with
//! jittered back-off, since a ticket rush makes such conflicts routine.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use super::accounts::user_pk;
use super::attrs::{self, Item};
use super::{
    build_error, cancellation_codes, query_limit, sdk_error, transact, transact_with_token,
    DynamoRecords,
};
use crate::error::{AppError, AppResult};
use crate::model::{BookingRequest, Reservation, ReservationStatus};
use crate::ports::{Booking, Cancellation, IdempotentBooking, ReservationStore};

const RESERVATION_PREFIX: &str = "RESERVATION#";

fn reservation_sk(id: &str) -> String {
    format!("{RESERVATION_PREFIX}{id}")
}

fn guard_sk(festival_id: &str, date: NaiveDate) -> String {
    format!("GUARD#{festival_id}#{}", date.format("%Y-%m-%d"))
}

fn key_sk(key: &str) -> String {
    format!("IDEMPOTENCY#{key}")
}

fn stock_key(festival_id: &str, date: NaiveDate) -> Item {
    attrs::key(
        format!("FESTIVAL#{festival_id}"),
        format!("STOCK#{}", date.format("%Y-%m-%d")),
    )
}

/// The reminder index's partition: confirmed reservations of one festival date.
pub(super) fn reserved_pk(festival_id: &str, date: NaiveDate) -> String {
    format!("RESERVED#{festival_id}#{}", date.format("%Y-%m-%d"))
}

fn status_name(status: ReservationStatus) -> &'static str {
    match status {
        ReservationStatus::Confirmed => "CONFIRMED",
        ReservationStatus::Cancelled => "CANCELLED",
    }
}

fn reservation_item(r: &Reservation) -> Item {
    let mut item = attrs::key(user_pk(&r.email), reservation_sk(&r.reservation_id));
    item.insert("reservationId".into(), attrs::s(&r.reservation_id));
    item.insert("email".into(), attrs::s(&r.email));
    item.insert("festivalId".into(), attrs::s(&r.festival_id));
    item.insert("festivalName".into(), attrs::s(&r.festival_name));
    item.insert("festivalDate".into(), attrs::date(r.festival_date));
    item.insert("quantity".into(), attrs::n(r.quantity));
    item.insert("status".into(), attrs::s(status_name(r.status)));
    item.insert("createdAt".into(), attrs::time(&r.created_at));
    if r.status == ReservationStatus::Confirmed {
        item.insert(
            "gsi1pk".into(),
            attrs::s(reserved_pk(&r.festival_id, r.festival_date)),
        );
        item.insert("gsi1sk".into(), attrs::s(&r.reservation_id));
    }
    item
}

pub(super) fn reservation_from(item: &Item) -> AppResult<Reservation> {
    let status = match attrs::req_str(item, "status")? {
        "CONFIRMED" => ReservationStatus::Confirmed,
        "CANCELLED" => ReservationStatus::Cancelled,
        _ => {
            return Err(AppError::internal(
                "stored reservation has an unknown status",
            ))
        }
    };
    Ok(Reservation {
        reservation_id: attrs::req_string(item, "reservationId")?,
        email: attrs::req_string(item, "email")?,
        festival_id: attrs::req_string(item, "festivalId")?,
        festival_name: attrs::req_string(item, "festivalName")?,
        festival_date: attrs::req_date(item, "festivalDate")?,
        quantity: attrs::req_num(item, "quantity")?,
        status,
        created_at: attrs::req_time(item, "createdAt")?,
    })
}

fn idempotent_from(item: &Item) -> AppResult<IdempotentBooking> {
    Ok(IdempotentBooking {
        reservation_id: attrs::req_string(item, "reservationId")?,
        request: BookingRequest {
            festival_id: attrs::req_string(item, "festivalId")?,
            festival_date: attrs::req_date(item, "festivalDate")?,
            quantity: attrs::req_num(item, "quantity")?,
        },
    })
}

impl DynamoRecords {
    async fn get_item(&self, key: Item, what: &str) -> AppResult<Option<Item>> {
        super::get_item(&self.client, &self.table, key, what).await
    }

    /// Why a booking was refused (the key, if any, was checked already), read from the
    /// date's guard: a guard naming this very reservation means this booking committed
    /// before (a retried call whose first try went through), so it is confirmed; another
    /// reservation's guard is a second booking of the date; no guard is sold out, unless
    /// DynamoDB said the guard's condition failed (`guard_failed`: it was cancelled since).
    async fn diagnose_booking(
        &self,
        reservation: &Reservation,
        guard_failed: bool,
    ) -> AppResult<Booking> {
        let guard = attrs::key(
            user_pk(&reservation.email),
            guard_sk(&reservation.festival_id, reservation.festival_date),
        );
        match self.get_item(guard, "GetItem (guard)").await? {
            Some(item) if attrs::req_str(&item, "reservationId")? == reservation.reservation_id => {
                Ok(Booking::Confirmed)
            }
            Some(_) => Err(AppError::AlreadyReserved),
            None if guard_failed => Err(AppError::AlreadyReserved),
            None => Err(AppError::SoldOut),
        }
    }
}

/// The `ClientRequestToken` of a booking (at most 36 characters, as DynamoDB allows): with an
/// `Idempotency-Key`, derived from the holder and the key, so every try of that booking within
/// DynamoDB's 10 minutes is one transaction; without one, from this attempt's reservation id.
/// Either way a try the SDK repeats after a lost answer is applied once.
pub fn request_token(email: &str, key: Option<&str>, reservation_id: &str) -> String {
    let seed = match key {
        Some(key) => format!("booking\0{email}\0key\0{key}"),
        None => format!("booking\0{email}\0attempt\0{reservation_id}"),
    };
    let mut token = hex::encode(Sha256::digest(seed.as_bytes()));
    token.truncate(36);
    token
}

/// Whether DynamoDB refused the token because it was used within 10 minutes for another
/// transaction (an earlier try with the same key, for another reservation id).
fn token_mismatch(err: &SdkError<TransactWriteItemsError>) -> bool {
    matches!(
        err.as_service_error(),
        Some(TransactWriteItemsError::IdempotentParameterMismatchException(_))
    )
}

/// What an `Idempotency-Key` found used means for the booking `r`: its own earlier commit
/// (the same reservation id: a retried call) is this booking, confirmed; anything else is
/// another try's booking.
fn key_outcome(r: &Reservation, used: IdempotentBooking) -> Booking {
    if used.reservation_id == r.reservation_id {
        Booking::Confirmed
    } else {
        Booking::KeyUsed(used)
    }
}

#[async_trait]
impl ReservationStore for DynamoRecords {
    async fn book(
        &self,
        reservation: &Reservation,
        idempotency_key: Option<&str>,
        key_expires_at: DateTime<Utc>,
    ) -> AppResult<Booking> {
        let r = reservation;
        let take = Update::builder()
            .table_name(&self.table)
            .set_key(Some(stock_key(&r.festival_id, r.festival_date)))
            .update_expression("SET remaining = remaining - :q")
            .condition_expression("remaining >= :q")
            .expression_attribute_values(":q", attrs::n(r.quantity))
            .build()
            .map_err(|e| build_error("stock update", e))?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(reservation_item(r)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| build_error("reservation put", e))?;
        let mut guard = attrs::key(user_pk(&r.email), guard_sk(&r.festival_id, r.festival_date));
        guard.insert("reservationId".into(), attrs::s(&r.reservation_id));
        let guard = Put::builder()
            .table_name(&self.table)
            .set_item(Some(guard))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| build_error("guard put", e))?;
        let mut items = vec![
            TransactWriteItem::builder().update(take).build(),
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().put(guard).build(),
        ];
        if let Some(key) = idempotency_key {
            let mut item = attrs::key(user_pk(&r.email), key_sk(key));
            item.insert("reservationId".into(), attrs::s(&r.reservation_id));
            item.insert("festivalId".into(), attrs::s(&r.festival_id));
            item.insert("festivalDate".into(), attrs::date(r.festival_date));
            item.insert("quantity".into(), attrs::n(r.quantity));
            item.insert("ttl".into(), attrs::n(key_expires_at.timestamp()));
            // An expired key whose item TTL has not removed yet counts as unused.
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk) OR #ttl <= :now")
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":now", attrs::n(r.created_at.timestamp()))
                .build()
                .map_err(|e| build_error("idempotency key put", e))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        let token = request_token(&r.email, idempotency_key, &r.reservation_id);
        let mut result =
            transact_with_token(&self.client, "booking", items.clone(), Some(&token)).await;
        if result.as_ref().is_err_and(token_mismatch) {
            // The key's token went to another try within DynamoDB's 10 minutes. If that try
            // booked, the key says so below; otherwise this try runs under its own token.
            let own = request_token(&r.email, None, &r.reservation_id);
            result = match idempotency_key {
                Some(key) => match self.idempotent_booking(&r.email, key, r.created_at).await? {
                    Some(used) => return Ok(key_outcome(r, used)),
                    None => transact_with_token(&self.client, "booking", items, Some(&own)).await,
                },
                None => transact_with_token(&self.client, "booking", items, Some(&own)).await,
            };
        }
        let err = match result {
            Ok(()) => return Ok(Booking::Confirmed),
            Err(err) => err,
        };
        let Some(codes) = err.as_service_error().and_then(cancellation_codes) else {
            return Err(sdk_error("TransactWriteItems (booking)", &self.table, err));
        };
        let failed =
            |i: usize| codes.get(i).and_then(Option::as_deref) == Some("ConditionalCheckFailed");
        // With a key, a refusal of any kind may be a concurrent retry's success (its key item
        // in flight or written), or this very booking's own commit answered late (a retried
        // call: DynamoDB's token makes that a success, an emulator may refuse it), so the key
        // decides first.
        if let Some(key) = idempotency_key {
            if let Some(used) = self.idempotent_booking(&r.email, key, r.created_at).await? {
                return Ok(key_outcome(r, used));
            }
        }
        if codes.iter().all(Option::is_none) {
            // No per-item reasons (some emulators omit them): find out by reading.
            return self.diagnose_booking(r, false).await;
        }
        if failed(3) {
            return Err(AppError::internal(
                "idempotency key vanished after a conflict",
            ));
        }
        if failed(2) {
            // Another reservation holds the date, or this one does (its own earlier commit).
            return self.diagnose_booking(r, true).await;
        }
        if failed(0) {
            return Err(AppError::SoldOut);
        }
        Err(sdk_error("TransactWriteItems (booking)", &self.table, err))
    }

    async fn idempotent_booking(
        &self,
        email: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<IdempotentBooking>> {
        let Some(item) = self
            .get_item(attrs::key(user_pk(email), key_sk(key)), "GetItem (key)")
            .await?
        else {
            return Ok(None);
        };
        let lapses: i64 = attrs::req_num(&item, "ttl")?;
        if lapses <= now.timestamp() {
            return Ok(None);
        }
        idempotent_from(&item).map(Some)
    }

    async fn get_reservation(
        &self,
        email: &str,
        reservation_id: &str,
    ) -> AppResult<Option<Reservation>> {
        self.get_item(
            attrs::key(user_pk(email), reservation_sk(reservation_id)),
            "GetItem (reservation)",
        )
        .await?
        .as_ref()
        .map(reservation_from)
        .transpose()
    }

    async fn list_reservations(
        &self,
        email: &str,
        before: Option<&str>,
        limit: usize,
    ) -> AppResult<Vec<Reservation>> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        while found.len() < limit {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":pk", attrs::s(user_pk(email)))
                .scan_index_forward(false)
                .limit(query_limit(limit - found.len()))
                .set_exclusive_start_key(start.take());
            query = match before {
                Some(id) => query
                    .key_condition_expression("pk = :pk AND sk BETWEEN :first AND :before")
                    .expression_attribute_values(":first", attrs::s(RESERVATION_PREFIX))
                    // BETWEEN is inclusive; the cursor's own item is skipped below.
                    .expression_attribute_values(":before", attrs::s(reservation_sk(id))),
                None => query
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":prefix", attrs::s(RESERVATION_PREFIX)),
            };
            let out = query
                .send()
                .await
                .map_err(|e| sdk_error("Query (reservations)", &self.table, e))?;
            for item in out.items() {
                let r = reservation_from(item)?;
                if Some(r.reservation_id.as_str()) != before && found.len() < limit {
                    found.push(r);
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(found)
    }

    async fn cancel(
        &self,
        email: &str,
        reservation_id: &str,
        at: DateTime<Utc>,
    ) -> AppResult<Option<Cancellation>> {
        let Some(current) = self.get_reservation(email, reservation_id).await? else {
            return Ok(None);
        };
        if current.status == ReservationStatus::Cancelled {
            return Ok(Some(Cancellation::AlreadyCancelled(current)));
        }
        let r = &current;
        let mark = Update::builder()
            .table_name(&self.table)
            .set_key(Some(attrs::key(
                user_pk(email),
                reservation_sk(reservation_id),
            )))
            .update_expression("SET #status = :cancelled, cancelledAt = :at REMOVE gsi1pk, gsi1sk")
            .condition_expression("#status = :confirmed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":cancelled", attrs::s("CANCELLED"))
            .expression_attribute_values(":confirmed", attrs::s("CONFIRMED"))
            .expression_attribute_values(":at", attrs::time(&at))
            .build()
            .map_err(|e| build_error("reservation cancel", e))?;
        let give_back = Update::builder()
            .table_name(&self.table)
            .set_key(Some(stock_key(&r.festival_id, r.festival_date)))
            .update_expression("SET remaining = remaining + :q")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":q", attrs::n(r.quantity))
            .build()
            .map_err(|e| build_error("stock return", e))?;
        let release = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(attrs::key(
                user_pk(email),
                guard_sk(&r.festival_id, r.festival_date),
            )))
            .condition_expression("attribute_not_exists(pk) OR reservationId = :id")
            .expression_attribute_values(":id", attrs::s(reservation_id))
            .build()
            .map_err(|e| build_error("guard delete", e))?;
        let items = vec![
            TransactWriteItem::builder().update(mark).build(),
            TransactWriteItem::builder().update(give_back).build(),
            TransactWriteItem::builder().delete(release).build(),
        ];
        match transact(&self.client, "cancellation", items).await {
            Ok(()) => {
                let mut cancelled = current;
                cancelled.status = ReservationStatus::Cancelled;
                Ok(Some(Cancellation::Cancelled(cancelled)))
            }
            Err(err) => {
                // A concurrent cancellation won: answer with what it stored.
                if let Some(now) = self.get_reservation(email, reservation_id).await? {
                    if now.status == ReservationStatus::Cancelled {
                        return Ok(Some(Cancellation::AlreadyCancelled(now)));
                    }
                }
                Err(sdk_error(
                    "TransactWriteItems (cancellation)",
                    &self.table,
                    err,
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_tokens_are_deterministic_short_and_per_holder_and_key() {
        let keyed = request_token("kim@festa.io", Some("try-1"), "01A");
        assert_eq!(keyed.len(), 36);
        assert!(keyed.bytes().all(|b| b.is_ascii_hexdigit()));
        // Every try of one keyed booking shares the token, whatever its reservation id.
        assert_eq!(keyed, request_token("kim@festa.io", Some("try-1"), "01B"));
        assert_ne!(keyed, request_token("lee@festa.io", Some("try-1"), "01A"));
        assert_ne!(keyed, request_token("kim@festa.io", Some("try-2"), "01A"));
        // Without a key, each attempt has its own.
        let unkeyed = request_token("kim@festa.io", None, "01A");
        assert_eq!(unkeyed.len(), 36);
        assert_eq!(unkeyed, request_token("kim@festa.io", None, "01A"));
        assert_ne!(unkeyed, request_token("kim@festa.io", None, "01B"));
        assert_ne!(unkeyed, keyed);
        // A 255-character key still gives 36 characters.
        assert_eq!(
            request_token("kim@festa.io", Some(&"k".repeat(255)), "01A").len(),
            36
        );
    }
}
