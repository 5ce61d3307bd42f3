//! The account rules end to end through the in-memory adapters, with a clock we control.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use festa::ports::{Clock, Mail, Mailer, RoomPresence};

use chrono::{Duration, TimeZone, Utc};
use festa::adapters::memory::{ManualClock, MemoryPresence, MemoryRecords, RecordedEvictions};
use festa::adapters::outbox::Outbox;
use festa::adapters::system::RandomIds;
use festa::model::Role;
use festa::services::accounts::{
    authenticate, Accounts, ConfirmForgotPasswordRequest, ConfirmRequest, EmailRequest,
    LoginRequest, RefreshRequest, SignupRequest, TokenPair,
};
use festa::services::tokens::TokenKeys;
use festa::AppError;

struct World {
    accounts: Accounts,
    outbox: Arc<Outbox>,
    clock: Arc<ManualClock>,
    /// While set, every mail fails as an SES outage would.
    mail_down: Arc<AtomicBool>,
    /// The chat presence sign-out evicts from, and what it closed.
    presence: Arc<MemoryPresence>,
    evictions: Arc<RecordedEvictions>,
}

/// The outbox, unless `down` is set: then every send fails.
struct FlakyMailer {
    outbox: Arc<Outbox>,
    down: Arc<AtomicBool>,
}

#[async_trait]
impl Mailer for FlakyMailer {
    async fn send(&self, mail: &Mail) -> festa::AppResult<()> {
        if self.down.load(Ordering::SeqCst) {
            return Err(AppError::unavailable("SES is down"));
        }
        Mailer::send(self.outbox.as_ref(), mail).await
    }
}

fn world() -> World {
    world_with_mail_cap(festa::config::DEFAULT_MAIL_HOURLY_LIMIT)
}

fn world_with_mail_cap(mail_hourly_limit: u32) -> World {
    let records = Arc::new(MemoryRecords::new());
    let outbox = Arc::new(Outbox::new());
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap(),
    ));
    let mail_down = Arc::new(AtomicBool::new(false));
    let presence = Arc::new(MemoryPresence::new());
    let evictions = Arc::new(RecordedEvictions::new(presence.clone()));
    let accounts = Accounts {
        accounts: records.clone(),
        sessions: records.clone(),
        limits: records,
        mail_hourly_limit,
        mailer: Arc::new(FlakyMailer {
            outbox: outbox.clone(),
            down: mail_down.clone(),
        }),
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
        mail_down,
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

// ---------------------------------------------------------------------------------------------
// Helpers for the attacks below

fn signup_as(email: &str, password: &str, name: &str) -> SignupRequest {
    SignupRequest {
        email: email.into(),
        password: password.into(),
        name: name.into(),
    }
}

fn email(email: &str) -> EmailRequest {
    EmailRequest {
        email: email.into(),
    }
}

impl World {
    async fn login(&self, email: &str, password: &str) -> festa::AppResult<TokenPair> {
        self.accounts
            .login(LoginRequest {
                email: email.into(),
                password: password.into(),
            })
            .await
    }

    async fn confirm(&self, email: &str, code: String) -> festa::AppResult<()> {
        self.accounts
            .confirm(ConfirmRequest {
                email: email.into(),
                code,
            })
            .await
            .map(|_| ())
    }

    async fn confirmed(&self, address: &str, password: &str) {
        self.accounts
            .signup(signup_as(address, password, "김철수"))
            .await
            .unwrap();
        self.confirm(address, code_for(&self.outbox, address))
            .await
            .unwrap();
    }

    async fn reset(&self, email: &str, code: String, password: &str) -> festa::AppResult<()> {
        self.accounts
            .confirm_forgot_password(ConfirmForgotPasswordRequest {
                email: email.into(),
                code,
                new_password: password.into(),
            })
            .await
            .map(|_| ())
    }

    fn mails_to(&self, address: &str) -> usize {
        self.outbox.mails(Some(address)).len()
    }

    /// Whether this access token still passes the authorizer's check.
    async fn live(&self, access_token: &str) -> bool {
        authenticate(
            self.accounts.token_keys().await.unwrap(),
            self.accounts.sessions.as_ref(),
            self.clock.as_ref(),
            Some(&format!("Bearer {access_token}")),
        )
        .await
        .is_ok()
    }
}

// ---------------------------------------------------------------------------------------------
// Takeover through a repeated sign-up

#[tokio::test]
async fn a_second_sign_up_cannot_put_a_strangers_password_on_a_pending_address() {
    // GIVEN the owner of an administrator's address has signed up and not confirmed yet
    let w = world();
    w.accounts
        .signup(signup_as("boss@festa.io", "owner's password", "Boss"))
        .await
        .unwrap();
    let owners_code = code_for(&w.outbox, "boss@festa.io");
    // WHEN a stranger signs the same address up with their own password
    let err = w
        .accounts
        .signup(signup_as("Boss@Festa.io", "stranger's password", "Mallory"))
        .await
        .unwrap_err();
    // THEN the sign-up is refused, no mail goes out, and the owner's code still confirms
    assert!(matches!(err, AppError::SignupPending), "{err:?}");
    assert_eq!(err.status(), 409);
    assert_eq!(w.mails_to("boss@festa.io"), 1);
    w.confirm("boss@festa.io", owners_code).await.unwrap();
    // AND only the owner's password opens the (admin) account
    let err = w
        .login("boss@festa.io", "stranger's password")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::InvalidCredentials), "{err:?}");
    let pair = w.login("boss@festa.io", "owner's password").await.unwrap();
    let me = w
        .accounts
        .token_keys()
        .await
        .unwrap()
        .decode(&pair.access_token, w.clock.now())
        .unwrap();
    assert_eq!((me.role, me.name.as_str()), (Role::Admin, "Boss"));
    // AND a sign-up for the confirmed address is EMAIL_TAKEN
    let err = w
        .accounts
        .signup(signup_as("boss@festa.io", "stranger's password", "Mallory"))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::EmailTaken), "{err:?}");
}

