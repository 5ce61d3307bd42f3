//! Replays the sample events of the account Lambdas (`events/*.json`, one per binary) through
//! the very code path each binary runs: `festa_auth::route` + `festa::api::lambda::handle`, and
//! `festa_auth::authorizer::authorize` for the TOKEN authorizer. State is in memory.
//!
//! Fixtures hold placeholders for what only a live login can give (`<access-token>`,
//! `<refresh-token>`, `<confirmation-code>`, the `<user-id>`/`<session-id>` of the authorizer
//! context); the tests fill them in from real sign-ups and logins.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use festa::adapters::memory::{MemoryPresence, MemoryRecords, RecordedEvictions};
use festa::adapters::outbox::Outbox;
use festa::adapters::system::{RandomIds, SystemClock};
use festa::api::replay::{
    edit, events_dir, fill, replay, with_authorizer, without_authorizer, Replayed,
};
use festa::ports::{Clock, RoomPresence};
use festa::services::accounts::Accounts;
use festa::services::tokens::TokenKeys;
use festa_auth::authorizer::{authorize, Unauthorized};
use festa_auth::AuthState;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerResponse,
};
use lambda_http::aws_lambda_events::iam::IamPolicyEffect;
use serde_json::{json, Value};

/// Every account binary, each with its sample event `events/<name>.json`.
const AUTH_EVENTS: [&str; 10] = [
    "signup",
    "resend-confirmation",
    "confirm-signup",
    "forgot-password",
    "confirm-forgot-password",
    "login",
    "signout",
    "verify-token",
    "refresh-token",
    "authorizer",
];

const EMAIL: &str = "fan@festa.example";
const STAGE_WILDCARD: &str = "arn:aws:execute-api:ap-northeast-2:123456789012:abc123/prod/*/*";

struct Harness {
    state: Arc<AuthState>,
    outbox: Arc<Outbox>,
    /// The chat presence sign-out evicts from, and the connections it closed.
    presence: Arc<MemoryPresence>,
    evictions: Arc<RecordedEvictions>,
}

fn harness() -> Harness {
    let records = Arc::new(MemoryRecords::new());
    let outbox = Arc::new(Outbox::new());
    let presence = Arc::new(MemoryPresence::new());
    let evictions = Arc::new(RecordedEvictions::new(presence.clone()));
    let state = AuthState {
        accounts: Accounts {
            accounts: records.clone(),
            sessions: records.clone(),
            limits: records,
            mail_hourly_limit: festa::config::DEFAULT_MAIL_HOURLY_LIMIT,
            mailer: outbox.clone(),
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::default()),
            keys: Some(festa::prefetch::Prefetched::ready(
                TokenKeys::from_secret(&[7u8; 32]).unwrap(),
            )),
            admins: Arc::new(HashSet::from(["admin@festa.example".to_string()])),
            eviction: evictions.clone(),
        },
    };
    Harness {
        state: Arc::new(state),
        outbox,
        presence,
        evictions,
    }
}

/// The sample event of one account binary, as the file holds it.
fn fixture(name: &str) -> String {
    assert!(
        AUTH_EVENTS.contains(&name),
        "{name} is not an account event"
    );
    festa::api::replay::fixture(name)
}

/// Runs the Lambda of `path` on an event, as its binary does (see `festa::api::replay`).
async fn invoke(h: &Harness, path: &str, event: &str) -> Replayed {
    let route = festa_auth::route(h.state.clone(), path).unwrap();
    replay(&route, event).await
}

async fn signup(h: &Harness) -> Value {
    let answer = invoke(h, "/signup", &fixture("signup")).await;
    answer.assert_json(201).clone()
}

/// The 6-digit code of the newest mail to `EMAIL`.
fn mailed_code(h: &Harness) -> String {
    let mails = h.outbox.mails(Some(EMAIL));
    let body = &mails.first().expect("a mail was sent").body;
    let at = body.find("code is ").expect("the mail names the code") + "code is ".len();
    body[at..at + 6].to_string()
}

