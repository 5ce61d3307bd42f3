//! The `AdmitTicks` and `ReservationEvents` adapters: the in-process ones, and (features `sqs`
//! and `eventbridge`) SQS and EventBridge on an emulator (moto) or AWS at `AWS_ENDPOINT_URL`.
//!
//! Without `AWS_ENDPOINT_URL` the AWS cases are skipped, unless `FESTA_REQUIRE_REAL=1` (CI),
//! which makes a missing endpoint a failure. Every run creates its own queues, bus and rule and
//! deletes them afterwards.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use festa::adapters::memory::{InProcessTicks, RecordedEvents};
use festa::model::{Reservation, ReservationStatus};
use festa::ports::{AdmitTick, AdmitTicks, ReservationEvent, ReservationEvents};
use serde_json::Value;
use tokio::time::Instant;

fn unique() -> String {
    ulid::Ulid::generate().to_string().to_lowercase()
}

fn tick(festival_id: &str, n: u64) -> AdmitTick {
    AdmitTick {
        festival_id: festival_id.to_string(),
        chain: format!("chain-{}", unique()),
        tick: n,
    }
}

fn reservation(status: ReservationStatus) -> Reservation {
    Reservation {
        reservation_id: ulid::Ulid::generate().to_string(),
        email: format!("{}@events.festa.test", unique()),
        festival_id: ulid::Ulid::generate().to_string(),
        festival_name: "부산 불꽃축제 \"Night\"".to_string(),
        festival_date: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        quantity: 3,
        status,
        created_at: Utc::now(),
    }
}

/// Two events about one reservation: its booking and its cancellation.
fn booked_then_cancelled() -> [ReservationEvent; 2] {
    let confirmed = reservation(ReservationStatus::Confirmed);
    let cancelled = Reservation {
        status: ReservationStatus::Cancelled,
        ..confirmed.clone()
    };
    [
        ReservationEvent::Confirmed(confirmed),
        ReservationEvent::Cancelled(cancelled),
    ]
}

/// Checks an event's `detail`: the holder's e-mail and every field of the reservation, in the
/// API's camelCase spelling.
fn assert_detail(detail: &Value, event: &ReservationEvent) {
    let r = event.reservation();
    let status = match r.status {
        ReservationStatus::Confirmed => "CONFIRMED",
        ReservationStatus::Cancelled => "CANCELLED",
    };
    assert_eq!(detail["email"], r.email.as_str(), "{detail}");
    assert_eq!(
        detail["reservationId"],
        r.reservation_id.as_str(),
        "{detail}"
    );
    assert_eq!(detail["festivalId"], r.festival_id.as_str(), "{detail}");
    assert_eq!(detail["festivalName"], r.festival_name.as_str(), "{detail}");
    assert_eq!(detail["festivalDate"], "2026-10-31", "{detail}");
    assert_eq!(detail["quantity"], 3, "{detail}");
    assert_eq!(detail["status"], status, "{detail}");
    let created_at = detail["createdAt"].as_str().expect("createdAt is a string");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(created_at)
            .unwrap()
            .timestamp_millis(),
        r.created_at.timestamp_millis(),
        "{detail}"
    );
    assert_eq!(
        detail.as_object().unwrap().len(),
        8,
        "unexpected fields: {detail}"
    );
}

// ---------------------------------------------------------------------------------------------
// In process

#[tokio::test]
async fn in_process_ticks_arrive_when_due() {
    let (ticks, mut due) = InProcessTicks::channel();
    let festival = unique();
    let later = tick(&festival, 4);
    let now_tick = tick(&festival, 0);

    let before = Instant::now();
    ticks
        .schedule(&later, Duration::from_millis(250))
        .await
        .unwrap();
    ticks.schedule(&now_tick, Duration::ZERO).await.unwrap();

    let first = due.recv().await.unwrap();
    assert_eq!(first.tick, later);
    assert!(first.due >= before + Duration::from_millis(250));
    assert!(first.due <= Instant::now() + Duration::from_millis(250));
    let second = due.recv().await.unwrap();
    assert_eq!(second.tick, now_tick);
    assert!(second.due >= before && second.due <= Instant::now());

    // Once the scheduler has stopped, scheduling fails instead of losing the tick silently.
    drop(due);
    assert!(ticks.schedule(&now_tick, Duration::ZERO).await.is_err());
}

