//! When a festival's dates begin and end, in the festival's own time zone: a date can be
//! booked until its local midnight, and a festival has a waiting line until its last date is
//! over. Every rule that asks "has this date begun?" asks here, so bookings, the waiting room
//! and the reminders agree to the instant.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::model::Festival;

/// The time zone named `zone`, or UTC (with a warning) for a name this build does not know:
/// festivals are created with validated zones, so this only guards against stored data from
/// a newer time-zone database.
pub fn zone_of(zone: &str) -> Tz {
    zone.parse::<Tz>().unwrap_or_else(|_| {
        tracing::warn!(zone, "unknown festival time zone; judging dates in UTC");
        Tz::UTC
    })
}

/// The instant `date` begins in `zone`: its local midnight, or its first valid local time
/// should a daylight-saving change skip midnight.
pub fn day_begins(zone: &str, date: NaiveDate) -> DateTime<Utc> {
    let tz = zone_of(zone);
    let mut local = date.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(start) = tz.from_local_datetime(&local).earliest() {
            return start.with_timezone(&Utc);
        }
        local += TimeDelta::minutes(30);
    }
    date.and_time(NaiveTime::MIN).and_utc()
}

/// Whether `date` of `festival` has begun by `now` (so it can no longer be booked).
pub fn date_has_begun(festival: &Festival, date: NaiveDate, now: DateTime<Utc>) -> bool {
    now >= day_begins(&festival.time_zone, date)
}

/// Whether `festival` is over by `now`: its last date's local day has ended, so no date is
/// left to queue for.
pub fn has_ended(festival: &Festival, now: DateTime<Utc>) -> bool {
    match festival.end_date.checked_add_days(Days::new(1)) {
        Some(after) => date_has_begun(festival, after, now),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn festival(zone: &str) -> Festival {
        let date = |d| NaiveDate::from_ymd_opt(2027, 3, d).unwrap();
        Festival {
            festival_id: "f".into(),
            name: "n".into(),
            description: String::new(),
            location: String::new(),
            start_date: date(27),
            end_date: date(28),
            time_zone: zone.into(),
            price: 0,
            image_url: None,
            chat_room_id: "f".into(),
            tickets: Vec::new(),
            created_at: Utc::now(),
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn a_date_begins_at_its_local_midnight() {
        let seoul = festival("Asia/Seoul");
        let day = seoul.start_date;
        // 2027-03-27 00:00 in Seoul (UTC+9) is 2027-03-26 15:00 UTC.
        assert!(!date_has_begun(&seoul, day, at("2027-03-26T14:59:59.999Z")));
        assert!(date_has_begun(&seoul, day, at("2027-03-26T15:00:00Z")));
        // Los Angeles is behind UTC: the same date begins 16 hours later.
        let la = festival("America/Los_Angeles");
        assert!(!date_has_begun(&la, day, at("2027-03-27T06:59:59Z")));
        assert!(date_has_begun(&la, day, at("2027-03-27T07:00:00Z")));
        // A zone this build does not know is judged in UTC.
        let unknown = festival("Mars/Olympus_Mons");
        assert!(!date_has_begun(&unknown, day, at("2027-03-26T23:59:59Z")));
        assert!(date_has_begun(&unknown, day, at("2027-03-27T00:00:00Z")));
    }

    #[test]
    fn a_festival_ends_when_its_last_local_day_is_over() {
        let seoul = festival("Asia/Seoul");
        // Its last date, 2027-03-28, ends at 2027-03-29 00:00 Seoul = 03-28 15:00 UTC.
        assert!(!has_ended(&seoul, at("2027-03-26T15:00:00Z")));
        assert!(!has_ended(&seoul, at("2027-03-28T14:59:59Z")));
        assert!(has_ended(&seoul, at("2027-03-28T15:00:00Z")));
    }

    #[test]
    fn a_midnight_skipped_by_daylight_saving_begins_at_the_first_valid_time() {
        // Santiago skipped 2026-09-06 00:00 (clocks went from 00:00 to 01:00, UTC−4 → −3).
        assert_eq!(
            day_begins(
                "America/Santiago",
                NaiveDate::from_ymd_opt(2026, 9, 6).unwrap()
            ),
            at("2026-09-06T04:00:00Z")
        );
    }
}
