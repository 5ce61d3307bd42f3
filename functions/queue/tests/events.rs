//! Replays the sample events of the waiting-room Lambdas (`events/*.json`, one per binary)
//! through the very code path each binary runs: `festa_queue::route` +
//! `festa::api::lambda::handle` for the five routes, and `festa_queue::handle_ticks` for the
//! SQS-driven `queue-admitter`. State is in memory: the festival the events name is stored
//! up front, scheduled admitter ticks land on a channel the tests read, and the clock moves
//! only when a test moves it.
//!
//! Fixtures hold placeholders for what only a live system can give (`<access-token>`, the
//! `<user-id>`/`<session-id>` of the authorizer context, the `<chain-id>` a join started);
//! the tests fill them in.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use festa::adapters::memory::{
    DueTick, InProcessTicks, ManualClock, MemoryRecords, MemoryWaitingRoom,
};
use festa::adapters::system::RandomIds;
use festa::api::replay::{
    as_caller, binaries, edit, event_names, events_dir, fill, replay, without_authorizer, Replayed,
};
use festa::model::{Festival, Role, TicketStock};
use festa::ports::{AdmitPolicy, AdmitTick, Clock, FestivalStore, IdSource, WaitingRoom};
use festa::services::directory::FestivalDirectory;
use festa::services::queue::{Admitter, Queue};
use festa::services::tokens::{Identity, TokenKeys, ACCESS_TTL};
use festa_queue::QueueState;
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

/// Every waiting-room binary, each with its sample event `events/<name>.json`.
const QUEUE_EVENTS: [&str; 6] = [
    "join-queue",
    "get-queue-rank",
    "get-queue-allowed",
    "leave-queue",
    "leave-admission",
    "queue-admitter",
];
/// The route binaries and the route each serves; `queue-admitter` is the SQS one.
const ROUTES: [(&str, &str); 5] = [
    ("join-queue", "/queues/{queue}/waiting-room/users/{email}"),
    ("get-queue-rank", "/queues/{queue}/users/{email}/rank"),
    ("get-queue-allowed", "/queues/{queue}/users/{email}/allowed"),
    ("leave-queue", "/queues/{queue}/users/{email}/leave"),
    (
        "leave-admission",
        "/queues/{queue}/users/{email}/leave-proceed",
    ),
];
const ADMITTER: &str = "queue-admitter";

/// The sample festival every waiting-room event names (that of `create-festival.json`).
const FESTIVAL_ID: &str = "01M83TH6S0BRX93GKV0KC6Y6HC";
/// When the join event was sent.
const START: &str = "2026-11-23T09:11:00Z";

#[derive(Clone, Copy)]
struct User<'a> {
    email: &'a str,
    name: &'a str,
}

/// The caller the sample events are for.
const FAN: User<'static> = User {
    email: "fan@festa.example",
    name: "김페스타",
};
const LEE: User<'static> = User {
    email: "lee@festa.example",
    name: "이축제",
};

