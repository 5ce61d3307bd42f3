//! Festival reminders: the devices people register and the pushes the day before a festival.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// What kind of device holds an FCM registration token (kept for support and statistics;
/// FCM itself routes by token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Web,
    Android,
    Ios,
}

/// A device that receives its owner's reminders: one FCM registration token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The FCM registration token; a secret of the device, never logged.
    pub token: String,
    pub platform: Option<Platform>,
    pub activated_at: DateTime<Utc>,
}

/// One date of one festival, as the reminder planner finds them by calendar day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FestivalDay {
    pub festival_id: String,
    pub festival_name: String,
    /// IANA zone the date is in; "tomorrow" is judged there.
    pub time_zone: String,
    pub date: NaiveDate,
}

/// One confirmed reservation to remind: the body of a push-queue message. The sender finds
/// the holder's devices when it sends, so a device deactivated meanwhile gets nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReminderJob {
    pub reservation_id: String,
    pub email: String,
    pub festival_id: String,
    pub festival_name: String,
    pub festival_date: NaiveDate,
    /// When the festival date begins in its time zone: a job still waiting then (a long
    /// back-off, a redriven dead letter) would say "tomorrow" too late, and is dropped.
    #[serde(with = "super::timestamp")]
    pub starts_at: DateTime<Utc>,
}

/// A slice of one festival date's reservations still to plan: the planner's own follow-up
/// message, so a festival of any size is planned in invocations of bounded work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReminderTask {
    pub festival_id: String,
    pub festival_name: String,
    pub festival_date: NaiveDate,
    /// When the festival date begins in its time zone; a slice reached later plans nothing.
    #[serde(with = "super::timestamp")]
    pub starts_at: DateTime<Utc>,
    /// Plan reservations whose id sorts after this one (`None`: from the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// One push to one device, as FCM and the local outbox receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushMessage {
    /// The holder the push is for (never sent to FCM; the outbox files pushes under it).
    pub to: String,
    /// The device's FCM registration token.
    pub token: String,
    pub title: String,
    pub body: String,
    /// FCM data payload: string values only.
    pub data: BTreeMap<String, String>,
}

/// A push as the local outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentPush {
    #[serde(flatten)]
    pub push: PushMessage,
    #[serde(with = "super::timestamp")]
    pub sent_at: DateTime<Utc>,
}