#[tokio::test]
async fn recorded_events_keep_what_was_published_in_order() {
    let events = RecordedEvents::new();
    assert!(events.events().is_empty());
    let published = booked_then_cancelled();
    for event in &published {
        events.publish(event).await.unwrap();
    }
    assert_eq!(events.events(), published.to_vec());

    assert_eq!(published[0].detail_type(), "ReservationConfirmed");
    assert_eq!(published[1].detail_type(), "ReservationCancelled");
    for event in &published {
        let detail: Value = serde_json::from_str(&event.detail_json()).unwrap();
        assert_detail(&detail, event);
    }
}

// ---------------------------------------------------------------------------------------------
// SQS and EventBridge

#[cfg(all(feature = "sqs", feature = "eventbridge"))]
mod emulator;

#[cfg(all(feature = "sqs", feature = "eventbridge"))]
mod on_aws {
    use super::*;
    use aws_sdk_eventbridge::types::Target;
    use aws_sdk_sqs::types::{Message, QueueAttributeName};
    use festa::adapters::eventbridge::EventBridgeEvents;
    use festa::adapters::sqs_ticks::SqsTicks;

    /// The SDK configuration for `AWS_ENDPOINT_URL` without the platform's deadlines (the cases
    /// count what arrives; see `emulator`), or `None` (after a note) when there is none.
    async fn aws() -> Option<aws_config::SdkConfig> {
        if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
            if std::env::var("FESTA_REQUIRE_REAL").as_deref() == Ok("1") {
                panic!("FESTA_REQUIRE_REAL=1 but AWS_ENDPOINT_URL is not set");
            }
            eprintln!("skipped: set AWS_ENDPOINT_URL to run the SQS and EventBridge cases");
            return None;
        }
        Some(crate::emulator::config_without_deadlines().await)
    }

    /// A new queue: its URL and ARN.
    async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
        let url = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("CreateQueue")
            .queue_url
            .expect("a queue URL");
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("GetQueueAttributes")
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .expect("a queue ARN");
        (url, arn)
    }

    /// Receives (and deletes) messages until `count` have come or `patience` has passed.
    async fn receive(
        sqs: &aws_sdk_sqs::Client,
        url: &str,
        count: usize,
        patience: Duration,
    ) -> Vec<(Message, Instant)> {
        let deadline = Instant::now() + patience;
        let mut got = Vec::new();
        while got.len() < count && Instant::now() < deadline {
            let out = sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("ReceiveMessage");
            let at = Instant::now();
            for message in out.messages.unwrap_or_default() {
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("DeleteMessage");
                got.push((message, at));
            }
        }
        got
    }

    #[tokio::test]
    async fn sqs_ticks_are_delivered_after_their_delay() {
        let Some(config) = aws().await else { return };
        let sqs = aws_sdk_sqs::Client::new(&config);
        let (url, _) = create_queue(&sqs, &format!("festa-test-admit-{}", unique())).await;
        let ticks = SqsTicks::new(sqs.clone(), url.as_str());
        let festival = unique();
        let now_tick = tick(&festival, 0);
        let later = tick(&festival, 1);

        let sent = Instant::now();
        ticks.schedule(&now_tick, Duration::ZERO).await.unwrap();
        ticks
            .schedule(&later, Duration::from_secs(1))
            .await
            .unwrap();

        let got = receive(&sqs, &url, 2, Duration::from_secs(20)).await;
        let bodies: Vec<(AdmitTick, Instant)> = got
            .iter()
            .map(|(m, at)| {
                let body = m.body().expect("a body");
                let tick: AdmitTick = serde_json::from_str(body)
                    .unwrap_or_else(|e| panic!("{body} is not an AdmitTick: {e}"));
                (tick, *at)
            })
            .collect();
        assert_eq!(bodies.len(), 2, "{bodies:?}");
        let (first, _) = bodies.iter().find(|(t, _)| t.tick == 0).expect("tick 0");
        assert_eq!(first, &now_tick);
        let (second, at) = bodies.iter().find(|(t, _)| t.tick == 1).expect("tick 1");
        assert_eq!(second, &later);
        assert!(
            *at >= sent + Duration::from_secs(1),
            "the delayed tick came after {:?}",
            *at - sent
        );
        // The body is the port's JSON: camelCase, nothing else.
        let raw: Value = serde_json::from_str(got[0].0.body().unwrap()).unwrap();
        assert_eq!(
            raw.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["chain", "festivalId", "tick"]
        );

        let _ = sqs.delete_queue().queue_url(&url).send().await;
    }

    #[tokio::test]
    async fn eventbridge_events_reach_a_rule_target() {
        let Some(config) = aws().await else { return };
        let sqs = aws_sdk_sqs::Client::new(&config);
        let bridge = aws_sdk_eventbridge::Client::new(&config);
        let run = unique();
        let bus = format!("festa-test-{run}");
        let rule = format!("festa-test-reservations-{run}");
        let (url, queue_arn) = create_queue(&sqs, &format!("festa-test-events-{run}")).await;

        let bus_arn = bridge
            .create_event_bus()
            .name(&bus)
            .send()
            .await
            .expect("CreateEventBus")
            .event_bus_arn
            .expect("a bus ARN");
        let rule_arn = bridge
            .put_rule()
            .name(&rule)
            .event_bus_name(&bus)
            .event_pattern(serde_json::json!({ "source": [ReservationEvent::SOURCE] }).to_string())
            .send()
            .await
            .expect("PutRule")
            .rule_arn
            .expect("a rule ARN");
        // What real SQS needs before EventBridge may deliver (moto does not check).
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "Service": "events.amazonaws.com" },
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": { "ArnEquals": { "aws:SourceArn": rule_arn } },
            }],
        });
        sqs.set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::Policy, policy.to_string())
            .send()
            .await
            .expect("SetQueueAttributes");
        let target = Target::builder()
            .id("reservations-queue")
            .arn(&queue_arn)
            .build()
            .unwrap();
        let out = bridge
            .put_targets()
            .rule(&rule)
            .event_bus_name(&bus)
            .targets(target)
            .send()
            .await
            .expect("PutTargets");
        assert_eq!(out.failed_entry_count(), 0);

        // The adapter publishes to the bus by name; the ARN works as well.
        let published = booked_then_cancelled();
        EventBridgeEvents::new(bridge.clone(), bus.as_str())
            .publish(&published[0])
            .await
            .unwrap();
        EventBridgeEvents::new(bridge.clone(), bus_arn.as_str())
            .publish(&published[1])
            .await
            .unwrap();

        let got = receive(&sqs, &url, 2, Duration::from_secs(20)).await;
        let mut envelopes: Vec<Value> = got
            .iter()
            .map(|(m, _)| serde_json::from_str(m.body().unwrap()).unwrap())
            .collect();
        assert_eq!(envelopes.len(), 2, "{envelopes:?}");
        envelopes.sort_by_key(|e| e["detail-type"] != "ReservationConfirmed");
        for (envelope, event) in envelopes.iter().zip(&published) {
            assert_eq!(envelope["source"], ReservationEvent::SOURCE, "{envelope}");
            assert_eq!(envelope["detail-type"], event.detail_type(), "{envelope}");
            assert_detail(&envelope["detail"], event);
        }

        // Published to a bus that does not exist: an error, not a silent loss.
        let missing = EventBridgeEvents::new(bridge.clone(), format!("festa-test-missing-{run}"));
        let err = missing
            .publish(&published[0])
            .await
            .expect_err("a missing bus is an error");
        assert!(err.to_string().contains("EventBridge"), "{err}");

        let _ = bridge
            .remove_targets()
            .rule(&rule)
            .event_bus_name(&bus)
            .ids("reservations-queue")
            .send()
            .await;
        let _ = bridge
            .delete_rule()
            .name(&rule)
            .event_bus_name(&bus)
            .send()
            .await;
        let _ = bridge.delete_event_bus().name(&bus).send().await;
        let _ = sqs.delete_queue().queue_url(&url).send().await;
    }
}