struct Harness {
    state: Arc<QueueState>,
    room: Arc<MemoryWaitingRoom>,
    scheduled: Mutex<UnboundedReceiver<DueTick>>,
    clock: Arc<ManualClock>,
    policy: AdmitPolicy,
    keys: TokenKeys,
    ids: RandomIds,
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn sample_festival() -> Festival {
    let day = |d| NaiveDate::from_ymd_opt(2027, 10, d).unwrap();
    Festival {
        festival_id: FESTIVAL_ID.into(),
        name: "서울 세계 불꽃축제 2027".into(),
        description: "한강의 밤하늘을 수놓는 세계 각국의 불꽃 쇼".into(),
        location: "서울 영등포구 여의도 한강공원".into(),
        start_date: day(2),
        end_date: day(3),
        time_zone: "Asia/Seoul".into(),
        price: 30000,
        image_url: Some("https://cdn.festa.example/festivals/seoul-fireworks-2027.jpg".into()),
        chat_room_id: "01M83TH6S0XQ4K7W2N9B5D8F3R".into(),
        tickets: [2, 3]
            .map(|d| TicketStock {
                date: day(d),
                total: 5000,
                remaining: 5000,
            })
            .to_vec(),
        created_at: at("2026-11-23T09:07:00Z"),
    }
}

/// The waiting room over memory, admitting `rate` a second; the sample festival is stored.
async fn harness(rate: u32) -> Harness {
    let records = Arc::new(MemoryRecords::new());
    records.create_festival(&sample_festival()).await.unwrap();
    let room = Arc::new(MemoryWaitingRoom::new());
    let (ticks, scheduled) = InProcessTicks::channel();
    let ticks = Arc::new(ticks);
    let clock = Arc::new(ManualClock::new(at(START)));
    let policy = AdmitPolicy::at_rate(rate);
    let state = QueueState {
        queue: Queue {
            room: room.clone(),
            ticks: ticks.clone(),
            festivals: FestivalDirectory::new(records),
            clock: clock.clone(),
            ids: Arc::new(RandomIds::default()),
            policy,
        },
        admitter: Admitter {
            room: room.clone(),
            ticks,
            clock: clock.clone(),
            policy,
        },
    };
    Harness {
        state: Arc::new(state),
        room,
        scheduled: Mutex::new(scheduled),
        clock,
        policy,
        keys: TokenKeys::from_secret(&[7u8; 32]).unwrap(),
        ids: RandomIds::default(),
    }
}

/// The sample event of one waiting-room binary, as the file holds it.
fn fixture(name: &str) -> String {
    assert!(
        QUEUE_EVENTS.contains(&name),
        "{name} is not a waiting-room event"
    );
    festa::api::replay::fixture(name)
}

fn route_path(name: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|(binary, _)| *binary == name)
        .unwrap_or_else(|| panic!("{name} is not a waiting-room route"))
        .1
}

/// Runs the Lambda of the binary `name` on an event, as the binary does.
async fn invoke(h: &Harness, name: &str, event: &str) -> Replayed {
    let route = festa_queue::route(h.state.clone(), route_path(name)).unwrap();
    replay(&route, event).await
}

/// The event for festival `queue` and the address `email` in the path (the samples name the
/// sample festival and the caller's own address).
fn at_path(event: &str, queue: &str, email: &str) -> String {
    let swap = |text: &Value| {
        json!(text
            .as_str()
            .unwrap()
            .replace(FESTIVAL_ID, queue)
            .replace(FAN.email, email))
    };
    edit(event, |v| {
        v["path"] = swap(&v["path"]);
        v["requestContext"]["path"] = swap(&v["requestContext"]["path"]);
        v["pathParameters"]["queue"] = json!(queue);
        v["pathParameters"]["email"] = json!(email);
    })
}

/// A protected route's event as API Gateway forwards it once the authorizer allowed `user`.
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

/// The event of the binary `name` for `user`, at their own address.
fn event_for(h: &Harness, name: &str, user: User) -> String {
    authorized(h, &at_path(&fixture(name), FESTIVAL_ID, user.email), user)
}

/// `user` calls the route of the binary `name` for themselves.
async fn call(h: &Harness, name: &str, user: User<'_>) -> Replayed {
    invoke(h, name, &event_for(h, name, user)).await
}

/// Where `user` stands, as the rank route answers.
async fn rank(h: &Harness, user: User<'_>) -> Value {
    call(h, "get-queue-rank", user)
        .await
        .assert_json(200)
        .clone()
}

#[track_caller]
fn assert_no_content(answer: &Replayed) {
    assert_eq!(answer.status, 204, "{}", answer.body);
    assert_eq!(answer.content_type, None);
    assert_eq!(answer.body, Value::Null);
}

/// Every tick scheduled since the last look.
fn scheduled(h: &Harness) -> Vec<DueTick> {
    let mut receiver = h.scheduled.lock().unwrap();
    std::iter::from_fn(|| receiver.try_recv().ok()).collect()
}

/// The one tick scheduled since the last look.
#[track_caller]
fn one_scheduled(h: &Harness) -> DueTick {
    let [tick]: [DueTick; 1] = scheduled(h).try_into().expect("exactly one scheduled tick");
    tick
}