#[tokio::test]
async fn a_pending_sign_up_older_than_a_day_is_replaced() {
    // GIVEN a sign-up nobody confirmed for a day
    let w = world();
    w.accounts
        .signup(signup_as("stale@festa.io", "first password", "First"))
        .await
        .unwrap();
    let old_code = code_for(&w.outbox, "stale@festa.io");
    w.clock.advance(Duration::hours(23));
    let err = w
        .accounts
        .signup(signup_as("stale@festa.io", "second password", "Second"))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::SignupPending), "{err:?}");
    w.clock.advance(Duration::hours(1));
    // WHEN someone signs the address up again
    let replaced = w
        .accounts
        .signup(signup_as("stale@festa.io", "second password", "Second"))
        .await
        .unwrap();
    // THEN the new sign-up holds it: the old code confirms nothing, the new one does
    assert_eq!(replaced.name, "Second");
    let err = w.confirm("stale@festa.io", old_code).await.unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "{err:?}");
    w.confirm("stale@festa.io", code_for(&w.outbox, "stale@festa.io"))
        .await
        .unwrap();
    w.login("stale@festa.io", "second password").await.unwrap();
}

#[tokio::test]
async fn resend_mails_a_fresh_code_for_the_same_sign_up() {
    // GIVEN a pending sign-up
    let w = world();
    let created = w
        .accounts
        .signup(signup_as("late@festa.io", "my own password", "Late"))
        .await
        .unwrap();
    let first = code_for(&w.outbox, "late@festa.io");
    // WHEN its code is asked for again
    let accepted = w.accounts.resend_confirmation(email("late@festa.io")).await;
    // THEN a new code is mailed, the old one is spent, and the password is the one signed up with
    let accepted = accepted.unwrap();
    assert_eq!(w.mails_to("late@festa.io"), 2);
    let second = code_for(&w.outbox, "late@festa.io");
    let err = w.confirm("late@festa.io", first).await.unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "{err:?}");
    w.confirm("late@festa.io", second).await.unwrap();
    w.login("late@festa.io", "my own password").await.unwrap();
    let stored = w
        .accounts
        .accounts
        .get_account("late@festa.io")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.user_id, created.user_id);
    // AND an unknown or confirmed address gets the very same answer, and no mail
    for other in ["ghost@festa.io", "late@festa.io"] {
        let same = w.accounts.resend_confirmation(email(other)).await.unwrap();
        assert_eq!(same, accepted);
    }
    assert_eq!(w.mails_to("ghost@festa.io"), 0);
    assert_eq!(w.mails_to("late@festa.io"), 2);
    let err = w
        .accounts
        .resend_confirmation(email("not an address"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 400);
}

