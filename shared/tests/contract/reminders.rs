//! Reminder ports: the festival calendar, the roster of confirmed reservations, the device
//! registry and the sent-marker ledger.
//!
//! As everywhere in the suite, cases write fresh festivals, e-mail addresses, tokens and
//! reservation ids, and assert only about those, so they share one store with other cases.

use std::time::Duration as Lease;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use festa::model::{Device, Festival, FestivalDay, Platform, Reservation};
use festa::ports::{
    Booking, Cancellation, Claim, DeviceRegistry, FestivalCalendar, FestivalStore, ReminderKey,
    ReminderLedger, ReservationRoster, ReservationStore,
};
use futures_util::future::join_all;

use super::{
    booking_of, date, festival, no_key_until, now, stocked_festival, unique, unique_email,
};

// ---------------------------------------------------------------------------------------------
// FestivalCalendar

/// `festival(id, days)` moved to start on `start`, so its calendar days are its own.
fn festival_from(festival_id: &str, start: NaiveDate, days: u32) -> Festival {
    let mut f = festival(festival_id, days);
    for (stock, day) in f.tickets.iter_mut().zip(start.iter_days()) {
        stock.date = day;
    }
    f.start_date = start;
    f.end_date = f.tickets.last().map(|t| t.date).unwrap_or(start);
    f
}

fn day_of(f: &Festival, date: NaiveDate) -> FestivalDay {
    FestivalDay {
        festival_id: f.festival_id.clone(),
        festival_name: f.name.clone(),
        time_zone: f.time_zone.clone(),
        date,
    }
}

/// What the calendar lists on `date` of these festivals (the store may hold others).
async fn listed<S: FestivalCalendar + ?Sized>(
    store: &S,
    date: NaiveDate,
    of: &[&Festival],
) -> Vec<FestivalDay> {
    let mut days: Vec<FestivalDay> = store
        .festival_days(date)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| of.iter().any(|f| f.festival_id == d.festival_id))
        .collect();
    days.sort_by(|a, b| a.festival_id.cmp(&b.festival_id));
    days
}

pub async fn calendar_lists_each_ticketed_date<S>(store: &S)
where
    S: FestivalStore + FestivalCalendar,
{
    // Three dates across a month end.
    let f = festival_from(&unique(), date(2027, 3, 30), 3);
    store.create_festival(&f).await.unwrap();
    let dates: Vec<NaiveDate> = f.tickets.iter().map(|t| t.date).collect();
    assert_eq!(
        dates,
        vec![date(2027, 3, 30), date(2027, 3, 31), date(2027, 4, 1)]
    );
    for &day in &dates {
        assert_eq!(listed(store, day, &[&f]).await, vec![day_of(&f, day)]);
    }
    // Not the day before nor the day after.
    assert_eq!(listed(store, date(2027, 3, 29), &[&f]).await, vec![]);
    assert_eq!(listed(store, date(2027, 4, 2), &[&f]).await, vec![]);

    // Two festivals on one date are both listed, each with its own zone and name.
    let mut g = festival_from(&unique(), date(2027, 3, 31), 1);
    g.time_zone = "Europe/Berlin".to_string();
    g.name = format!("Berlin Jazzfest {}", g.festival_id);
    store.create_festival(&g).await.unwrap();
    let mut both = vec![day_of(&f, date(2027, 3, 31)), day_of(&g, date(2027, 3, 31))];
    both.sort_by(|a, b| a.festival_id.cmp(&b.festival_id));
    assert_eq!(listed(store, date(2027, 3, 31), &[&f, &g]).await, both);
    assert_eq!(
        listed(store, date(2027, 3, 30), &[&f, &g]).await,
        vec![day_of(&f, date(2027, 3, 30))]
    );
}

// ---------------------------------------------------------------------------------------------
// ReservationRoster

