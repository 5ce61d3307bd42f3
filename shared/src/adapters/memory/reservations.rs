use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::records::MemoryRecords;
use crate::error::{AppError, AppResult};
use crate::model::{Reservation, ReservationStatus};
use crate::ports::{Booking, Cancellation, IdempotentBooking, ReservationStore};

/// Reservations, the one-per-date guards and the idempotency keys, kept beside the festivals
/// whose stock they move (the records' festival lock is always taken first).
#[derive(Default)]
pub(super) struct ReservationBook {
    /// Holder → reservation id → reservation.
    by_holder: HashMap<String, BTreeMap<String, Reservation>>,
    /// (holder, festival, date) → the confirmed reservation holding that date.
    guards: HashMap<(String, String, NaiveDate), String>,
    /// (holder, key) → what it booked and when it lapses.
    keys: HashMap<(String, String), (IdempotentBooking, DateTime<Utc>)>,
    /// (festival, date) → confirmed reservation id → holder: the roster reminders read.
    pub(super) rosters: HashMap<(String, NaiveDate), BTreeMap<String, String>>,
}

impl ReservationBook {
    /// The holder's reservation with this id.
    pub(super) fn reservation(&self, email: &str, id: &str) -> Option<Reservation> {
        self.by_holder
            .get(email)
            .and_then(|mine| mine.get(id))
            .cloned()
    }
}

fn roster_key(r: &Reservation) -> (String, NaiveDate) {
    (r.festival_id.clone(), r.festival_date)
}

fn guard_key(r: &Reservation) -> (String, String, NaiveDate) {
    (r.email.clone(), r.festival_id.clone(), r.festival_date)
}

#[async_trait]
impl ReservationStore for MemoryRecords {
    async fn book(
        &self,
        reservation: &Reservation,
        idempotency_key: Option<&str>,
        key_expires_at: DateTime<Utc>,
    ) -> AppResult<Booking> {
        let mut festivals = self.festivals.lock().unwrap();
        let mut book = self.reservations.lock().unwrap();
        let now = reservation.created_at;
        if let Some(key) = idempotency_key {
            let slot = (reservation.email.clone(), key.to_string());
            if let Some((used, lapses)) = book.keys.get(&slot) {
                if *lapses > now {
                    // This very booking again (a retried call whose first try committed) is
                    // confirmed; another try's booking is what the key booked.
                    if used.reservation_id == reservation.reservation_id {
                        return Ok(Booking::Confirmed);
                    }
                    return Ok(Booking::KeyUsed(used.clone()));
                }
            }
        }
        if let Some(holder) = book.guards.get(&guard_key(reservation)) {
            if *holder == reservation.reservation_id {
                return Ok(Booking::Confirmed);
            }
            return Err(AppError::AlreadyReserved);
        }
        if book
            .reservation(&reservation.email, &reservation.reservation_id)
            .is_some()
        {
            return Err(AppError::internal(
                "a reservation id was booked again after its reservation was cancelled",
            ));
        }
        let stock = festivals
            .get_mut(&reservation.festival_id)
            .and_then(|f| {
                f.tickets
                    .iter_mut()
                    .find(|t| t.date == reservation.festival_date)
            })
            .filter(|t| t.remaining >= reservation.quantity)
            .ok_or(AppError::SoldOut)?;
        stock.remaining -= reservation.quantity;
        book.guards
            .insert(guard_key(reservation), reservation.reservation_id.clone());
        if let Some(key) = idempotency_key {
            let used = IdempotentBooking {
                reservation_id: reservation.reservation_id.clone(),
                request: crate::model::BookingRequest {
                    festival_id: reservation.festival_id.clone(),
                    festival_date: reservation.festival_date,
                    quantity: reservation.quantity,
                },
            };
            book.keys.insert(
                (reservation.email.clone(), key.to_string()),
                (used, key_expires_at),
            );
        }
        book.rosters
            .entry(roster_key(reservation))
            .or_default()
            .insert(
                reservation.reservation_id.clone(),
                reservation.email.clone(),
            );
        book.by_holder
            .entry(reservation.email.clone())
            .or_default()
            .insert(reservation.reservation_id.clone(), reservation.clone());
        Ok(Booking::Confirmed)
    }

    async fn idempotent_booking(
        &self,
        email: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<IdempotentBooking>> {
        let book = self.reservations.lock().unwrap();
        Ok(book
            .keys
            .get(&(email.to_string(), key.to_string()))
            .filter(|(_, lapses)| *lapses > now)
            .map(|(used, _)| used.clone()))
    }

    async fn get_reservation(
        &self,
        email: &str,
        reservation_id: &str,
    ) -> AppResult<Option<Reservation>> {
        let book = self.reservations.lock().unwrap();
        Ok(book
            .by_holder
            .get(email)
            .and_then(|mine| mine.get(reservation_id))
            .cloned())
    }

    async fn list_reservations(
        &self,
        email: &str,
        before: Option<&str>,
        limit: usize,
    ) -> AppResult<Vec<Reservation>> {
        let book = self.reservations.lock().unwrap();
        let Some(mine) = book.by_holder.get(email) else {
            return Ok(Vec::new());
        };
        let upper = before.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(mine
            .range::<str, _>((Bound::Unbounded, upper))
            .rev()
            .take(limit)
            .map(|(_, r)| r.clone())
            .collect())
    }

    async fn cancel(
        &self,
        email: &str,
        reservation_id: &str,
        _at: DateTime<Utc>,
    ) -> AppResult<Option<Cancellation>> {
        let mut festivals = self.festivals.lock().unwrap();
        let mut book = self.reservations.lock().unwrap();
        let Some(reservation) = book
            .by_holder
            .get_mut(email)
            .and_then(|mine| mine.get_mut(reservation_id))
        else {
            return Ok(None);
        };
        if reservation.status == ReservationStatus::Cancelled {
            return Ok(Some(Cancellation::AlreadyCancelled(reservation.clone())));
        }
        reservation.status = ReservationStatus::Cancelled;
        let cancelled = reservation.clone();
        if let Some(stock) = festivals.get_mut(&cancelled.festival_id).and_then(|f| {
            f.tickets
                .iter_mut()
                .find(|t| t.date == cancelled.festival_date)
        }) {
            stock.remaining += cancelled.quantity;
        }
        if let Some(roster) = book.rosters.get_mut(&roster_key(&cancelled)) {
            roster.remove(&cancelled.reservation_id);
        }
        let guard = guard_key(&cancelled);
        if book.guards.get(&guard) == Some(&cancelled.reservation_id) {
            book.guards.remove(&guard);
        }
        Ok(Some(Cancellation::Cancelled(cancelled)))
    }
}
