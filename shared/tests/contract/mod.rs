//! The per-port contract suite: every case runs against the in-memory adapters
//! (`contract_memory.rs`) and the production ones (`contract_dynamodb.rs`), so the two cannot
//! drift apart.
//!
//! Cases use fresh ULID-based e-mail addresses, festival ids and grams, and assert only about
//! what they wrote, so they can run concurrently against one long-lived store.

/// Every contract case, named once: each adapter's test file passes its own `cases!` macro,
/// so the in-memory and real suites run the same list and cannot drift apart.
macro_rules! all_cases {
    ($cases:ident) => {
        $cases! {
            records: [
                account_round_trip,
                email_taken_when_confirmed_replaced_when_unconfirmed,
                code_attempts_are_reserved_up_to_the_limit,
                mark_confirmed_needs_the_live_code,
                concurrent_attempts_never_pass_the_limit,
                renew_code_keeps_the_sign_up,
                reset_codes_for_pending_and_confirmed_accounts,
                reset_attempts_are_reserved_up_to_the_limit,
                rate_limit_counts_up_to_the_limit_per_window,
                rate_limit_undo_and_clear,
                concurrent_hits_never_pass_the_limit,
                session_round_trip,
                rotate_refresh_races_and_revocation,
                revoke_session,
                revoke_all_sessions_of_one_user,
                festival_create_and_get,
                get_festivals_keeps_order_and_skips_missing,
                list_festivals_newest_first_with_paging,
                calendar_lists_each_ticketed_date,
            ],
            search: [
                postings_order_bounds_and_limits,
                add_postings_for_many_grams,
                one_festival_has_one_signature_in_every_list,
            ],
            reservations: [
                book_takes_stock_and_lists_newest_first,
                sold_out_when_fewer_remain_than_asked,
                one_active_reservation_per_user_and_date,
                idempotency_key_records_what_it_booked,
                cancel_returns_stock_once,
                a_repeated_booking_is_confirmed_once,
                concurrent_bookings_never_oversell,
                concurrent_cancels_return_stock_once,
                roster_pages_confirmed_reservations_in_id_order,
            ],
            devices: [
                devices_move_to_their_latest_owner,
                forget_removes_a_token_from_whoever_owns_it,
                activating_again_keeps_one_device,
                concurrent_activations_leave_one_owner,
            ],
            ledger: [
                claims_hold_until_settled_released_or_lapsed,
                concurrent_claims_have_one_winner,
                reminder_keys_are_independent,
            ],
        }
    };
}

use chrono::{DateTime, Duration, NaiveDate, Utc};
use festa::error::AppError;
use festa::model::{
    Account, AccountStatus, BookingRequest, Festival, PendingConfirmation, Reservation,
    ReservationStatus, Session, TicketStock,
};
use festa::ports::{
    AccountStore, Booking, Cancellation, FestivalStore, GramSignature, Hit, IdempotentBooking,
    Posting, PostingBound, RateLimits, ReservationStore, SearchIndex, SessionStore,
};
use futures_util::future::join_all;
use futures_util::stream::{self, StreamExt};
use ulid::Ulid;

mod reminders;
pub use reminders::*;

// ---------------------------------------------------------------------------------------------
// Fixtures

fn unique() -> String {
    Ulid::generate().to_string()
}

fn unique_email() -> String {
    format!("{}@contract.festa.test", unique().to_lowercase())
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn pending(failed_attempts: u32) -> PendingConfirmation {
    PendingConfirmation {
        code_hash: format!("code-hash-{}", unique()),
        expires_at: now() + Duration::minutes(10),
        failed_attempts,
    }
}

fn unconfirmed(email: &str, name: &str) -> Account {
    Account {
        user_id: unique(),
        email: email.to_string(),
        name: name.to_string(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_string(),
        status: AccountStatus::Unconfirmed,
        created_at: now(),
        confirmation: Some(pending(0)),
        password_reset: None,
    }
}

fn session(email: &str) -> Session {
    Session {
        session_id: unique(),
        user_id: unique(),
        email: email.to_string(),
        name: "Contract Tester".to_string(),
        refresh_hash: format!("refresh-{}", unique()),
        spent_hashes: Vec::new(),
        revoked: false,
        created_at: now(),
        expires_at: now() + Duration::days(14),
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A festival over `days` dates from 2026-10-30 (crossing a month end), with stock that
/// differs per date so a mixed-up date shows.
fn festival(festival_id: &str, days: u32) -> Festival {
    let start = date(2026, 10, 30);
    let tickets: Vec<TicketStock> = start
        .iter_days()
        .take(days as usize)
        .enumerate()
        .map(|(i, date)| TicketStock {
            date,
            total: 1000 + i as u32,
            remaining: 900 - i as u32,
        })
        .collect();
    Festival {
        festival_id: festival_id.to_string(),
        name: format!("서울 재즈 페스티벌 {festival_id}"),
        description: "Three days of jazz by the river.\nBring a blanket.".to_string(),
        location: "Olympic Park, Seoul".to_string(),
        start_date: start,
        end_date: tickets.last().map(|t| t.date).unwrap_or(start),
        time_zone: "Asia/Seoul".to_string(),
        price: 129_000,
        image_url: Some(format!("https://img.festa.test/{festival_id}.jpg")),
        chat_room_id: unique(),
        tickets,
        created_at: now(),
    }
}

fn ids(festivals: &[Festival]) -> Vec<&str> {
    festivals.iter().map(|f| f.festival_id.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// AccountStore

pub async fn account_round_trip(store: &dyn AccountStore) {
    let email = unique_email();
    assert_eq!(store.get_account(&email).await.unwrap(), None);

    let account = unconfirmed(&email, "Kim Minji");
    store.put_unconfirmed(&account, None).await.unwrap();
    assert_eq!(store.get_account(&email).await.unwrap(), Some(account));

    // Another address is untouched.
    assert_eq!(store.get_account(&unique_email()).await.unwrap(), None);
}

fn code_hash(account: &Account) -> &str {
    &account.confirmation.as_ref().unwrap().code_hash
}

pub async fn email_taken_when_confirmed_replaced_when_unconfirmed(store: &dyn AccountStore) {
    let email = unique_email();
    let first = unconfirmed(&email, "first");
    store.put_unconfirmed(&first, None).await.unwrap();
    // A new address that is not new any more is taken.
    let err = store
        .put_unconfirmed(&unconfirmed(&email, "racer"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::EmailTaken), "got {err:?}");

    // The pending sign-up is replaced when named by its code (new user id, code and name)...
    let second = unconfirmed(&email, "second");
    store
        .put_unconfirmed(&second, Some(code_hash(&first)))
        .await
        .unwrap();
    assert_eq!(
        store.get_account(&email).await.unwrap(),
        Some(second.clone())
    );
    // ...and only then: a stale code means another sign-up came between.
    let err = store
        .put_unconfirmed(&unconfirmed(&email, "stale"), Some(code_hash(&first)))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::EmailTaken), "got {err:?}");

    // A confirmed holder keeps the address.
    store
        .mark_confirmed(&email, code_hash(&second), now())
        .await
        .unwrap();
    let third = unconfirmed(&email, "third");
    for replaces in [None, Some(code_hash(&second))] {
        let err = store.put_unconfirmed(&third, replaces).await.unwrap_err();
        assert!(matches!(err, AppError::EmailTaken), "got {err:?}");
    }
    let kept = store.get_account(&email).await.unwrap().unwrap();
    assert_eq!(kept.name, "second");
    assert_eq!(kept.user_id, second.user_id);
    assert_eq!(kept.status, AccountStatus::Confirmed);
}

pub async fn code_attempts_are_reserved_up_to_the_limit(store: &dyn AccountStore) {
    let email = unique_email();
    let account = unconfirmed(&email, "Counter");
    store.put_unconfirmed(&account, None).await.unwrap();
    for expected in 1..=3 {
        assert_eq!(
            store.reserve_code_attempt(&email, 3).await.unwrap(),
            expected
        );
    }
    let err = store.reserve_code_attempt(&email, 3).await.unwrap_err();
    assert!(
        matches!(err, AppError::TooManyAttempts { .. }),
        "got {err:?}"
    );
    let stored = store.get_account(&email).await.unwrap().unwrap();
    assert_eq!(stored.confirmation.unwrap().failed_attempts, 3);

    // A new code starts the count again.
    let fresh = unconfirmed(&email, "Counter");
    store
        .put_unconfirmed(&fresh, Some(code_hash(&account)))
        .await
        .unwrap();
    assert_eq!(store.reserve_code_attempt(&email, 3).await.unwrap(), 1);

    // No account, or no pending code: a mismatch, and nothing is created.
    let nobody = unique_email();
    let err = store.reserve_code_attempt(&nobody, 3).await.unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "got {err:?}");
    assert_eq!(store.get_account(&nobody).await.unwrap(), None);

    store
        .mark_confirmed(&email, code_hash(&fresh), now())
        .await
        .unwrap();
    let err = store.reserve_code_attempt(&email, 3).await.unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "got {err:?}");
}

pub async fn mark_confirmed_needs_the_live_code(store: &dyn AccountStore) {
    let email = unique_email();
    let account = unconfirmed(&email, "Lee Jieun");
    store.put_unconfirmed(&account, None).await.unwrap();
    store.reserve_code_attempt(&email, 5).await.unwrap();

    // A code that is not the pending one confirms nothing.
    let err = store
        .mark_confirmed(&email, "another-code", now())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "got {err:?}");
    assert_eq!(
        store.get_account(&email).await.unwrap().unwrap().status,
        AccountStatus::Unconfirmed
    );

    store
        .mark_confirmed(&email, code_hash(&account), now())
        .await
        .unwrap();
    let confirmed = store.get_account(&email).await.unwrap().unwrap();
    assert_eq!(
        confirmed,
        Account {
            status: AccountStatus::Confirmed,
            confirmation: None,
            ..account.clone()
        }
    );
    // Confirming twice, or an unknown address, is a mismatch.
    let err = store
        .mark_confirmed(&email, code_hash(&account), now())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "got {err:?}");
    let err = store
        .mark_confirmed(&unique_email(), "x", now())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "got {err:?}");
}