/// Every page of the roster of `limit` each, checking that each page's `next` is its last id.
async fn all_pages<S: ReservationRoster + ?Sized>(
    store: &S,
    festival_id: &str,
    day: NaiveDate,
    limit: usize,
) -> Vec<Vec<Reservation>> {
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .confirmed(festival_id, day, after.as_deref(), limit)
            .await
            .unwrap();
        assert!(page.reservations.len() <= limit);
        let next = page.next.clone();
        pages.push(page.reservations);
        match next {
            Some(id) => {
                assert_eq!(
                    pages
                        .last()
                        .and_then(|p| p.last())
                        .map(|r| &r.reservation_id),
                    Some(&id)
                );
                after = Some(id);
            }
            None => return pages,
        }
        assert!(pages.len() <= 100, "the roster never ends");
    }
}

fn sizes(pages: &[Vec<Reservation>]) -> Vec<usize> {
    pages.iter().map(Vec::len).collect()
}

pub async fn roster_pages_confirmed_reservations_in_id_order<S>(store: &S)
where
    S: FestivalStore + ReservationStore + ReservationRoster,
{
    let f = stocked_festival(&[100, 100]);
    store.create_festival(&f).await.unwrap();
    let (day0, day1) = (f.tickets[0].date, f.tickets[1].date);

    let booked: Vec<Reservation> = (0..26)
        .map(|i| booking_of(&f, &unique_email(), day0, 1 + i % 4))
        .collect();
    let other_day: Vec<Reservation> = (0..3)
        .map(|_| booking_of(&f, &unique_email(), day1, 2))
        .collect();
    for r in booked.iter().chain(&other_day) {
        assert_eq!(
            store.book(r, None, no_key_until()).await.unwrap(),
            Booking::Confirmed
        );
    }
    let gone = &booked[7];
    assert!(matches!(
        store
            .cancel(&gone.email, &gone.reservation_id, now())
            .await
            .unwrap(),
        Some(Cancellation::Cancelled(_))
    ));
    let mut expected: Vec<Reservation> = booked
        .iter()
        .filter(|r| r.reservation_id != gone.reservation_id)
        .cloned()
        .collect();
    expected.sort_by(|a, b| a.reservation_id.cmp(&b.reservation_id));
    assert_eq!(expected.len(), 25);

    // 10, 10, 5 in id order: no repeats, nothing missing, the cancelled one absent.
    let pages = all_pages(store, &f.festival_id, day0, 10).await;
    assert_eq!(sizes(&pages), vec![10, 10, 5]);
    assert_eq!(pages.concat(), expected);

    // A full last page still says it is the last.
    let pages = all_pages(store, &f.festival_id, day0, 5).await;
    assert_eq!(sizes(&pages), vec![5; 5]);
    assert_eq!(pages.concat(), expected);
    let whole = store
        .confirmed(&f.festival_id, day0, None, 25)
        .await
        .unwrap();
    assert_eq!((whole.reservations, whole.next), (expected.clone(), None));
    let short = store
        .confirmed(&f.festival_id, day0, None, 24)
        .await
        .unwrap();
    assert_eq!(short.reservations, expected[..24].to_vec());
    assert_eq!(short.next, Some(expected[23].reservation_id.clone()));

    // Any id starts a page after it, even one not on the roster.
    let page = store
        .confirmed(&f.festival_id, day0, Some(&expected[3].reservation_id), 2)
        .await
        .unwrap();
    assert_eq!(page.reservations, expected[4..6].to_vec());
    assert_eq!(page.next, Some(expected[5].reservation_id.clone()));
    let page = store
        .confirmed(&f.festival_id, day0, Some(&gone.reservation_id), 100)
        .await
        .unwrap();
    let later: Vec<Reservation> = expected
        .iter()
        .filter(|r| r.reservation_id > gone.reservation_id)
        .cloned()
        .collect();
    assert_eq!((page.reservations, page.next), (later, None));
    let last = &expected[24].reservation_id;
    let page = store
        .confirmed(&f.festival_id, day0, Some(last), 10)
        .await
        .unwrap();
    assert_eq!((page.reservations, page.next), (vec![], None));

    // The other date has its own roster; an unknown festival has none.
    let mut theirs = other_day.clone();
    theirs.sort_by(|a, b| a.reservation_id.cmp(&b.reservation_id));
    let pages = all_pages(store, &f.festival_id, day1, 10).await;
    assert_eq!(pages, vec![theirs]);
    let page = store.confirmed(&unique(), day0, None, 10).await.unwrap();
    assert_eq!((page.reservations, page.next), (vec![], None));

    // Whether a planned job's reservation still stands: the holder's own, and not cancelled.
    let kept = &expected[0];
    assert!(store
        .still_confirmed(&kept.email, &kept.reservation_id)
        .await
        .unwrap());
    assert!(!store
        .still_confirmed(&gone.email, &gone.reservation_id)
        .await
        .unwrap());
    assert!(!store
        .still_confirmed(&gone.email, &kept.reservation_id)
        .await
        .unwrap());
    assert!(!store.still_confirmed(&kept.email, &unique()).await.unwrap());
}

