use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::AppResult;
use crate::model::{BookingRequest, Reservation};

/// An `Idempotency-Key` already used by the caller, and what it booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentBooking {
    pub reservation_id: String,
    pub request: BookingRequest,
}

/// What a booking attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Booking {
    /// Stock was taken and the reservation stored.
    Confirmed,
    /// The key was used meanwhile (a concurrent retry); nothing was booked by this call.
    KeyUsed(IdempotentBooking),
}

/// What a cancellation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancellation {
    /// This call cancelled it and returned its tickets to stock.
    Cancelled(Reservation),
    /// It was cancelled before; nothing changed.
    AlreadyCancelled(Reservation),
}

/// Reservations and the stock they hold (DynamoDB transactions in AWS).
///
/// Stock moves only here, and only together with the reservation that explains the move.
#[async_trait]
pub trait ReservationStore: Send + Sync {
    /// In one transaction: takes `quantity` tickets from the date's stock if that many remain
    /// (else `SoldOut`), stores the reservation and the holder's one-per-date guard (else
    /// `AlreadyReserved`), and records `idempotency_key` until `key_expires_at`.
    async fn book(
        &self,
        reservation: &Reservation,
        idempotency_key: Option<&str>,
        key_expires_at: DateTime<Utc>,
    ) -> AppResult<Booking>;

    /// What the holder's `key` booked, unless it expired by `now`.
    async fn idempotent_booking(
        &self,
        email: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<IdempotentBooking>>;

    /// The holder's reservation with this id.
    async fn get_reservation(
        &self,
        email: &str,
        reservation_id: &str,
    ) -> AppResult<Option<Reservation>>;

    /// Up to `limit` of the holder's reservations, newest first, strictly older than `before`.
    async fn list_reservations(
        &self,
        email: &str,
        before: Option<&str>,
        limit: usize,
    ) -> AppResult<Vec<Reservation>>;

    /// Cancels the holder's reservation and returns its tickets in one transaction; `None`
    /// when the holder has no reservation with this id.
    async fn cancel(
        &self,
        email: &str,
        reservation_id: &str,
        at: DateTime<Utc>,
    ) -> AppResult<Option<Cancellation>>;
}

/// A change other parts of the platform may react to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReservationEvent {
    Confirmed(Reservation),
    Cancelled(Reservation),
}

/// The `detail` of a reservation event: the reservation and its holder.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationEventDetail<'a> {
    pub email: &'a str,
    #[serde(flatten)]
    pub reservation: &'a Reservation,
}

impl ReservationEvent {
    /// EventBridge `source` of every reservation event.
    pub const SOURCE: &'static str = "festa.reservations";

    /// EventBridge `detail-type`.
    pub fn detail_type(&self) -> &'static str {
        match self {
            ReservationEvent::Confirmed(_) => "ReservationConfirmed",
            ReservationEvent::Cancelled(_) => "ReservationCancelled",
        }
    }

    /// The reservation the event is about.
    pub fn reservation(&self) -> &Reservation {
        match self {
            ReservationEvent::Confirmed(r) | ReservationEvent::Cancelled(r) => r,
        }
    }

    /// The JSON `detail`.
    pub fn detail_json(&self) -> String {
        let r = self.reservation();
        serde_json::to_string(&ReservationEventDetail {
            email: &r.email,
            reservation: r,
        })
        .unwrap_or_default()
    }
}

/// Where reservation events go (the platform's EventBridge bus in AWS).
#[async_trait]
pub trait ReservationEvents: Send + Sync {
    /// Publishes one event.
    async fn publish(&self, event: &ReservationEvent) -> AppResult<()>;
}
