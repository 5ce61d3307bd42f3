//! Replays the sample events of the notification Lambdas (`events/*.json`, one per binary)
//! through the very code path each binary runs: the device routes through
//! `festa_notifications::route` + `festa::api::lambda::handle`, the planner's and the
//! sender's SQS batches through `handle_planner_batch` and `handle_push_batch`. State is in
//! memory: the festival the events name is stored up front, reservations are booked in the
//! records, and pushes land in the outbox (or a gateway that throttles chosen devices).
//!
//! Fixtures hold placeholders for what only a live system can give (`<access-token>`, the
//! `<user-id>`/`<session-id>` of the authorizer context, `<reservation-id>`); the tests fill
//! them in.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, NaiveDate, Utc};
use festa::adapters::memory::{
    ManualClock, MemoryDevices, MemoryRecords, MemoryReminderLedger, MemoryReminderQueue,
};
use festa::adapters::outbox::Outbox;
use festa::adapters::system::RandomIds;
use festa::api::replay::{
    as_caller, binaries, edit, event_names, events_dir, fill, replay, without_authorizer, Replayed,
};
use festa::model::{
    Device, Festival, Platform, PushMessage, Reservation, ReservationStatus, Role, TicketStock,
};
use festa::ports::{
    Clock, DeviceRegistry, FestivalStore, IdSource, JobBackoff, PushGateway, PushOutcome,
    ReservationStore,
};
use festa::services::reminders::{Devices, Planner, Sender};
use festa::services::tokens::{Identity, TokenKeys, ACCESS_TTL};
use festa::AppResult;
use festa_notifications::{
    handle_planner_batch, handle_push_batch, NotificationsState, PushSending,
};
use serde_json::{json, Value};

/// Every notification binary, each with its sample event `events/<name>.json`.
const NOTIFICATION_EVENTS: [&str; 4] = [
    "activate-notification",
    "deactivate-notification",
    "reminder-planner",
    "push-sender",
];
/// The route binaries and the route each serves.
const ROUTES: [(&str, &str); 2] = [
    ("activate-notification", "/notification/activate"),
    ("deactivate-notification", "/notification/deactivate"),
];
const PLANNER: &str = "reminder-planner";
const SENDER: &str = "push-sender";
/// The queues whose batches are this crate's (their ARNs name the template's resources).
const QUEUES: [(&str, &str); 2] = [
    (PLANNER, ":festa-ReminderQueue-"),
    (SENDER, ":festa-PushQueue-"),
];

/// The sample festival the events name (that of `create-festival.json`).
const FESTIVAL_ID: &str = "01M83TH6S0BRX93GKV0KC6Y6HC";
const FESTIVAL_NAME: &str = "서울 세계 불꽃축제 2027";
/// The device token of the activate and deactivate samples.
const SAMPLE_TOKEN: &str = "fGx9wQ2nRkOe3b7sXc1LpZ:APA91bHq3Vx8Nf2kT9mWcYd5Lr0Zs6Jp4Ug1Ae7Ko3Bn8Xt2Rv5Qm9Wy0Hc4Ds6Fj1Gk3Lp7Zx2Cv8Bn5Mq0Aw4Se9Dr1Ft3Gy6Hu2Ji5Ko8Lp";
/// When the activate sample was sent.
const START: &str = "2026-11-23T09:14:00Z";

#[derive(Clone, Copy)]
struct User {
    email: &'static str,
    name: &'static str,
}

/// The caller the sample events are for.
const FAN: User = User {
    email: "fan@festa.example",
    name: "김페스타",
};
const LEE: User = User {
    email: "lee@festa.example",
    name: "이축제",
};
const PARK: User = User {
    email: "park@festa.example",
    name: "박불꽃",
};

/// Postponed deliveries, as (receipt handle, delay).
#[derive(Default)]
struct Postponed(Mutex<Vec<(String, Duration)>>);

#[async_trait]
impl JobBackoff for Postponed {
    async fn postpone(&self, receipt: &str, delay: Duration) -> AppResult<()> {
        self.0.lock().unwrap().push((receipt.to_string(), delay));
        Ok(())
    }
}

/// The outbox, except that devices in `throttled` are answered as FCM answers a 429.
struct Throttling {
    outbox: Arc<Outbox>,
    throttled: Mutex<HashSet<String>>,
}