pub async fn concurrent_attempts_never_pass_the_limit(store: &dyn AccountStore) {
    let email = unique_email();
    store
        .put_unconfirmed(&unconfirmed(&email, "Racer"), None)
        .await
        .unwrap();
    let results = join_all((0..20).map(|_| store.reserve_code_attempt(&email, 5))).await;
    let mut granted: Vec<u32> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    granted.sort_unstable();
    assert_eq!(granted, (1..=5).collect::<Vec<u32>>());
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| matches!(e, AppError::TooManyAttempts { .. })));
    let account = store.get_account(&email).await.unwrap().unwrap();
    assert_eq!(account.confirmation.unwrap().failed_attempts, 5);
}

pub async fn renew_code_keeps_the_sign_up(store: &dyn AccountStore) {
    let email = unique_email();
    let account = unconfirmed(&email, "Park Seo");
    store.put_unconfirmed(&account, None).await.unwrap();
    store.reserve_code_attempt(&email, 5).await.unwrap();
    let fresh = pending(0);
    store
        .renew_code(&email, code_hash(&account), &fresh)
        .await
        .unwrap();
    // Only the code changed, and its attempts start again.
    assert_eq!(
        store.get_account(&email).await.unwrap(),
        Some(Account {
            confirmation: Some(fresh.clone()),
            ..account.clone()
        })
    );
    // The old code names nothing any more; neither does a confirmed account or no account.
    let err = store
        .renew_code(&email, code_hash(&account), &pending(0))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "got {err:?}");
    store
        .mark_confirmed(&email, &fresh.code_hash, now())
        .await
        .unwrap();
    let err = store
        .renew_code(&email, &fresh.code_hash, &pending(0))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "got {err:?}");
    let confirmed = store.get_account(&email).await.unwrap().unwrap();
    assert_eq!(confirmed.status, AccountStatus::Confirmed);
    let nobody = unique_email();
    let err = store
        .renew_code(&nobody, "x", &pending(0))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "got {err:?}");
    assert_eq!(store.get_account(&nobody).await.unwrap(), None);
}

pub async fn reset_codes_for_pending_and_confirmed_accounts(store: &dyn AccountStore) {
    // No account: nothing stored.
    let nobody = unique_email();
    assert!(!store.put_reset_code(&nobody, &pending(0)).await.unwrap());
    assert_eq!(store.get_account(&nobody).await.unwrap(), None);

    // A pending account: the reset replaces the password, confirms it and forgets both codes.
    let email = unique_email();
    let account = unconfirmed(&email, "Pending Owner");
    store.put_unconfirmed(&account, None).await.unwrap();
    let first = pending(0);
    assert!(store.put_reset_code(&email, &first).await.unwrap());
    let second = pending(0);
    assert!(store.put_reset_code(&email, &second).await.unwrap());
    let stored = store.get_account(&email).await.unwrap().unwrap();
    assert_eq!(stored.password_reset, Some(second.clone()));
    assert_eq!(stored.confirmation, account.confirmation);
    // The replaced code resets nothing.
    let err = store
        .reset_password(&email, &first.code_hash, "new-hash", now())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "got {err:?}");
    assert_eq!(
        store
            .get_account(&email)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        account.password_hash
    );
    store
        .reset_password(&email, &second.code_hash, "new-hash", now())
        .await
        .unwrap();
    assert_eq!(
        store.get_account(&email).await.unwrap(),
        Some(Account {
            password_hash: "new-hash".into(),
            status: AccountStatus::Confirmed,
            confirmation: None,
            password_reset: None,
            ..account.clone()
        })
    );
    // A code is used once.
    let err = store
        .reset_password(&email, &second.code_hash, "again", now())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "got {err:?}");

    // A confirmed account keeps its other fields through a reset.
    let third = pending(0);
    assert!(store.put_reset_code(&email, &third).await.unwrap());
    store
        .reset_password(&email, &third.code_hash, "newer-hash", now())
        .await
        .unwrap();
    let after = store.get_account(&email).await.unwrap().unwrap();
    assert_eq!(after.password_hash, "newer-hash");
    assert_eq!(after.user_id, account.user_id);
    assert_eq!(after.status, AccountStatus::Confirmed);
    assert_eq!(after.password_reset, None);
}