// ---------------------------------------------------------------------------------------------
// DeviceRegistry

/// A fresh FCM-like registration token of `len` characters.
fn token(len: usize) -> String {
    let mut token = format!("fcm:{}:", unique());
    while token.len() < len {
        token.push_str("APA91bH-x_7");
    }
    token.truncate(len);
    token
}

fn device(token: &str, platform: Option<Platform>, at: DateTime<Utc>) -> Device {
    Device {
        token: token.to_string(),
        platform,
        activated_at: at,
    }
}

fn by_token(mut devices: Vec<Device>) -> Vec<Device> {
    devices.sort_by(|a, b| a.token.cmp(&b.token));
    devices
}

pub async fn devices_move_to_their_latest_owner(registry: &dyn DeviceRegistry) {
    let (a, b) = (unique_email(), unique_email());
    let t0 = now();
    let web = device(&token(163), Some(Platform::Web), t0);
    let phone = device(
        &token(300),
        Some(Platform::Android),
        t0 + Duration::seconds(1),
    );
    registry.activate(&a, &web).await.unwrap();
    registry.activate(&a, &phone).await.unwrap();
    assert_eq!(
        by_token(registry.devices_of(&a).await.unwrap()),
        by_token(vec![web.clone(), phone.clone()])
    );
    assert_eq!(registry.devices_of(&b).await.unwrap(), vec![]);

    // B activates A's phone token: it moves.
    let handed_on = device(&phone.token, Some(Platform::Ios), t0 + Duration::seconds(2));
    registry.activate(&b, &handed_on).await.unwrap();
    assert_eq!(registry.devices_of(&a).await.unwrap(), vec![web.clone()]);
    assert_eq!(
        registry.devices_of(&b).await.unwrap(),
        vec![handed_on.clone()]
    );

    // A can no longer deactivate it; B keeps it.
    assert!(!registry.deactivate(&a, &phone.token).await.unwrap());
    assert_eq!(
        registry.devices_of(&b).await.unwrap(),
        vec![handed_on.clone()]
    );
    assert_eq!(registry.devices_of(&a).await.unwrap(), vec![web.clone()]);

    // B can, once.
    assert!(registry.deactivate(&b, &phone.token).await.unwrap());
    assert_eq!(registry.devices_of(&b).await.unwrap(), vec![]);
    assert!(!registry.deactivate(&b, &phone.token).await.unwrap());
    assert!(!registry.deactivate(&a, &token(40)).await.unwrap());
    assert_eq!(registry.devices_of(&a).await.unwrap(), vec![web]);
}

pub async fn forget_removes_a_token_from_whoever_owns_it(registry: &dyn DeviceRegistry) {
    let (a, b) = (unique_email(), unique_email());
    let kept = device(&token(163), Some(Platform::Web), now());
    let lost = device(&token(300), None, now());
    registry.activate(&a, &kept).await.unwrap();
    registry.activate(&a, &lost).await.unwrap();
    registry.forget(&lost.token).await.unwrap();
    assert_eq!(registry.devices_of(&a).await.unwrap(), vec![kept.clone()]);

    // After a move, from the new owner.
    registry.activate(&b, &kept).await.unwrap();
    registry.forget(&kept.token).await.unwrap();
    assert_eq!(registry.devices_of(&a).await.unwrap(), vec![]);
    assert_eq!(registry.devices_of(&b).await.unwrap(), vec![]);

    // Tokens nobody owns are fine to forget.
    registry.forget(&kept.token).await.unwrap();
    registry.forget(&token(200)).await.unwrap();
    assert!(!registry.deactivate(&b, &kept.token).await.unwrap());

    // A forgotten token may be activated again.
    registry.activate(&b, &kept).await.unwrap();
    assert_eq!(registry.devices_of(&b).await.unwrap(), vec![kept]);
}