#[tokio::test]
async fn codes_per_address_are_capped_per_day_without_telling_anything() {
    // GIVEN a pending sign-up (its first code is one of the address's five a day)
    let w = world();
    w.accounts.signup(signup("again@festa.io")).await.unwrap();
    // WHEN its code is asked for again and again
    for _ in 0..6 {
        w.accounts
            .resend_confirmation(email("again@festa.io"))
            .await
            .unwrap();
    }
    // THEN five codes went out in all, each answer the same 202
    assert_eq!(w.mails_to("again@festa.io"), 5);
    // AND a reset code is one of the five too: refused with a Retry-After
    let err = w
        .accounts
        .forgot_password(email("again@festa.io"))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::TooManyAttempts { .. }), "{err:?}");
    assert!(err.retry_after().unwrap() > 23 * 3600, "{err:?}");
    // AND a day after the first code, codes flow again and the newest confirms
    w.clock.advance(Duration::hours(24));
    w.accounts
        .resend_confirmation(email("again@festa.io"))
        .await
        .unwrap();
    assert_eq!(w.mails_to("again@festa.io"), 6);
    w.confirm("again@festa.io", code_for(&w.outbox, "again@festa.io"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_code_replaced_by_a_resend_confirms_nothing() {
    let w = world();
    w.accounts.signup(signup("swap@festa.io")).await.unwrap();
    let old = code_for(&w.outbox, "swap@festa.io");
    w.accounts
        .resend_confirmation(email("swap@festa.io"))
        .await
        .unwrap();
    let err = w.confirm("swap@festa.io", old).await.unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "{err:?}");
    w.confirm("swap@festa.io", code_for(&w.outbox, "swap@festa.io"))
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Password reset

#[tokio::test]
async fn a_reset_replaces_the_password_and_ends_every_login() {
    // GIVEN a confirmed user logged in on two devices
    let w = world();
    w.confirmed("fan@festa.io", "old password").await;
    let phone = w.login("fan@festa.io", "old password").await.unwrap();
    let laptop = w.login("fan@festa.io", "old password").await.unwrap();
    // WHEN they reset the password with the mailed code
    w.accounts
        .forgot_password(email("fan@festa.io"))
        .await
        .unwrap();
    let mail = w.outbox.mails(Some("fan@festa.io"))[0].clone();
    assert!(mail.body.contains("valid for 1 hour"), "{}", mail.body);
    w.reset(
        "fan@festa.io",
        code_for(&w.outbox, "fan@festa.io"),
        "new password",
    )
    .await
    .unwrap();
    // THEN every login is over: access tokens refused, refresh tokens spent
    assert!(!w.live(&phone.access_token).await);
    assert!(!w.live(&laptop.access_token).await);
    let err = w
        .accounts
        .refresh(RefreshRequest {
            refresh_token: laptop.refresh_token,
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), 401);
    // AND only the new password opens the account; the code is spent
    let err = w.login("fan@festa.io", "old password").await.unwrap_err();
    assert!(matches!(err, AppError::InvalidCredentials), "{err:?}");
    let fresh = w.login("fan@festa.io", "new password").await.unwrap();
    assert!(w.live(&fresh.access_token).await);
    let err = w
        .reset(
            "fan@festa.io",
            code_for(&w.outbox, "fan@festa.io"),
            "third password",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::CodeMismatch), "{err:?}");
}

#[tokio::test]
async fn the_owner_takes_a_pending_address_back_with_a_reset() {
    // GIVEN a stranger signed up someone else's address
    let w = world();
    w.accounts
        .signup(signup_as(
            "victim@festa.io",
            "stranger's password",
            "Mallory",
        ))
        .await
        .unwrap();
    // WHEN the address's owner resets the password from their mailbox
    w.accounts
        .forgot_password(email("victim@festa.io"))
        .await
        .unwrap();
    let code = code_for(&w.outbox, "victim@festa.io");
    let answer = w
        .accounts
        .confirm_forgot_password(ConfirmForgotPasswordRequest {
            email: "victim@festa.io".into(),
            code,
            new_password: "owner's password".into(),
        })
        .await
        .unwrap();
    // THEN the account is confirmed with the owner's password and not the stranger's
    assert_eq!(answer.status, festa::model::AccountStatus::Confirmed);
    w.login("victim@festa.io", "owner's password")
        .await
        .unwrap();
    let err = w
        .login("victim@festa.io", "stranger's password")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::InvalidCredentials), "{err:?}");
}