pub async fn reset_attempts_are_reserved_up_to_the_limit(store: &dyn AccountStore) {
    let email = unique_email();
    let account = unconfirmed(&email, "Guessed");
    store.put_unconfirmed(&account, None).await.unwrap();
    // No reset code yet: a mismatch, and the sign-up's attempts are untouched.
    let err = store.reserve_reset_attempt(&email, 3).await.unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "got {err:?}");
    store.put_reset_code(&email, &pending(0)).await.unwrap();
    let results = join_all((0..10).map(|_| store.reserve_reset_attempt(&email, 3))).await;
    let mut granted: Vec<u32> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    granted.sort_unstable();
    assert_eq!(granted, vec![1, 2, 3]);
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| matches!(e, AppError::TooManyAttempts { .. })));
    let stored = store.get_account(&email).await.unwrap().unwrap();
    assert_eq!(stored.password_reset.unwrap().failed_attempts, 3);
    assert_eq!(stored.confirmation.unwrap().failed_attempts, 0);
    // A new reset code starts the count again.
    store.put_reset_code(&email, &pending(0)).await.unwrap();
    assert_eq!(store.reserve_reset_attempt(&email, 3).await.unwrap(), 1);
    let err = store
        .reserve_reset_attempt(&unique_email(), 3)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "got {err:?}");
}

// ---------------------------------------------------------------------------------------------
// RateLimits

/// A whole second, so stores that keep milliseconds give back the same instant.
fn second() -> DateTime<Utc> {
    DateTime::from_timestamp(now().timestamp(), 0).unwrap()
}

fn limit_key() -> String {
    format!("LOGINFAIL#{}", unique_email())
}

pub async fn rate_limit_counts_up_to_the_limit_per_window(store: &dyn RateLimits) {
    let key = limit_key();
    let start = second();
    let window = Duration::minutes(15);
    let ends = start + window;
    for count in 1..=3 {
        let at = start + Duration::seconds(i64::from(count) - 1);
        assert_eq!(
            store.hit(&key, 3, window, at).await.unwrap(),
            Hit::Counted {
                count,
                resets_at: ends
            }
        );
    }
    // Full: nothing counted, and the window's end says when to come back.
    let full = store
        .hit(&key, 3, window, start + Duration::minutes(14))
        .await
        .unwrap();
    assert_eq!(full, Hit::Limited { resets_at: ends });
    assert!(!full.counted());
    // Another key is apart.
    assert!(store
        .hit(&limit_key(), 3, window, start)
        .await
        .unwrap()
        .counted());
    // Once the window has ended, the next hit opens a new one.
    assert_eq!(
        store.hit(&key, 3, window, ends).await.unwrap(),
        Hit::Counted {
            count: 1,
            resets_at: ends + window
        }
    );
}

pub async fn rate_limit_undo_and_clear(store: &dyn RateLimits) {
    let key = limit_key();
    let start = second();
    let window = Duration::hours(24);
    store.hit(&key, 2, window, start).await.unwrap();
    store.hit(&key, 2, window, start).await.unwrap();
    assert!(!store.hit(&key, 2, window, start).await.unwrap().counted());
    // An undone event frees its place, once.
    store.undo(&key, start).await.unwrap();
    assert_eq!(
        store.hit(&key, 2, window, start).await.unwrap(),
        Hit::Counted {
            count: 2,
            resets_at: start + window
        }
    );
    store.undo(&key, start).await.unwrap();
    store.undo(&key, start).await.unwrap();
    store.undo(&key, start).await.unwrap();
    // Never below zero: two fit again, no more.
    assert!(store.hit(&key, 2, window, start).await.unwrap().counted());
    assert!(store.hit(&key, 2, window, start).await.unwrap().counted());
    assert!(!store.hit(&key, 2, window, start).await.unwrap().counted());
    // Undoing in an ended window, or an unknown key, changes nothing.
    store.undo(&key, start + window).await.unwrap();
    store.undo(&limit_key(), start).await.unwrap();
    assert!(!store.hit(&key, 2, window, start).await.unwrap().counted());
    // Clearing forgets the window.
    store.clear(&key).await.unwrap();
    store.clear(&limit_key()).await.unwrap();
    let later = start + Duration::minutes(1);
    assert_eq!(
        store.hit(&key, 2, window, later).await.unwrap(),
        Hit::Counted {
            count: 1,
            resets_at: later + window
        }
    );
}

pub async fn concurrent_hits_never_pass_the_limit(store: &dyn RateLimits) {
    let key = limit_key();
    let at = second();
    let results = join_all((0..20).map(|_| store.hit(&key, 5, Duration::minutes(15), at))).await;
    let mut counts: Vec<u32> = results
        .iter()
        .filter_map(|r| match r.as_ref().unwrap() {
            Hit::Counted { count, .. } => Some(*count),
            Hit::Limited { .. } => None,
        })
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=5).collect::<Vec<u32>>());
}

// ---------------------------------------------------------------------------------------------
// SessionStore

pub async fn session_round_trip(store: &dyn SessionStore) {
    let email = unique_email();
    let fresh = session(&email);
    assert_eq!(
        store.get_session(&email, &fresh.session_id).await.unwrap(),
        None
    );
    store.create_session(&fresh).await.unwrap();
    assert_eq!(
        store.get_session(&email, &fresh.session_id).await.unwrap(),
        Some(fresh.clone())
    );

    let used = Session {
        spent_hashes: vec!["spent-2".into(), "spent-1".into()],
        ..session(&email)
    };
    store.create_session(&used).await.unwrap();
    assert_eq!(
        store.get_session(&email, &used.session_id).await.unwrap(),
        Some(used.clone())
    );

    // A session belongs to its address.
    assert_eq!(
        store
            .get_session(&unique_email(), &fresh.session_id)
            .await
            .unwrap(),
        None
    );
}

pub async fn rotate_refresh_races_and_revocation(store: &dyn SessionStore) {
    let email = unique_email();
    let s = session(&email);
    store.create_session(&s).await.unwrap();

    let spent = vec![s.refresh_hash.clone()];
    assert!(store
        .rotate_refresh(&email, &s.session_id, &s.refresh_hash, "next-1", &spent)
        .await
        .unwrap());
    let rotated = store
        .get_session(&email, &s.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rotated.refresh_hash, "next-1");
    assert_eq!(rotated.spent_hashes, spent);
    assert_eq!(
        Session {
            refresh_hash: s.refresh_hash.clone(),
            spent_hashes: Vec::new(),
            ..rotated.clone()
        },
        s
    );

    // The old hash lost the race: nothing changes.
    assert!(!store
        .rotate_refresh(&email, &s.session_id, &s.refresh_hash, "next-x", &[])
        .await
        .unwrap());
    assert_eq!(
        store.get_session(&email, &s.session_id).await.unwrap(),
        Some(rotated.clone())
    );

    // A missing session never rotates.
    assert!(!store
        .rotate_refresh(&email, &unique(), "next-1", "next-2", &[])
        .await
        .unwrap());

    // A revoked session never rotates, even with the live hash.
    store.revoke_session(&email, &s.session_id).await.unwrap();
    assert!(!store
        .rotate_refresh(&email, &s.session_id, "next-1", "next-2", &[])
        .await
        .unwrap());
    let revoked = store
        .get_session(&email, &s.session_id)
        .await
        .unwrap()
        .unwrap();
    assert!(revoked.revoked);
    assert_eq!(revoked.refresh_hash, "next-1");
}

