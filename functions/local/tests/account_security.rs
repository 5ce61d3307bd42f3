//! The account attacks of issue 12 through real HTTP against the in-process platform: a
//! stranger's second sign-up, resent codes, password reset, the login lockout with its
//! `Retry-After`, and the deployment's hourly mail cap. Codes come from `/_local/outbox`.

mod common;

use common::{code, start, unique, Platform};
use reqwest::{Method as M, StatusCode};
use serde_json::{json, Value};

async fn post(p: &Platform, path: &str, body: Value) -> (StatusCode, Value) {
    p.call(M::POST, path, None, Some(body)).await
}

/// The answer's status, its problem code and its `Retry-After` in seconds.
async fn post_with_retry_after(
    p: &Platform,
    path: &str,
    body: Value,
) -> (StatusCode, String, Option<u64>) {
    let answer = p
        .http
        .post(format!("{}{path}", p.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let retry_after = answer
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let body: Value = answer.json().await.unwrap();
    (status, code(&body).to_string(), retry_after)
}

async fn mails_to(p: &Platform, email: &str) -> usize {
    let (s, outbox) = p
        .call(M::GET, &format!("/_local/outbox?to={email}"), None, None)
        .await;
    assert_eq!(s, 200);
    outbox["items"].as_array().unwrap().len()
}

fn signup(email: &str, password: &str, name: &str) -> Value {
    json!({"email": email, "password": password, "name": name})
}

fn login(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password})
}

#[tokio::test]
async fn a_strangers_second_sign_up_cannot_take_a_pending_address_over() {
    let p = start(&[]).await;
    let owner = unique("owner");
    let (s, _) = post(&p, "/signup", signup(&owner, "owner-password", "Owner")).await;
    assert_eq!(s, 201);
    let owners_code = p.code_for(&owner).await;
    // The stranger's sign-up is refused and mails nothing.
    let (s, body) = post(
        &p,
        "/signup",
        signup(&owner, "stranger-password", "Mallory"),
    )
    .await;
    assert_eq!((s, code(&body)), (StatusCode::CONFLICT, "SIGNUP_PENDING"));
    assert_eq!(mails_to(&p, &owner).await, 1);
    // The owner's code confirms the owner's sign-up; only the owner's password opens it.
    let (s, _) = post(
        &p,
        "/confirm-signup",
        json!({"email": owner, "code": owners_code}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = post(&p, "/login", login(&owner, "stranger-password")).await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS")
    );
    let (s, _) = post(&p, "/login", login(&owner, "owner-password")).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn resend_and_reset_work_over_http_and_reveal_nothing() {
    let p = start(&[]).await;
    let fan = unique("fan");
    let ghost = unique("ghost");
    // Unknown addresses: the same 202 as known ones, and no mail.
    let (s, unknown_resend) = post(&p, "/resend-confirmation", json!({"email": ghost})).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let (s, unknown_forgot) = post(&p, "/forgot-password", json!({"email": ghost})).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(mails_to(&p, &ghost).await, 0);
    let (s, body) = post(&p, "/forgot-password", json!({"email": "nope"})).await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED")
    );

    // A resent code confirms the sign-up with the password it was made with.
    let (s, _) = post(&p, "/signup", signup(&fan, "festival-pass", "페스타 팬")).await;
    assert_eq!(s, 201);
    let (s, resent) = post(&p, "/resend-confirmation", json!({"email": fan})).await;
    assert_eq!((s, &resent), (StatusCode::ACCEPTED, &unknown_resend));
    assert_eq!(mails_to(&p, &fan).await, 2);
    let code_now = p.code_for(&fan).await;
    let (s, _) = post(
        &p,
        "/confirm-signup",
        json!({"email": fan, "code": code_now}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, tokens) = post(&p, "/login", login(&fan, "festival-pass")).await;
    assert_eq!(s, 200);
    let access = tokens["accessToken"].as_str().unwrap();

    // A reset: 202, a code, the new password, and the old login is over.
    let (s, accepted) = post(&p, "/forgot-password", json!({"email": fan})).await;
    assert_eq!((s, &accepted), (StatusCode::ACCEPTED, &unknown_forgot));
    let reset = p.code_for(&fan).await;
    let (s, body) = post(
        &p,
        "/confirm-forgot-password",
        json!({"email": fan, "code": reset, "newPassword": "short"}),
    )
    .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED")
    );
    let (s, body) = post(
        &p,
        "/confirm-forgot-password",
        json!({"email": fan, "code": reset, "newPassword": "a-new-festival-pass"}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["status"], "CONFIRMED");
    let (s, _) = p.call(M::GET, "/verify-token", Some(access), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = post(&p, "/login", login(&fan, "festival-pass")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = post(&p, "/login", login(&fan, "a-new-festival-pass")).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn five_failed_logins_lock_the_address_with_a_retry_after() {
    let p = start(&[]).await;
    let fan = unique("locked");
    p.account(&fan).await;
    for _ in 0..5 {
        let (s, _) = post(&p, "/login", login(&fan, "wrong-password")).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, code, retry_after) =
        post_with_retry_after(&p, "/login", login(&fan, "festival-pass")).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS")
    );
    let retry_after = retry_after.expect("a Retry-After header");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // Unknown addresses lock the same way.
    let ghost = unique("ghost");
    for _ in 0..5 {
        let (s, _) = post(&p, "/login", login(&ghost, "wrong-password")).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, _, retry_after) = post_with_retry_after(&p, "/login", login(&ghost, "x")).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after.is_some());
}

#[tokio::test]
async fn the_hourly_mail_cap_answers_503_with_a_retry_after() {
    let p = start(&[("MAIL_HOURLY_LIMIT", "1".to_string())]).await;
    let first = unique("first");
    let (s, _) = post(&p, "/signup", signup(&first, "festival-pass", "First")).await;
    assert_eq!(s, 201);
    let second = unique("second");
    for (path, body) in [
        ("/signup", signup(&second, "festival-pass", "Second")),
        ("/resend-confirmation", json!({"email": first})),
        ("/forgot-password", json!({"email": second})),
    ] {
        let (s, code, retry_after) = post_with_retry_after(&p, path, body).await;
        assert_eq!(
            (s, code.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE"),
            "{path}"
        );
        assert!(retry_after.is_some(), "{path}");
    }
    assert_eq!(mails_to(&p, &first).await, 1);
    assert_eq!(mails_to(&p, &second).await, 0);
    // Nothing was stored for the refused sign-up.
    let (s, body) = post(&p, "/login", login(&second, "festival-pass")).await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS")
    );
}

#[tokio::test]
async fn the_new_routes_are_documented() {
    let p = start(&[]).await;
    let (s, doc) = p.call(M::GET, "/openapi.json", None, None).await;
    assert_eq!(s, 200);
    for path in [
        "/resend-confirmation",
        "/forgot-password",
        "/confirm-forgot-password",
    ] {
        assert!(doc["paths"][path]["post"].is_object(), "{path}");
    }
    assert!(doc["paths"]["/login"]["post"]["responses"]["429"].is_object());
    assert!(doc["paths"]["/signup"]["post"]["responses"]["503"].is_object());
}
