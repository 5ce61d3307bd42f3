//! Black-box: the waiting room and reservations over real HTTP, with the in-process admitter
//! ticking, once in memory and once on Redis and DynamoDB (moto).

mod common;

use std::time::{Duration, Instant};

use common::*;
use festa::ports::ReservationEvent;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct Fan {
    email: String,
    token: String,
}

impl Platform {
    async fn fan(&self, prefix: &str) -> Fan {
        let email = unique(prefix);
        let tokens = self.account(&email).await;
        Fan {
            token: tokens["accessToken"].as_str().unwrap().to_string(),
            email,
        }
    }

    async fn queue(&self, method: Method, path: String, fan: &Fan) -> (StatusCode, Value) {
        self.call(method, &path, Some(&fan.token), None).await
    }

    async fn book(&self, fan: &Fan, body: Value, key: Option<&str>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .post(format!("{}/reservations", self.base))
            .bearer_auth(&fan.token)
            .json(&body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        read(req.send().await.unwrap()).await
    }

    async fn remaining(&self, festival_id: &str, date: &str) -> u64 {
        let (s, f) = self
            .call(
                Method::GET,
                &format!("/festivals/{festival_id}"),
                None,
                None,
            )
            .await;
        assert_eq!(s, 200);
        f["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["date"] == date)
            .unwrap()["remaining"]
            .as_u64()
            .unwrap()
    }
}

async fn rush(p: &Platform, admin: &str) {
    use Method as M;
    let admin_token = p.account(admin).await["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let mut body = festival("대기열 테스트 축제", "티켓 오픈");
    body["ticketsPerDay"] = json!(3);
    // Dates to come, so they can be booked whatever day the test runs (until 2027-10).
    body["startDate"] = json!("2027-10-03");
    body["endDate"] = json!("2027-10-04");
    let (s, fest) = p
        .call(M::POST, "/festivals/create", Some(&admin_token), Some(body))
        .await;
    assert_eq!(s, 201, "{fest}");
    let fid = fest["festivalId"].as_str().unwrap().to_string();
    let join = |f: &Fan| format!("/queues/{fid}/waiting-room/users/{}", f.email);
    let rank = |f: &Fan| format!("/queues/{fid}/users/{}/rank", f.email);
    let allowed = |f: &Fan| format!("/queues/{fid}/users/{}/allowed", f.email);

    let mut fans = Vec::new();
    for i in 0..5 {
        fans.push(p.fan(&format!("fan{i}")).await);
    }

    // Joining: each newcomer lands behind everyone still waiting; the admitter (1 a second
    // here) lets them in in exactly the order they came.
    for fan in &fans {
        let (s, status) = p.queue(M::GET, join(fan), fan).await;
        assert_eq!(s, 200, "{status}");
        for field in ["rank", "waitingCount", "etaSeconds", "pollAfterMs"] {
            assert!(status[field].is_i64() || status[field].is_u64(), "{status}");
        }
    }
    let started = Instant::now();
    let mut admitted_at = vec![None; fans.len()];
    while admitted_at.iter().any(Option::is_none) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the line drains"
        );
        for (i, fan) in fans.iter().enumerate() {
            if admitted_at[i].is_none() {
                let (s, a) = p.queue(M::GET, allowed(fan), fan).await;
                assert_eq!(s, 200);
                if a["allowed"] == true {
                    assert!(a["expiresAt"].is_string(), "{a}");
                    admitted_at[i] = Some(started.elapsed());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for pair in admitted_at.windows(2) {
        assert!(
            pair[0] <= pair[1],
            "first come, first served: {admitted_at:?}"
        );
    }
    // At one a second, five people need at least four seconds after the first.
    assert!(
        admitted_at[4].unwrap() >= Duration::from_millis(3_500),
        "the rate holds: {admitted_at:?}"
    );
    // An admitted user who joins again stays admitted and is not waiting.
    let (s, again) = p.queue(M::GET, join(&fans[0]), &fans[0]).await;
    assert_eq!((s, again["rank"].as_i64()), (StatusCode::OK, Some(-1)));
    let (_, still) = p.queue(M::GET, allowed(&fans[0]), &fans[0]).await;
    assert_eq!(still["allowed"], true);

    // Someone else's address is refused; an encoded '@' is still one's own.
    let (s, body) = p.queue(M::GET, rank(&fans[1]), &fans[0]).await;
    assert_eq!((s, code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    let encoded = format!(
        "/queues/{fid}/users/{}/rank",
        fans[0].email.replace('@', "%40")
    );
    let (s, body) = p.queue(M::GET, encoded, &fans[0]).await;
    assert_eq!((s, body["rank"].as_i64()), (StatusCode::OK, Some(-1)));
    let (s, body) = p
        .queue(
            M::GET,
            format!(
                "/queues/{}/waiting-room/users/{}",
                ulid_like(),
                fans[0].email
            ),
            &fans[0],
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::NOT_FOUND, "FESTIVAL_NOT_FOUND")
    );
    let (s, _) = p.call(M::GET, &rank(&fans[0]), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The caller is checked before the request is read, as API Gateway's authorizer does.
    let undecodable = format!("/queues/%FF/users/{}/rank", fans[0].email);
    let (s, _) = p.call(M::GET, &undecodable, None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = p.queue(M::GET, undecodable, &fans[0]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Booking needs an admission.
    let outsider = p.fan("outsider").await;
    let day = json!({"festivalId": fid, "festivalDate": "2027-10-03"});
    let (s, body) = p.book(&outsider, day.clone(), None).await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::FORBIDDEN, "QUEUE_ADMISSION_REQUIRED")
    );

    // Three tickets a day: the first three admitted fans get them, a retry books nothing more.
    let (s, first) = p.book(&fans[0], day.clone(), Some("fan0-try")).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(first["festivalName"], "대기열 테스트 축제");
    assert_eq!(
        (first["status"].as_str(), first["quantity"].as_u64()),
        (Some("CONFIRMED"), Some(1))
    );
    let (s, retry) = p.book(&fans[0], day.clone(), Some("fan0-try")).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(retry["reservationId"], first["reservationId"]);
    let (s, body) = p
        .book(
            &fans[0],
            json!({"festivalId": fid, "festivalDate": "2027-10-04"}),
            Some("fan0-try"),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED")
    );
    // The booking spent fan0's admission: allowed is false, and another booking (even of
    // another date) needs another turn in the line.
    let (_, a) = p.queue(M::GET, allowed(&fans[0]), &fans[0]).await;
    assert_eq!(a["allowed"], false, "{a}");
    let (s, body) = p
        .book(
            &fans[0],
            json!({"festivalId": fid, "festivalDate": "2027-10-04"}),
            Some("fan0-other"),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::FORBIDDEN, "QUEUE_ADMISSION_REQUIRED")
    );
    assert_eq!(p.remaining(&fid, "2027-10-03").await, 2);

    let (s, second) = p.book(&fans[1], day.clone(), None).await;
    assert_eq!(s, StatusCode::CREATED, "{second}");
    let (s, _) = p.book(&fans[2], day.clone(), None).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, body) = p.book(&fans[3], day.clone(), None).await;
    assert_eq!((s, code(&body)), (StatusCode::CONFLICT, "SOLD_OUT"));
    assert_eq!(p.remaining(&fid, "2027-10-03").await, 0);

    // Bad bookings are 400s and take nothing.
    for bad in [
        json!({"festivalId": fid, "festivalDate": "2027-10-05"}),
        json!({"festivalId": fid, "festivalDate": "2027-10-04", "quantity": 5}),
        json!({"festivalId": fid, "festivalDate": "2027-10-04", "quantity": 0}),
        json!({"festivalId": fid, "festivalDate": "next friday"}),
        json!({"festivalId": fid, "festivalDate": "+2026-10-04"}),
        json!({"festivalId": fid, "festivalDate": "2026-10-4"}),
        json!({"festivalId": fid}),
    ] {
        let (s, body) = p.book(&fans[3], bad.clone(), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad} → {body}");
    }
    // Two different keys in one request are ambiguous: refused, nothing booked.
    let twice = p
        .http
        .post(format!("{}/reservations", p.base))
        .bearer_auth(&fans[3].token)
        .header("Idempotency-Key", "one")
        .header("Idempotency-Key", "two")
        .json(&json!({"festivalId": fid, "festivalDate": "2027-10-04"}));
    let (s, body) = read(twice.send().await.unwrap()).await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED")
    );
    assert_eq!(p.remaining(&fid, "2027-10-04").await, 3);
    let (s, _) = p
        .book(
            &fans[3],
            json!({"festivalId": ulid_like(), "festivalDate": "2027-10-03"}),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Cancelling returns the ticket, once; another user cannot cancel it.
    let second_id = second["reservationId"].as_str().unwrap();
    let (s, body) = p
        .call(
            M::DELETE,
            &format!("/reservations/{second_id}"),
            Some(&fans[3].token),
            None,
        )
        .await;
    assert_eq!((s, code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    for _ in 0..2 {
        let (s, cancelled) = p
            .call(
                M::DELETE,
                &format!("/reservations/{second_id}"),
                Some(&fans[1].token),
                None,
            )
            .await;
        assert_eq!(
            (s, cancelled["status"].as_str()),
            (StatusCode::OK, Some("CANCELLED"))
        );
    }
    assert_eq!(p.remaining(&fid, "2027-10-03").await, 1);
    let (s, _) = p.book(&fans[3], day.clone(), None).await;
    assert_eq!(s, StatusCode::CREATED);
    // The one who cancelled got no admission back: booking again needs another turn.
    let (s, body) = p.book(&fans[1], day.clone(), None).await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::FORBIDDEN, "QUEUE_ADMISSION_REQUIRED")
    );

    // Everyone sees only their own reservations, newest first.
    let (s, mine) = p
        .call(M::GET, "/reservations", Some(&fans[0].token), None)
        .await;
    assert_eq!(s, 200);
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["reservationId"], first["reservationId"]);
    assert!(items[0].get("email").is_none(), "{mine}");
    let (_, theirs) = p
        .call(M::GET, "/reservations", Some(&fans[1].token), None)
        .await;
    assert_eq!(theirs["items"][0]["status"], "CANCELLED");
    let (_, none) = p
        .call(M::GET, "/reservations", Some(&outsider.token), None)
        .await;
    assert_eq!(none, json!({"items": [], "nextCursor": null}));

    // Giving the admission up ends it; leaving the line is quiet when not in it.
    let leave_proceed = format!("/queues/{fid}/users/{}/leave-proceed", fans[4].email);
    let (s, _) = p.queue(M::DELETE, leave_proceed, &fans[4]).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, a) = p.queue(M::GET, allowed(&fans[4]), &fans[4]).await;
    assert_eq!(a, json!({"allowed": false, "expiresAt": null}));
    let leave = format!("/queues/{fid}/users/{}/leave", fans[4].email);
    let (s, _) = p.queue(M::DELETE, leave, &fans[4]).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, body) = p
        .book(
            &fans[4],
            json!({"festivalId": fid, "festivalDate": "2027-10-04"}),
            None,
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::FORBIDDEN, "QUEUE_ADMISSION_REQUIRED")
    );

    // A waiting user can leave the line.
    let late = p.fan("late").await;
    let (_, r) = p.queue(M::GET, join(&late), &late).await;
    if r["rank"].as_i64() != Some(-1) {
        let (s, _) = p
            .queue(
                M::DELETE,
                format!("/queues/{fid}/users/{}/leave", late.email),
                &late,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (_, r) = p.queue(M::GET, rank(&late), &late).await;
        assert_eq!(r["rank"], -1);
    }

    // Each confirmed booking and cancellation was published once.
    if let Some(events) = &p.events {
        let mine: Vec<ReservationEvent> = events
            .events()
            .into_iter()
            .filter(|e| e.reservation().festival_id == fid)
            .collect();
        let confirmed = mine
            .iter()
            .filter(|e| matches!(e, ReservationEvent::Confirmed(_)))
            .count();
        let cancelled = mine
            .iter()
            .filter(|e| matches!(e, ReservationEvent::Cancelled(_)))
            .count();
        assert_eq!((confirmed, cancelled), (4, 1));
    }
}

async fn documented(p: &Platform) {
    let (_, doc) = p.call(Method::GET, "/openapi.json", None, None).await;
    // Every response is described, and errors are documented with the type they are sent as.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            for (status, response) in responses {
                let at = format!("{method} {path} {status}");
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{at} has no description"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{at}: {response}"
                    );
                }
            }
        }
    }
    for (path, method) in [
        ("/queues/{queue}/waiting-room/users/{email}", "get"),
        ("/queues/{queue}/users/{email}/rank", "get"),
        ("/queues/{queue}/users/{email}/allowed", "get"),
        ("/queues/{queue}/users/{email}/leave", "delete"),
        ("/queues/{queue}/users/{email}/leave-proceed", "delete"),
        ("/reservations", "post"),
        ("/reservations", "get"),
        ("/reservations/{reservationId}", "delete"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
}

/// Today's date in Seoul, and `days` after it, as `YYYY-MM-DD`.
fn seoul_day(days: i64) -> String {
    let seoul = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
    (chrono::Utc::now().with_timezone(&seoul).date_naive() + chrono::Duration::days(days))
        .to_string()
}

/// Queues `fan` for `fid` until admitted.
async fn admitted(p: &Platform, fid: &str, fan: &Fan) {
    let (s, _) = p
        .queue(
            Method::GET,
            format!("/queues/{fid}/waiting-room/users/{}", fan.email),
            fan,
        )
        .await;
    assert_eq!(s, 200);
    let started = Instant::now();
    loop {
        let (_, a) = p
            .queue(
                Method::GET,
                format!("/queues/{fid}/users/{}/allowed", fan.email),
                fan,
            )
            .await;
        if a["allowed"] == true {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "admitted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn clocked_rules(p: &Platform, admin: &str) {
    use Method as M;
    let admin_token = p.account(admin).await["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let create = |start: String, end: String| {
        let mut body = festival("시간 규칙 축제", "날짜");
        body["startDate"] = json!(start);
        body["endDate"] = json!(end);
        body["timeZone"] = json!("Asia/Seoul");
        body
    };
    // A festival that began yesterday in Seoul and runs another week.
    let (s, running) = p
        .call(
            M::POST,
            "/festivals/create",
            Some(&admin_token),
            Some(create(seoul_day(-1), seoul_day(7))),
        )
        .await;
    assert_eq!(s, 201, "{running}");
    let fid = running["festivalId"].as_str().unwrap().to_string();
    let fan = p.fan("clocked").await;
    admitted(p, &fid, &fan).await;

    // Dates that have begun in Seoul are DATE_PASSED, and spend nothing.
    for day in [seoul_day(-1), seoul_day(0)] {
        let (s, body) = p
            .book(&fan, json!({"festivalId": fid, "festivalDate": day}), None)
            .await;
        assert_eq!(
            (s, code(&body)),
            (StatusCode::CONFLICT, "DATE_PASSED"),
            "{day}"
        );
    }
    let (_, a) = p
        .queue(
            M::GET,
            format!("/queues/{fid}/users/{}/allowed", fan.email),
            &fan,
        )
        .await;
    assert_eq!(a["allowed"], true, "{a}");

    // Two bookings at once on one admission (other dates, other keys): one books.
    let (a, b) = tokio::join!(
        p.book(
            &fan,
            json!({"festivalId": fid, "festivalDate": seoul_day(2)}),
            Some("par-a")
        ),
        p.book(
            &fan,
            json!({"festivalId": fid, "festivalDate": seoul_day(3)}),
            Some("par-b")
        ),
    );
    let mut answers = [(a.0, code(&a.1).to_string()), (b.0, code(&b.1).to_string())];
    answers.sort();
    assert_eq!(
        answers,
        [
            (StatusCode::CREATED, String::new()),
            (
                StatusCode::FORBIDDEN,
                "QUEUE_ADMISSION_REQUIRED".to_string()
            ),
        ]
    );
    let (_, mine) = p
        .call(M::GET, "/reservations", Some(&fan.token), None)
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");

    // A festival whose last date is over in Seoul has no line; leaving is still fine.
    let (s, over) = p
        .call(
            M::POST,
            "/festivals/create",
            Some(&admin_token),
            Some(create(seoul_day(-3), seoul_day(-1))),
        )
        .await;
    assert_eq!(s, 201, "{over}");
    let gone = over["festivalId"].as_str().unwrap();
    for path in [
        format!("/queues/{gone}/waiting-room/users/{}", fan.email),
        format!("/queues/{gone}/users/{}/rank", fan.email),
        format!("/queues/{gone}/users/{}/allowed", fan.email),
    ] {
        let (s, body) = p.queue(M::GET, path.clone(), &fan).await;
        assert_eq!(
            (s, code(&body)),
            (StatusCode::CONFLICT, "FESTIVAL_ENDED"),
            "{path}"
        );
    }
    for path in [
        format!("/queues/{gone}/users/{}/leave", fan.email),
        format!("/queues/{gone}/users/{}/leave-proceed", fan.email),
    ] {
        let (s, _) = p.queue(M::DELETE, path.clone(), &fan).await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{path}");
    }
}

#[tokio::test]
async fn dates_festivals_and_admissions_follow_the_clock_in_memory() {
    let admin = unique("admin");
    let p = start(&[("ADMIN_EMAILS", admin.clone())]).await;
    clocked_rules(&p, &admin).await;
}

#[tokio::test]
async fn dates_festivals_and_admissions_follow_the_clock_on_redis_and_dynamodb() {
    let Some(redis) = real_redis() else {
        return;
    };
    let admin = unique("admin");
    let run = ulid_like();
    let p = start(&[
        ("ADMIN_EMAILS", admin.clone()),
        ("REDIS_URL", redis),
        ("RECORDS_TABLE", format!("clock-records-{run}")),
        ("SEARCH_TABLE", format!("clock-search-{run}")),
    ])
    .await;
    clocked_rules(&p, &admin).await;
}

#[tokio::test]
async fn waiting_room_and_reservations_in_memory() {
    let admin = unique("admin");
    let p = start(&[
        ("ADMIN_EMAILS", admin.clone()),
        ("ADMIT_RATE_PER_SECOND", "1".into()),
    ])
    .await;
    documented(&p).await;
    rush(&p, &admin).await;
}

#[tokio::test]
async fn waiting_room_and_reservations_on_redis_and_dynamodb() {
    let Some(redis) = real_redis() else {
        return;
    };
    let admin = unique("admin");
    let run = ulid_like();
    let p = start(&[
        ("ADMIN_EMAILS", admin.clone()),
        ("ADMIT_RATE_PER_SECOND", "1".into()),
        ("REDIS_URL", redis),
        ("RECORDS_TABLE", format!("rush-records-{run}")),
        ("SEARCH_TABLE", format!("rush-search-{run}")),
    ])
    .await;
    rush(&p, &admin).await;
}