pub async fn revoke_session(store: &dyn SessionStore) {
    let email = unique_email();
    let s = session(&email);
    let other = session(&email);
    store.create_session(&s).await.unwrap();
    store.create_session(&other).await.unwrap();

    store.revoke_session(&email, &s.session_id).await.unwrap();
    let got = store
        .get_session(&email, &s.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        Session {
            revoked: true,
            ..s.clone()
        }
    );
    // Revoking again, or revoking what does not exist, is fine and creates nothing.
    store.revoke_session(&email, &s.session_id).await.unwrap();
    let ghost = unique();
    store.revoke_session(&email, &ghost).await.unwrap();
    assert_eq!(store.get_session(&email, &ghost).await.unwrap(), None);
    // The sibling login is untouched.
    assert_eq!(
        store.get_session(&email, &other.session_id).await.unwrap(),
        Some(other)
    );
}

pub async fn revoke_all_sessions_of_one_user(store: &dyn SessionStore) {
    let email = unique_email();
    let neighbour = unique_email();
    let mine: Vec<Session> = (0..4).map(|_| session(&email)).collect();
    for s in &mine {
        store.create_session(s).await.unwrap();
    }
    store
        .revoke_session(&email, &mine[0].session_id)
        .await
        .unwrap();
    let theirs = session(&neighbour);
    store.create_session(&theirs).await.unwrap();

    assert_eq!(store.revoke_all_sessions(&email).await.unwrap(), 3);
    for s in &mine {
        let got = store
            .get_session(&email, &s.session_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            got,
            Session {
                revoked: true,
                ..s.clone()
            }
        );
    }
    assert_eq!(
        store
            .get_session(&neighbour, &theirs.session_id)
            .await
            .unwrap(),
        Some(theirs)
    );

    assert_eq!(store.revoke_all_sessions(&email).await.unwrap(), 0);
    assert_eq!(store.revoke_all_sessions(&unique_email()).await.unwrap(), 0);
}

pub async fn revoke_all_sessions_leaves_the_account(
    store_a: &dyn AccountStore,
    store_s: &dyn SessionStore,
) {
    // Accounts and sessions share a partition in the single-table design; revoking sessions
    // must not touch (or count) the account.
    let email = unique_email();
    let account = unconfirmed(&email, "Shared Partition");
    store_a.put_unconfirmed(&account, None).await.unwrap();
    let s = session(&email);
    store_s.create_session(&s).await.unwrap();
    assert_eq!(store_s.revoke_all_sessions(&email).await.unwrap(), 1);
    assert_eq!(store_a.get_account(&email).await.unwrap(), Some(account));
}

// ---------------------------------------------------------------------------------------------
// FestivalStore

pub async fn festival_create_and_get(store: &dyn FestivalStore) {
    let f = festival(&unique(), 3);
    assert_eq!(store.get_festival(&f.festival_id).await.unwrap(), None);
    store.create_festival(&f).await.unwrap();
    assert_eq!(
        store.get_festival(&f.festival_id).await.unwrap(),
        Some(f.clone())
    );

    // Optional and empty fields survive, and a 31-day festival fits in one write.
    let plain = Festival {
        description: String::new(),
        image_url: None,
        price: 0,
        ..festival(&unique(), 31)
    };
    store.create_festival(&plain).await.unwrap();
    let got = store
        .get_festival(&plain.festival_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.tickets.len(), 31);
    assert_eq!(got, plain);

    // An id is never reused, and the original is left as it was.
    let clash = Festival {
        name: "impostor".into(),
        ..festival(&f.festival_id, 1)
    };
    assert!(store.create_festival(&clash).await.is_err());
    assert_eq!(store.get_festival(&f.festival_id).await.unwrap(), Some(f));
}

pub async fn get_festivals_keeps_order_and_skips_missing(store: &dyn FestivalStore) {
    let a = festival(&unique(), 1);
    let b = festival(&unique(), 2);
    let c = festival(&unique(), 3);
    for f in [&a, &b, &c] {
        store.create_festival(f).await.unwrap();
    }
    let asked = vec![
        c.festival_id.clone(),
        unique(),
        a.festival_id.clone(),
        b.festival_id.clone(),
        a.festival_id.clone(),
    ];
    let got = store.get_festivals(&asked, true).await.unwrap();
    assert_eq!(got, vec![c.clone(), a.clone(), b.clone(), a.clone()]);
    // Without stock: the same records, tickets left empty.
    let bare = |f: &Festival| Festival {
        tickets: Vec::new(),
        ..f.clone()
    };
    let got = store.get_festivals(&asked, false).await.unwrap();
    assert_eq!(got, vec![bare(&c), bare(&a), bare(&b), bare(&a)]);

    assert_eq!(
        store.get_festivals(&[], true).await.unwrap(),
        Vec::<Festival>::new()
    );
    assert_eq!(
        store
            .get_festivals(&[unique(), unique()], true)
            .await
            .unwrap(),
        Vec::<Festival>::new()
    );

    // More ids than one batch read takes.
    let mut many: Vec<String> = (0..130).map(|_| unique()).collect();
    many[7] = b.festival_id.clone();
    many[120] = c.festival_id.clone();
    assert_eq!(store.get_festivals(&many, true).await.unwrap(), vec![b, c]);
}

pub async fn list_festivals_newest_first_with_paging(store: &dyn FestivalStore) {
    // Ids sharing a fresh ULID prefix sort next to each other and apart from every other
    // festival in the store, so the pages below are ours alone.
    let prefix = unique();
    let mine: Vec<Festival> = (0..7)
        .map(|i| festival(&format!("{prefix}{i:02}"), (i % 3) + 1))
        .collect();
    for f in &mine {
        store.create_festival(f).await.unwrap();
    }
    let newest_first: Vec<Festival> = mine.iter().rev().cloned().collect();

    // Without a bound: the newest of the whole store, which are at least as new as ours.
    let top = store.list_festivals(None, 3).await.unwrap();
    assert_eq!(top.len(), 3);
    for (k, f) in top.iter().enumerate() {
        assert!(f.festival_id >= newest_first[k].festival_id);
        if k > 0 {
            assert!(top[k - 1].festival_id > f.festival_id, "not newest first");
        }
    }

    // Paging with `before` over more festivals than one page holds.
    let after_mine = format!("{prefix}~");
    let page1 = store.list_festivals(Some(&after_mine), 3).await.unwrap();
    assert_eq!(page1, newest_first[0..3].to_vec());
    let page2 = store
        .list_festivals(Some(&page1[2].festival_id), 3)
        .await
        .unwrap();
    assert_eq!(page2, newest_first[3..6].to_vec());
    let page3 = store
        .list_festivals(Some(&page2[2].festival_id), 3)
        .await
        .unwrap();
    assert!(!page3.is_empty() && page3.len() <= 3);
    assert_eq!(page3[0], newest_first[6]);
    assert!(
        ids(&page3).windows(2).all(|w| w[0] > w[1]),
        "not newest first"
    );

    // `before` is exclusive, and a large limit takes everything in range.
    let below_fourth = store
        .list_festivals(Some(&mine[4].festival_id), 100)
        .await
        .unwrap();
    assert_eq!(&below_fourth[..4], &newest_first[3..7]);
    assert!(!ids(&below_fourth).contains(&mine[4].festival_id.as_str()));

    assert_eq!(
        store.list_festivals(Some(&after_mine), 0).await.unwrap(),
        Vec::<Festival>::new()
    );
}