async fn confirmed_account(h: &Harness) {
    signup(h).await;
    let event = fill(
        &fixture("confirm-signup"),
        "<confirmation-code>",
        &mailed_code(h),
    );
    invoke(h, "/confirm-signup", &event).await.assert_json(200);
}

/// A login through the login event: `{accessToken, refreshToken, ...}`.
async fn login(h: &Harness) -> Value {
    invoke(h, "/login", &fixture("login"))
        .await
        .assert_json(200)
        .clone()
}

/// The authorizer's answer for this access token, run on the authorizer's sample event.
async fn authorizer(h: &Harness, access_token: &str) -> ApiGatewayCustomAuthorizerResponse {
    let event = fill(&fixture("authorizer"), "<access-token>", access_token);
    let event: ApiGatewayCustomAuthorizerRequest = serde_json::from_str(&event).unwrap();
    authorize(&h.state, event)
        .await
        .expect("the authorizer allows a live login")
}

/// A protected route's event as API Gateway forwards it after the authorizer allowed
/// `access_token`, with exactly what the authorizer returned (`principalId` and its context).
async fn authorized(h: &Harness, event: &str, access_token: &str) -> String {
    let allowed = authorizer(h, access_token).await;
    let mut context = allowed
        .context
        .as_object()
        .expect("a context object")
        .clone();
    context.insert("principalId".into(), json!(allowed.principal_id));
    with_authorizer(event, access_token, context)
}

#[tokio::test]
async fn signup_event_registers_an_unconfirmed_account_and_mails_a_code() {
    let h = harness();
    let created = signup(&h).await;
    assert_eq!(created["status"], "UNCONFIRMED");
    assert_eq!(created["email"], EMAIL);
    assert_eq!(created["name"], "김페스타");
    assert!(!created["userId"].as_str().unwrap().is_empty());
    let mails = h.outbox.mails(None);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, EMAIL);
    assert!(mailed_code(&h).bytes().all(|b| b.is_ascii_digit()));
}

#[tokio::test]
async fn confirm_signup_event_confirms_with_the_mailed_code() {
    let h = harness();
    signup(&h).await;
    let code = mailed_code(&h);

    // The sample as it is carries no code at all.
    invoke(&h, "/confirm-signup", &fixture("confirm-signup"))
        .await
        .assert_problem(400, "VALIDATION_FAILED");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let event = fill(&fixture("confirm-signup"), "<confirmation-code>", wrong);
    invoke(&h, "/confirm-signup", &event)
        .await
        .assert_problem(400, "CODE_MISMATCH");

    let event = fill(&fixture("confirm-signup"), "<confirmation-code>", &code);
    let confirmed = invoke(&h, "/confirm-signup", &event).await;
    let confirmed = confirmed.assert_json(200);
    assert_eq!(confirmed["email"], EMAIL);
    assert_eq!(confirmed["status"], "CONFIRMED");
}

