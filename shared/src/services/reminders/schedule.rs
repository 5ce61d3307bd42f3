//! When the daily run fires, which festival dates are "tomorrow".

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use serde::Deserialize;

use crate::error::AppResult;
use crate::model::FestivalDay;
use crate::ports::FestivalCalendar;
use crate::services::festival_days::{day_begins, zone_of};

/// The fields of an EventBridge event the planner reads.
#[derive(Deserialize)]
struct ScheduledEvent {
    time: DateTime<Utc>,
}

/// An SNS notification, in case the subscription delivers envelopes instead of raw messages.
#[derive(Deserialize)]
struct SnsEnvelope {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Message")]
    message: String,
}

/// The instant a scheduled EventBridge event fired, from an SQS body that holds the event
/// (raw SNS delivery) or an SNS envelope around it. Planning from the event's own `time`, not
/// the clock, makes a late or repeated delivery plan exactly the same pushes.
pub fn scheduled_run_of(body: &str) -> Option<DateTime<Utc>> {
    if let Ok(event) = serde_json::from_str::<ScheduledEvent>(body) {
        return Some(event.time);
    }
    let envelope = serde_json::from_str::<SnsEnvelope>(body).ok()?;
    if envelope.kind != "Notification" {
        return None;
    }
    serde_json::from_str::<ScheduledEvent>(&envelope.message)
        .ok()
        .map(|event| event.time)
}

/// The festival dates that start tomorrow, in each festival's own time zone, for a run at
/// `at`. Zones run from UTC-12 to UTC+14, so "tomorrow" somewhere is one of the three UTC
/// dates after `at`'s UTC date minus one; only those three calendar days are read.
pub async fn due_on(
    at: DateTime<Utc>,
    calendar: &dyn FestivalCalendar,
) -> AppResult<Vec<FestivalDay>> {
    let today = at.date_naive();
    let mut due = Vec::new();
    for date in [today, next(today), next(next(today))] {
        for day in calendar.festival_days(date).await? {
            if is_due(at, &day.time_zone, day.date) {
                due.push(day);
            }
        }
    }
    Ok(due)
}

fn next(date: NaiveDate) -> NaiveDate {
    date.checked_add_days(Days::new(1)).unwrap_or(date)
}

/// Whether `date` in `zone` is "tomorrow" for the run at `at`: after the local date at `at`,
/// and no later than the local date one day on. Daily runs 24 hours apart so cover every date
/// exactly once, even where a daylight-saving change moves the run's local time across
/// midnight, where "the local date plus one" would skip a date in spring and repeat one in
/// autumn. A zone this build does not know is judged in UTC.
fn is_due(at: DateTime<Utc>, zone: &str, date: NaiveDate) -> bool {
    let tz = zone_of(zone);
    let local = |instant: DateTime<Utc>| instant.with_timezone(&tz).date_naive();
    local(at) < date && date <= local(at + TimeDelta::days(1))
}