pub async fn activating_again_keeps_one_device(registry: &dyn DeviceRegistry) {
    let email = unique_email();
    let t0 = now();
    let first = device(&token(300), None, t0);
    registry.activate(&email, &first).await.unwrap();
    registry.activate(&email, &first).await.unwrap();
    assert_eq!(
        registry.devices_of(&email).await.unwrap(),
        vec![first.clone()]
    );

    // The latest activation's details win.
    let again = device(&first.token, Some(Platform::Ios), t0 + Duration::minutes(5));
    registry.activate(&email, &again).await.unwrap();
    assert_eq!(
        registry.devices_of(&email).await.unwrap(),
        vec![again.clone()]
    );
    assert!(registry.deactivate(&email, &first.token).await.unwrap());
    assert_eq!(registry.devices_of(&email).await.unwrap(), vec![]);
}

pub async fn concurrent_activations_leave_one_owner(registry: &dyn DeviceRegistry) {
    let shared = token(180);
    let users: Vec<String> = (0..6).map(|_| unique_email()).collect();
    let t0 = now();
    let devices: Vec<Device> = (0..users.len())
        .map(|i| {
            device(
                &shared,
                Some(Platform::Android),
                t0 + Duration::seconds(i as i64),
            )
        })
        .collect();
    let outcomes = join_all(
        users
            .iter()
            .zip(&devices)
            .map(|(user, d)| registry.activate(user, d)),
    )
    .await;
    for outcome in outcomes {
        outcome.unwrap();
    }
    let mut owners = Vec::new();
    for (user, d) in users.iter().zip(&devices) {
        match registry.devices_of(user).await.unwrap().as_slice() {
            [] => {}
            [held] => {
                assert_eq!(held, d);
                owners.push(user.clone());
            }
            more => panic!("{} devices for one token", more.len()),
        }
    }
    assert_eq!(owners.len(), 1, "{owners:?}");

    // Whoever won is the owner forget and deactivate act on.
    assert!(!registry
        .deactivate(users.iter().find(|u| **u != owners[0]).unwrap(), &shared)
        .await
        .unwrap());
    registry.forget(&shared).await.unwrap();
    for user in &users {
        assert_eq!(registry.devices_of(user).await.unwrap(), vec![]);
    }
}

// ---------------------------------------------------------------------------------------------
// ReminderLedger

/// Now, to the millisecond (what the DynamoDB ledger keeps of a lease's end).
fn now_ms() -> DateTime<Utc> {
    Utc.timestamp_millis_opt(now().timestamp_millis()).unwrap()
}

fn reminder_key() -> ReminderKey {
    ReminderKey {
        reservation_id: unique(),
        festival_date: date(2026, 10, 31),
        token: token(163),
    }
}

const LEASE: Lease = Lease::from_secs(30);

fn lease_end(at: DateTime<Utc>) -> DateTime<Utc> {
    at + Duration::seconds(30)
}