/// The admitter's sample batch, its tick naming `chain`.
fn admitter_event(chain: &str) -> SqsEvent {
    let event = fill(&fixture(ADMITTER), "<chain-id>", chain);
    serde_json::from_str(&event).expect("an SQS event")
}

fn is_tick(message: &SqsMessage) -> bool {
    message
        .body
        .as_deref()
        .is_some_and(|body| serde_json::from_str::<AdmitTick>(body).is_ok())
}

/// The sample's valid message and its malformed one.
fn split(event: &SqsEvent) -> (SqsMessage, SqsMessage) {
    let (ticks, others): (Vec<_>, Vec<_>) = event.records.iter().cloned().partition(is_tick);
    let ([tick], [other]) = (ticks.as_slice(), others.as_slice()) else {
        panic!("one tick and one malformed message: {event:?}");
    };
    (tick.clone(), other.clone())
}

/// A batch of `template`'s copies, one per (message id, tick).
fn batch(template: &SqsMessage, messages: &[(&str, &AdmitTick)]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|(id, tick)| {
            let mut message = template.clone();
            message.message_id = Some(id.to_string());
            message.body = Some(serde_json::to_string(tick).unwrap());
            message
        })
        .collect();
    event
}

fn failed(response: &SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

async fn admission(h: &Harness, email: &str) -> Option<DateTime<Utc>> {
    h.room
        .admission(FESTIVAL_ID, email, h.clock.now())
        .await
        .unwrap()
}

#[tokio::test]
async fn join_queue_event_puts_the_caller_first_and_starts_the_admitter() {
    let h = harness(10).await;
    let before = Instant::now();
    let answer = call(&h, "join-queue", FAN).await;
    let first = json!({"rank": 1, "waitingCount": 1, "etaSeconds": 1, "pollAfterMs": 1000});
    assert_eq!(answer.assert_json(200), &first);

    // The join started the festival's admitter chain: its first tick is due at once.
    let started = one_scheduled(&h);
    assert_eq!(started.tick.festival_id, FESTIVAL_ID);
    assert_eq!(started.tick.tick, 0);
    assert!(!started.tick.chain.is_empty());
    assert!(started.due >= before && started.due <= Instant::now());

    // Joining again keeps the place and does not start a second chain.
    let again = call(&h, "join-queue", FAN).await;
    assert_eq!(again.assert_json(200), &first);
    assert!(scheduled(&h).is_empty());

    // The next caller queues behind; the running chain serves them too.
    let behind = call(&h, "join-queue", LEE).await;
    assert_eq!(
        behind.assert_json(200),
        &json!({"rank": 2, "waitingCount": 2, "etaSeconds": 1, "pollAfterMs": 1000})
    );
    assert!(scheduled(&h).is_empty());
}

#[tokio::test]
async fn get_queue_rank_event_follows_the_caller_to_the_front() {
    let h = harness(1).await;
    let not_waiting = json!({"rank": -1, "waitingCount": 0, "etaSeconds": 0, "pollAfterMs": 0});
    assert_eq!(rank(&h, FAN).await, not_waiting);
    assert!(scheduled(&h).is_empty(), "an empty line needs no admitter");

    call(&h, "join-queue", FAN).await.assert_json(200);
    call(&h, "join-queue", LEE).await.assert_json(200);
    let started = one_scheduled(&h);
    assert_eq!(
        rank(&h, FAN).await,
        json!({"rank": 1, "waitingCount": 2, "etaSeconds": 1, "pollAfterMs": 1000})
    );
    assert_eq!(
        rank(&h, LEE).await,
        json!({"rank": 2, "waitingCount": 2, "etaSeconds": 2, "pollAfterMs": 1000})
    );

    // One tick at one a second: the caller is admitted (out of the line), the next moves up.
    h.state.admitter.tick(&started.tick).await.unwrap();
    let next = one_scheduled(&h);
    assert_eq!(next.tick.tick, 1);
    assert_eq!(
        rank(&h, FAN).await,
        json!({"rank": -1, "waitingCount": 1, "etaSeconds": 0, "pollAfterMs": 0})
    );
    assert_eq!(
        rank(&h, LEE).await,
        json!({"rank": 1, "waitingCount": 1, "etaSeconds": 1, "pollAfterMs": 1000})
    );
    assert!(scheduled(&h).is_empty(), "the chain is alive: no restart");

    // The next tick got lost: once the chain's lease lapses, a poll starts a new chain.
    h.clock.advance(Duration::seconds(11));
    rank(&h, LEE).await;
    let restarted = one_scheduled(&h);
    assert_eq!(restarted.tick.tick, 0);
    assert_ne!(restarted.tick.chain, started.tick.chain);
}

#[tokio::test]
async fn get_queue_allowed_event_answers_the_admission_until_it_ends() {
    let h = harness(10).await;
    let answer = call(&h, "get-queue-allowed", FAN).await;
    assert_eq!(
        answer.assert_json(200),
        &json!({"allowed": false, "expiresAt": null})
    );

    call(&h, "join-queue", FAN).await.assert_json(200);
    let started = one_scheduled(&h);
    let answer = call(&h, "get-queue-allowed", FAN).await;
    assert_eq!(answer.assert_json(200)["allowed"], false, "still waiting");

    h.state.admitter.tick(&started.tick).await.unwrap();
    let admitted = json!({"allowed": true, "expiresAt": "2026-11-23T09:16:00.000Z"});
    let answer = call(&h, "get-queue-allowed", FAN).await;
    assert_eq!(answer.assert_json(200), &admitted);

    // Five minutes from admission, and not a moment longer.
    h.clock
        .advance(Duration::minutes(5) - Duration::milliseconds(1));
    let answer = call(&h, "get-queue-allowed", FAN).await;
    assert_eq!(answer.assert_json(200), &admitted);
    h.clock.advance(Duration::milliseconds(1));
    let answer = call(&h, "get-queue-allowed", FAN).await;
    assert_eq!(
        answer.assert_json(200),
        &json!({"allowed": false, "expiresAt": null})
    );
}

#[tokio::test]
async fn leave_queue_event_takes_the_caller_out_of_line() {
    let h = harness(10).await;
    call(&h, "join-queue", FAN).await.assert_json(200);
    call(&h, "join-queue", LEE).await.assert_json(200);
    let started = one_scheduled(&h);

    assert_no_content(&call(&h, "leave-queue", FAN).await);
    assert_eq!(
        rank(&h, FAN).await,
        json!({"rank": -1, "waitingCount": 1, "etaSeconds": 0, "pollAfterMs": 0})
    );
    assert_eq!(rank(&h, LEE).await["rank"], 1);
    // Leaving when not in line is no error.
    assert_no_content(&call(&h, "leave-queue", FAN).await);

    // The admitter lets in only who still waits.
    h.state.admitter.tick(&started.tick).await.unwrap();
    assert!(admission(&h, LEE.email).await.is_some());
    assert_eq!(admission(&h, FAN.email).await, None);
}

#[tokio::test]
async fn leave_admission_event_gives_the_admission_up() {
    let h = harness(10).await;
    call(&h, "join-queue", FAN).await.assert_json(200);
    h.state
        .admitter
        .tick(&one_scheduled(&h).tick)
        .await
        .unwrap();
    assert!(admission(&h, FAN.email).await.is_some());

    assert_no_content(&call(&h, "leave-admission", FAN).await);
    assert_eq!(admission(&h, FAN.email).await, None);
    let answer = call(&h, "get-queue-allowed", FAN).await;
    assert_eq!(
        answer.assert_json(200),
        &json!({"allowed": false, "expiresAt": null})
    );
    // Giving up twice is no error, and it does not put the caller back in line.
    assert_no_content(&call(&h, "leave-admission", FAN).await);
    assert_eq!(rank(&h, FAN).await["rank"], -1);
    // Joining again queues anew.
    let answer = call(&h, "join-queue", FAN).await;
    assert_eq!(answer.assert_json(200)["rank"], 1);
}

#[tokio::test]
async fn get_queue_allowed_event_is_false_once_a_booking_spent_the_admission() {
    let h = harness(10).await;
    call(&h, "join-queue", FAN).await.assert_json(200);
    h.state
        .admitter
        .tick(&one_scheduled(&h).tick)
        .await
        .unwrap();
    assert_eq!(
        call(&h, "get-queue-allowed", FAN).await.assert_json(200)["allowed"],
        true
    );

    // The booking function spends it, as a confirmed booking does.
    let spent = h
        .room
        .spend_admission(FESTIVAL_ID, FAN.email, h.clock.now(), "booking-1")
        .await
        .unwrap();
    assert!(spent.is_some());
    assert_eq!(
        call(&h, "get-queue-allowed", FAN).await.assert_json(200),
        &json!({"allowed": false, "expiresAt": null})
    );
    // Booking again means queueing again: a join puts the caller back in line.
    assert_eq!(
        call(&h, "join-queue", FAN).await.assert_json(200)["rank"],
        1
    );
}

#[tokio::test]
async fn a_festival_that_is_over_is_a_409_problem_but_leaving_still_succeeds() {
    let h = harness(10).await;
    call(&h, "join-queue", LEE).await.assert_json(200);
    h.state
        .admitter
        .tick(&one_scheduled(&h).tick)
        .await
        .unwrap();
    call(&h, "join-queue", FAN).await.assert_json(200);
    scheduled(&h);

    // Still open at the last second of its last date (2027-10-03 in Seoul)...
    h.clock.advance(at("2027-10-03T14:59:59Z") - h.clock.now());
    assert_eq!(rank(&h, FAN).await["rank"], 1);
    scheduled(&h); // that poll restarted the lapsed chain
                   // ...and over when 2027-10-04 begins there.
    h.clock.advance(Duration::seconds(1));
    for name in ["join-queue", "get-queue-rank", "get-queue-allowed"] {
        for user in [FAN, LEE] {
            call(&h, name, user)
                .await
                .assert_problem(409, "FESTIVAL_ENDED");
        }
    }
    assert!(
        scheduled(&h).is_empty(),
        "no admitter for a festival that is over"
    );
    // Leaving only removes state, so it still answers 204.
    assert_no_content(&call(&h, "leave-queue", FAN).await);
    assert_no_content(&call(&h, "leave-admission", LEE).await);
    let view = h
        .room
        .position(FESTIVAL_ID, FAN.email, h.clock.now(), "probe", &h.policy)
        .await
        .unwrap();
    assert_eq!(view.waiting, 0);
    assert_eq!(admission(&h, LEE.email).await, None);
}

#[tokio::test]
async fn another_users_address_is_a_403_problem_on_every_route() {
    let h = harness(10).await;
    call(&h, "join-queue", LEE).await.assert_json(200);
    let started = one_scheduled(&h);

    for (name, _) in ROUTES {
        for other in [LEE.email, "lee%40festa.example", "LEE@festa.example"] {
            let event = authorized(&h, &at_path(&fixture(name), FESTIVAL_ID, other), FAN);
            invoke(&h, name, &event)
                .await
                .assert_problem(403, "FORBIDDEN");
        }
    }
    // Nothing was done for either of them.
    assert!(scheduled(&h).is_empty());
    assert_eq!(rank(&h, LEE).await["rank"], 1);
    assert_eq!(rank(&h, FAN).await["rank"], -1);
    h.state.admitter.tick(&started.tick).await.unwrap();
    assert!(admission(&h, LEE.email).await.is_some());
}

#[tokio::test]
async fn an_unknown_festival_is_a_404_problem_on_every_route() {
    let h = harness(10).await;
    let unknown = h.ids.new_id();
    for (name, _) in ROUTES {
        let event = authorized(&h, &at_path(&fixture(name), &unknown, FAN.email), FAN);
        invoke(&h, name, &event)
            .await
            .assert_problem(404, "FESTIVAL_NOT_FOUND");
    }
    assert!(scheduled(&h).is_empty());
    assert_eq!(
        h.room
            .position(FESTIVAL_ID, FAN.email, h.clock.now(), "probe", &h.policy)
            .await
            .unwrap()
            .waiting,
        0
    );
}

#[tokio::test]
async fn a_percent_encoded_address_is_the_callers_own() {
    let h = harness(10).await;
    let encoded =
        |name: &str, email: &str| authorized(&h, &at_path(&fixture(name), FESTIVAL_ID, email), FAN);
    let answer = invoke(
        &h,
        "join-queue",
        &encoded("join-queue", "fan%40festa.example"),
    )
    .await;
    assert_eq!(answer.assert_json(200)["rank"], 1);
    one_scheduled(&h);

    // The same place as under the plain address: one caller, not two.
    let plain = json!({"rank": 1, "waitingCount": 1, "etaSeconds": 1, "pollAfterMs": 1000});
    assert_eq!(rank(&h, FAN).await, plain);
    for email in ["fan%40festa.example", "Fan%40Festa.Example"] {
        let answer = invoke(&h, "get-queue-rank", &encoded("get-queue-rank", email)).await;
        assert_eq!(answer.assert_json(200), &plain);
        let answer = invoke(
            &h,
            "get-queue-allowed",
            &encoded("get-queue-allowed", email),
        )
        .await;
        assert_eq!(answer.assert_json(200)["allowed"], false);
    }
    let event = encoded("leave-queue", "fan%40festa.example");
    assert_no_content(&invoke(&h, "leave-queue", &event).await);
    assert_eq!(rank(&h, FAN).await["waitingCount"], 0);
    let event = encoded("leave-admission", "fan%40festa.example");
    assert_no_content(&invoke(&h, "leave-admission", &event).await);
}

#[tokio::test]
async fn a_route_without_authorizer_context_is_a_401_problem() {
    let h = harness(10).await;
    for (name, _) in ROUTES {
        let event = without_authorizer(&event_for(&h, name, FAN));
        invoke(&h, name, &event)
            .await
            .assert_problem(401, "UNAUTHORIZED");
    }
    assert!(scheduled(&h).is_empty());
    assert_eq!(rank(&h, FAN).await["waitingCount"], 0);
}

#[tokio::test]
async fn queue_admitter_event_runs_the_tick_and_reports_only_the_malformed_message() {
    let h = harness(1).await;
    call(&h, "join-queue", FAN).await.assert_json(200);
    call(&h, "join-queue", LEE).await.assert_json(200);
    let started = one_scheduled(&h);

    let event = admitter_event(&started.tick.chain);
    let (tick, malformed) = split(&event);
    assert_eq!(
        serde_json::from_str::<AdmitTick>(tick.body.as_deref().unwrap()).unwrap(),
        started.tick,
        "the sample's tick is the one the join scheduled"
    );
    let malformed_id = malformed.message_id.clone().unwrap();
    let before = Instant::now();
    let response = festa_queue::handle_ticks(&h.state.admitter, event).await;
    assert_eq!(failed(&response), [malformed_id.as_str()]);

    // One a second: the head of the line is in, for five minutes; the next still waits.
    let now = h.clock.now();
    assert_eq!(
        admission(&h, FAN.email).await,
        Some(now + Duration::minutes(5))
    );
    assert_eq!(admission(&h, LEE.email).await, None);
    assert_eq!(rank(&h, LEE).await["rank"], 1);
    // People still wait, so the chain goes on a tick interval later.
    let next = one_scheduled(&h);
    assert_eq!(
        next.tick,
        AdmitTick {
            tick: 1,
            ..started.tick.clone()
        }
    );
    assert!(next.due >= before + h.policy.tick_interval);

    // The same batch redelivered: its tick is stale now, dropped without a failure.
    let again =
        festa_queue::handle_ticks(&h.state.admitter, admitter_event(&started.tick.chain)).await;
    assert_eq!(failed(&again), [malformed_id.as_str()]);
    assert_eq!(admission(&h, LEE.email).await, None);
    assert!(scheduled(&h).is_empty());

    // The next tick as SQS delivers it a second later: the line drains and the chain ends.
    h.clock.advance(Duration::seconds(1));
    let event = batch(
        &tick,
        &[("0b6f7c1e-5d2a-4e8b-a9c3-1f2e3d4c5b6a", &next.tick)],
    );
    let response = festa_queue::handle_ticks(&h.state.admitter, event).await;
    assert!(failed(&response).is_empty());
    assert!(admission(&h, LEE.email).await.is_some());
    assert!(scheduled(&h).is_empty(), "no one waits: no next tick");
    let answer = call(&h, "get-queue-allowed", LEE).await;
    assert_eq!(answer.assert_json(200)["allowed"], true);
}

#[tokio::test]
async fn a_tick_duplicated_in_one_batch_admits_no_more_than_the_rate() {
    let h = harness(2).await;
    let emails: Vec<String> = (1..=5).map(|i| format!("fan{i}@festa.example")).collect();
    for email in &emails {
        let user = User {
            email,
            name: "페스타 팬",
        };
        call(&h, "join-queue", user).await.assert_json(200);
    }
    let started = one_scheduled(&h);
    let (template, _) = split(&admitter_event(&started.tick.chain));
    let original = template.message_id.clone().unwrap();

    // The message redelivered, and sent twice by a retrying sender: three copies at once.
    let event = batch(
        &template,
        &[
            (&original, &started.tick),
            (&original, &started.tick),
            ("5f0e9d8c-7b6a-4954-8321-0fedcba98765", &started.tick),
        ],
    );
    let response = festa_queue::handle_ticks(&h.state.admitter, event).await;
    assert!(failed(&response).is_empty(), "a duplicate is no failure");

    let mut admitted = Vec::new();
    for email in &emails {
        if admission(&h, email).await.is_some() {
            admitted.push(email.as_str());
        }
    }
    assert_eq!(admitted, ["fan1@festa.example", "fan2@festa.example"]);
    let next = one_scheduled(&h);
    assert_eq!(next.tick.tick, 1, "one chain goes on, once");
    let third = User {
        email: &emails[2],
        name: "페스타 팬",
    };
    assert_eq!(
        rank(&h, third).await,
        json!({"rank": 1, "waitingCount": 3, "etaSeconds": 1, "pollAfterMs": 1000})
    );
}

/// Whether a sample is a batch of the admit queue (its ARN names the template's resource; the
/// reminder queues' batches are functions/notifications' events).
fn is_admit_queue_event(raw: &Value) -> bool {
    raw["Records"].as_array().is_some_and(|records| {
        records.iter().any(|r| {
            r["eventSource"] == "aws:sqs"
                && r["eventSourceARN"]
                    .as_str()
                    .is_some_and(|arn| arn.contains(":festa-AdmitQueue-"))
        })
    })
}

/// A sample event without a test fails here: every `/queues` route event and every admit-queue
/// batch is a waiting-room event replayed above, and each binary of this crate has exactly one.
#[test]
fn every_queue_event_is_covered() {
    let mut ours = BTreeSet::new();
    for name in event_names() {
        let text = std::fs::read_to_string(events_dir().join(format!("{name}.json"))).unwrap();
        let raw: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let sqs = is_admit_queue_event(&raw);
        let route = raw["resource"]
            .as_str()
            .is_some_and(|r| r.starts_with("/queues"));
        if !sqs && !route {
            continue;
        }
        assert!(
            QUEUE_EVENTS.contains(&name.as_str()),
            "events/{name}.json has no test in functions/queue/tests/events.rs"
        );
        if sqs {
            assert_eq!(name, ADMITTER);
            let event: SqsEvent =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(event
                .records
                .iter()
                .all(|m| m.message_id.as_deref().is_some_and(|id| !id.is_empty())));
        } else {
            assert_eq!(raw["resource"], route_path(&name), "{name}");
            lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        ours.insert(name);
    }
    let expected: BTreeSet<String> = QUEUE_EVENTS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        ours, expected,
        "every waiting-room binary has exactly one sample event"
    );

    // Named after this crate's binaries, each serving what its event is for.
    let binaries = binaries(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        binaries.keys().cloned().collect::<BTreeSet<String>>(),
        expected,
        "one sample event per binary"
    );
    let source = |name: &str| binaries[name].clone();
    for (name, path) in ROUTES {
        assert!(
            source(name).contains(&format!(" {path}`")),
            "src/bin/{name}.rs does not serve {path}"
        );
    }
    assert!(source(ADMITTER).contains("serve_admitter"));
}