// ---------------------------------------------------------------------------------------------
// SearchIndex

/// A signature unique to `festival_id`, so a posting read back with another festival's
/// signature cannot pass.
fn signature_of(festival_id: &str, grams: &[String]) -> GramSignature {
    let mut all = grams.to_vec();
    all.push(festival_id.to_string());
    GramSignature::of(&all)
}

pub async fn postings_order_bounds_and_limits(index: &dyn SearchIndex) {
    let run = unique();
    let gram = format!("재즈{run}");
    let other = format!("jz{run}");
    let mut generator = ulid::Generator::new();
    let ids: Vec<String> = (0..6)
        .map(|_| generator.generate().unwrap().to_string())
        .collect();
    let grams = [gram.clone(), other.clone(), gram.clone()];
    let postings: Vec<Posting> = ids
        .iter()
        .map(|id| Posting {
            festival_id: id.clone(),
            signature: signature_of(id, &grams),
        })
        .collect();
    for posting in &postings {
        index
            .add_postings(&posting.festival_id, &grams, &posting.signature)
            .await
            .unwrap();
    }
    // Indexing again changes nothing.
    index
        .add_postings(&ids[2], std::slice::from_ref(&gram), &postings[2].signature)
        .await
        .unwrap();
    let desc: Vec<Posting> = postings.iter().rev().cloned().collect();
    let none = Vec::<Posting>::new();

    let all = index
        .postings(&gram, PostingBound::Newest, 100)
        .await
        .unwrap();
    assert_eq!(all, desc);
    assert_eq!(
        index
            .postings(&gram, PostingBound::Newest, 2)
            .await
            .unwrap(),
        desc[..2].to_vec()
    );
    assert_eq!(
        index
            .postings(&gram, PostingBound::AtOrBelow(&ids[3]), 10)
            .await
            .unwrap(),
        desc[2..].to_vec()
    );
    assert_eq!(
        index
            .postings(&gram, PostingBound::Below(&ids[3]), 2)
            .await
            .unwrap(),
        desc[3..5].to_vec()
    );
    assert_eq!(
        index
            .postings(&gram, PostingBound::Below(&ids[0]), 10)
            .await
            .unwrap(),
        none
    );
    // A bound that is not itself in the list seeks to the next older id.
    let between = format!("{}0", ids[4]);
    assert_eq!(
        index
            .postings(&gram, PostingBound::AtOrBelow(&between), 1)
            .await
            .unwrap(),
        vec![postings[4].clone()]
    );
    assert_eq!(
        index
            .postings(&gram, PostingBound::Newest, 0)
            .await
            .unwrap(),
        none
    );
    assert_eq!(
        index
            .postings(&other, PostingBound::Newest, 100)
            .await
            .unwrap(),
        desc
    );
    assert_eq!(
        index
            .postings(&format!("unknown{run}"), PostingBound::Newest, 10)
            .await
            .unwrap(),
        none
    );
}

pub async fn add_postings_for_many_grams(index: &dyn SearchIndex) {
    let run = unique();
    let festival_id = unique();
    let grams: Vec<String> = (0..80).map(|i| format!("{run}-{i}")).collect();
    let signature = signature_of(&festival_id, &grams);
    index
        .add_postings(&festival_id, &grams, &signature)
        .await
        .unwrap();
    index
        .add_postings(&festival_id, &[], &signature)
        .await
        .unwrap();
    let expected = vec![Posting {
        festival_id: festival_id.clone(),
        signature,
    }];
    for gram in &grams {
        assert_eq!(
            index.postings(gram, PostingBound::Newest, 5).await.unwrap(),
            expected,
            "gram {gram}"
        );
    }
}

pub async fn one_festival_has_one_signature_in_every_list(index: &dyn SearchIndex) {
    let run = unique();
    let grams = vec![format!("불꽃{run}"), format!("꽃축{run}")];
    let festival_id = unique();
    let signature = signature_of(&festival_id, &grams);
    index
        .add_postings(&festival_id, &grams, &signature)
        .await
        .unwrap();
    let expected = vec![Posting {
        festival_id,
        signature,
    }];
    let first = index
        .postings(&grams[0], PostingBound::Newest, 10)
        .await
        .unwrap();
    let second = index
        .postings(&grams[1], PostingBound::Newest, 10)
        .await
        .unwrap();
    assert_eq!(first, expected);
    assert_eq!(second, expected);
    assert_eq!(first[0].signature, second[0].signature);
}

// ---------------------------------------------------------------------------------------------
// ReservationStore
//
// Every case creates its own festival (so its stock is its own) and books for fresh e-mail
// addresses; the store is used both as `FestivalStore` (to create festivals and read live
// stock) and as `ReservationStore`.

/// A festival with one date per entry of `remaining` (from 2026-10-30), each holding that many
/// tickets of a larger total.
fn stocked_festival(remaining: &[u32]) -> Festival {
    let mut f = festival(&unique(), remaining.len() as u32);
    for (stock, &left) in f.tickets.iter_mut().zip(remaining) {
        stock.total = left + 7;
        stock.remaining = left;
    }
    f
}

fn booking_of(f: &Festival, email: &str, day: NaiveDate, quantity: u32) -> Reservation {
    Reservation {
        reservation_id: unique(),
        email: email.to_string(),
        festival_id: f.festival_id.clone(),
        festival_name: f.name.clone(),
        festival_date: day,
        quantity,
        status: ReservationStatus::Confirmed,
        created_at: now(),
    }
}

/// The live remaining count of every date of the festival, in date order.
async fn remaining<S: FestivalStore + ?Sized>(store: &S, festival_id: &str) -> Vec<u32> {
    store
        .get_festival(festival_id)
        .await
        .unwrap()
        .expect("the festival exists")
        .tickets
        .iter()
        .map(|t| t.remaining)
        .collect()
}

/// When a booking's idempotency key is not the point of the case.
fn no_key_until() -> DateTime<Utc> {
    now() + Duration::hours(24)
}

fn cancelled(r: &Reservation) -> Reservation {
    Reservation {
        status: ReservationStatus::Cancelled,
        ..r.clone()
    }
}

