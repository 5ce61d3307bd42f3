//! Replays the sample events of the reservation Lambdas (`events/*.json`, one per binary)
//! through the very code path each binary runs: `festa_reservations::route` +
//! `festa::api::lambda::handle`. State is in memory: the festival the events name is stored up
//! front, admissions are given through the waiting room as the admitter gives them, and
//! published events are recorded.
//!
//! Fixtures hold placeholders for what only a live system can give (`<access-token>`, the
//! `<user-id>`/`<session-id>` of the authorizer context, `<reservation-id>`); the tests fill
//! them in.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use festa::adapters::memory::{ManualClock, MemoryRecords, MemoryWaitingRoom, RecordedEvents};
use festa::adapters::system::RandomIds;
use festa::api::replay::{
    as_caller, binaries, edit, event_names, events_dir, fill, replay, without_authorizer, Replayed,
};
use festa::model::{Festival, Role, TicketStock};
use festa::ports::{AdmitPolicy, Clock, FestivalStore, IdSource, WaitingRoom};
use festa::services::directory::FestivalDirectory;
use festa::services::reservations::Reservations;
use festa::services::tokens::{Identity, TokenKeys, ACCESS_TTL};
use festa_reservations::ReservationsState;
use http::Method;
use serde_json::{json, Value};

/// Every reservation binary, each with its sample event `events/<name>.json`.
const RESERVATION_EVENTS: [&str; 3] = [
    "create-reservation",
    "list-reservations",
    "cancel-reservation",
];
/// Each binary's route: method and path.
const ROUTES: [(&str, &str, &str); 3] = [
    ("create-reservation", "POST", "/reservations"),
    ("list-reservations", "GET", "/reservations"),
    (
        "cancel-reservation",
        "DELETE",
        "/reservations/{reservationId}",
    ),
];

/// The sample festival the booking event names (that of `create-festival.json`).
const FESTIVAL_ID: &str = "01M83TH6S0BRX93GKV0KC6Y6HC";
const FESTIVAL_NAME: &str = "서울 세계 불꽃축제 2027";
/// When the booking event was sent.
const START: &str = "2026-11-23T09:14:00Z";
/// The sample's `Idempotency-Key`.
const SAMPLE_KEY: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

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

struct Harness {
    state: Arc<ReservationsState>,
    records: Arc<MemoryRecords>,
    room: Arc<MemoryWaitingRoom>,
    events: Arc<RecordedEvents>,
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

fn sample_festival(tickets_per_day: u32) -> Festival {
    Festival {
        festival_id: FESTIVAL_ID.into(),
        name: FESTIVAL_NAME.into(),
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
                total: tickets_per_day,
                remaining: tickets_per_day,
            })
            .to_vec(),
        created_at: at("2026-11-23T09:07:00Z"),
    }
}

/// The reservation routes over memory; the sample festival is stored with this stock a day.
async fn harness_with_stock(tickets_per_day: u32) -> Harness {
    let records = Arc::new(MemoryRecords::new());
    records
        .create_festival(&sample_festival(tickets_per_day))
        .await
        .unwrap();
    let room = Arc::new(MemoryWaitingRoom::new());
    let events = Arc::new(RecordedEvents::new());
    let clock = Arc::new(ManualClock::new(at(START)));
    let state = ReservationsState {
        reservations: Reservations {
            store: records.clone(),
            room: room.clone(),
            festivals: FestivalDirectory::new(records.clone()),
            events: events.clone(),
            clock: clock.clone(),
            ids: Arc::new(RandomIds::default()),
        },
    };
    Harness {
        state: Arc::new(state),
        records,
        room,
        events,
        clock,
        keys: TokenKeys::from_secret(&[7u8; 32]).unwrap(),
        ids: RandomIds::default(),
    }
}

async fn harness() -> Harness {
    harness_with_stock(5000).await
}

/// The sample event of one reservation binary, as the file holds it.
fn fixture(name: &str) -> String {
    assert!(
        RESERVATION_EVENTS.contains(&name),
        "{name} is not a reservation event"
    );
    festa::api::replay::fixture(name)
}