#[async_trait]
impl PushGateway for Throttling {
    async fn send(&self, push: &PushMessage) -> AppResult<PushOutcome> {
        if self.throttled.lock().unwrap().contains(&push.token) {
            return Ok(PushOutcome::Retry {
                after: Some(Duration::from_secs(45)),
            });
        }
        PushGateway::send(self.outbox.as_ref(), push).await
    }
}

struct Harness {
    state: Arc<NotificationsState>,
    records: Arc<MemoryRecords>,
    devices: Arc<MemoryDevices>,
    queue: Arc<MemoryReminderQueue>,
    planner: Planner,
    sending: PushSending,
    outbox: Arc<Outbox>,
    gateway: Arc<Throttling>,
    postponed: Arc<Postponed>,
    clock: Arc<ManualClock>,
    keys: TokenKeys,
    ids: RandomIds,
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 10, d).unwrap()
}

async fn harness() -> Harness {
    let records = Arc::new(MemoryRecords::new());
    records
        .create_festival(&Festival {
            festival_id: FESTIVAL_ID.into(),
            name: FESTIVAL_NAME.into(),
            description: "한강의 밤하늘을 수놓는 세계 각국의 불꽃 쇼".into(),
            location: "서울 영등포구 여의도 한강공원".into(),
            start_date: day(2),
            end_date: day(3),
            time_zone: "Asia/Seoul".into(),
            price: 30000,
            image_url: None,
            chat_room_id: FESTIVAL_ID.into(),
            tickets: [2, 3]
                .map(|d| TicketStock {
                    date: day(d),
                    total: 5000,
                    remaining: 5000,
                })
                .to_vec(),
            created_at: at("2026-11-23T09:07:00Z"),
        })
        .await
        .unwrap();
    let devices = Arc::new(MemoryDevices::new());
    let clock = Arc::new(ManualClock::new(at(START)));
    let queue = Arc::new(MemoryReminderQueue::new());
    let outbox = Arc::new(Outbox::new());
    let gateway = Arc::new(Throttling {
        outbox: outbox.clone(),
        throttled: Mutex::new(HashSet::new()),
    });
    let postponed = Arc::new(Postponed::default());
    let planner = Planner::new(
        records.clone(),
        records.clone(),
        queue.clone(),
        queue.clone(),
        clock.clone(),
    );
    let sending = PushSending {
        sender: Sender {
            reservations: records.clone(),
            devices: devices.clone(),
            ledger: Arc::new(MemoryReminderLedger::new()),
            gateway: gateway.clone(),
            clock: clock.clone(),
        },
        backoff: postponed.clone(),
    };
    let state = NotificationsState {
        devices: Devices {
            registry: devices.clone(),
            clock: clock.clone(),
        },
    };
    Harness {
        state: Arc::new(state),
        records,
        devices,
        queue,
        planner,
        sending,
        outbox,
        gateway,
        postponed,
        clock,
        keys: TokenKeys::from_secret(&[7u8; 32]).unwrap(),
        ids: RandomIds::default(),
    }
}

/// The sample event of one notification binary, as the file holds it.
fn fixture(name: &str) -> String {
    assert!(
        NOTIFICATION_EVENTS.contains(&name),
        "{name} is not a notification event"
    );
    festa::api::replay::fixture(name)
}

/// A route event as API Gateway forwards it once the authorizer allowed `user`.
fn authorized(h: &Harness, event: &str, user: User) -> String {
    let now = h.clock.now();
    let identity = Identity {
        user_id: h.ids.new_id(),
        email: user.email.into(),
        name: user.name.into(),
        role: Role::User,
        session_id: h.ids.new_id(),
        expires_at: now + ACCESS_TTL,
    };
    as_caller(event, &h.keys, &identity, now)
}

/// Runs the route binary `name` on an event, as the binary does.
async fn invoke(h: &Harness, name: &str, event: &str) -> Replayed {
    let (_, path) = ROUTES
        .iter()
        .find(|(binary, _)| *binary == name)
        .unwrap_or_else(|| panic!("{name} is not a notification route"));
    let route = festa_notifications::route(h.state.clone(), path).unwrap();
    replay(&route, event).await
}

/// The route sample of `name`, for `user`, with another body.
fn with_body(h: &Harness, name: &str, user: User, body: &str) -> String {
    let event = edit(&fixture(name), |v| v["body"] = json!(body));
    authorized(h, &event, user)
}

#[track_caller]
fn assert_no_content(answer: &Replayed) {
    assert_eq!(answer.status, 204, "{}", answer.body);
    assert_eq!(answer.body, Value::Null);
}

