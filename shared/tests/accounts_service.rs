//! The account rules end to end through the in-memory adapters, with a clock we control.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use festa::adapters::memory::{ManualClock, MemoryPresence, MemoryRecords, RecordedEvictions};
use festa::adapters::outbox::Outbox;
use festa::adapters::system::RandomIds;
use festa::model::Role;
use festa::ports::{Clock, RoomPresence};
use festa::services::accounts::{
    authenticate, Accounts, ConfirmRequest, LoginRequest, RefreshRequest, SignupRequest,
};
use festa::services::tokens::TokenKeys;
use festa::AppError;

struct World {
    accounts: Accounts,
    outbox: Arc<Outbox>,
    clock: Arc<ManualClock>,
    /// The chat presence sign-out evicts from, and what it closed.
    presence: Arc<MemoryPresence>,
    evictions: Arc<RecordedEvictions>,
}

fn world() -> World {
    let records = Arc::new(MemoryRecords::new());
    let outbox = Arc::new(Outbox::new());
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap(),
    ));
    let presence = Arc::new(MemoryPresence::new());
    let evictions = Arc::new(RecordedEvictions::new(presence.clone()));
    let accounts = Accounts {
        accounts: records.clone(),
        sessions: records,
        mailer: outbox.clone(),
        clock: clock.clone(),
        ids: Arc::new(RandomIds::default()),
        keys: Some(festa::prefetch::Prefetched::ready(
            TokenKeys::from_secret(&[42u8; 32]).unwrap(),
        )),
        admins: Arc::new(HashSet::from(["boss@festa.io".to_string()])),
        eviction: evictions.clone(),
    };
    World {
        accounts,
        outbox,
        clock,
        presence,
        evictions,
    }
}

fn signup(email: &str) -> SignupRequest {
    SignupRequest {
        email: email.into(),
        password: "correct horse".into(),
        name: "김철수".into(),
    }
}

fn code_for(outbox: &Outbox, email: &str) -> String {
    let body = &outbox.mails(Some(email))[0].body;
    let at = body.find("code is ").expect("mail names the code") + "code is ".len();
    body[at..at + 6].to_string()
}