/// Runs the Lambda of the binary `name` on an event, as the binary does.
async fn invoke(h: &Harness, name: &str, event: &str) -> Replayed {
    let (_, method, path) = ROUTES
        .iter()
        .find(|(binary, _, _)| *binary == name)
        .unwrap_or_else(|| panic!("{name} is not a reservation route"));
    let method: Method = method.parse().unwrap();
    let route = festa_reservations::route(h.state.clone(), method, path).unwrap();
    replay(&route, event).await
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

/// Lets `user` through the festival's waiting room, as the admitter does: they join the
/// line, and one tick of the chain their join started admits them.
async fn admit(h: &Harness, user: User) {
    let policy = AdmitPolicy::default();
    let now = h.clock.now();
    let view = h
        .room
        .join(FESTIVAL_ID, user.email, now, &h.ids.new_id(), &policy)
        .await
        .unwrap();
    let tick = view.started_chain.expect("the join starts a chain");
    h.room.admit(&tick, now, &policy).await.unwrap();
    assert!(h
        .room
        .admission(FESTIVAL_ID, user.email, now)
        .await
        .unwrap()
        .is_some());
}

/// When `user`'s admission ends, if they hold an unspent one.
async fn admission(h: &Harness, user: User) -> Option<DateTime<Utc>> {
    h.room
        .admission(FESTIVAL_ID, user.email, h.clock.now())
        .await
        .unwrap()
}

/// The booking sample with another body (as raw text).
fn with_raw_body(event: &str, body: &str) -> String {
    edit(event, |v| v["body"] = json!(body))
}

/// The booking sample asking for `body`.
fn with_body(event: &str, body: Value) -> String {
    with_raw_body(event, &body.to_string())
}

/// A booking body for the sample festival.
fn booking(date: &str, quantity: u32) -> Value {
    json!({"festivalId": FESTIVAL_ID, "festivalDate": date, "quantity": quantity})
}

/// The booking sample with another `Idempotency-Key`, or none.
fn with_key(event: &str, key: Option<&str>) -> String {
    edit(event, |v| {
        for (headers, value) in [("headers", json!(key)), ("multiValueHeaders", json!([key]))] {
            let headers = v[headers].as_object_mut().unwrap();
            match key {
                Some(_) => headers.insert("Idempotency-Key".into(), value),
                None => headers.remove("Idempotency-Key"),
            };
        }
    })
}

/// `user` sends the booking `event`.
async fn book(h: &Harness, user: User, event: &str) -> Replayed {
    invoke(h, "create-reservation", &authorized(h, event, user)).await
}

/// `user` books through the sample as it is, and gets it.
async fn book_sample(h: &Harness, user: User) -> Value {
    book(h, user, &fixture("create-reservation"))
        .await
        .assert_json(201)
        .clone()
}

async fn list(h: &Harness, user: User, event: &str) -> Value {
    invoke(h, "list-reservations", &authorized(h, event, user))
        .await
        .assert_json(200)
        .clone()
}

async fn cancel(h: &Harness, user: User, reservation_id: &str) -> Replayed {
    let event = fill(
        &fixture("cancel-reservation"),
        "<reservation-id>",
        reservation_id,
    );
    invoke(h, "cancel-reservation", &authorized(h, &event, user)).await
}

/// What remains of the sample festival's stock, 2027-10-02 then 2027-10-03.
async fn remaining(h: &Harness) -> Vec<u32> {
    let festival = h.records.get_festival(FESTIVAL_ID).await.unwrap().unwrap();
    assert_eq!(
        festival.tickets.iter().map(|t| t.date).collect::<Vec<_>>(),
        [day(2), day(3)]
    );
    festival.tickets.iter().map(|t| t.remaining).collect()
}

/// Every published event: its detail type, reservation id, holder and status.
fn published(h: &Harness) -> Vec<(&'static str, String, String, String)> {
    h.events
        .events()
        .iter()
        .map(|e| {
            let r = e.reservation();
            (
                e.detail_type(),
                r.reservation_id.clone(),
                r.email.clone(),
                serde_json::to_value(r.status)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

fn id_of(reservation: &Value) -> String {
    reservation["reservationId"].as_str().unwrap().to_string()
}

fn ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reservationId"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn create_reservation_event_without_admission_is_a_403_problem() {
    let h = harness().await;
    let sample = fixture("create-reservation");
    book(&h, FAN, &sample)
        .await
        .assert_problem(403, "QUEUE_ADMISSION_REQUIRED");

    // Nor is an admission that ran out, or one given up.
    admit(&h, FAN).await;
    h.clock.advance(Duration::minutes(5));
    book(&h, FAN, &sample)
        .await
        .assert_problem(403, "QUEUE_ADMISSION_REQUIRED");
    admit(&h, FAN).await;
    h.room
        .give_up_admission(FESTIVAL_ID, FAN.email)
        .await
        .unwrap();
    book(&h, FAN, &sample)
        .await
        .assert_problem(403, "QUEUE_ADMISSION_REQUIRED");
    // Nor is waiting in line.
    let now = h.clock.now();
    h.room
        .join(
            FESTIVAL_ID,
            LEE.email,
            now,
            "chain",
            &AdmitPolicy::default(),
        )
        .await
        .unwrap();
    book(&h, LEE, &sample)
        .await
        .assert_problem(403, "QUEUE_ADMISSION_REQUIRED");

    assert_eq!(remaining(&h).await, [5000, 5000]);
    assert!(published(&h).is_empty());
    let page = list(&h, FAN, &fixture("list-reservations")).await;
    assert_eq!(page, json!({"items": [], "nextCursor": null}));
}

#[tokio::test]
async fn create_reservation_event_books_for_an_admitted_caller() {
    let h = harness().await;
    admit(&h, FAN).await;
    let answer = book(&h, FAN, &fixture("create-reservation")).await;
    let reservation = answer.assert_json(201);
    let id = id_of(reservation);
    assert_eq!(id.len(), 26, "a ULID: {id}");
    assert_eq!(
        reservation,
        &json!({
            "reservationId": id,
            "festivalId": FESTIVAL_ID,
            "festivalName": FESTIVAL_NAME,
            "festivalDate": "2027-10-02",
            "quantity": 2,
            "status": "CONFIRMED",
            "createdAt": "2026-11-23T09:14:00.000Z",
        })
    );
    assert_eq!(remaining(&h).await, [4998, 5000]);
    assert_eq!(
        published(&h),
        [(
            "ReservationConfirmed",
            id.clone(),
            FAN.email.to_string(),
            "CONFIRMED".to_string()
        )]
    );
    let event = &h.events.events()[0];
    let detail: Value = serde_json::from_str(&event.detail_json()).unwrap();
    assert_eq!(detail["email"], FAN.email);
    assert_eq!(detail["reservationId"], id.as_str());
    assert_eq!(detail["quantity"], 2);
}

#[tokio::test]
async fn create_reservation_event_retried_with_its_key_books_once() {
    let h = harness().await;
    admit(&h, FAN).await;
    let first = book_sample(&h, FAN).await;

    // The very same request again (a client retry): the same reservation, nothing more booked.
    h.clock.advance(Duration::seconds(3));
    let again = book_sample(&h, FAN).await;
    assert_eq!(again, first);
    assert_eq!(remaining(&h).await, [4998, 5000]);
    assert_eq!(published(&h).len(), 1);

    // A retry still answers once the admission is given up (the booking stands).
    h.room
        .give_up_admission(FESTIVAL_ID, FAN.email)
        .await
        .unwrap();
    assert_eq!(book_sample(&h, FAN).await, first);

    // The key reused for a different booking is a 400, and books nothing.
    admit(&h, FAN).await;
    for body in [booking("2027-10-02", 1), booking("2027-10-03", 2)] {
        let event = with_body(&fixture("create-reservation"), body);
        book(&h, FAN, &event)
            .await
            .assert_problem(400, "VALIDATION_FAILED");
    }
    assert_eq!(remaining(&h).await, [4998, 5000]);
    assert_eq!(published(&h).len(), 1);

    // Keys are the caller's own: another user sending the same key books for themselves.
    admit(&h, LEE).await;
    let theirs = book_sample(&h, LEE).await;
    assert_ne!(id_of(&theirs), id_of(&first));
    assert_eq!(remaining(&h).await, [4996, 5000]);
}

#[tokio::test]
async fn list_reservations_event_answers_the_callers_own_newest_first() {
    let h = harness().await;
    let sample = fixture("list-reservations");
    assert_eq!(
        list(&h, FAN, &sample).await,
        json!({"items": [], "nextCursor": null})
    );

    admit(&h, FAN).await;
    let older = book_sample(&h, FAN).await;
    h.clock.advance(Duration::minutes(1));
    // The booking spent the admission: the second one needs another turn.
    admit(&h, FAN).await;
    let second_day = with_key(
        &with_body(&fixture("create-reservation"), booking("2027-10-03", 1)),
        Some("a7d1f0e2-93b4-4c8a-b6e5-2d0f1c3e4a5b"),
    );
    let newer = book(&h, FAN, &second_day).await.assert_json(201).clone();
    admit(&h, LEE).await;
    let theirs = book_sample(&h, LEE).await;

    let page = list(&h, FAN, &sample).await;
    assert_eq!(page["items"], json!([newer, older]));
    assert_eq!(page["nextCursor"], Value::Null);
    assert_eq!(
        ids(&list(&h, LEE, &sample).await),
        [id_of(&theirs).as_str()]
    );

    // The sample's `limit` is honoured: one a page, then the cursor leads on.
    let one = edit(&sample, |v| {
        v["queryStringParameters"]["limit"] = json!("1");
        v["multiValueQueryStringParameters"]["limit"] = json!(["1"]);
    });
    let first = list(&h, FAN, &one).await;
    assert_eq!(ids(&first), [id_of(&newer).as_str()]);
    let cursor = first["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let next = edit(&one, |v| {
        v["queryStringParameters"]["cursor"] = json!(cursor);
        v["multiValueQueryStringParameters"]["cursor"] = json!([cursor]);
    });
    let last = list(&h, FAN, &next).await;
    assert_eq!(ids(&last), [id_of(&older).as_str()]);
    assert_eq!(last["nextCursor"], Value::Null);

    let bad = edit(&sample, |v| {
        v["queryStringParameters"]["limit"] = json!("0");
        v["multiValueQueryStringParameters"]["limit"] = json!(["0"]);
    });
    invoke(&h, "list-reservations", &authorized(&h, &bad, FAN))
        .await
        .assert_problem(400, "VALIDATION_FAILED");
}

#[tokio::test]
async fn cancel_reservation_event_returns_the_tickets() {
    let h = harness().await;
    admit(&h, FAN).await;
    let booked = book_sample(&h, FAN).await;
    let id = id_of(&booked);

    h.clock.advance(Duration::minutes(1));
    let answer = cancel(&h, FAN, &id).await;
    let cancelled = answer.assert_json(200);
    let mut expected = booked.clone();
    expected["status"] = json!("CANCELLED");
    assert_eq!(cancelled, &expected);
    assert_eq!(remaining(&h).await, [5000, 5000]);
    let confirmed = (
        "ReservationConfirmed",
        id.clone(),
        FAN.email.to_string(),
        "CONFIRMED".to_string(),
    );
    let cancellation = (
        "ReservationCancelled",
        id.clone(),
        FAN.email.to_string(),
        "CANCELLED".to_string(),
    );
    assert_eq!(published(&h), [confirmed.clone(), cancellation.clone()]);

    // Cancelling again answers it again: no second return of tickets, no second event.
    let again = cancel(&h, FAN, &id).await;
    assert_eq!(again.assert_json(200), &expected);
    assert_eq!(remaining(&h).await, [5000, 5000]);
    assert_eq!(published(&h).len(), 2);
    let page = list(&h, FAN, &fixture("list-reservations")).await;
    assert_eq!(page["items"], json!([expected]));

    // The date is free again for a new booking (a new key), on a new turn in the line: the
    // cancellation did not give the spent admission back.
    let rebook = with_key(&fixture("create-reservation"), Some("rebook-2027-10-02"));
    book(&h, FAN, &rebook)
        .await
        .assert_problem(403, "QUEUE_ADMISSION_REQUIRED");
    admit(&h, FAN).await;
    let rebook = with_key(&fixture("create-reservation"), Some("rebook-2027-10-02"));
    let rebooked = book(&h, FAN, &rebook).await.assert_json(201).clone();
    assert_ne!(id_of(&rebooked), id);
    assert_eq!(remaining(&h).await, [4998, 5000]);
}

#[tokio::test]
async fn cancel_reservation_event_for_another_users_reservation_is_a_404_problem() {
    let h = harness().await;
    admit(&h, FAN).await;
    let booked = book_sample(&h, FAN).await;
    let id = id_of(&booked);

    cancel(&h, LEE, &id).await.assert_problem(404, "NOT_FOUND");
    cancel(&h, FAN, &h.ids.new_id())
        .await
        .assert_problem(404, "NOT_FOUND");
    // The sample's placeholder as it is.
    let event = authorized(&h, &fixture("cancel-reservation"), FAN);
    invoke(&h, "cancel-reservation", &event)
        .await
        .assert_problem(404, "NOT_FOUND");

    // The holder's reservation is untouched.
    assert_eq!(remaining(&h).await, [4998, 5000]);
    assert_eq!(published(&h).len(), 1);
    let page = list(&h, FAN, &fixture("list-reservations")).await;
    assert_eq!(page["items"], json!([booked]));
}

#[tokio::test]
async fn a_date_outside_the_festival_is_a_400_problem() {
    let h = harness().await;
    admit(&h, FAN).await;
    for date in ["2027-10-01", "2027-10-04", "2028-10-02"] {
        let event = with_body(&fixture("create-reservation"), booking(date, 2));
        book(&h, FAN, &event)
            .await
            .assert_problem(400, "VALIDATION_FAILED");
    }
    // A festival that does not exist.
    let other = json!({"festivalId": h.ids.new_id(), "festivalDate": "2027-10-02", "quantity": 2});
    let event = with_body(&fixture("create-reservation"), other);
    book(&h, FAN, &event)
        .await
        .assert_problem(404, "FESTIVAL_NOT_FOUND");
    assert_eq!(remaining(&h).await, [5000, 5000]);
    assert!(published(&h).is_empty());
}

#[tokio::test]
async fn a_quantity_outside_1_to_4_is_a_400_problem() {
    let h = harness().await;
    admit(&h, FAN).await;
    for quantity in [5, 0] {
        let event = with_body(
            &fixture("create-reservation"),
            booking("2027-10-02", quantity),
        );
        book(&h, FAN, &event)
            .await
            .assert_problem(400, "VALIDATION_FAILED");
    }
    let negative = json!({"festivalId": FESTIVAL_ID, "festivalDate": "2027-10-02", "quantity": -1});
    book(
        &h,
        FAN,
        &with_body(&fixture("create-reservation"), negative),
    )
    .await
    .assert_problem(400, "VALIDATION_FAILED");
    assert_eq!(remaining(&h).await, [5000, 5000]);

    // The bounds themselves: four is fine, and no quantity means one.
    let four = with_body(&fixture("create-reservation"), booking("2027-10-02", 4));
    let answer = book(&h, FAN, &four).await;
    assert_eq!(answer.assert_json(201)["quantity"], 4);
    admit(&h, FAN).await;
    let one = with_key(
        &with_body(
            &fixture("create-reservation"),
            json!({"festivalId": FESTIVAL_ID, "festivalDate": "2027-10-03"}),
        ),
        Some("one-ticket-2027-10-03"),
    );
    let answer = book(&h, FAN, &one).await;
    assert_eq!(answer.assert_json(201)["quantity"], 1);
    assert_eq!(remaining(&h).await, [4996, 4999]);
}

#[tokio::test]
async fn a_malformed_booking_is_a_400_problem() {
    let h = harness().await;
    admit(&h, FAN).await;
    let sample = fixture("create-reservation");
    let bodies = [
        r#"{"festivalId": "01M83TH6S0BRX93GKV0KC6Y6HC", "festivalDate": "#.to_string(),
        "not json".to_string(),
        String::new(),
        json!({"festivalId": FESTIVAL_ID, "festivalDate": "2027-13-01", "quantity": 2}).to_string(),
        json!({"festivalId": FESTIVAL_ID, "festivalDate": "2027-10-02", "quantity": "2"})
            .to_string(),
        json!({"festivalDate": "2027-10-02", "quantity": 2}).to_string(),
    ];
    for body in bodies {
        book(&h, FAN, &with_raw_body(&sample, &body))
            .await
            .assert_problem(400, "VALIDATION_FAILED");
    }
    // An Idempotency-Key that is no key.
    for key in ["", "  ", "two words", "tab\tkey", &"k".repeat(256)] {
        let answer = book(&h, FAN, &with_key(&sample, Some(key))).await;
        assert_eq!(answer.status, 400, "key {key:?}: {}", answer.body);
        answer.assert_problem(400, "VALIDATION_FAILED");
    }
    assert_eq!(remaining(&h).await, [5000, 5000]);
    assert!(published(&h).is_empty());
    // The sample itself still books: none of the above used its key.
    book_sample(&h, FAN).await;
}

/// The contract allows only visible ASCII in an `Idempotency-Key` and answers 400 otherwise
/// (`festa::services::reservations::idempotency_key`). A key with other characters must not
/// be dropped silently: the booking would then run without the retry protection the client
/// asked for.
#[tokio::test]
async fn a_non_ascii_idempotency_key_is_a_400_problem() {
    let h = harness().await;
    admit(&h, FAN).await;
    let event = with_key(&fixture("create-reservation"), Some("예약-7c9e6679"));
    let answer = book(&h, FAN, &event).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    answer.assert_problem(400, "VALIDATION_FAILED");
    assert_eq!(remaining(&h).await, [5000, 5000]);
    assert!(published(&h).is_empty());
}

#[tokio::test]
async fn a_sold_out_date_is_a_409_problem() {
    let h = harness_with_stock(3).await;
    admit(&h, FAN).await;
    admit(&h, LEE).await;
    book_sample(&h, FAN).await;
    assert_eq!(remaining(&h).await, [1, 3]);

    book(&h, LEE, &fixture("create-reservation"))
        .await
        .assert_problem(409, "SOLD_OUT");
    assert_eq!(remaining(&h).await, [1, 3]);
    assert_eq!(published(&h).len(), 1);

    // The failed attempt did not use its key up: the same key books what is left.
    let last = with_body(&fixture("create-reservation"), booking("2027-10-02", 1));
    let answer = book(&h, LEE, &last).await;
    assert_eq!(answer.assert_json(201)["quantity"], 1);
    assert_eq!(remaining(&h).await, [0, 3]);
}

#[tokio::test]
async fn a_second_reservation_for_the_same_date_is_a_409_problem() {
    let h = harness().await;
    admit(&h, FAN).await;
    book_sample(&h, FAN).await;

    // Admitted again: the refusals below hand the admission back, so one turn serves all.
    admit(&h, FAN).await;
    for key in [Some("another-attempt"), None] {
        let event = with_key(
            &with_body(&fixture("create-reservation"), booking("2027-10-02", 1)),
            key,
        );
        book(&h, FAN, &event)
            .await
            .assert_problem(409, "ALREADY_RESERVED");
    }
    assert_eq!(remaining(&h).await, [4998, 5000]);
    assert_eq!(published(&h).len(), 1);
    assert!(admission(&h, FAN).await.is_some(), "the turn is kept");

    // Another date of the same festival is another reservation.
    let other_day = with_key(
        &with_body(&fixture("create-reservation"), booking("2027-10-03", 2)),
        Some("another-attempt"),
    );
    book(&h, FAN, &other_day).await.assert_json(201);
    assert_eq!(remaining(&h).await, [4998, 4998]);
}

#[tokio::test]
async fn a_route_without_authorizer_context_is_a_401_problem() {
    let h = harness().await;
    admit(&h, FAN).await;
    let booked = book_sample(&h, FAN).await;
    let cancel_event = fill(
        &fixture("cancel-reservation"),
        "<reservation-id>",
        &id_of(&booked),
    );
    for (name, event) in [
        ("create-reservation", fixture("create-reservation")),
        ("list-reservations", fixture("list-reservations")),
        ("cancel-reservation", cancel_event),
    ] {
        let event = without_authorizer(&authorized(&h, &event, FAN));
        invoke(&h, name, &event)
            .await
            .assert_problem(401, "UNAUTHORIZED");
    }
    assert_eq!(remaining(&h).await, [4998, 5000]);
    assert_eq!(published(&h).len(), 1);
}

#[tokio::test]
async fn create_reservation_event_spends_the_admission() {
    let h = harness().await;
    admit(&h, FAN).await;
    let first = book_sample(&h, FAN).await;
    assert_eq!(admission(&h, FAN).await, None, "spent by the booking");

    // Another booking, even of another date, needs another turn in the line.
    let other_day = with_key(
        &with_body(&fixture("create-reservation"), booking("2027-10-03", 1)),
        Some("second-booking"),
    );
    book(&h, FAN, &other_day)
        .await
        .assert_problem(403, "QUEUE_ADMISSION_REQUIRED");
    book(&h, FAN, &with_key(&other_day, None))
        .await
        .assert_problem(403, "QUEUE_ADMISSION_REQUIRED");
    // The retry of the booking that spent it still answers that booking.
    assert_eq!(book_sample(&h, FAN).await, first);

    // Cancelling does not give the admission back.
    cancel(&h, FAN, &id_of(&first)).await.assert_json(200);
    assert_eq!(admission(&h, FAN).await, None);
    book(&h, FAN, &other_day)
        .await
        .assert_problem(403, "QUEUE_ADMISSION_REQUIRED");
    assert_eq!(remaining(&h).await, [5000, 5000]);

    // A new turn books again.
    admit(&h, FAN).await;
    book(&h, FAN, &other_day).await.assert_json(201);
    assert_eq!(remaining(&h).await, [5000, 4999]);
    assert_eq!(published(&h).len(), 3);
}

#[tokio::test]
async fn parallel_bookings_on_one_admission_book_once() {
    let h = harness().await;
    admit(&h, FAN).await;
    let day2 = with_key(&fixture("create-reservation"), Some("parallel-a"));
    let day3 = with_key(
        &with_body(&fixture("create-reservation"), booking("2027-10-03", 2)),
        Some("parallel-b"),
    );
    let (a, b) = tokio::join!(book(&h, FAN, &day2), book(&h, FAN, &day3));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [201, 403], "{} / {}", a.body, b.body);
    let refused = if a.status == 403 { a } else { b };
    refused.assert_problem(403, "QUEUE_ADMISSION_REQUIRED");
    let left = remaining(&h).await;
    assert_eq!(left.iter().sum::<u32>(), 9998, "{left:?}");
    assert_eq!(published(&h).len(), 1);
}

#[tokio::test]
async fn a_date_that_has_begun_is_a_409_problem() {
    let h = harness().await;
    // 2027-10-02 begins at 00:00 in Seoul: 2027-10-01T15:00:00Z.
    h.clock.advance(at("2027-10-01T14:58:00Z") - h.clock.now());
    admit(&h, FAN).await;
    h.clock.advance(at("2027-10-01T15:00:00Z") - h.clock.now());
    book(&h, FAN, &fixture("create-reservation"))
        .await
        .assert_problem(409, "DATE_PASSED");
    assert!(
        admission(&h, FAN).await.is_some(),
        "nothing spent on a refused date"
    );
    assert_eq!(remaining(&h).await, [5000, 5000]);
    assert!(published(&h).is_empty());

    // The next date still books, on the same admission and even with the same key.
    let next_day = with_body(&fixture("create-reservation"), booking("2027-10-03", 2));
    book(&h, FAN, &next_day).await.assert_json(201);
    assert_eq!(remaining(&h).await, [5000, 4998]);

    // Once the festival is over, its last date is past too.
    h.clock.advance(at("2027-10-02T15:00:00Z") - h.clock.now());
    admit(&h, LEE).await;
    book(&h, LEE, &next_day)
        .await
        .assert_problem(409, "DATE_PASSED");
}

#[tokio::test]
async fn a_refused_booking_keeps_the_admission() {
    let h = harness_with_stock(1).await;
    admit(&h, LEE).await;
    book(
        &h,
        LEE,
        &with_body(&fixture("create-reservation"), booking("2027-10-02", 1)),
    )
    .await
    .assert_json(201);
    admit(&h, FAN).await;
    let until = admission(&h, FAN).await;
    book(
        &h,
        FAN,
        &with_body(&fixture("create-reservation"), booking("2027-10-02", 1)),
    )
    .await
    .assert_problem(409, "SOLD_OUT");
    assert_eq!(
        admission(&h, FAN).await,
        until,
        "the same turn, to the same end"
    );
    let other = with_body(&fixture("create-reservation"), booking("2027-10-03", 1));
    book(&h, FAN, &other).await.assert_json(201);
    assert_eq!(admission(&h, FAN).await, None);
    assert_eq!(remaining(&h).await, [0, 0]);
}

/// A sample event without a test fails here: every `/reservations` route event is replayed
/// above, and each binary of this crate has exactly one.
#[test]
fn every_reservation_event_is_covered() {
    let mut ours = BTreeSet::new();
    for name in event_names() {
        let text = std::fs::read_to_string(events_dir().join(format!("{name}.json"))).unwrap();
        let raw: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        if !raw["resource"]
            .as_str()
            .is_some_and(|r| r.starts_with("/reservations"))
        {
            continue;
        }
        assert!(
            RESERVATION_EVENTS.contains(&name.as_str()),
            "events/{name}.json has no test in functions/reservations/tests/events.rs"
        );
        let (_, method, path) = ROUTES.iter().find(|(n, _, _)| *n == name).unwrap();
        assert_eq!(raw["httpMethod"], *method, "{name}");
        assert_eq!(raw["resource"], *path, "{name}");
        lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        ours.insert(name);
    }
    let expected: BTreeSet<String> = RESERVATION_EVENTS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        ours, expected,
        "every reservation binary has exactly one sample event"
    );

    // Named after this crate's binaries, each serving the route its event is for.
    let binaries = binaries(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        binaries.keys().cloned().collect::<BTreeSet<String>>(),
        expected,
        "one sample event per binary"
    );
    for (name, method, path) in ROUTES {
        let source: String = binaries[name].split_whitespace().collect();
        assert!(
            source.contains(&format!("`{method}{path}`")),
            "src/bin/{name}.rs does not serve {method} {path}"
        );
    }
    // The booking sample carries what a real client sends.
    let booking: Value = serde_json::from_str(&fixture("create-reservation")).unwrap();
    assert_eq!(booking["headers"]["Idempotency-Key"], SAMPLE_KEY);
    assert_eq!(
        serde_json::from_str::<Value>(booking["body"].as_str().unwrap()).unwrap(),
        json!({"festivalId": FESTIVAL_ID, "festivalDate": "2027-10-02", "quantity": 2})
    );
}