#[tokio::test]
async fn forgot_password_answers_alike_for_every_address_and_caps_each() {
    // GIVEN one address with an account and one without
    let w = world();
    w.confirmed("known@festa.io", "some password").await;
    let accepted = w
        .accounts
        .forgot_password(email("known@festa.io"))
        .await
        .unwrap();
    // WHEN both ask for reset codes until refused
    let unknown = w
        .accounts
        .forgot_password(email("unknown@festa.io"))
        .await
        .unwrap();
    // THEN the answers are the same, and only the account's owner gets mail
    assert_eq!(unknown, accepted);
    assert_eq!(w.mails_to("unknown@festa.io"), 0);
    for _ in 0..3 {
        w.accounts
            .forgot_password(email("known@festa.io"))
            .await
            .unwrap();
    }
    for _ in 0..4 {
        w.accounts
            .forgot_password(email("unknown@festa.io"))
            .await
            .unwrap();
    }
    // (the known address used one code on its sign-up: five in all for both)
    for address in ["known@festa.io", "unknown@festa.io"] {
        let err = w
            .accounts
            .forgot_password(email(address))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AppError::TooManyAttempts { .. }),
            "{address}: {err:?}"
        );
        assert!(err.retry_after().is_some());
    }
    assert_eq!(w.mails_to("known@festa.io"), 5);
}

#[tokio::test]
async fn reset_codes_expire_after_an_hour_and_lock_after_five_wrong_tries() {
    let w = world();
    w.confirmed("fan@festa.io", "old password").await;
    w.accounts
        .forgot_password(email("fan@festa.io"))
        .await
        .unwrap();
    let code = code_for(&w.outbox, "fan@festa.io");
    // A weak password costs no attempt.
    let err = w
        .reset("fan@festa.io", code.clone(), "short")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "VALIDATION_FAILED");
    // Parallel wrong guesses: five are compared, the rest refused; then even the right code is.
    let guesses = (0..12).map(|i| {
        let guess = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
        let w = &w;
        async move { w.reset("fan@festa.io", guess, "new password").await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let compared = answers
        .iter()
        .filter(|a| matches!(a, Err(AppError::CodeMismatch)))
        .count();
    assert_eq!(compared, 5);
    let err = w
        .reset("fan@festa.io", code, "new password")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::TooManyAttempts { .. }), "{err:?}");
    w.login("fan@festa.io", "old password").await.unwrap();
    // A new code after an hour is expired.
    w.accounts
        .forgot_password(email("fan@festa.io"))
        .await
        .unwrap();
    let code = code_for(&w.outbox, "fan@festa.io");
    w.clock.advance(Duration::hours(1));
    let err = w
        .reset("fan@festa.io", code, "new password")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::CodeExpired), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Login lockout

#[tokio::test]
async fn five_failed_logins_lock_the_address_even_for_the_right_password() {
    // GIVEN a confirmed user
    let w = world();
    w.confirmed("fan@festa.io", "right password").await;
    // WHEN someone guesses wrong five times
    for _ in 0..5 {
        let err = w.login("fan@festa.io", "wrong guess").await.unwrap_err();
        assert!(matches!(err, AppError::InvalidCredentials), "{err:?}");
    }
    // THEN the right password is refused too, with the seconds until the window frees
    w.clock.advance(Duration::minutes(5));
    let err = w.login("fan@festa.io", "right password").await.unwrap_err();
    assert!(matches!(err, AppError::TooManyAttempts { .. }), "{err:?}");
    assert_eq!(err.status(), 429);
    assert_eq!(err.retry_after(), Some(10 * 60));
    // AND once the window has ended, the right password works
    w.clock.advance(Duration::minutes(10));
    w.login("fan@festa.io", "right password").await.unwrap();
}

#[tokio::test]
async fn a_successful_login_clears_the_failures() {
    let w = world();
    w.confirmed("fan@festa.io", "right password").await;
    for _ in 0..4 {
        w.login("fan@festa.io", "wrong guess").await.unwrap_err();
    }
    w.login("fan@festa.io", "right password").await.unwrap();
    // Four more wrong guesses are allowed again before the lock.
    for _ in 0..4 {
        let err = w.login("fan@festa.io", "wrong guess").await.unwrap_err();
        assert!(matches!(err, AppError::InvalidCredentials), "{err:?}");
    }
    w.login("fan@festa.io", "right password").await.unwrap();
}