fn wrong_code(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

#[tokio::test]
async fn a_code_expires_after_24_hours() {
    let w = world();
    w.accounts.signup(signup("late@festa.io")).await.unwrap();
    let code = code_for(&w.outbox, "late@festa.io");
    w.clock.advance(Duration::hours(24));
    let err = w
        .accounts
        .confirm(ConfirmRequest {
            email: "late@festa.io".into(),
            code,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::CodeExpired), "{err:?}");
    // Signing up again mails a fresh code that works.
    w.accounts.signup(signup("late@festa.io")).await.unwrap();
    let code = code_for(&w.outbox, "late@festa.io");
    w.accounts
        .confirm(ConfirmRequest {
            email: "late@festa.io".into(),
            code,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn five_wrong_codes_lock_even_the_right_one() {
    let w = world();
    w.accounts.signup(signup("typo@festa.io")).await.unwrap();
    let code = code_for(&w.outbox, "typo@festa.io");
    for _ in 0..5 {
        let err = w
            .accounts
            .confirm(ConfirmRequest {
                email: "typo@festa.io".into(),
                code: wrong_code(&code),
            })
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::CodeMismatch), "{err:?}");
    }
    let err = w
        .accounts
        .confirm(ConfirmRequest {
            email: "typo@festa.io".into(),
            code,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::TooManyAttempts { .. }), "{err:?}");
    assert_eq!(err.status(), 429);
}

#[tokio::test]
async fn refresh_rotates_and_a_replayed_token_ends_the_login() {
    let w = world();
    w.accounts.signup(signup("boss@festa.io")).await.unwrap();
    let code = code_for(&w.outbox, "boss@festa.io");
    w.accounts
        .confirm(ConfirmRequest {
            email: "Boss@Festa.io".into(),
            code,
        })
        .await
        .unwrap();
    let first = w
        .accounts
        .login(LoginRequest {
            email: "boss@festa.io".into(),
            password: "correct horse".into(),
        })
        .await
        .unwrap();
    let bearer = |t: &str| format!("Bearer {t}");
    let me = authenticate(
        w.accounts.token_keys().await.unwrap(),
        w.accounts.sessions.as_ref(),
        w.clock.as_ref(),
        Some(&bearer(&first.access_token)),
    )
    .await
    .unwrap();
    assert_eq!(me.role, Role::Admin);

    let second = w
        .accounts
        .refresh(RefreshRequest {
            refresh_token: first.refresh_token.clone(),
        })
        .await
        .unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    // Replaying the spent token is refused and revokes the login: the new pair dies too.
    assert!(w
        .accounts
        .refresh(RefreshRequest {
            refresh_token: first.refresh_token
        })
        .await
        .is_err());
    assert!(w
        .accounts
        .refresh(RefreshRequest {
            refresh_token: second.refresh_token
        })
        .await
        .is_err());
    let err = authenticate(
        w.accounts.token_keys().await.unwrap(),
        w.accounts.sessions.as_ref(),
        w.clock.as_ref(),
        Some(&bearer(&second.access_token)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), 401);
}

#[tokio::test]
async fn access_tokens_expire_after_15_minutes_and_signout_ends_every_login() {
    let w = world();
    w.accounts.signup(signup("fan@festa.io")).await.unwrap();
    let code = code_for(&w.outbox, "fan@festa.io");
    w.accounts
        .confirm(ConfirmRequest {
            email: "fan@festa.io".into(),
            code,
        })
        .await
        .unwrap();
    let login = || {
        w.accounts.login(LoginRequest {
            email: "fan@festa.io".into(),
            password: "correct horse".into(),
        })
    };
    let (phone, laptop) = (login().await.unwrap(), login().await.unwrap());
    let check = |t: String| {
        let header = format!("Bearer {t}");
        let w = &w;
        async move {
            authenticate(
                w.accounts.token_keys().await.unwrap(),
                w.accounts.sessions.as_ref(),
                w.clock.as_ref(),
                Some(&header),
            )
            .await
        }
    };
    let me = check(phone.access_token.clone()).await.unwrap();
    assert_eq!(me.role, Role::User);
    w.clock.advance(Duration::minutes(15));
    assert!(check(phone.access_token.clone()).await.is_err());
    let fresh = w
        .accounts
        .refresh(RefreshRequest {
            refresh_token: phone.refresh_token,
        })
        .await
        .unwrap();
    let me = check(fresh.access_token.clone()).await.unwrap();
    w.accounts.signout(&me).await.unwrap();
    assert!(check(fresh.access_token).await.is_err());
    assert!(w
        .accounts
        .refresh(RefreshRequest {
            refresh_token: laptop.refresh_token
        })
        .await
        .is_err());
}

#[tokio::test]
async fn unknown_addresses_and_wrong_passwords_look_the_same() {
    let w = world();
    w.accounts.signup(signup("real@festa.io")).await.unwrap();
    let unconfirmed = w
        .accounts
        .login(LoginRequest {
            email: "real@festa.io".into(),
            password: "correct horse".into(),
        })
        .await
        .unwrap_err();
    assert!(matches!(unconfirmed, AppError::UserNotConfirmed));
    for (email, password) in [
        ("ghost@festa.io", "correct horse"),
        ("real@festa.io", "wrong horse!"),
        ("not an email", "x"),
    ] {
        let err = w
            .accounts
            .login(LoginRequest {
                email: email.into(),
                password: password.into(),
            })
            .await
            .unwrap_err();
        assert!(
            matches!(err, AppError::InvalidCredentials),
            "{email}: {err:?}"
        );
    }
}

#[tokio::test]
async fn the_mailed_code_is_the_one_the_id_source_made() {
    let mut w = world();
    w.accounts.ids = Arc::new(festa::adapters::memory::SequentialIds::new());
    let created = w.accounts.signup(signup("seq@festa.io")).await.unwrap();
    // Sign-up draws the code first, then the new account's id.
    assert_eq!(code_for(&w.outbox, "seq@festa.io"), "000001");
    assert_eq!(created.user_id, ulid::Ulid::from_parts(2, 0).to_string());
}

#[tokio::test]
async fn parallel_guesses_cannot_outrun_the_attempt_limit() {
    let w = world();
    w.accounts.signup(signup("target@festa.io")).await.unwrap();
    let code = code_for(&w.outbox, "target@festa.io");
    let guesses = (0..50).map(|_| {
        w.accounts.confirm(ConfirmRequest {
            email: "target@festa.io".into(),
            code: wrong_code(&code),
        })
    });
    let answers = futures_util::future::join_all(guesses).await;
    let compared = answers
        .iter()
        .filter(|a| matches!(a, Err(AppError::CodeMismatch)))
        .count();
    assert_eq!(compared, 5, "only five guesses were ever compared");
    assert!(answers.iter().all(|a| matches!(
        a,
        Err(AppError::CodeMismatch | AppError::TooManyAttempts { .. })
    )));
    let err = w
        .accounts
        .confirm(ConfirmRequest {
            email: "target@festa.io".into(),
            code,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::TooManyAttempts { .. }), "{err:?}");
}

#[tokio::test]
async fn codes_per_address_are_capped_per_day() {
    let w = world();
    for _ in 0..5 {
        w.accounts.signup(signup("again@festa.io")).await.unwrap();
    }
    let err = w
        .accounts
        .signup(signup("again@festa.io"))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::TooManyAttempts { .. }), "{err:?}");
    assert_eq!(w.outbox.mails(Some("again@festa.io")).len(), 5);
    // A day after the first code, the window starts again.
    w.clock.advance(Duration::hours(24));
    w.accounts.signup(signup("again@festa.io")).await.unwrap();
    let code = code_for(&w.outbox, "again@festa.io");
    w.accounts
        .confirm(ConfirmRequest {
            email: "again@festa.io".into(),
            code,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_code_replaced_by_a_new_sign_up_confirms_nothing() {
    let w = world();
    w.accounts.signup(signup("swap@festa.io")).await.unwrap();
    let old = code_for(&w.outbox, "swap@festa.io");
    w.accounts.signup(signup("swap@festa.io")).await.unwrap();
    let err = w
        .accounts
        .confirm(ConfirmRequest {
            email: "swap@festa.io".into(),
            code: old,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "{err:?}");
    let new = code_for(&w.outbox, "swap@festa.io");
    w.accounts
        .confirm(ConfirmRequest {
            email: "swap@festa.io".into(),
            code: new,
        })
        .await
        .unwrap();
}

/// GIVEN a confirmed user with two chat connections open and another user with one,
/// WHEN the first signs out,
/// THEN both of their connections are closed and out of presence (their frames are refused),
/// and the other user's connection is untouched.
#[tokio::test]
async fn signout_closes_every_chat_connection_of_the_user_and_no_one_elses() {
    let w = world();
    w.accounts.signup(signup("fan@festa.io")).await.unwrap();
    let code = code_for(&w.outbox, "fan@festa.io");
    w.accounts
        .confirm(ConfirmRequest {
            email: "fan@festa.io".into(),
            code,
        })
        .await
        .unwrap();
    let pair = w
        .accounts
        .login(LoginRequest {
            email: "fan@festa.io".into(),
            password: "correct horse".into(),
        })
        .await
        .unwrap();
    let me = w
        .accounts
        .token_keys()
        .await
        .unwrap()
        .decode(&pair.access_token, w.clock.now())
        .unwrap();
    let now = w.clock.now();
    let later = now + Duration::hours(2);
    for (user, connection) in [
        (me.user_id.as_str(), "phone"),
        (me.user_id.as_str(), "laptop"),
        ("someone-else", "theirs"),
    ] {
        assert!(w
            .presence
            .track(user, connection, now, later, 5)
            .await
            .unwrap());
    }

    w.accounts.signout(&me).await.unwrap();

    assert_eq!(w.evictions.closed(), vec!["laptop", "phone"]);
    for connection in ["phone", "laptop"] {
        assert!(!w
            .presence
            .holds(&me.user_id, connection, now)
            .await
            .unwrap());
    }
    assert!(w
        .presence
        .holds("someone-else", "theirs", now)
        .await
        .unwrap());
}

/// GIVEN a sign-up whose display name hides a right-to-left override or another invisible
/// formatting character, WHEN it is submitted, THEN it is refused (the name is every
/// message's senderName), while Korean names and emoji with joiners and skin tones pass.
#[tokio::test]
async fn signup_names_refuse_direction_overrides_and_keep_emoji() {
    let w = world();
    for (i, name) in [
        "관리자\u{202E}nimda",
        "\u{2066}admin\u{2069}",
        "a\u{200F}b",
        "x\u{0007}",
    ]
    .into_iter()
    .enumerate()
    {
        let err = w
            .accounts
            .signup(SignupRequest {
                name: name.into(),
                ..signup(&format!("bad{i}@festa.io"))
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), "VALIDATION_FAILED", "{name:?}");
    }
    let fine = "페스타 👩\u{200D}👩\u{200D}👧 👍🏽 🇰🇷";
    let made = w
        .accounts
        .signup(SignupRequest {
            name: fine.into(),
            ..signup("fine@festa.io")
        })
        .await
        .unwrap();
    assert_eq!(made.name, fine);
}
