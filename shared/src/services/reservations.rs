//! Booking, listing and cancelling tickets.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use super::directory::FestivalDirectory;
use super::festival_days::date_has_begun;
use super::tokens::{sha256_hex, Identity};
use super::validate::{Page, PageRequest};
use crate::error::{AppError, AppResult};
use crate::model::{BookingRequest, Reservation, ReservationStatus};
use crate::ports::{
    Booking, Cancellation, Clock, IdSource, IdempotentBooking, ReservationEvent, ReservationEvents,
    ReservationStore, WaitingRoom,
};

/// The most tickets one reservation may hold.
pub const MAX_QUANTITY: u32 = 4;
/// How long an `Idempotency-Key` is remembered.
pub const KEY_LIFETIME: Duration = Duration::hours(24);
/// The longest `Idempotency-Key`.
pub const MAX_KEY_LEN: usize = 255;

/// `POST /reservations` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookRequest {
    pub festival_id: String,
    /// A date of the festival, in its time zone, as `YYYY-MM-DD`.
    #[serde(with = "crate::model::calendar_date")]
    #[schema(value_type = String, format = Date, example = "2026-10-03")]
    pub festival_date: NaiveDate,
    /// Tickets to book, 1 to 4; 1 when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 4)]
    pub quantity: Option<u32>,
}

/// Everything the reservation routes need.
#[derive(Clone)]
pub struct Reservations {
    pub store: Arc<dyn ReservationStore>,
    pub room: Arc<dyn WaitingRoom>,
    pub festivals: FestivalDirectory,
    pub events: Arc<dyn ReservationEvents>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
}

/// A checked `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub fn idempotency_key(raw: Option<&str>) -> AppResult<Option<String>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let key = raw.trim();
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::validation(
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(Some(key.to_string()))
}

/// The name of one booking attempt in the waiting room: with an `Idempotency-Key`, derived
/// from the holder and the key, so a retry of the same booking is the same attempt and may
/// find the admission it spent; without one, the attempt's own reservation id. Hashed, so the
/// key (up to 255 characters of the client's choosing) is never stored in Redis as sent.
pub fn attempt_claim(email: &str, key: Option<&str>, reservation_id: &str) -> String {
    match key {
        Some(key) => format!("key:{}", sha256_hex(&format!("{email}\0{key}"))),
        None => format!("attempt:{reservation_id}"),
    }
}