pub async fn claims_hold_until_settled_released_or_lapsed(ledger: &dyn ReminderLedger) {
    let key = reminder_key();
    let t0 = now_ms();
    assert_eq!(ledger.claim(&key, t0, LEASE).await.unwrap(), Claim::Claimed);

    // Held until the lease ends, to the millisecond.
    let t1 = t0 + Duration::milliseconds(1_234);
    assert_eq!(
        ledger.claim(&key, t1, LEASE).await.unwrap(),
        Claim::Held {
            until: lease_end(t0)
        }
    );
    let just_before = lease_end(t0) - Duration::milliseconds(1);
    assert_eq!(
        ledger.claim(&key, just_before, LEASE).await.unwrap(),
        Claim::Held {
            until: lease_end(t0)
        }
    );

    // Released: claimable at once.
    ledger.release(&key).await.unwrap();
    assert_eq!(ledger.claim(&key, t1, LEASE).await.unwrap(), Claim::Claimed);
    assert_eq!(
        ledger.claim(&key, t1, LEASE).await.unwrap(),
        Claim::Held {
            until: lease_end(t1)
        }
    );

    // A lease ends at its end: a claim then, or far later, takes it over.
    assert_eq!(
        ledger.claim(&key, lease_end(t1), LEASE).await.unwrap(),
        Claim::Claimed
    );
    let far = t0 + Duration::days(2);
    assert_eq!(
        ledger.claim(&key, far, LEASE).await.unwrap(),
        Claim::Claimed
    );
    assert_eq!(
        ledger.claim(&key, far, LEASE).await.unwrap(),
        Claim::Held {
            until: lease_end(far)
        }
    );

    // Settled for good, however late, and a release does not undo it.
    ledger.settle(&key, far).await.unwrap();
    assert_eq!(
        ledger.claim(&key, far, LEASE).await.unwrap(),
        Claim::Settled
    );
    let later = far + Duration::days(1);
    assert_eq!(
        ledger.claim(&key, later, LEASE).await.unwrap(),
        Claim::Settled
    );
    ledger.release(&key).await.unwrap();
    assert_eq!(
        ledger.claim(&key, later, LEASE).await.unwrap(),
        Claim::Settled
    );

    // Settling without a claim, and releasing what was never claimed, are fine.
    let unclaimed = reminder_key();
    ledger.release(&unclaimed).await.unwrap();
    ledger.settle(&unclaimed, t0).await.unwrap();
    assert_eq!(
        ledger.claim(&unclaimed, t0, LEASE).await.unwrap(),
        Claim::Settled
    );
}

pub async fn concurrent_claims_have_one_winner(ledger: &dyn ReminderLedger) {
    let key = reminder_key();
    let t0 = now_ms();
    let claims = join_all((0..10).map(|_| ledger.claim(&key, t0, LEASE))).await;
    let claims: Vec<Claim> = claims.into_iter().map(Result::unwrap).collect();
    let won = claims.iter().filter(|c| **c == Claim::Claimed).count();
    assert_eq!(won, 1, "{claims:?}");
    for claim in claims {
        assert!(
            matches!(claim, Claim::Claimed)
                || claim
                    == Claim::Held {
                        until: lease_end(t0)
                    },
            "{claim:?}"
        );
    }
}

pub async fn reminder_keys_are_independent(ledger: &dyn ReminderLedger) {
    let key = reminder_key();
    let t0 = now_ms();
    assert_eq!(ledger.claim(&key, t0, LEASE).await.unwrap(), Claim::Claimed);
    let other_device = ReminderKey {
        token: token(163),
        ..key.clone()
    };
    let other_date = ReminderKey {
        festival_date: key.festival_date + Duration::days(1),
        ..key.clone()
    };
    let other_reservation = ReminderKey {
        reservation_id: unique(),
        ..key.clone()
    };
    // A token that only extends the first one is a different device.
    let longer_token = ReminderKey {
        token: format!("{}x", key.token),
        ..key.clone()
    };
    let others = [other_device, other_date, other_reservation, longer_token];
    for other in &others {
        assert_eq!(
            ledger.claim(other, t0, LEASE).await.unwrap(),
            Claim::Claimed
        );
    }
    ledger.settle(&others[0], t0).await.unwrap();
    ledger.release(&others[1]).await.unwrap();
    assert_eq!(
        ledger.claim(&key, t0, LEASE).await.unwrap(),
        Claim::Held {
            until: lease_end(t0)
        }
    );
    assert_eq!(
        ledger.claim(&others[0], t0, LEASE).await.unwrap(),
        Claim::Settled
    );
    assert_eq!(
        ledger.claim(&others[1], t0, LEASE).await.unwrap(),
        Claim::Claimed
    );
    assert_eq!(
        ledger.claim(&others[2], t0, LEASE).await.unwrap(),
        Claim::Held {
            until: lease_end(t0)
        }
    );
}
