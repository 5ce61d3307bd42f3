//! The ticket rush end to end through the waiting-room and reservation services, on the
//! in-memory adapters with a clock we control: an admission is spent by one booking, handed
//! back when the booking fails for a reason that is not the user's doing, and dates and
//! festivals close at midnight in the festival's own time zone.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use festa::adapters::memory::{
    DueTick, InProcessTicks, ManualClock, MemoryRecords, MemoryWaitingRoom, RecordedEvents,
};
use festa::adapters::system::RandomIds;
use festa::model::{Festival, Reservation, Role, TicketStock};
use festa::ports::{
    AdmitPolicy, Booking, Cancellation, Clock, FestivalStore, IdempotentBooking, ReservationEvent,
    ReservationStore, WaitingRoom,
};
use festa::services::directory::FestivalDirectory;
use festa::services::queue::{Admitter, Queue};
use festa::services::reservations::{BookRequest, Reservations};
use festa::services::tokens::Identity;
use festa::{AppError, AppResult};
use tokio::sync::mpsc::UnboundedReceiver;

const FESTIVAL: &str = "01JRUSH0000000000000000000";

/// A reservation store that can be taken down, and can answer a booking the way an SDK
/// retry of a committed transaction does (the call is sent twice; the second answer counts).
struct Flaky {
    inner: Arc<MemoryRecords>,
    down: AtomicBool,
    sent_twice: AtomicBool,
    books: AtomicUsize,
}