pub async fn book_takes_stock_and_lists_newest_first<S>(store: &S)
where
    S: FestivalStore + ReservationStore,
{
    let f = stocked_festival(&[50, 40, 30, 20, 10]);
    let g = stocked_festival(&[5]);
    store.create_festival(&f).await.unwrap();
    store.create_festival(&g).await.unwrap();
    let email = unique_email();
    // Ids from one generator rise strictly, so they are in booking order even within a
    // millisecond.
    let mut ids = ulid::Generator::new();
    let t0 = now();
    let mut mine: Vec<Reservation> = f
        .tickets
        .iter()
        .enumerate()
        .map(|(i, t)| Reservation {
            reservation_id: ids.generate().unwrap().to_string(),
            created_at: t0 + Duration::milliseconds(i as i64 * 1_001) + Duration::nanoseconds(7),
            ..booking_of(&f, &email, t.date, i as u32 % 4 + 1)
        })
        .collect();
    mine.push(Reservation {
        reservation_id: ids.generate().unwrap().to_string(),
        ..booking_of(&g, &email, g.tickets[0].date, 2)
    });
    for r in &mine {
        assert_eq!(
            store.book(r, None, no_key_until()).await.unwrap(),
            Booking::Confirmed
        );
    }

    // Each date lost exactly what was booked on it; totals do not move.
    let live = store.get_festival(&f.festival_id).await.unwrap().unwrap();
    for (i, (before, after)) in f.tickets.iter().zip(&live.tickets).enumerate() {
        assert_eq!(after.date, before.date);
        assert_eq!(after.total, before.total);
        assert_eq!(
            after.remaining,
            before.remaining - mine[i].quantity,
            "{}",
            after.date
        );
    }
    assert_eq!(remaining(store, &g.festival_id).await, vec![3]);

    // Every field round-trips, the creation time to the nanosecond.
    for r in &mine {
        assert_eq!(
            store
                .get_reservation(&email, &r.reservation_id)
                .await
                .unwrap()
                .as_ref(),
            Some(r)
        );
    }
    assert_eq!(
        store.get_reservation(&email, &unique()).await.unwrap(),
        None
    );

    // Newest first, across festivals, paged with `before`.
    let newest_first: Vec<Reservation> = mine.iter().rev().cloned().collect();
    let all = store.list_reservations(&email, None, 100).await.unwrap();
    assert_eq!(all, newest_first);
    let page1 = store.list_reservations(&email, None, 2).await.unwrap();
    assert_eq!(page1, newest_first[0..2]);
    let page2 = store
        .list_reservations(&email, Some(&page1[1].reservation_id), 2)
        .await
        .unwrap();
    assert_eq!(page2, newest_first[2..4]);
    let page3 = store
        .list_reservations(&email, Some(&page2[1].reservation_id), 5)
        .await
        .unwrap();
    assert_eq!(page3, newest_first[4..6]);
    assert_eq!(
        store
            .list_reservations(&email, Some(&newest_first[5].reservation_id), 5)
            .await
            .unwrap(),
        Vec::<Reservation>::new()
    );
    // `before` need not name a reservation of the holder's.
    let after_all = format!("{}~", newest_first[0].reservation_id);
    assert_eq!(
        store
            .list_reservations(&email, Some(&after_all), 3)
            .await
            .unwrap(),
        newest_first[0..3]
    );
    assert_eq!(
        store.list_reservations(&email, None, 0).await.unwrap(),
        Vec::<Reservation>::new()
    );

    // Another holder sees none of it.
    let other = unique_email();
    assert_eq!(
        store.list_reservations(&other, None, 100).await.unwrap(),
        Vec::<Reservation>::new()
    );
    for r in &mine {
        assert_eq!(
            store
                .get_reservation(&other, &r.reservation_id)
                .await
                .unwrap(),
            None
        );
    }
}

pub async fn sold_out_when_fewer_remain_than_asked<S>(store: &S)
where
    S: FestivalStore + ReservationStore,
{
    let f = stocked_festival(&[3, 5]);
    store.create_festival(&f).await.unwrap();
    let (day0, day1) = (f.tickets[0].date, f.tickets[1].date);
    let (a, b, c) = (unique_email(), unique_email(), unique_email());

    let too_many = booking_of(&f, &a, day0, 4);
    let err = store
        .book(&too_many, None, no_key_until())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::SoldOut), "{err:?}");
    assert_eq!(remaining(store, &f.festival_id).await, vec![3, 5]);
    // A refused booking leaves nothing behind: no reservation, no guard.
    assert_eq!(
        store
            .get_reservation(&a, &too_many.reservation_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.list_reservations(&a, None, 10).await.unwrap(),
        Vec::<Reservation>::new()
    );

    // Exactly what remains can be booked, and then nothing more.
    let all_left = booking_of(&f, &b, day0, 3);
    assert_eq!(
        store.book(&all_left, None, no_key_until()).await.unwrap(),
        Booking::Confirmed
    );
    assert_eq!(remaining(store, &f.festival_id).await, vec![0, 5]);
    let err = store
        .book(&booking_of(&f, &c, day0, 1), None, no_key_until())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::SoldOut), "{err:?}");
    assert_eq!(remaining(store, &f.festival_id).await, vec![0, 5]);

    // A date the festival does not have, and a festival that does not exist, have no stock.
    let err = store
        .book(
            &booking_of(&f, &c, date(2027, 1, 1), 1),
            None,
            no_key_until(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::SoldOut), "{err:?}");
    let ghost = stocked_festival(&[9]);
    let err = store
        .book(&booking_of(&ghost, &c, day0, 1), None, no_key_until())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::SoldOut), "{err:?}");

    // The refused holder can still book what is there.
    assert_eq!(
        store
            .book(&booking_of(&f, &a, day1, 4), None, no_key_until())
            .await
            .unwrap(),
        Booking::Confirmed
    );
    assert_eq!(remaining(store, &f.festival_id).await, vec![0, 1]);
}

