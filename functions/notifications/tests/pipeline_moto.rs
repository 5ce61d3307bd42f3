//! The whole reminder pipeline against the AWS emulator (moto) and an FCM stub: the scheduled
//! event published to SNS reaches the reminder queue through a raw-delivery subscription, the
//! planner's handler turns it into push jobs on the push queue, and the sender's handler
//! pushes each device once through the FCM HTTP v1 API of a `wiremock` stub.
//!
//! Skipped without `AWS_ENDPOINT_URL`, unless `FESTA_REQUIRE_REAL=1` (CI) makes that a failure.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use chrono::{NaiveDate, TimeZone, Utc};
use festa::adapters::dynamodb::{ensure_tables, DynamoRecords};
use festa::adapters::fcm::FcmGateway;
use festa::adapters::sqs_reminders::SqsQueue;
use festa::adapters::system::SystemClock;
use festa::model::{Device, Festival, Platform, Reservation, ReservationStatus, TicketStock};
use festa::ports::{DeviceRegistry, FestivalStore, ReservationStore};
use festa::services::reminders::{Planner, Sender};
use festa_notifications::{handle_planner_batch, handle_push_batch, PushSending};
use serde_json::{json, Value};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const FCM_PATH: &str = "/v1/projects/festa-test/messages:send";

fn moto() -> bool {
    if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        return true;
    }
    assert!(
        std::env::var("FESTA_REQUIRE_REAL").as_deref() != Ok("1"),
        "FESTA_REQUIRE_REAL=1 but AWS_ENDPOINT_URL is not set"
    );
    eprintln!("skipped: set AWS_ENDPOINT_URL (scripts/test.sh does)");
    false
}

/// The test service account, with its token endpoint on the stub.
fn service_account(stub: &MockServer) -> String {
    let text = include_str!("../../../shared/tests/fixtures/fcm-test-service-account.json");
    let mut key: Value = serde_json::from_str(text).unwrap();
    key["token_uri"] = json!(format!("{}/token", stub.uri()));
    key.to_string()
}

async fn fcm_stub() -> MockServer {
    let stub = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "ya29.pipeline", "expires_in": 3599, "token_type": "Bearer"}),
        ))
        .mount(&stub)
        .await;
    stub
}

/// Answers `status` with `body` to pushes for `token`.
async fn answer(stub: &MockServer, token: &str, status: u16, body: Value) {
    Mock::given(method("POST"))
        .and(path(FCM_PATH))
        .and(body_partial_json(json!({"message": {"token": token}})))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(stub)
        .await;
}

/// The pushes the stub received, as (token, reservationId).
async fn pushes(stub: &MockServer) -> Vec<(String, String)> {
    let mut seen: Vec<(String, String)> = stub
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == FCM_PATH)
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            (
                body["message"]["token"].as_str().unwrap().to_string(),
                body["message"]["data"]["reservationId"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    seen.sort();
    seen
}

struct Queues {
    sqs: aws_sdk_sqs::Client,
    reminders: String,
    push: String,
}

impl Queues {
    /// Everything on `url` now, as one Lambda SQS event (up to 10 per receive, until empty).
    async fn drain(&self, url: &str) -> SqsEvent {
        let mut records = Vec::new();
        loop {
            let got = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await
                .unwrap();
            let messages = got.messages();
            if messages.is_empty() {
                break;
            }
            for m in messages {
                let attributes: serde_json::Map<String, Value> = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_string(), json!(v)))
                            .collect()
                    })
                    .unwrap_or_default();
                records.push(json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attributes,
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:ap-northeast-2:123456789012:q",
                    "awsRegion": "ap-northeast-2"
                }));
            }
        }
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }
}

