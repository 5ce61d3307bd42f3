//! Reservations: tickets of one festival date held by one user.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Where a reservation stands; only confirmed ones hold stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatus {
    Confirmed,
    Cancelled,
}

/// A booking as the reservation routes show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    /// A ULID, so a user's reservations sort newest first by id.
    pub reservation_id: String,
    /// The holder; never shown, since every route answers only the holder.
    #[serde(skip)]
    pub email: String,
    pub festival_id: String,
    /// Copied at booking time so listings need no festival reads.
    pub festival_name: String,
    #[schema(value_type = String, format = Date, example = "2026-10-03")]
    pub festival_date: NaiveDate,
    #[schema(minimum = 1, maximum = 4)]
    pub quantity: u32,
    pub status: ReservationStatus,
    #[serde(with = "super::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

/// What a booking asked for, kept with its `Idempotency-Key` so a retry can be told from a
/// different request reusing the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    pub festival_id: String,
    pub festival_date: NaiveDate,
    pub quantity: u32,
}