impl Reservations {
    /// Books tickets for a caller holding an admission, once per `key`, and spends the
    /// admission: a retry answers the reservation the key first booked (as it stands now)
    /// and books nothing more; a date that has begun in the festival's zone is `DATE_PASSED`.
    pub async fn book(
        &self,
        caller: &Identity,
        request: BookRequest,
        key: Option<&str>,
    ) -> AppResult<Reservation> {
        let quantity = request.quantity.unwrap_or(1);
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            return Err(AppError::validation("quantity must be from 1 to 4"));
        }
        let wanted = BookingRequest {
            festival_id: request.festival_id,
            festival_date: request.festival_date,
            quantity,
        };
        let now = self.clock.now();
        if let Some(key) = key {
            if let Some(used) = self
                .store
                .idempotent_booking(&caller.email, key, now)
                .await?
            {
                return self.replay(caller, &wanted, used).await;
            }
        }
        let festival = self.festivals.get(&wanted.festival_id).await?;
        if wanted.festival_date < festival.start_date || wanted.festival_date > festival.end_date {
            return Err(AppError::validation(format!(
                "festivalDate must be from {} to {}",
                festival.start_date, festival.end_date
            )));
        }
        if date_has_begun(&festival, wanted.festival_date, now) {
            return Err(AppError::DatePassed);
        }
        // The admission is spent before stock moves, atomically, so of parallel bookings
        // holding one admission only one reaches the transaction; a booking that then fails
        // hands it back (below), so nothing is half-written either way.
        let reservation_id = self.ids.new_id();
        let claim = attempt_claim(&caller.email, key, &reservation_id);
        if self
            .room
            .spend_admission(&wanted.festival_id, &caller.email, now, &claim)
            .await?
            .is_none()
        {
            return Err(AppError::QueueAdmissionRequired);
        }
        let reservation = Reservation {
            reservation_id,
            email: caller.email.clone(),
            festival_id: wanted.festival_id.clone(),
            festival_name: festival.name.clone(),
            festival_date: wanted.festival_date,
            quantity,
            status: ReservationStatus::Confirmed,
            created_at: now,
        };
        match self.store.book(&reservation, key, now + KEY_LIFETIME).await {
            Ok(Booking::Confirmed) => {
                self.publish(ReservationEvent::Confirmed(reservation.clone()))
                    .await;
                Ok(reservation)
            }
            // A concurrent retry with this key booked: it is the same attempt (same claim),
            // so the admission stays spent on its reservation.
            Ok(Booking::KeyUsed(used)) => self.replay(caller, &wanted, used).await,
            Err(err) => {
                self.hand_back(&wanted.festival_id, &caller.email, &claim, &err)
                    .await;
                Err(err)
            }
        }
    }

    /// Gives the admission back after a booking that took nothing: sold out, already
    /// reserved, or an outage are not the user's doing, and queueing again for them would
    /// punish the user for the platform's answer. (An outage whose transaction did commit
    /// unseen leaves the user an admission too many; it is still bound by stock and by one
    /// reservation per date, and the retry with the same key answers the booking.) A failure
    /// here is logged: the admission stays spent and the user queues again.
    async fn hand_back(&self, festival_id: &str, email: &str, claim: &str, why: &AppError) {
        match self
            .room
            .return_admission(festival_id, email, self.clock.now(), claim)
            .await
        {
            Ok(returned) => {
                tracing::info!(festival = %festival_id, returned, code = why.code(), "booking failed; admission handed back")
            }
            Err(err) => {
                tracing::error!(error = %err, festival = %festival_id, "could not hand the admission back")
            }
        }
    }

    /// The answer to a retried key: the reservation it booked, if the retry asks the same.
    async fn replay(
        &self,
        caller: &Identity,
        wanted: &BookingRequest,
        used: IdempotentBooking,
    ) -> AppResult<Reservation> {
        if &used.request != wanted {
            return Err(AppError::validation(
                "this Idempotency-Key was already used for a different booking",
            ));
        }
        self.store
            .get_reservation(&caller.email, &used.reservation_id)
            .await?
            .ok_or_else(|| AppError::internal("an idempotency key names a missing reservation"))
    }

    /// The caller's reservations, newest first.
    pub async fn list(&self, caller: &Identity, page: PageRequest) -> AppResult<Page<Reservation>> {
        let probe = self
            .store
            .list_reservations(&caller.email, page.after.as_deref(), page.limit + 1)
            .await?;
        Ok(Page::from_probe(probe, page.limit, |r| &r.reservation_id))
    }

    /// Cancels the caller's reservation and returns its tickets; cancelling twice answers the
    /// cancelled reservation again. Another user's reservation is not found.
    pub async fn cancel(&self, caller: &Identity, reservation_id: &str) -> AppResult<Reservation> {
        let not_found = || AppError::NotFound("you hold no reservation with this id".into());
        if reservation_id.is_empty() || reservation_id.len() > 64 {
            return Err(not_found());
        }
        match self
            .store
            .cancel(&caller.email, reservation_id, self.clock.now())
            .await?
            .ok_or_else(not_found)?
        {
            Cancellation::Cancelled(reservation) => {
                self.publish(ReservationEvent::Cancelled(reservation.clone()))
                    .await;
                Ok(reservation)
            }
            Cancellation::AlreadyCancelled(reservation) => Ok(reservation),
        }
    }

    /// Publishes after the change is stored. A failure is logged and not answered: the
    /// booking or cancellation stands either way, and failing the request would invite a
    /// retry that cannot change it.
    async fn publish(&self, event: ReservationEvent) {
        if let Err(err) = self.events.publish(&event).await {
            tracing::error!(
                error = %err,
                reservation = %event.reservation().reservation_id,
                "could not publish the reservation event"
            );
        }
    }
}