async fn tokens_of(h: &Harness, user: User) -> Vec<String> {
    let devices = h.devices.devices_of(user.email).await.unwrap();
    devices.into_iter().map(|d| d.token).collect()
}

/// Books `user` one ticket of the sample festival's `date`; answers the reservation's id.
async fn book(h: &Harness, user: User, date: NaiveDate) -> String {
    let reservation = Reservation {
        reservation_id: h.ids.new_id(),
        email: user.email.into(),
        festival_id: FESTIVAL_ID.into(),
        festival_name: FESTIVAL_NAME.into(),
        festival_date: date,
        quantity: 1,
        status: ReservationStatus::Confirmed,
        created_at: h.clock.now(),
    };
    let expires = h.clock.now() + chrono::Duration::hours(24);
    h.records.book(&reservation, None, expires).await.unwrap();
    reservation.reservation_id
}

/// Registers `tokens` as `user`'s devices, as the activate route does.
async fn give_devices(h: &Harness, user: User, tokens: &[&str]) {
    for token in tokens {
        let device = Device {
            token: token.to_string(),
            platform: Some(Platform::Web),
            activated_at: h.clock.now(),
        };
        h.devices.activate(user.email, &device).await.unwrap();
    }
}

fn sqs_event(text: &str) -> SqsEvent {
    serde_json::from_str(text).expect("an SQS event")
}

fn failed(response: &SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

/// The id of message `i` of a sample batch.
fn message_id(event: &SqsEvent, i: usize) -> String {
    event.records[i].message_id.clone().unwrap()
}

#[tokio::test]
async fn activate_notification_event_registers_the_callers_device() {
    let h = harness().await;
    let answer = invoke(
        &h,
        "activate-notification",
        &authorized(&h, &fixture("activate-notification"), FAN),
    )
    .await;
    assert_no_content(&answer);
    let devices = h.devices.devices_of(FAN.email).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].token, SAMPLE_TOKEN);
    assert_eq!(devices[0].platform, Some(Platform::Ios));
    assert_eq!(devices[0].activated_at, at(START));

    // Again: still one device. Then a second device of the same fan.
    let again = authorized(&h, &fixture("activate-notification"), FAN);
    assert_no_content(&invoke(&h, "activate-notification", &again).await);
    let second = with_body(
        &h,
        "activate-notification",
        FAN,
        r#"{"fcmToken":"web-device-2"}"#,
    );
    assert_no_content(&invoke(&h, "activate-notification", &second).await);
    let mut mine = tokens_of(&h, FAN).await;
    mine.sort();
    assert_eq!(mine, [SAMPLE_TOKEN, "web-device-2"]);

    // The phone is handed on: the token moves to its latest owner.
    let handed_on = authorized(&h, &fixture("activate-notification"), LEE);
    assert_no_content(&invoke(&h, "activate-notification", &handed_on).await);
    assert_eq!(tokens_of(&h, LEE).await, [SAMPLE_TOKEN]);
    assert_eq!(tokens_of(&h, FAN).await, ["web-device-2"]);
}

#[tokio::test]
async fn deactivate_notification_event_stops_the_callers_device_only() {
    let h = harness().await;
    let activate = authorized(&h, &fixture("activate-notification"), FAN);
    assert_no_content(&invoke(&h, "activate-notification", &activate).await);

    // Someone else's deactivate of the token answers the same and changes nothing.
    let not_theirs = authorized(&h, &fixture("deactivate-notification"), LEE);
    assert_no_content(&invoke(&h, "deactivate-notification", &not_theirs).await);
    assert_eq!(tokens_of(&h, FAN).await, [SAMPLE_TOKEN]);

    let answer = invoke(
        &h,
        "deactivate-notification",
        &authorized(&h, &fixture("deactivate-notification"), FAN),
    )
    .await;
    assert_no_content(&answer);
    assert!(tokens_of(&h, FAN).await.is_empty());
    // Deactivating again is harmless.
    let again = authorized(&h, &fixture("deactivate-notification"), FAN);
    assert_no_content(&invoke(&h, "deactivate-notification", &again).await);
}

