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
                session_round_trip,
                rotate_refresh_races_and_revocation,
                revoke_session,
                revoke_all_sessions_of_one_user,
                festival_create_and_get,
                get_festivals_keeps_order_and_skips_missing,
                list_festivals_newest_first_with_paging,
            ],
            search: [
                postings_order_bounds_and_limits,
                add_postings_for_many_grams,
                one_festival_has_one_signature_in_every_list,
            ],
        }
    };
}

use chrono::{DateTime, Duration, NaiveDate, Utc};
use festa::error::AppError;
use festa::model::{Account, AccountStatus, Festival, PendingConfirmation, Session, TicketStock};
use festa::ports::{
    AccountStore, FestivalStore, GramSignature, Posting, PostingBound, SearchIndex, SessionStore,
};
use futures_util::future::join_all;
use ulid::Ulid;

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
        codes_sent: 2,
        window_started_at: now() - Duration::hours(1),
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
    assert!(matches!(err, AppError::TooManyAttempts), "got {err:?}");
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
        .all(|e| matches!(e, AppError::TooManyAttempts)));
    let account = store.get_account(&email).await.unwrap().unwrap();
    assert_eq!(account.confirmation.unwrap().failed_attempts, 5);
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