#[tokio::test]
async fn login_event_opens_a_login_for_a_confirmed_account() {
    let h = harness();
    invoke(&h, "/login", &fixture("login"))
        .await
        .assert_problem(401, "INVALID_CREDENTIALS");
    signup(&h).await;
    invoke(&h, "/login", &fixture("login"))
        .await
        .assert_problem(403, "USER_NOT_CONFIRMED");

    let event = fill(
        &fixture("confirm-signup"),
        "<confirmation-code>",
        &mailed_code(&h),
    );
    invoke(&h, "/confirm-signup", &event).await.assert_json(200);
    let tokens = login(&h).await;
    assert_eq!(tokens["tokenType"], "Bearer");
    assert_eq!(tokens["expiresIn"], 900);
    assert!(!tokens["accessToken"].as_str().unwrap().is_empty());
    assert!(!tokens["refreshToken"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn verify_token_event_describes_the_caller() {
    let h = harness();
    confirmed_account(&h).await;
    let access = login(&h).await["accessToken"].as_str().unwrap().to_string();
    let allowed = authorizer(&h, &access).await;

    let event = authorized(&h, &fixture("verify-token"), &access).await;
    let answer = invoke(&h, "/verify-token", &event).await;
    let verified = answer.assert_json(200);
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["userId"], allowed.context["userId"]);
    assert_eq!(verified["email"], EMAIL);
    assert_eq!(verified["name"], "김페스타");
    assert_eq!(verified["role"], "user");
    assert_eq!(verified["expiresAt"], allowed.context["expiresAt"]);
}

#[tokio::test]
async fn signout_event_ends_every_login() {
    let h = harness();
    confirmed_account(&h).await;
    let first = login(&h).await;
    let second = login(&h).await;
    let access = first["accessToken"].as_str().unwrap();
    // The user has two chat connections open; someone else has one.
    let now = SystemClock.now();
    let me = h
        .state
        .accounts
        .token_keys()
        .await
        .unwrap()
        .decode(access, now)
        .unwrap();
    let later = now + chrono::Duration::hours(2);
    for (user, connection) in [
        (me.user_id.as_str(), "PhoneConnId="),
        (me.user_id.as_str(), "LaptopConnId="),
        ("someone-else", "TheirConnId="),
    ] {
        assert!(h
            .presence
            .track(user, connection, now, later, 5)
            .await
            .unwrap());
    }

    let event = authorized(&h, &fixture("signout"), access).await;
    let answer = invoke(&h, "/signout", &event).await;
    assert_eq!(answer.status, 204, "{}", answer.body);
    assert_eq!(answer.content_type, None);
    assert_eq!(answer.body, Value::Null);

    // Every chat connection of the user is closed and out of presence (its frames are
    // refused); nobody else's.
    assert_eq!(h.evictions.closed(), vec!["LaptopConnId=", "PhoneConnId="]);
    assert!(!h
        .presence
        .holds(&me.user_id, "PhoneConnId=", now)
        .await
        .unwrap());
    assert!(h
        .presence
        .holds("someone-else", "TheirConnId=", now)
        .await
        .unwrap());

    // Both logins are over: their access tokens and refresh tokens are refused.
    for tokens in [&first, &second] {
        let event = fill(
            &fixture("authorizer"),
            "<access-token>",
            tokens["accessToken"].as_str().unwrap(),
        );
        let event: ApiGatewayCustomAuthorizerRequest = serde_json::from_str(&event).unwrap();
        let refused = authorize(&h.state, event).await.unwrap_err();
        assert!(
            refused.downcast_ref::<Unauthorized>().is_some(),
            "{refused}"
        );
        let event = fill(
            &fixture("refresh-token"),
            "<refresh-token>",
            tokens["refreshToken"].as_str().unwrap(),
        );
        invoke(&h, "/refresh-token", &event)
            .await
            .assert_problem(401, "UNAUTHORIZED");
    }
}

#[tokio::test]
async fn refresh_token_event_rotates_the_pair_once() {
    let h = harness();
    confirmed_account(&h).await;
    let tokens = login(&h).await;
    let old_refresh = tokens["refreshToken"].as_str().unwrap();

    // The sample as it is holds no token.
    invoke(&h, "/refresh-token", &fixture("refresh-token"))
        .await
        .assert_problem(401, "UNAUTHORIZED");

    let event = fill(&fixture("refresh-token"), "<refresh-token>", old_refresh);
    let answer = invoke(&h, "/refresh-token", &event).await;
    let next = answer.assert_json(200);
    assert_eq!(next["tokenType"], "Bearer");
    assert_eq!(next["expiresIn"], 900);
    let new_refresh = next["refreshToken"].as_str().unwrap();
    assert_ne!(new_refresh, old_refresh);
    authorizer(&h, next["accessToken"].as_str().unwrap()).await;

    // The old token is spent: presenting it again is refused and ends the whole login.
    invoke(&h, "/refresh-token", &event)
        .await
        .assert_problem(401, "UNAUTHORIZED");
    let event = fill(&fixture("refresh-token"), "<refresh-token>", new_refresh);
    invoke(&h, "/refresh-token", &event)
        .await
        .assert_problem(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn authorizer_event_allows_a_live_login_on_the_whole_stage() {
    let h = harness();
    confirmed_account(&h).await;
    let access = login(&h).await["accessToken"].as_str().unwrap().to_string();

    let allowed = authorizer(&h, &access).await;
    let user_id = allowed.context["userId"].as_str().unwrap().to_string();
    assert!(!user_id.is_empty());
    assert_eq!(allowed.principal_id.as_deref(), Some(user_id.as_str()));
    assert_eq!(
        allowed.policy_document.version.as_deref(),
        Some("2012-10-17")
    );
    let [statement] = allowed.policy_document.statement.as_slice() else {
        panic!("one statement: {:?}", allowed.policy_document);
    };
    assert_eq!(statement.effect, IamPolicyEffect::Allow);
    assert_eq!(statement.action, ["execute-api:Invoke"]);
    assert_eq!(statement.resource, [STAGE_WILDCARD]);
    assert_eq!(allowed.context["email"], EMAIL);
    assert_eq!(allowed.context["name"], "김페스타");
    assert_eq!(allowed.context["role"], "user");
    assert!(allowed.context["sessionId"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    assert!(allowed.context["expiresAt"]
        .as_str()
        .is_some_and(|s| s.ends_with('Z')));

    // The answer as the runtime sends it to API Gateway.
    let wire = serde_json::to_value(&allowed).unwrap();
    assert_eq!(wire["principalId"], user_id.as_str());
    assert_eq!(wire["policyDocument"]["Version"], "2012-10-17");
    assert_eq!(wire["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(
        wire["policyDocument"]["Statement"][0]["Resource"][0],
        STAGE_WILDCARD
    );
    for (key, value) in wire["context"].as_object().unwrap() {
        assert!(
            value.is_string(),
            "context values must be flat strings: {key} = {value}"
        );
    }
}

#[tokio::test]
async fn authorizer_event_with_a_bad_token_is_unauthorized() {
    let h = harness();
    confirmed_account(&h).await;
    let access = login(&h).await["accessToken"].as_str().unwrap().to_string();
    // A well-formed token of the same login, signed with another key.
    let now = h.state.accounts.clock.now();
    let identity = h
        .state
        .accounts
        .token_keys()
        .await
        .unwrap()
        .decode(&access, now)
        .unwrap();
    let forged = TokenKeys::from_secret(&[8u8; 32])
        .unwrap()
        .issue(&identity, now)
        .unwrap();

    let garbage = fixture("authorizer"); // still `Bearer <access-token>`
    let forged = fill(&fixture("authorizer"), "<access-token>", &forged);
    let no_scheme = fill(&fixture("authorizer"), "Bearer <access-token>", &access);
    let missing = edit(&fixture("authorizer"), |v| {
        v.as_object_mut().unwrap().remove("authorizationToken");
    });
    for event in [garbage, forged, no_scheme, missing] {
        let request: ApiGatewayCustomAuthorizerRequest = serde_json::from_str(&event).unwrap();
        let refused = authorize(&h.state, request).await.unwrap_err();
        assert!(
            refused.downcast_ref::<Unauthorized>().is_some(),
            "{refused:?} for {event}"
        );
        assert_eq!(refused.to_string(), "Unauthorized");
    }
}

#[tokio::test]
async fn a_protected_route_without_authorizer_context_is_a_401_problem() {
    let h = harness();
    confirmed_account(&h).await;
    let access = login(&h).await["accessToken"].as_str().unwrap().to_string();
    for (name, path) in [("verify-token", "/verify-token"), ("signout", "/signout")] {
        let event = without_authorizer(&fill(&fixture(name), "<access-token>", &access));
        invoke(&h, path, &event)
            .await
            .assert_problem(401, "UNAUTHORIZED");
    }
    // Nothing was signed out.
    authorizer(&h, &access).await;
}

#[tokio::test]
async fn a_body_over_64_kib_is_a_413_problem() {
    let h = harness();
    let body = json!({"email": EMAIL, "password": "festival-pass", "name": "가".repeat(22 * 1024)})
        .to_string();
    assert!(body.len() > 64 * 1024);
    let event = edit(&fixture("signup"), |v| v["body"] = Value::String(body));
    invoke(&h, "/signup", &event)
        .await
        .assert_problem(413, "PAYLOAD_TOO_LARGE");
    assert!(h.outbox.mails(None).is_empty());
}

/// The login event with another password.
fn login_with(password: &str) -> String {
    edit(&fixture("login"), |v| {
        v["body"] = Value::String(json!({"email": EMAIL, "password": password}).to_string())
    })
}

#[tokio::test]
async fn a_second_signup_event_for_a_pending_address_is_signup_pending() {
    let h = harness();
    signup(&h).await;
    let code = mailed_code(&h);
    // A stranger's sign-up of the same address, with their own password.
    let stranger = edit(&fixture("signup"), |v| {
        v["body"] = Value::String(
            json!({"email": EMAIL, "password": "stranger-pass", "name": "Mallory"}).to_string(),
        )
    });
    invoke(&h, "/signup", &stranger)
        .await
        .assert_problem(409, "SIGNUP_PENDING");
    assert_eq!(h.outbox.mails(Some(EMAIL)).len(), 1);
    let event = fill(&fixture("confirm-signup"), "<confirmation-code>", &code);
    invoke(&h, "/confirm-signup", &event).await.assert_json(200);
    invoke(&h, "/login", &login_with("stranger-pass"))
        .await
        .assert_problem(401, "INVALID_CREDENTIALS");
    login(&h).await;
    invoke(&h, "/signup", &stranger)
        .await
        .assert_problem(409, "EMAIL_TAKEN");
}

#[tokio::test]
async fn resend_confirmation_event_mails_a_fresh_code_for_the_same_sign_up() {
    let h = harness();
    // No sign-up yet: the same 202, and no mail.
    let before = invoke(&h, "/resend-confirmation", &fixture("resend-confirmation")).await;
    let before = before.assert_json(202).clone();
    assert!(h.outbox.mails(None).is_empty());

    signup(&h).await;
    let first = mailed_code(&h);
    let answer = invoke(&h, "/resend-confirmation", &fixture("resend-confirmation")).await;
    assert_eq!(answer.assert_json(202), &before);
    assert_eq!(h.outbox.mails(Some(EMAIL)).len(), 2);
    let second = mailed_code(&h);
    let event = fill(&fixture("confirm-signup"), "<confirmation-code>", &first);
    if first != second {
        invoke(&h, "/confirm-signup", &event)
            .await
            .assert_problem(400, "CODE_MISMATCH");
    }
    let event = fill(&fixture("confirm-signup"), "<confirmation-code>", &second);
    invoke(&h, "/confirm-signup", &event).await.assert_json(200);
    // The password is the one signed up with.
    login(&h).await;
    // Past five codes a day: still 202, nothing mailed.
    for _ in 0..5 {
        invoke(&h, "/resend-confirmation", &fixture("resend-confirmation"))
            .await
            .assert_json(202);
    }
    assert_eq!(h.outbox.mails(Some(EMAIL)).len(), 2);
}

#[tokio::test]
async fn forgot_password_event_mails_only_accounts_and_caps_each_address() {
    let h = harness();
    let unknown = invoke(&h, "/forgot-password", &fixture("forgot-password")).await;
    let unknown = unknown.assert_json(202).clone();
    assert!(h.outbox.mails(None).is_empty());
    confirmed_account(&h).await;
    // The sign-up's code and the request above used two of the address's five codes.
    for _ in 0..3 {
        let known = invoke(&h, "/forgot-password", &fixture("forgot-password")).await;
        assert_eq!(known.assert_json(202), &unknown);
    }
    let mails = h.outbox.mails(Some(EMAIL));
    assert_eq!(mails.len(), 4);
    assert!(
        mails[0].subject.contains("password reset"),
        "{:?}",
        mails[0]
    );
    assert!(!mails[0].body.contains("김페스타"));
    invoke(&h, "/forgot-password", &fixture("forgot-password"))
        .await
        .assert_problem(429, "TOO_MANY_ATTEMPTS");
}

#[tokio::test]
async fn confirm_forgot_password_event_replaces_the_password_and_ends_every_login() {
    let h = harness();
    confirmed_account(&h).await;
    let tokens = login(&h).await;
    // The user has a chat connection open; someone else has one.
    let now = SystemClock.now();
    let me = h
        .state
        .accounts
        .token_keys()
        .await
        .unwrap()
        .decode(tokens["accessToken"].as_str().unwrap(), now)
        .unwrap();
    let later = now + chrono::Duration::hours(2);
    for (user, connection) in [
        (me.user_id.as_str(), "PhoneConnId="),
        ("someone-else", "TheirConnId="),
    ] {
        assert!(h
            .presence
            .track(user, connection, now, later, 5)
            .await
            .unwrap());
    }
    invoke(&h, "/forgot-password", &fixture("forgot-password"))
        .await
        .assert_json(202);
    let code = mailed_code(&h);
    // The sample as it is carries no code.
    invoke(
        &h,
        "/confirm-forgot-password",
        &fixture("confirm-forgot-password"),
    )
    .await
    .assert_problem(400, "VALIDATION_FAILED");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let event = fill(&fixture("confirm-forgot-password"), "<reset-code>", wrong);
    invoke(&h, "/confirm-forgot-password", &event)
        .await
        .assert_problem(400, "CODE_MISMATCH");
    let event = fill(&fixture("confirm-forgot-password"), "<reset-code>", &code);
    let answer = invoke(&h, "/confirm-forgot-password", &event).await;
    let answer = answer.assert_json(200);
    assert_eq!(answer["email"], EMAIL);
    assert_eq!(answer["status"], "CONFIRMED");
    // The user's chat connection is closed, nobody else's.
    assert_eq!(h.evictions.closed(), vec!["PhoneConnId="]);
    // The old login is over, the old password refused, the new one works.
    let event = fill(
        &fixture("refresh-token"),
        "<refresh-token>",
        tokens["refreshToken"].as_str().unwrap(),
    );
    invoke(&h, "/refresh-token", &event)
        .await
        .assert_problem(401, "UNAUTHORIZED");
    invoke(&h, "/login", &fixture("login"))
        .await
        .assert_problem(401, "INVALID_CREDENTIALS");
    invoke(&h, "/login", &login_with("a-new-festival-pass"))
        .await
        .assert_json(200);
}

#[tokio::test]
async fn login_event_locks_the_address_after_five_failures() {
    let h = harness();
    confirmed_account(&h).await;
    for _ in 0..5 {
        invoke(&h, "/login", &login_with("a-wrong-guess"))
            .await
            .assert_problem(401, "INVALID_CREDENTIALS");
    }
    // Even the right password is refused now.
    invoke(&h, "/login", &fixture("login"))
        .await
        .assert_problem(429, "TOO_MANY_ATTEMPTS");
}

/// A sample event without a test here (or in the festivals tests) fails the build's tests.
#[test]
fn every_account_event_is_covered() {
    let mut ours = BTreeSet::new();
    for entry in std::fs::read_dir(events_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let raw: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The account area: the TOKEN authorizer and the account routes; other areas' events
        // (their routes, WebSocket routes, SQS records) are covered by their own crates.
        let is_authorizer = raw["type"] == "TOKEN";
        let resource = raw["resource"].as_str().unwrap_or_default();
        let other_area = [
            "/festivals",
            "/queues",
            "/reservations",
            "/notification",
            "/openapi.json",
        ]
        .iter()
        .any(|prefix| resource.starts_with(prefix));
        // WebSocket events name a connection; the chat crate covers them.
        let websocket = raw["requestContext"]["connectionId"].is_string();
        if !is_authorizer && (other_area || websocket || raw.get("Records").is_some()) {
            continue;
        }
        assert!(
            AUTH_EVENTS.contains(&name.as_str()),
            "events/{name}.json has no test in functions/auth/tests/events.rs"
        );
        if is_authorizer {
            let event: ApiGatewayCustomAuthorizerRequest = serde_json::from_str(&text).unwrap();
            assert!(event
                .authorization_token
                .is_some_and(|t| t.starts_with("Bearer ")));
        } else {
            lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        ours.insert(name);
    }
    let expected: BTreeSet<String> = AUTH_EVENTS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        ours, expected,
        "every account binary has exactly one sample event"
    );
}
