//! Festivals and their ticket stock.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The tickets of one festival date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketStock {
    #[schema(value_type = String, format = Date, example = "2026-10-03")]
    pub date: NaiveDate,
    pub total: u32,
    pub remaining: u32,
}

/// A festival as every festival route shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Festival {
    /// A ULID, so ids sort by creation time (newest first listing relies on it).
    pub festival_id: String,
    pub name: String,
    pub description: String,
    pub location: String,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub end_date: NaiveDate,
    /// IANA time zone the dates are in.
    pub time_zone: String,
    pub price: u64,
    pub image_url: Option<String>,
    pub chat_room_id: String,
    pub tickets: Vec<TicketStock>,
    #[serde(with = "super::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}