#[tokio::test]
async fn unknown_addresses_lock_alike_and_parallel_guesses_cannot_outrun_the_limit() {
    let w = world();
    w.confirmed("fan@festa.io", "right password").await;
    for address in ["fan@festa.io", "ghost@festa.io"] {
        let guesses = (0..12).map(|_| w.login(address, "wrong guess"));
        let answers = futures_util::future::join_all(guesses).await;
        let checked = answers
            .iter()
            .filter(|a| matches!(a, Err(AppError::InvalidCredentials)))
            .count();
        assert_eq!(checked, 5, "{address}: {answers:?}");
        let err = w.login(address, "right password").await.unwrap_err();
        assert!(
            matches!(err, AppError::TooManyAttempts { .. }),
            "{address}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_reset_lifts_a_lockout() {
    let w = world();
    w.confirmed("fan@festa.io", "right password").await;
    for _ in 0..5 {
        w.login("fan@festa.io", "wrong guess").await.unwrap_err();
    }
    w.accounts
        .forgot_password(email("fan@festa.io"))
        .await
        .unwrap();
    w.reset(
        "fan@festa.io",
        code_for(&w.outbox, "fan@festa.io"),
        "new password",
    )
    .await
    .unwrap();
    w.login("fan@festa.io", "new password").await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Mail: failures, caps, contents

#[tokio::test]
async fn a_mail_that_could_not_be_sent_uses_up_no_code() {
    // GIVEN the mailer is down
    let w = world();
    w.mail_down.store(true, Ordering::SeqCst);
    // WHEN a sign-up, resends and reset requests fail to mail
    let err = w.accounts.signup(signup("fan@festa.io")).await.unwrap_err();
    assert_eq!(err.status(), 503);
    for _ in 0..5 {
        let err = w
            .accounts
            .resend_confirmation(email("fan@festa.io"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 503);
        let err = w
            .accounts
            .forgot_password(email("fan@festa.io"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 503);
    }
    // THEN once it is back, the address still has all five codes of the day
    w.mail_down.store(false, Ordering::SeqCst);
    for _ in 0..5 {
        w.accounts
            .resend_confirmation(email("fan@festa.io"))
            .await
            .unwrap();
    }
    assert_eq!(w.mails_to("fan@festa.io"), 5);
    w.confirm("fan@festa.io", code_for(&w.outbox, "fan@festa.io"))
        .await
        .unwrap();
    w.login("fan@festa.io", "correct horse").await.unwrap();
}

#[tokio::test]
async fn the_deployment_mail_cap_answers_503_and_counts_nothing_for_the_address() {
    // GIVEN a deployment that may send two mails an hour, both sent
    let w = world_with_mail_cap(2);
    w.accounts.signup(signup("one@festa.io")).await.unwrap();
    w.accounts.signup(signup("two@festa.io")).await.unwrap();
    // WHEN a third address signs up, or anyone asks for a code
    let err = w
        .accounts
        .signup(signup("three@festa.io"))
        .await
        .unwrap_err();
    // THEN 503 with a Retry-After, nothing stored for the address, no mail
    assert_eq!(
        (err.status().as_u16(), err.code()),
        (503, "SERVICE_UNAVAILABLE")
    );
    assert!(err.retry_after().is_some());
    assert!(w
        .accounts
        .accounts
        .get_account("three@festa.io")
        .await
        .unwrap()
        .is_none());
    for _ in 0..6 {
        let err = w
            .accounts
            .forgot_password(email("three@festa.io"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 503);
        let err = w
            .accounts
            .resend_confirmation(email("ghost@festa.io"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 503);
    }
    assert_eq!(w.outbox.mails(None).len(), 2);
    // AND in the next hour the address has all its codes (the refusals counted nothing)
    w.clock.advance(Duration::hours(1));
    w.accounts.signup(signup("three@festa.io")).await.unwrap();
    w.clock.advance(Duration::hours(1));
    for _ in 0..2 {
        w.accounts
            .resend_confirmation(email("three@festa.io"))
            .await
            .unwrap();
    }
    w.clock.advance(Duration::hours(1));
    w.accounts
        .resend_confirmation(email("three@festa.io"))
        .await
        .unwrap();
    w.accounts
        .resend_confirmation(email("three@festa.io"))
        .await
        .unwrap();
    assert_eq!(w.mails_to("three@festa.io"), 5);
}

#[tokio::test]
async fn mail_never_carries_the_name_a_stranger_chose() {
    // GIVEN a sign-up whose name is a phishing line
    let w = world();
    let bait = "Your account is locked, call 010-1234-5678";
    w.accounts
        .signup(signup_as("target@festa.io", "some password", bait))
        .await
        .unwrap();
    w.accounts
        .resend_confirmation(email("target@festa.io"))
        .await
        .unwrap();
    w.accounts
        .forgot_password(email("target@festa.io"))
        .await
        .unwrap();
    // THEN no mail to the address carries it (confirmation, resent code, reset code)
    let mails = w.outbox.mails(Some("target@festa.io"));
    assert_eq!(mails.len(), 3);
    for mail in mails {
        assert!(
            !mail.body.contains("010-1234") && !mail.subject.contains("010-1234"),
            "{mail:?}"
        );
    }
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