#[tokio::test]
async fn scheduled_event_to_fcm_through_sns_and_sqs() {
    if !moto() {
        return;
    }
    let aws = festa::adapters::aws::load().await;
    let run = ulid::Ulid::generate().to_string().to_lowercase();
    let dynamodb = festa::adapters::aws::dynamodb(&aws);
    let table = format!("pipeline-records-{run}");
    ensure_tables(&dynamodb, &table, &format!("pipeline-search-{run}"))
        .await
        .unwrap();
    let records = Arc::new(DynamoRecords::new(dynamodb, table));

    // A Seoul festival on 2027-05-05; the schedule fires 2027-05-04 09:00 Seoul.
    let festival_id = format!("FEST{run}").to_uppercase();
    let date = NaiveDate::from_ymd_opt(2027, 5, 5).unwrap();
    let created = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
    records
        .create_festival(&Festival {
            festival_id: festival_id.clone(),
            name: "어린이날 축제".into(),
            description: String::new(),
            location: "서울".into(),
            start_date: date,
            end_date: date,
            time_zone: "Asia/Seoul".into(),
            price: 0,
            image_url: None,
            chat_room_id: festival_id.clone(),
            tickets: vec![TicketStock {
                date,
                total: 100,
                remaining: 100,
            }],
            created_at: created,
        })
        .await
        .unwrap();
    let book = |n: u32, email: &str| Reservation {
        reservation_id: format!("01RES{run}{n:02}").to_uppercase(),
        email: email.to_string(),
        festival_id: festival_id.clone(),
        festival_name: "어린이날 축제".into(),
        festival_date: date,
        quantity: 1,
        status: ReservationStatus::Confirmed,
        created_at: created,
    };
    let (amy, bo, cy) = (
        format!("amy-{run}@festa.test"),
        format!("bo-{run}@festa.test"),
        format!("cy-{run}@festa.test"),
    );
    let expires = created + chrono::Duration::hours(24);
    for r in [book(1, &amy), book(2, &bo), book(3, &cy)] {
        records.book(&r, None, expires).await.unwrap();
    }
    records
        .cancel(&cy, &book(3, &cy).reservation_id, created)
        .await
        .unwrap();
    let device = |token: &str| Device {
        token: token.to_string(),
        platform: Some(Platform::Android),
        activated_at: created,
    };
    let (amy_ok, amy_gone, bo_busy, cy_ok) = (
        format!("amy-ok-{run}"),
        format!("amy-gone-{run}"),
        format!("bo-busy-{run}"),
        format!("cy-ok-{run}"),
    );
    for (email, token) in [
        (&amy, &amy_ok),
        (&amy, &amy_gone),
        (&bo, &bo_busy),
        (&cy, &cy_ok),
    ] {
        records.activate(email, &device(token)).await.unwrap();
    }

    // The queues and the topic, subscribed with raw delivery as in the template.
    let sqs = festa::adapters::aws::sqs(&aws);
    // The push queue's own visibility timeout is 1 s here, so a job that is not postponed
    // comes back at once and a postponed one shows its back-off.
    let queue = |name: String, visibility: &'static str| {
        let sqs = sqs.clone();
        async move {
            sqs.create_queue()
                .queue_name(name)
                .attributes(QueueAttributeName::VisibilityTimeout, visibility)
                .send()
                .await
                .unwrap()
                .queue_url()
                .unwrap()
                .to_string()
        }
    };
    let queues = Queues {
        reminders: queue(format!("reminders-{run}"), "30").await,
        push: queue(format!("push-{run}"), "1").await,
        sqs: sqs.clone(),
    };
    let reminder_arn = sqs
        .get_queue_attributes()
        .queue_url(&queues.reminders)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    let sns = aws_sdk_sns::Client::new(&aws);
    let topic = sns
        .create_topic()
        .name(format!("reminders-{run}"))
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_string();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&reminder_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();
    let event = json!({
        "version": "0", "id": format!("evt-{run}"), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2027-05-04T00:00:00Z",
        "region": "ap-northeast-2", "resources": ["arn:aws:events:ap-northeast-2:123456789012:rule/festa-ReminderSchedule"],
        "detail": {}
    });
    sns.publish()
        .topic_arn(&topic)
        .message(event.to_string())
        .send()
        .await
        .unwrap();

    // The planner: the run, then the festival date's task it queued for itself.
    let planner = Planner {
        page_size: 1,
        pages_per_task: 1,
        ..Planner::new(
            records.clone(),
            records.clone(),
            Arc::new(SqsQueue::new(sqs.clone(), &queues.reminders)),
            Arc::new(SqsQueue::new(sqs.clone(), &queues.push)),
            Arc::new(SystemClock),
        )
    };
    let scheduled = queues.drain(&queues.reminders).await;
    assert_eq!(scheduled.records.len(), 1, "one raw message from SNS");
    let raw: Value = serde_json::from_str(scheduled.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(
        raw["detail-type"], "Scheduled Event",
        "raw delivery: the event itself"
    );
    let mut rounds = 0;
    let mut batch = scheduled;
    while !batch.records.is_empty() {
        let failures = handle_planner_batch(&planner, batch).await;
        assert!(failures.batch_item_failures.is_empty());
        batch = queues.drain(&queues.reminders).await;
        rounds += 1;
        assert!(rounds < 10, "planning ends");
    }
    // One run, then one slice per confirmed reservation (pages of one): the follow-ups
    // chained, and the last page knew it was the last (Cy's cancelled one is not indexed).
    assert_eq!(rounds, 3);

    // The sender over the FCM stub: Amy's second phone is unregistered, Bo's is throttled.
    let stub = fcm_stub().await;
    answer(
        &stub,
        &amy_ok,
        200,
        json!({"name": "projects/festa-test/messages/1"}),
    )
    .await;
    answer(&stub, &amy_gone, 404, json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND",
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}})).await;
    answer(&stub, &bo_busy, 429, json!({"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "QUOTA_EXCEEDED"}]}})).await;
    let sending = PushSending {
        sender: Sender {
            reservations: records.clone(),
            devices: records.clone(),
            ledger: records.clone(),
            gateway: Arc::new(FcmGateway::new(&service_account(&stub), Some(&stub.uri())).unwrap()),
            clock: Arc::new(SystemClock),
        },
        backoff: Arc::new(SqsQueue::new(sqs.clone(), &queues.push)),
    };
    let jobs = queues.drain(&queues.push).await;
    assert_eq!(
        jobs.records.len(),
        2,
        "Amy's and Bo's reservations; Cy cancelled"
    );
    let bo_message = jobs
        .records
        .iter()
        .find(|m| m.body.as_deref().unwrap().contains(&bo))
        .unwrap()
        .message_id
        .clone()
        .unwrap();
    let response = handle_push_batch(&sending, jobs.clone()).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, [bo_message], "only the throttled job fails");
    let amy_first = book(1, &amy).reservation_id;
    let bo_first = book(2, &bo).reservation_id;
    assert_eq!(pushes(&stub).await, {
        let mut p = vec![
            (amy_gone.clone(), amy_first.clone()),
            (amy_ok.clone(), amy_first.clone()),
            (bo_busy.clone(), bo_first.clone()),
        ];
        p.sort();
        p
    });
    // The unregistered phone is deactivated; the throttled job waits out its back-off.
    let amy_devices: Vec<_> = records
        .devices_of(&amy)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.token)
        .collect();
    assert_eq!(amy_devices, std::slice::from_ref(&amy_ok));
    // Amy's job was not deleted here (the Lambda service does that), so it is back after
    // the queue's 1 s; Bo's throttled job waits out its 30 s back-off.
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let back: Vec<_> = queues
        .drain(&queues.push)
        .await
        .records
        .into_iter()
        .map(|m| m.body.unwrap())
        .collect();
    assert_eq!(back.len(), 1, "{back:?}");
    assert!(back[0].contains(&amy), "{back:?}");

    // The same batch redelivered (SQS is at least once): nothing is pushed twice, and the
    // throttled push, now accepted, goes out once.
    stub.reset().await;
    let stub_again = &stub;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "ya29.pipeline", "expires_in": 3599, "token_type": "Bearer"}),
        ))
        .mount(stub_again)
        .await;
    answer(
        stub_again,
        &bo_busy,
        200,
        json!({"name": "projects/festa-test/messages/2"}),
    )
    .await;
    answer(
        stub_again,
        &amy_ok,
        200,
        json!({"name": "projects/festa-test/messages/3"}),
    )
    .await;
    let response = handle_push_batch(&sending, jobs.clone()).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        pushes(stub_again).await,
        [(bo_busy.clone(), bo_first.clone())]
    );
    let response = handle_push_batch(&sending, jobs).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        pushes(stub_again).await.len(),
        1,
        "a third delivery sends nothing"
    );
}