#[tokio::test]
async fn bad_device_bodies_are_400_problems_and_change_nothing() {
    let h = harness().await;
    for name in ["activate-notification", "deactivate-notification"] {
        for body in [
            "",
            "{",
            "[]",
            r#"{}"#,
            r#"{"fcmToken":""}"#,
            r#"{"fcmToken":"two words"}"#,
            r#"{"fcmToken":7}"#,
        ] {
            let event = with_body(&h, name, FAN, body);
            invoke(&h, name, &event)
                .await
                .assert_problem(400, "VALIDATION_FAILED");
        }
        let long = format!(r#"{{"fcmToken":"{}"}}"#, "x".repeat(4097));
        invoke(&h, name, &with_body(&h, name, FAN, &long))
            .await
            .assert_problem(400, "VALIDATION_FAILED");
    }
    let unknown_platform = with_body(
        &h,
        "activate-notification",
        FAN,
        r#"{"fcmToken":"abc","platform":"blackberry"}"#,
    );
    invoke(&h, "activate-notification", &unknown_platform)
        .await
        .assert_problem(400, "VALIDATION_FAILED");
    assert!(tokens_of(&h, FAN).await.is_empty());
}

#[tokio::test]
async fn a_device_route_without_authorizer_context_is_a_401_problem() {
    let h = harness().await;
    for (name, _) in ROUTES {
        let event = without_authorizer(&fill(&fixture(name), "<access-token>", "x"));
        invoke(&h, name, &event)
            .await
            .assert_problem(401, "UNAUTHORIZED");
    }
    assert!(tokens_of(&h, FAN).await.is_empty());
}

#[tokio::test]
async fn reminder_planner_event_plans_the_run_and_the_follow_up_slice() {
    let h = harness().await;
    // Three holders of 2 October, one of 3 October (not due on the 1st's run).
    let mut due = vec![
        book(&h, FAN, day(2)).await,
        book(&h, LEE, day(2)).await,
        book(&h, PARK, day(2)).await,
    ];
    due.sort();
    book(&h, FAN, day(3)).await;

    // The sample: the run of 2027-10-01 09:00 Seoul, and a slice that resumes after the
    // first of the three reservations.
    let event = sqs_event(&fill(&fixture(PLANNER), "<reservation-id>", &due[0]));
    let response = handle_planner_batch(&h.planner, event).await;
    assert!(failed(&response).is_empty(), "{response:?}");

    let tasks = h.queue.take_tasks();
    assert_eq!(tasks.len(), 1, "one slice for the one due festival date");
    assert_eq!(tasks[0].festival_id, FESTIVAL_ID);
    assert_eq!(tasks[0].festival_name, FESTIVAL_NAME);
    assert_eq!(tasks[0].festival_date, day(2));
    assert_eq!(tasks[0].after, None);
    assert_eq!(
        tasks[0].starts_at,
        at("2027-10-01T15:00:00Z"),
        "Seoul's midnight"
    );
    let mut jobs: Vec<String> = h
        .queue
        .take_jobs()
        .into_iter()
        .map(|j| j.reservation_id)
        .collect();
    jobs.sort();
    assert_eq!(jobs, due[1..], "the sample slice: those after the first");

    // The slice the run queued covers the whole date.
    let follow_up = edit(&fixture(PLANNER), |v| {
        let records = v["Records"].as_array_mut().unwrap();
        records.truncate(1);
        records[0]["body"] = json!(serde_json::to_string(&json!({
            "festivalId": FESTIVAL_ID,
            "festivalName": FESTIVAL_NAME,
            "festivalDate": "2027-10-02",
            "startsAt": "2027-10-01T15:00:00.000Z"
        }))
        .unwrap());
    });
    let response = handle_planner_batch(&h.planner, sqs_event(&follow_up)).await;
    assert!(failed(&response).is_empty());
    let mut jobs: Vec<_> = h.queue.take_jobs();
    jobs.sort_by(|a, b| a.reservation_id.cmp(&b.reservation_id));
    assert_eq!(
        jobs.iter()
            .map(|j| j.reservation_id.as_str())
            .collect::<Vec<_>>(),
        due
    );
    let holders: BTreeSet<&str> = jobs.iter().map(|j| j.email.as_str()).collect();
    assert_eq!(holders, BTreeSet::from([FAN.email, LEE.email, PARK.email]));
    assert!(jobs
        .iter()
        .all(|j| j.festival_date == day(2) && j.starts_at == at("2027-10-01T15:00:00Z")));
    assert!(h.queue.take_tasks().is_empty(), "nothing more to plan");
}

#[tokio::test]
async fn a_planner_message_it_cannot_read_fails_alone() {
    let h = harness().await;
    let first = book(&h, FAN, day(2)).await;
    let event = fill(&fixture(PLANNER), "<reservation-id>", &first);
    let event = edit(&event, |v| {
        v["Records"][1]["body"] = json!(r#"{"festivalId":"x","festivalDate":"soon"}"#);
    });
    let event = sqs_event(&event);
    let bad = message_id(&event, 1);
    let response = handle_planner_batch(&h.planner, event).await;
    assert_eq!(failed(&response), [bad.as_str()]);
    assert_eq!(h.queue.take_tasks().len(), 1, "the run was planned");
}

#[tokio::test]
async fn push_sender_event_pushes_each_device_once_and_reports_only_the_malformed_job() {
    let h = harness().await;
    let reservation = book(&h, FAN, day(2)).await;
    give_devices(&h, FAN, &[SAMPLE_TOKEN, "web-device-2"]).await;
    let event = sqs_event(&fill(&fixture(SENDER), "<reservation-id>", &reservation));
    let malformed = message_id(&event, 1);

    let response = handle_push_batch(&h.sending, event.clone()).await;
    assert_eq!(failed(&response), [malformed.as_str()]);
    let pushes = h.outbox.pushes(Some(FAN.email));
    assert_eq!(pushes.len(), 2, "one push per device");
    let tokens: BTreeSet<&str> = pushes.iter().map(|p| p.push.token.as_str()).collect();
    assert_eq!(tokens, BTreeSet::from([SAMPLE_TOKEN, "web-device-2"]));
    for push in &pushes {
        assert!(push.push.title.contains(FESTIVAL_NAME), "{:?}", push.push);
        assert!(push.push.body.contains(FESTIVAL_NAME), "{:?}", push.push);
        assert_eq!(
            push.push.data,
            BTreeMap::from([
                ("type".to_string(), "FESTIVAL_REMINDER".to_string()),
                ("festivalId".to_string(), FESTIVAL_ID.to_string()),
                ("reservationId".to_string(), reservation.clone()),
                ("festivalDate".to_string(), "2027-10-02".to_string()),
            ])
        );
    }
    assert!(h.postponed.0.lock().unwrap().is_empty(), "nothing to retry");

    // SQS delivers the batch again: nothing is pushed twice.
    let response = handle_push_batch(&h.sending, event).await;
    assert_eq!(failed(&response), [malformed.as_str()]);
    assert_eq!(h.outbox.pushes(Some(FAN.email)).len(), 2);
}

#[tokio::test]
async fn a_throttled_push_is_retried_later_without_repeating_the_others() {
    let h = harness().await;
    let reservation = book(&h, FAN, day(2)).await;
    give_devices(&h, FAN, &[SAMPLE_TOKEN, "web-device-2"]).await;
    h.gateway
        .throttled
        .lock()
        .unwrap()
        .insert("web-device-2".into());
    let event = fill(&fixture(SENDER), "<reservation-id>", &reservation);
    let event = edit(&event, |v| {
        v["Records"].as_array_mut().unwrap().truncate(1);
        v["Records"][0]["attributes"]["ApproximateReceiveCount"] = json!("2");
    });
    let event = sqs_event(&event);
    let job = message_id(&event, 0);
    let receipt = event.records[0].receipt_handle.clone().unwrap();

    let response = handle_push_batch(&h.sending, event.clone()).await;
    assert_eq!(failed(&response), [job.as_str()], "the job must come back");
    // Second receive: 60 s of back-off, longer than FCM's own 45 s.
    assert_eq!(
        *h.postponed.0.lock().unwrap(),
        [(receipt, Duration::from_secs(60))]
    );
    assert_eq!(h.outbox.pushes(Some(FAN.email)).len(), 1);

    // FCM takes it on the next delivery; the phone that had it gets nothing more.
    h.gateway.throttled.lock().unwrap().clear();
    let response = handle_push_batch(&h.sending, event).await;
    assert!(failed(&response).is_empty());
    let tokens: Vec<String> = h
        .outbox
        .pushes(Some(FAN.email))
        .into_iter()
        .map(|p| p.push.token)
        .collect();
    assert_eq!(tokens, ["web-device-2", SAMPLE_TOKEN], "newest first");
}

#[tokio::test]
async fn a_job_whose_reservation_was_cancelled_since_planning_pushes_nothing() {
    let h = harness().await;
    let reservation = book(&h, FAN, day(2)).await;
    give_devices(&h, FAN, &[SAMPLE_TOKEN]).await;
    h.records
        .cancel(FAN.email, &reservation, h.clock.now())
        .await
        .unwrap();
    let event = sqs_event(&fill(&fixture(SENDER), "<reservation-id>", &reservation));
    let malformed = message_id(&event, 1);
    let response = handle_push_batch(&h.sending, event).await;
    assert_eq!(
        failed(&response),
        [malformed.as_str()],
        "the job is done with"
    );
    assert!(h.outbox.pushes(None).is_empty());
}

#[tokio::test]
async fn a_run_slice_or_job_that_comes_after_the_date_began_sends_nothing() {
    let h = harness().await;
    let first = book(&h, FAN, day(2)).await;
    book(&h, LEE, day(2)).await;
    give_devices(&h, FAN, &[SAMPLE_TOKEN]).await;
    // A dead letter redriven at 00:30 on 2 October in Seoul: the date has begun.
    h.clock.advance(at("2027-10-01T15:30:00Z") - h.clock.now());

    let planner = sqs_event(&fill(&fixture(PLANNER), "<reservation-id>", &first));
    let response = handle_planner_batch(&h.planner, planner).await;
    assert!(failed(&response).is_empty(), "both are done with");
    assert!(h.queue.take_tasks().is_empty(), "the run planned nothing");
    assert!(h.queue.take_jobs().is_empty(), "the slice planned nothing");

    let sender = sqs_event(&fill(&fixture(SENDER), "<reservation-id>", &first));
    let malformed = message_id(&sender, 1);
    let response = handle_push_batch(&h.sending, sender).await;
    assert_eq!(failed(&response), [malformed.as_str()]);
    assert!(h.outbox.pushes(None).is_empty(), "no 'tomorrow' on the day");
}

/// The binary whose queue an SQS sample's records all come from, if it is one of ours.
fn our_queue(raw: &Value) -> Option<&'static str> {
    let records = raw["Records"].as_array()?;
    QUEUES.iter().find_map(|(binary, queue)| {
        records
            .iter()
            .all(|r| {
                r["eventSource"] == "aws:sqs"
                    && r["eventSourceARN"]
                        .as_str()
                        .is_some_and(|arn| arn.contains(queue))
            })
            .then_some(*binary)
    })
}

/// A sample event without a test fails here: every `/notification` route event and every
/// batch of the reminder and push queues is replayed above, and each binary of this crate has
/// exactly one.
#[test]
fn every_notification_event_is_covered() {
    let mut ours = BTreeSet::new();
    for name in event_names() {
        let text = std::fs::read_to_string(events_dir().join(format!("{name}.json"))).unwrap();
        let raw: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let queue = our_queue(&raw);
        let route = raw["resource"]
            .as_str()
            .is_some_and(|r| r.starts_with("/notification"));
        if queue.is_none() && !route {
            continue;
        }
        assert!(
            NOTIFICATION_EVENTS.contains(&name.as_str()),
            "events/{name}.json has no test in functions/notifications/tests/events.rs"
        );
        if let Some(binary) = queue {
            assert_eq!(
                name, binary,
                "events/{name}.json comes from {binary}'s queue"
            );
            let event: SqsEvent =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(event
                .records
                .iter()
                .all(|m| m.message_id.as_deref().is_some_and(|id| !id.is_empty())));
        } else {
            let (_, path) = ROUTES.iter().find(|(n, _)| *n == name).unwrap();
            assert_eq!(raw["httpMethod"], "POST", "{name}");
            assert_eq!(raw["resource"], *path, "{name}");
            lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        ours.insert(name);
    }
    let expected: BTreeSet<String> = NOTIFICATION_EVENTS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        ours, expected,
        "every notification binary has exactly one sample event"
    );

    let binaries = binaries(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        binaries.keys().cloned().collect::<BTreeSet<String>>(),
        expected,
        "one sample event per binary"
    );
    for (name, path) in ROUTES {
        let source: String = binaries[name].split_whitespace().collect();
        assert!(
            source.contains(&format!("{path}`")),
            "src/bin/{name}.rs does not serve {path}"
        );
    }
    assert!(binaries[PLANNER].contains("serve_planner"));
    assert!(binaries[SENDER].contains("serve_sender"));
    // The planner sample is the raw scheduled event (SNS raw delivery) and a follow-up slice.
    let planner: SqsEvent = serde_json::from_str(&fixture(PLANNER)).unwrap();
    let run: Value = serde_json::from_str(planner.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(run["detail-type"], "Scheduled Event");
    assert_eq!(run["time"], "2027-10-01T00:00:00Z");
}
