//! Booking, listing and cancelling tickets.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use super::directory::FestivalDirectory;
use super::tokens::Identity;
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

impl Reservations {
    /// Books tickets for an admitted caller, once per `key`: a retry answers the reservation
    /// the key first booked (as it stands now) and books nothing more.
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
        if self
            .room
            .admission(&wanted.festival_id, &caller.email, now)
            .await?
            .is_none()
        {
            return Err(AppError::QueueAdmissionRequired);
        }
        let reservation = Reservation {
            reservation_id: self.ids.new_id(),
            email: caller.email.clone(),
            festival_id: wanted.festival_id.clone(),
            festival_name: festival.name.clone(),
            festival_date: wanted.festival_date,
            quantity,
            status: ReservationStatus::Confirmed,
            created_at: now,
        };
        match self
            .store
            .book(&reservation, key, now + KEY_LIFETIME)
            .await?
        {
            Booking::Confirmed => {
                self.publish(ReservationEvent::Confirmed(reservation.clone()))
                    .await;
                Ok(reservation)
            }
            Booking::KeyUsed(used) => self.replay(caller, &wanted, used).await,
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