pub async fn one_active_reservation_per_user_and_date<S>(store: &S)
where
    S: FestivalStore + ReservationStore,
{
    let f = stocked_festival(&[10, 10]);
    let g = stocked_festival(&[10]);
    store.create_festival(&f).await.unwrap();
    store.create_festival(&g).await.unwrap();
    let (day0, day1) = (f.tickets[0].date, f.tickets[1].date);
    let email = unique_email();

    let first = booking_of(&f, &email, day0, 1);
    assert_eq!(
        store.book(&first, None, no_key_until()).await.unwrap(),
        Booking::Confirmed
    );
    let second = booking_of(&f, &email, day0, 2);
    let err = store.book(&second, None, no_key_until()).await.unwrap_err();
    assert!(matches!(err, AppError::AlreadyReserved), "{err:?}");
    assert_eq!(remaining(store, &f.festival_id).await, vec![9, 10]);
    assert_eq!(
        store
            .get_reservation(&email, &second.reservation_id)
            .await
            .unwrap(),
        None
    );

    // Another date, the same date of another festival, and another holder are all fine.
    let other_day = booking_of(&f, &email, day1, 2);
    assert_eq!(
        store.book(&other_day, None, no_key_until()).await.unwrap(),
        Booking::Confirmed
    );
    assert_eq!(
        store
            .book(&booking_of(&g, &email, day0, 1), None, no_key_until())
            .await
            .unwrap(),
        Booking::Confirmed
    );
    assert_eq!(
        store
            .book(
                &booking_of(&f, &unique_email(), day0, 4),
                None,
                no_key_until()
            )
            .await
            .unwrap(),
        Booking::Confirmed
    );
    assert_eq!(remaining(store, &f.festival_id).await, vec![5, 8]);

    // Once cancelled, the date is free again for its holder.
    assert_eq!(
        store
            .cancel(&email, &first.reservation_id, now())
            .await
            .unwrap(),
        Some(Cancellation::Cancelled(cancelled(&first)))
    );
    assert_eq!(remaining(store, &f.festival_id).await, vec![6, 8]);
    let again = booking_of(&f, &email, day0, 3);
    assert_eq!(
        store.book(&again, None, no_key_until()).await.unwrap(),
        Booking::Confirmed
    );
    assert_eq!(remaining(store, &f.festival_id).await, vec![3, 8]);
    let err = store
        .book(&booking_of(&f, &email, day0, 1), None, no_key_until())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::AlreadyReserved), "{err:?}");
    assert_eq!(remaining(store, &f.festival_id).await, vec![3, 8]);
}

pub async fn idempotency_key_records_what_it_booked<S>(store: &S)
where
    S: FestivalStore + ReservationStore,
{
    let f = stocked_festival(&[10, 10, 10]);
    store.create_festival(&f).await.unwrap();
    let (day0, day1) = (f.tickets[0].date, f.tickets[1].date);
    let email = unique_email();
    let key = format!("key-{}", unique());
    let t0 = now();
    let lapses = t0 + Duration::minutes(10);

    let first = Reservation {
        created_at: t0,
        ..booking_of(&f, &email, day0, 2)
    };
    assert_eq!(
        store.book(&first, Some(&key), lapses).await.unwrap(),
        Booking::Confirmed
    );
    let used = IdempotentBooking {
        reservation_id: first.reservation_id.clone(),
        request: BookingRequest {
            festival_id: f.festival_id.clone(),
            festival_date: day0,
            quantity: 2,
        },
    };
    assert_eq!(
        store.idempotent_booking(&email, &key, t0).await.unwrap(),
        Some(used.clone())
    );
    assert_eq!(
        store
            .idempotent_booking(&email, &key, t0 + Duration::minutes(9))
            .await
            .unwrap(),
        Some(used.clone())
    );
    // Keys belong to their holder.
    assert_eq!(
        store
            .idempotent_booking(&unique_email(), &key, t0)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .idempotent_booking(&email, &format!("{key}-other"), t0)
            .await
            .unwrap(),
        None
    );

    // A retry with the same key books nothing, whatever it asks for.
    let retry = Reservation {
        created_at: t0 + Duration::seconds(1),
        ..booking_of(&f, &email, day0, 2)
    };
    assert_eq!(
        store.book(&retry, Some(&key), lapses).await.unwrap(),
        Booking::KeyUsed(used.clone())
    );
    let different = Reservation {
        created_at: t0 + Duration::seconds(2),
        ..booking_of(&f, &email, day1, 1)
    };
    assert_eq!(
        store.book(&different, Some(&key), lapses).await.unwrap(),
        Booking::KeyUsed(used.clone())
    );
    assert_eq!(remaining(store, &f.festival_id).await, vec![8, 10, 10]);
    for r in [&retry, &different] {
        assert_eq!(
            store
                .get_reservation(&email, &r.reservation_id)
                .await
                .unwrap(),
            None
        );
    }
    assert_eq!(
        store.list_reservations(&email, None, 10).await.unwrap(),
        vec![first.clone()]
    );

    // Another holder may use the same key.
    let stranger = unique_email();
    assert_eq!(
        store
            .book(
                &Reservation {
                    created_at: t0,
                    ..booking_of(&f, &stranger, day0, 1)
                },
                Some(&key),
                lapses,
            )
            .await
            .unwrap(),
        Booking::Confirmed
    );
    assert_eq!(remaining(store, &f.festival_id).await, vec![7, 10, 10]);

    // Once lapsed, the key is forgotten and may book again.
    let later = t0 + Duration::minutes(11);
    assert_eq!(
        store.idempotent_booking(&email, &key, later).await.unwrap(),
        None
    );
    let reused = Reservation {
        created_at: later,
        ..booking_of(&f, &email, day1, 3)
    };
    assert_eq!(
        store
            .book(&reused, Some(&key), later + Duration::minutes(10))
            .await
            .unwrap(),
        Booking::Confirmed
    );
    assert_eq!(
        store.idempotent_booking(&email, &key, later).await.unwrap(),
        Some(IdempotentBooking {
            reservation_id: reused.reservation_id.clone(),
            request: BookingRequest {
                festival_id: f.festival_id.clone(),
                festival_date: day1,
                quantity: 3,
            },
        })
    );
    assert_eq!(remaining(store, &f.festival_id).await, vec![7, 7, 10]);

    // Retries racing with one key: one books, the others learn what it booked.
    let day2 = f.tickets[2].date;
    let raced = format!("key-{}", unique());
    let attempts: Vec<Reservation> = (0..5)
        .map(|_| Reservation {
            created_at: later,
            ..booking_of(&f, &email, day2, 1)
        })
        .collect();
    let outcomes = join_all(
        attempts
            .iter()
            .map(|r| store.book(r, Some(&raced), later + Duration::minutes(10))),
    )
    .await;
    let winners: Vec<&Reservation> = attempts
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| matches!(o, Ok(Booking::Confirmed)))
        .map(|(r, _)| r)
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let won = IdempotentBooking {
        reservation_id: winners[0].reservation_id.clone(),
        request: BookingRequest {
            festival_id: f.festival_id.clone(),
            festival_date: day2,
            quantity: 1,
        },
    };
    for outcome in outcomes {
        match outcome.unwrap() {
            Booking::Confirmed => {}
            Booking::KeyUsed(used) => assert_eq!(used, won),
        }
    }
    assert_eq!(remaining(store, &f.festival_id).await, vec![7, 7, 9]);
}