/// The instant `day` begins in its festival's zone (its first valid local time, should a
/// daylight-saving change skip midnight).
pub fn day_starts_at(day: &FestivalDay) -> DateTime<Utc> {
    day_begins(&day.time_zone, day.date)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use async_trait::async_trait;
    use chrono::TimeZone;

    use super::*;

    struct Days(HashMap<NaiveDate, Vec<FestivalDay>>);

    #[async_trait]
    impl FestivalCalendar for Days {
        async fn festival_days(&self, date: NaiveDate) -> AppResult<Vec<FestivalDay>> {
            Ok(self.0.get(&date).cloned().unwrap_or_default())
        }
    }

    fn day(id: &str, zone: &str, date: &str) -> FestivalDay {
        FestivalDay {
            festival_id: id.into(),
            festival_name: id.into(),
            time_zone: zone.into(),
            date: date.parse().unwrap(),
        }
    }

    fn calendar(days: Vec<FestivalDay>) -> Days {
        let mut by_date: HashMap<NaiveDate, Vec<FestivalDay>> = HashMap::new();
        for d in days {
            by_date.entry(d.date).or_default().push(d);
        }
        Days(by_date)
    }

    async fn due_ids(at: DateTime<Utc>, days: &Days) -> Vec<String> {
        let mut ids: Vec<_> = due_on(at, days)
            .await
            .unwrap()
            .into_iter()
            .map(|d| format!("{}@{}", d.festival_id, d.date))
            .collect();
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn tomorrow_is_judged_in_each_festivals_zone() {
        // The default run: 09:00 in Seoul on 2026-11-23 is 00:00 UTC.
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
        let days = calendar(vec![
            day("seoul", "Asia/Seoul", "2026-11-24"),
            day("seoul-today", "Asia/Seoul", "2026-11-23"),
            day("seoul-later", "Asia/Seoul", "2026-11-25"),
            // 16:00 on the 22nd in Los Angeles: its tomorrow is the 23rd.
            day("la", "America/Los_Angeles", "2026-11-23"),
            day("la-late", "America/Los_Angeles", "2026-11-24"),
            // 14:00 on the 23rd at UTC+14: tomorrow is the 24th.
            day("kiritimati", "Pacific/Kiritimati", "2026-11-24"),
            // 12:00 on the 22nd at UTC-12: tomorrow is the 23rd.
            day("baker", "Etc/GMT+12", "2026-11-23"),
            day("utc", "UTC", "2026-11-24"),
        ]);
        assert_eq!(
            due_ids(at, &days).await,
            [
                "baker@2026-11-23",
                "kiritimati@2026-11-24",
                "la@2026-11-23",
                "seoul@2026-11-24",
                "utc@2026-11-24"
            ]
        );
    }

    #[tokio::test]
    async fn date_edges_follow_the_zone_not_utc() {
        // 23:30 UTC on 31 December: already 1 January in Seoul, so Seoul's tomorrow is the
        // 2nd, while London's is the 1st (and across a year and a leap day).
        let at = Utc.with_ymd_and_hms(2027, 12, 31, 23, 30, 0).unwrap();
        let days = calendar(vec![
            day("seoul", "Asia/Seoul", "2028-01-02"),
            day("seoul-wrong", "Asia/Seoul", "2028-01-01"),
            day("london", "Europe/London", "2028-01-01"),
        ]);
        assert_eq!(
            due_ids(at, &days).await,
            ["london@2028-01-01", "seoul@2028-01-02"]
        );
        let leap = Utc.with_ymd_and_hms(2028, 2, 28, 0, 0, 0).unwrap();
        let days = calendar(vec![
            day("leap", "Asia/Seoul", "2028-02-29"),
            day("march", "Asia/Seoul", "2028-03-01"),
        ]);
        assert_eq!(due_ids(leap, &days).await, ["leap@2028-02-29"]);
    }

    #[tokio::test]
    async fn daylight_saving_moves_the_local_date() {
        // 00:30 UTC on 2026-07-01 is 20:30 on 30 June in New York (daylight time, UTC-4),
        // so New York's tomorrow is 1 July.
        let at = Utc.with_ymd_and_hms(2026, 7, 1, 0, 30, 0).unwrap();
        let days = calendar(vec![
            day("ny", "America/New_York", "2026-07-01"),
            day("ny-wrong", "America/New_York", "2026-07-02"),
        ]);
        assert_eq!(due_ids(at, &days).await, ["ny@2026-07-01"]);
    }

    #[test]
    fn daily_runs_cover_every_date_once_across_daylight_saving_changes() {
        // A run a day at 00:00 UTC through 2027, in zones with and without daylight saving,
        // half-hour ones, and the Azores, whose spring and autumn changes move 00:00 UTC
        // across local midnight.
        let zones = [
            "Asia/Seoul",
            "America/Los_Angeles",
            "America/New_York",
            "America/St_Johns",
            "Atlantic/Azores",
            "Europe/London",
            "Australia/Lord_Howe",
            "Pacific/Kiritimati",
            "Etc/GMT+12",
        ];
        let first: NaiveDate = "2027-01-01".parse().unwrap();
        for zone in zones {
            let mut covered: HashMap<NaiveDate, u32> = HashMap::new();
            let mut run = first;
            while run.format("%Y").to_string() == "2027" {
                let at = run.and_hms_opt(0, 0, 0).unwrap().and_utc();
                let mut candidate = run;
                for _ in 0..3 {
                    if is_due(at, zone, candidate) {
                        *covered.entry(candidate).or_default() += 1;
                    }
                    candidate = next(candidate);
                }
                run = next(run);
            }
            // Every date from the third of January to the end of the year, once.
            let mut date: NaiveDate = "2027-01-03".parse().unwrap();
            while date.format("%Y").to_string() == "2027" {
                assert_eq!(covered.get(&date), Some(&1), "{zone} {date}");
                date = next(date);
            }
        }
    }

    #[test]
    fn a_day_starts_at_local_midnight_or_the_first_time_after_a_skipped_one() {
        let seoul = day("s", "Asia/Seoul", "2027-10-02");
        assert_eq!(
            day_starts_at(&seoul),
            Utc.with_ymd_and_hms(2027, 10, 1, 15, 0, 0).unwrap()
        );
        let la = day("la", "America/Los_Angeles", "2027-07-04");
        assert_eq!(
            day_starts_at(&la),
            Utc.with_ymd_and_hms(2027, 7, 4, 7, 0, 0).unwrap()
        );
        // Santiago skips from 00:00 to 01:00 when daylight saving starts (5 September 2027).
        let santiago = day("cl", "America/Santiago", "2027-09-05");
        assert_eq!(
            day_starts_at(&santiago),
            Utc.with_ymd_and_hms(2027, 9, 5, 4, 0, 0).unwrap()
        );
        let unknown = day("x", "Mars/Olympus", "2027-10-02");
        assert_eq!(
            day_starts_at(&unknown),
            Utc.with_ymd_and_hms(2027, 10, 2, 0, 0, 0).unwrap()
        );
    }

    #[tokio::test]
    async fn the_azores_spring_change_does_not_skip_a_date() {
        // Daylight saving starts at 01:00 UTC on 28 March 2027: the run of the 28th is at
        // 23:00 on the 27th locally, the run of the 29th at 00:00 on the 29th.
        let days = calendar(vec![
            day("sat", "Atlantic/Azores", "2027-03-28"),
            day("sun", "Atlantic/Azores", "2027-03-29"),
            day("mon", "Atlantic/Azores", "2027-03-30"),
        ]);
        let on = |d: u32| Utc.with_ymd_and_hms(2027, 3, d, 0, 0, 0).unwrap();
        assert_eq!(
            due_ids(on(28), &days).await,
            ["sat@2027-03-28", "sun@2027-03-29"]
        );
        assert_eq!(due_ids(on(29), &days).await, ["mon@2027-03-30"]);
    }

    #[test]
    fn reads_the_event_time_raw_or_in_an_sns_envelope() {
        let event = r#"{"version":"0","id":"e","detail-type":"Scheduled Event","source":"aws.events","account":"1","time":"2026-11-23T00:00:00Z","region":"ap-northeast-2","resources":[],"detail":{}}"#;
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
        assert_eq!(scheduled_run_of(event), Some(at));
        let envelope =
            serde_json::json!({"Type": "Notification", "MessageId": "m", "Message": event})
                .to_string();
        assert_eq!(scheduled_run_of(&envelope), Some(at));
        assert_eq!(scheduled_run_of("{}"), None);
        assert_eq!(scheduled_run_of("not json"), None);
    }
}