#[async_trait]
impl ReservationStore for Flaky {
    async fn book(
        &self,
        reservation: &Reservation,
        key: Option<&str>,
        key_expires_at: DateTime<Utc>,
    ) -> AppResult<Booking> {
        self.books.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(AppError::unavailable("DynamoDB is down"));
        }
        if self.sent_twice.load(Ordering::SeqCst) {
            self.inner.book(reservation, key, key_expires_at).await?;
        }
        self.inner.book(reservation, key, key_expires_at).await
    }

    async fn idempotent_booking(
        &self,
        email: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<IdempotentBooking>> {
        self.inner.idempotent_booking(email, key, now).await
    }

    async fn get_reservation(&self, email: &str, id: &str) -> AppResult<Option<Reservation>> {
        self.inner.get_reservation(email, id).await
    }

    async fn list_reservations(
        &self,
        email: &str,
        before: Option<&str>,
        limit: usize,
    ) -> AppResult<Vec<Reservation>> {
        self.inner.list_reservations(email, before, limit).await
    }

    async fn cancel(
        &self,
        email: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> AppResult<Option<Cancellation>> {
        self.inner.cancel(email, id, at).await
    }
}

struct World {
    queue: Queue,
    admitter: Admitter,
    reservations: Reservations,
    records: Arc<MemoryRecords>,
    store: Arc<Flaky>,
    room: Arc<MemoryWaitingRoom>,
    events: Arc<RecordedEvents>,
    clock: Arc<ManualClock>,
    ticks: UnboundedReceiver<DueTick>,
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// A Seoul festival on 2027-03-27 and 03-28 with `tickets` a day; the clock stands a week
/// before it.
async fn world(tickets: u32) -> World {
    let records = Arc::new(MemoryRecords::new());
    records
        .create_festival(&Festival {
            festival_id: FESTIVAL.into(),
            name: "진해 군항제".into(),
            description: "벚꽃".into(),
            location: "창원 진해".into(),
            start_date: date("2027-03-27"),
            end_date: date("2027-03-28"),
            time_zone: "Asia/Seoul".into(),
            price: 0,
            image_url: None,
            chat_room_id: FESTIVAL.into(),
            tickets: ["2027-03-27", "2027-03-28"]
                .map(|d| TicketStock {
                    date: date(d),
                    total: tickets,
                    remaining: tickets,
                })
                .to_vec(),
            created_at: at("2027-01-01T00:00:00Z"),
        })
        .await
        .unwrap();
    let store = Arc::new(Flaky {
        inner: records.clone(),
        down: AtomicBool::new(false),
        sent_twice: AtomicBool::new(false),
        books: AtomicUsize::new(0),
    });
    let room = Arc::new(MemoryWaitingRoom::new());
    let events = Arc::new(RecordedEvents::new());
    let clock = Arc::new(ManualClock::new(at("2027-03-20T00:00:00Z")));
    let (ticks, receiver) = InProcessTicks::channel();
    let ticks = Arc::new(ticks);
    let policy = AdmitPolicy::default();
    let directory = FestivalDirectory::new(records.clone());
    World {
        queue: Queue {
            room: room.clone(),
            ticks: ticks.clone(),
            festivals: directory.clone(),
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
        reservations: Reservations {
            store: store.clone(),
            room: room.clone(),
            festivals: directory,
            events: events.clone(),
            clock: clock.clone(),
            ids: Arc::new(RandomIds::default()),
        },
        records,
        store,
        room,
        events,
        clock,
        ticks: receiver,
    }
}

fn fan(email: &str) -> Identity {
    Identity {
        user_id: format!("id-{email}"),
        email: email.into(),
        name: "팬".into(),
        role: Role::User,
        session_id: "s".into(),
        expires_at: Utc::now() + Duration::minutes(15),
    }
}

fn request(day: &str) -> BookRequest {
    BookRequest {
        festival_id: FESTIVAL.into(),
        festival_date: date(day),
        quantity: None,
    }
}

impl World {
    /// `who` joins the line and the admitter's tick lets them in.
    async fn admit(&mut self, who: &Identity) {
        let status = self.queue.join(FESTIVAL, &who.email).await.unwrap();
        assert_eq!(status.rank, 1, "{} waits alone", who.email);
        let due = self.ticks.try_recv().expect("the join starts the admitter");
        self.admitter.tick(&due.tick).await.unwrap();
        assert!(self.allowed(who).await, "{} is admitted", who.email);
    }

    async fn allowed(&self, who: &Identity) -> bool {
        self.queue
            .allowed(FESTIVAL, &who.email)
            .await
            .unwrap()
            .allowed
    }

    async fn book(&self, who: &Identity, day: &str, key: Option<&str>) -> AppResult<Reservation> {
        self.reservations.book(who, request(day), key).await
    }

    async fn remaining(&self) -> Vec<u32> {
        let f = self.records.get_festival(FESTIVAL).await.unwrap().unwrap();
        f.tickets.iter().map(|t| t.remaining).collect()
    }

    fn confirmed_events(&self) -> usize {
        self.events
            .events()
            .iter()
            .filter(|e| matches!(e, ReservationEvent::Confirmed(_)))
            .count()
    }
}

fn assert_code<T: std::fmt::Debug>(result: AppResult<T>, code: &str) {
    match result {
        Err(err) => assert_eq!(err.code(), code, "{err:?}"),
        Ok(answer) => panic!("expected {code}, got {answer:?}"),
    }
}

#[tokio::test]
async fn a_booking_spends_the_admission_and_a_second_booking_needs_another_turn() {
    // GIVEN an admitted fan
    let mut w = world(100).await;
    let kim = fan("kim@festa.io");
    w.admit(&kim).await;

    // WHEN they book
    let booked = w.book(&kim, "2027-03-27", Some("try-1")).await.unwrap();

    // THEN the admission is spent: not allowed, and another date needs another turn
    assert!(!w.allowed(&kim).await);
    assert_code(
        w.book(&kim, "2027-03-28", Some("try-2")).await,
        "QUEUE_ADMISSION_REQUIRED",
    );
    assert_code(
        w.book(&kim, "2027-03-28", None).await,
        "QUEUE_ADMISSION_REQUIRED",
    );
    // AND the retry of the booking that spent it still answers that booking, even after the
    // admission would have ended, publishing nothing more
    w.clock.advance(Duration::minutes(10));
    assert_eq!(
        w.book(&kim, "2027-03-27", Some("try-1")).await.unwrap(),
        booked
    );
    assert_eq!(w.confirmed_events(), 1);
    // AND cancelling does not hand the admission back
    w.reservations
        .cancel(&kim, &booked.reservation_id)
        .await
        .unwrap();
    assert!(!w.allowed(&kim).await);
    assert_code(
        w.book(&kim, "2027-03-27", Some("try-3")).await,
        "QUEUE_ADMISSION_REQUIRED",
    );
    assert_eq!(w.remaining().await, [100, 100]);

    // WHEN they queue again THEN another booking goes through
    w.admit(&kim).await;
    w.book(&kim, "2027-03-28", Some("try-4")).await.unwrap();
    assert!(!w.allowed(&kim).await);
    assert_eq!(w.remaining().await, [100, 99]);
}

#[tokio::test]
async fn parallel_bookings_on_one_admission_book_at_most_once() {
    // GIVEN fans each holding one admission
    let mut w = world(100).await;
    let fans: Vec<Identity> = (0..10).map(|i| fan(&format!("fan{i}@festa.io"))).collect();
    for f in &fans {
        w.admit(f).await;
    }
    // WHEN each sends two bookings at once, for different dates under different keys
    let w = &w;
    let outcomes = futures_util::future::join_all(fans.iter().map(|f| async move {
        let (a, b) = tokio::join!(
            w.book(f, "2027-03-27", Some("day-1")),
            w.book(f, "2027-03-28", Some("day-2")),
        );
        (a, b)
    }))
    .await;
    // THEN exactly one of each pair books, the other needs another turn
    for (a, b) in outcomes {
        let (ok, refused) = match (a, b) {
            (Ok(r), Err(e)) | (Err(e), Ok(r)) => (r, e),
            other => panic!("one of the two books: {other:?}"),
        };
        assert_eq!(ok.quantity, 1);
        assert_eq!(refused.code(), "QUEUE_ADMISSION_REQUIRED");
    }
    let left = w.remaining().await;
    assert_eq!(left[0] + left[1], 190, "ten tickets in all: {left:?}");
    assert_eq!(w.confirmed_events(), 10);
}

#[tokio::test]
async fn a_booking_refused_for_stock_or_a_held_date_hands_the_admission_back() {
    // GIVEN one ticket a day, held on 03-27 by someone else, and an admitted fan
    let mut w = world(1).await;
    let lee = fan("lee@festa.io");
    let kim = fan("kim@festa.io");
    w.admit(&lee).await;
    w.book(&lee, "2027-03-27", None).await.unwrap();
    w.admit(&kim).await;
    let until = w
        .queue
        .allowed(FESTIVAL, &kim.email)
        .await
        .unwrap()
        .expires_at;

    // WHEN the fan's booking finds the date sold out
    assert_code(w.book(&kim, "2027-03-27", Some("k1")).await, "SOLD_OUT");
    // THEN they keep their turn, to the same end, and book another date with it
    let now = w.queue.allowed(FESTIVAL, &kim.email).await.unwrap();
    assert_eq!((now.allowed, now.expires_at), (true, until));
    let mine = w.book(&kim, "2027-03-28", Some("k1")).await.unwrap();
    assert!(!w.allowed(&kim).await);

    // WHEN, admitted again, they book the date they already hold
    w.admit(&kim).await;
    assert_code(w.book(&kim, "2027-03-28", None).await, "ALREADY_RESERVED");
    // THEN the turn is still theirs
    assert!(w.allowed(&kim).await);
    assert_eq!(w.remaining().await, [0, 0]);
    assert_eq!(mine.festival_date, date("2027-03-28"));
}

#[tokio::test]
async fn an_outage_during_the_booking_hands_the_admission_back() {
    // GIVEN an admitted fan and a records store that is down
    let mut w = world(10).await;
    let kim = fan("kim@festa.io");
    w.admit(&kim).await;
    w.store.down.store(true, Ordering::SeqCst);

    // WHEN they book THEN the outage is a 503 and the admission is still theirs
    let err = w.book(&kim, "2027-03-27", Some("k")).await.unwrap_err();
    assert_eq!(
        (err.status().as_u16(), err.code()),
        (503, "SERVICE_UNAVAILABLE")
    );
    assert!(w.allowed(&kim).await);

    // WHEN the store is back THEN the retry books
    w.store.down.store(false, Ordering::SeqCst);
    w.book(&kim, "2027-03-27", Some("k")).await.unwrap();
    assert_eq!(w.remaining().await, [9, 10]);
    assert_eq!(w.confirmed_events(), 1);
}

#[tokio::test]
async fn a_transaction_retried_after_it_committed_is_the_booking_and_is_published() {
    // GIVEN a store whose transactions arrive twice, as an SDK retry after a lost answer
    let mut w = world(10).await;
    w.store.sent_twice.store(true, Ordering::SeqCst);
    for (who, key) in [("kim@festa.io", Some("k")), ("lee@festa.io", None)] {
        let who = fan(who);
        w.admit(&who).await;
        // WHEN they book THEN it is confirmed (not ALREADY_RESERVED), once, and published
        let booked = w.book(&who, "2027-03-27", key).await.unwrap();
        assert_eq!(
            w.reservations
                .list(
                    &who,
                    festa::services::PageRequest::parse(None, None).unwrap()
                )
                .await
                .unwrap()
                .items,
            [booked]
        );
    }
    assert_eq!(w.remaining().await, [8, 10]);
    assert_eq!(w.confirmed_events(), 2);
}

#[tokio::test]
async fn a_date_that_has_begun_in_the_festivals_zone_cannot_be_booked() {
    // GIVEN an admitted fan one millisecond before 2027-03-27 begins in Seoul (UTC+9)
    let mut w = world(10).await;
    let kim = fan("kim@festa.io");
    let lee = fan("lee@festa.io");
    w.clock.set(at("2027-03-26T14:58:00Z"));
    w.admit(&kim).await;
    w.admit(&lee).await;
    w.clock.set(at("2027-03-26T14:59:59.999Z"));
    w.book(&lee, "2027-03-27", None).await.unwrap();

    // WHEN the date begins THEN it is DATE_PASSED, and the admission is not spent on it
    w.clock.set(at("2027-03-26T15:00:00Z"));
    assert_code(w.book(&kim, "2027-03-27", Some("k")).await, "DATE_PASSED");
    assert!(w.allowed(&kim).await);
    let books = w.store.books.load(Ordering::SeqCst);
    // AND the next date still books
    w.book(&kim, "2027-03-28", Some("k")).await.unwrap();
    assert_eq!(w.store.books.load(Ordering::SeqCst), books + 1);
    assert_eq!(w.remaining().await, [9, 9]);
    // AND a date outside the festival is still a 400, not a 409
    assert_code(w.book(&kim, "2027-03-26", None).await, "VALIDATION_FAILED");
}

#[tokio::test]
async fn a_festival_whose_last_day_is_over_has_no_line() {
    // GIVEN a fan waiting and one admitted, on the last day of the festival in Seoul
    let mut w = world(10).await;
    let kim = fan("kim@festa.io");
    let lee = fan("lee@festa.io");
    w.clock.set(at("2027-03-28T14:59:00Z"));
    w.admit(&lee).await;
    w.queue.join(FESTIVAL, &kim.email).await.unwrap();

    // WHEN the day ends (2027-03-29 00:00 Seoul)
    w.clock.set(at("2027-03-28T15:00:00Z"));
    // THEN joining, ranking and the admission answer FESTIVAL_ENDED
    assert_code(w.queue.join(FESTIVAL, &kim.email).await, "FESTIVAL_ENDED");
    assert_code(w.queue.rank(FESTIVAL, &kim.email).await, "FESTIVAL_ENDED");
    assert_code(
        w.queue.allowed(FESTIVAL, &lee.email).await,
        "FESTIVAL_ENDED",
    );
    // AND booking its last date is DATE_PASSED
    assert_code(w.book(&lee, "2027-03-28", None).await, "DATE_PASSED");
    // AND leaving still succeeds, harmlessly
    w.queue.leave(FESTIVAL, &kim.email).await.unwrap();
    w.queue.leave_admission(FESTIVAL, &lee.email).await.unwrap();
    assert_eq!(
        w.room
            .admission(FESTIVAL, &lee.email, w.clock.now())
            .await
            .unwrap(),
        None
    );
    // AND an unknown festival is still not found
    assert_code(w.queue.join("nope", &kim.email).await, "FESTIVAL_NOT_FOUND");
}