pub async fn cancel_returns_stock_once<S>(store: &S)
where
    S: FestivalStore + ReservationStore,
{
    let f = stocked_festival(&[10]);
    store.create_festival(&f).await.unwrap();
    let email = unique_email();
    let r = booking_of(&f, &email, f.tickets[0].date, 3);
    assert_eq!(
        store.book(&r, None, no_key_until()).await.unwrap(),
        Booking::Confirmed
    );
    assert_eq!(remaining(store, &f.festival_id).await, vec![7]);

    // Only the holder can cancel, and only what exists.
    assert_eq!(
        store
            .cancel(&unique_email(), &r.reservation_id, now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.cancel(&email, &unique(), now()).await.unwrap(), None);
    assert_eq!(remaining(store, &f.festival_id).await, vec![7]);
    assert_eq!(
        store
            .get_reservation(&email, &r.reservation_id)
            .await
            .unwrap(),
        Some(r.clone())
    );

    let expected = cancelled(&r);
    assert_eq!(
        store
            .cancel(&email, &r.reservation_id, now())
            .await
            .unwrap(),
        Some(Cancellation::Cancelled(expected.clone()))
    );
    assert_eq!(remaining(store, &f.festival_id).await, vec![10]);
    assert_eq!(
        store
            .get_reservation(&email, &r.reservation_id)
            .await
            .unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store.list_reservations(&email, None, 10).await.unwrap(),
        vec![expected.clone()]
    );

    // Again: nothing changes.
    assert_eq!(
        store
            .cancel(&email, &r.reservation_id, now())
            .await
            .unwrap(),
        Some(Cancellation::AlreadyCancelled(expected.clone()))
    );
    assert_eq!(remaining(store, &f.festival_id).await, vec![10]);
}

/// The same booking sent again, as an SDK retries a call whose answer was lost after it
/// committed (DynamoDB's `ClientRequestToken` makes that a success; an emulator that ignores
/// the token refuses it on the guard or the key): it is confirmed, and takes stock once.
pub async fn a_repeated_booking_is_confirmed_once<S>(store: &S)
where
    S: FestivalStore + ReservationStore,
{
    let f = stocked_festival(&[10, 10]);
    store.create_festival(&f).await.unwrap();
    let (day0, day1) = (f.tickets[0].date, f.tickets[1].date);
    let email = unique_email();

    let plain = booking_of(&f, &email, day0, 1);
    for _ in 0..2 {
        assert_eq!(
            store.book(&plain, None, no_key_until()).await.unwrap(),
            Booking::Confirmed
        );
    }
    let key = format!("key-{}", unique());
    let keyed = booking_of(&f, &email, day1, 2);
    for _ in 0..2 {
        assert_eq!(
            store
                .book(&keyed, Some(&key), no_key_until())
                .await
                .unwrap(),
            Booking::Confirmed
        );
    }
    assert_eq!(remaining(store, &f.festival_id).await, vec![9, 8]);
    assert_eq!(
        store
            .list_reservations(&email, None, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .idempotent_booking(&email, &key, now())
            .await
            .unwrap()
            .map(|used| used.reservation_id),
        Some(keyed.reservation_id.clone())
    );

    // Another booking of a held date is still refused, with or without a key.
    let second = booking_of(&f, &email, day0, 1);
    let err = store.book(&second, None, no_key_until()).await.unwrap_err();
    assert!(matches!(err, AppError::AlreadyReserved), "{err:?}");
    let err = store
        .book(&second, Some(&format!("{key}-2")), no_key_until())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::AlreadyReserved), "{err:?}");

    // Once cancelled, the same reservation sent again books nothing.
    store
        .cancel(&email, &plain.reservation_id, now())
        .await
        .unwrap();
    assert_eq!(remaining(store, &f.festival_id).await, vec![10, 8]);
    assert!(store.book(&plain, None, no_key_until()).await.is_err());
    assert_eq!(remaining(store, &f.festival_id).await, vec![10, 8]);
    assert_eq!(
        store
            .get_reservation(&email, &plain.reservation_id)
            .await
            .unwrap()
            .map(|r| r.status),
        Some(ReservationStatus::Cancelled)
    );
}

/// Tickets of the rush date, and how many different users rush for them.
const RUSH_TICKETS: u32 = 100;
const RUSH_USERS: usize = 1_000;

pub async fn concurrent_bookings_never_oversell<S>(store: &S)
where
    S: FestivalStore + ReservationStore,
{
    let f = stocked_festival(&[RUSH_TICKETS, 20]);
    store.create_festival(&f).await.unwrap();
    let day = f.tickets[0].date;
    let rush: Vec<Reservation> = (0..RUSH_USERS)
        .map(|_| booking_of(&f, &unique_email(), day, 1))
        .collect();

    // All at once, each with its holder's own idempotency key as a real request carries.
    let started = std::time::Instant::now();
    let outcomes = join_all(
        rush.iter()
            .map(|r| store.book(r, Some("rush"), no_key_until())),
    )
    .await;
    let took = started.elapsed();
    eprintln!(
        "concurrent_bookings_never_oversell: {RUSH_USERS} concurrent bookings took {took:.2?}"
    );

    let mut confirmed = Vec::new();
    let mut sold_out = Vec::new();
    for (r, outcome) in rush.iter().zip(outcomes) {
        match outcome {
            Ok(Booking::Confirmed) => confirmed.push(r),
            Err(AppError::SoldOut) => sold_out.push(r),
            other => panic!("unexpected booking outcome {other:?}"),
        }
    }
    assert_eq!(confirmed.len(), RUSH_TICKETS as usize);
    assert_eq!(sold_out.len(), RUSH_USERS - RUSH_TICKETS as usize);
    assert_eq!(remaining(store, &f.festival_id).await, vec![0, 20]);

    // What is stored matches the answers: the winners hold the tickets, the losers nothing.
    let confirmed = &confirmed;
    let stored: Vec<(bool, Option<Reservation>)> = stream::iter(&rush)
        .map(|r| async move {
            let found = store
                .get_reservation(&r.email, &r.reservation_id)
                .await
                .unwrap();
            (confirmed.contains(&r), found)
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let mut held = 0;
    for (won, found) in stored {
        match (won, found) {
            (true, Some(found)) => {
                assert_eq!(found.status, ReservationStatus::Confirmed);
                held += found.quantity;
            }
            (false, None) => {}
            (won, found) => panic!("confirmed={won} but stored {found:?}"),
        }
    }
    assert_eq!(held, RUSH_TICKETS);
}

pub async fn concurrent_cancels_return_stock_once<S>(store: &S)
where
    S: FestivalStore + ReservationStore,
{
    let f = stocked_festival(&[10]);
    store.create_festival(&f).await.unwrap();
    let day = f.tickets[0].date;
    let held: Vec<Reservation> = (0..5)
        .map(|_| booking_of(&f, &unique_email(), day, 2))
        .collect();
    for r in &held {
        assert_eq!(
            store.book(r, None, no_key_until()).await.unwrap(),
            Booking::Confirmed
        );
    }
    assert_eq!(remaining(store, &f.festival_id).await, vec![0]);

    // Two cancellations of each reservation, all at once.
    let at = now();
    let outcomes = join_all(held.iter().map(|r| async move {
        let (a, b) = tokio::join!(
            store.cancel(&r.email, &r.reservation_id, at),
            store.cancel(&r.email, &r.reservation_id, at),
        );
        (r, a.unwrap(), b.unwrap())
    }))
    .await;
    for (r, a, b) in outcomes {
        let expected = cancelled(r);
        let mut got = [a, b];
        got.sort_by_key(|c| matches!(c, Some(Cancellation::AlreadyCancelled(_))));
        assert_eq!(
            got,
            [
                Some(Cancellation::Cancelled(expected.clone())),
                Some(Cancellation::AlreadyCancelled(expected)),
            ],
            "{}",
            r.reservation_id
        );
    }
    assert_eq!(remaining(store, &f.festival_id).await, vec![10]);
}
