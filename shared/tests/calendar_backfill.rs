//! `DynamoRecords::backfill_calendar` (run by `festa-admin backfill-calendar`) on the AWS
//! emulator: festivals stored before the reminder calendar existed become visible to the
//! planner, and running it again changes nothing.
//!
//! Skipped without `AWS_ENDPOINT_URL`, unless `FESTA_REQUIRE_REAL=1` (CI) makes that a failure.

#![cfg(feature = "dynamodb")]

use chrono::{NaiveDate, TimeZone, Utc};
use festa::adapters::dynamodb::{ensure_tables, DynamoRecords};
use festa::model::{Festival, TicketStock};
use festa::ports::{FestivalCalendar, FestivalStore};

fn festival(id: &str, name: &str, zone: &str, dates: &[NaiveDate]) -> Festival {
    Festival {
        festival_id: id.into(),
        name: name.into(),
        description: String::new(),
        location: "서울".into(),
        start_date: dates[0],
        end_date: *dates.last().unwrap(),
        time_zone: zone.into(),
        price: 0,
        image_url: None,
        chat_room_id: id.into(),
        tickets: dates
            .iter()
            .map(|&date| TicketStock {
                date,
                total: 10,
                remaining: 10,
            })
            .collect(),
        created_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
    }
}

async fn listed(records: &DynamoRecords, date: NaiveDate) -> Vec<(String, String)> {
    let mut days: Vec<_> = records
        .festival_days(date)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.festival_id, d.time_zone))
        .collect();
    days.sort();
    days
}

#[tokio::test]
async fn festivals_stored_before_the_calendar_are_found_after_the_backfill() {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(
            std::env::var("FESTA_REQUIRE_REAL").as_deref() != Ok("1"),
            "FESTA_REQUIRE_REAL=1 but AWS_ENDPOINT_URL is not set"
        );
        eprintln!("skipped: set AWS_ENDPOINT_URL (scripts/test.sh does)");
        return;
    }
    let aws = festa::adapters::aws::load().await;
    let client = festa::adapters::aws::dynamodb(&aws);
    let run = ulid::Ulid::generate().to_string().to_lowercase();
    let table = format!("backfill-records-{run}");
    ensure_tables(&client, &table, &format!("backfill-search-{run}"))
        .await
        .unwrap();
    let records = DynamoRecords::new(client.clone(), table.clone());

    let d = |day: u32| NaiveDate::from_ymd_opt(2027, 5, day).unwrap();
    // More festivals than one page of the listing (100), over two dates.
    let mut ids = Vec::new();
    for i in 0..105 {
        let id = format!("01BACKFILL{run}{i:03}").to_uppercase();
        let zone = if i % 2 == 0 {
            "Asia/Seoul"
        } else {
            "Europe/Paris"
        };
        let dates: &[NaiveDate] = if i < 3 { &[d(4), d(5)] } else { &[d(5)] };
        records
            .create_festival(&festival(&id, &format!("축제 {i}"), zone, dates))
            .await
            .unwrap();
        ids.push((id, zone.to_string()));
    }
    let on_fourth = listed(&records, d(4)).await;
    let on_fifth = listed(&records, d(5)).await;
    assert_eq!(on_fourth.len(), 3);
    assert_eq!(on_fifth.len(), 105);

    // As festivals created before reminders: no calendar items at all.
    for (id, _) in &ids {
        for date in [d(4), d(5)] {
            client
                .delete_item()
                .table_name(&table)
                .key(
                    "pk",
                    aws_sdk_dynamodb::types::AttributeValue::S(format!("FESTIVAL_DAY#{date}")),
                )
                .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(id.clone()))
                .send()
                .await
                .unwrap();
        }
    }
    assert!(listed(&records, d(5)).await.is_empty());

    assert_eq!(records.backfill_calendar().await.unwrap(), 105);
    assert_eq!(listed(&records, d(4)).await, on_fourth);
    assert_eq!(listed(&records, d(5)).await, on_fifth);
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(on_fifth, expected, "each with its own zone");

    // Again: the same items, nothing more.
    assert_eq!(records.backfill_calendar().await.unwrap(), 105);
    assert_eq!(listed(&records, d(5)).await, on_fifth);
    assert!(listed(&records, d(6)).await.is_empty());
}
