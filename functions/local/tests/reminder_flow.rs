//! Black-box: device tokens and the reminder pipeline over real HTTP, once in memory and once
//! on DynamoDB (moto): bookings through the waiting room, `POST /_local/reminders/run`, and
//! the pushes it leaves in `/_local/outbox`.

mod common;

use std::time::{Duration, Instant};

use common::*;
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

    async fn device(&self, fan: &Fan, route: &str, body: Value) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            &format!("/notification/{route}"),
            Some(&fan.token),
            Some(body),
        )
        .await
    }

    /// Joins the festival's line, waits for admission and books `date`.
    async fn book(&self, fan: &Fan, festival_id: &str, date: &str) -> String {
        let (s, _) = self
            .call(
                Method::GET,
                &format!("/queues/{festival_id}/waiting-room/users/{}", fan.email),
                Some(&fan.token),
                None,
            )
            .await;
        assert_eq!(s, 200);
        let started = Instant::now();
        loop {
            let (_, a) = self
                .call(
                    Method::GET,
                    &format!("/queues/{festival_id}/users/{}/allowed", fan.email),
                    Some(&fan.token),
                    None,
                )
                .await;
            if a["allowed"] == true {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "admitted");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (s, r) = self
            .call(
                Method::POST,
                "/reservations",
                Some(&fan.token),
                Some(json!({"festivalId": festival_id, "festivalDate": date})),
            )
            .await;
        assert_eq!(s, 201, "{r}");
        r["reservationId"].as_str().unwrap().to_string()
    }

    async fn run(&self, date: &str) -> Value {
        let (s, report) = self
            .call(
                Method::POST,
                &format!("/_local/reminders/run?date={date}"),
                None,
                None,
            )
            .await;
        assert_eq!(s, 200, "{report}");
        report
    }

    async fn pushes(&self, to: &str) -> Vec<Value> {
        let (s, outbox) = self
            .call(
                Method::GET,
                &format!("/_local/outbox?to={}", urlencode(to)),
                None,
                None,
            )
            .await;
        assert_eq!(s, 200);
        outbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "push")
            .cloned()
            .collect()
    }
}

async fn create_festival(
    p: &Platform,
    admin: &Fan,
    name: &str,
    zone: &str,
    start: &str,
    end: &str,
) -> String {
    let mut body = festival(name, "리마인더 테스트");
    body["startDate"] = json!(start);
    body["endDate"] = json!(end);
    body["timeZone"] = json!(zone);
    let (s, f) = p
        .call(
            Method::POST,
            "/festivals/create",
            Some(&admin.token),
            Some(body),
        )
        .await;
    assert_eq!(s, 201, "{f}");
    f["festivalId"].as_str().unwrap().to_string()
}

fn tokens_of(pushes: &[Value]) -> Vec<String> {
    let mut tokens: Vec<String> = pushes
        .iter()
        .map(|p| p["fcmToken"].as_str().unwrap().to_string())
        .collect();
    tokens.sort();
    tokens
}

async fn reminders(p: &Platform, admin_email: &str) {
    let run = ulid_like();
    let admin = p.fan_for(admin_email).await;
    let seoul = create_festival(
        p,
        &admin,
        "부산 바다 축제",
        "Asia/Seoul",
        "2027-03-10",
        "2027-03-11",
    )
    .await;
    // 09:00 in Seoul on 9 March is 16:00 on 8 March in Los Angeles: its tomorrow is the 9th.
    let la = create_festival(
        p,
        &admin,
        "LA Lantern Night",
        "America/Los_Angeles",
        "2027-03-09",
        "2027-03-09",
    )
    .await;

    let ana = p.fan("ana").await;
    let ben = p.fan("ben").await;
    let cho = p.fan("cho").await;
    let dan = p.fan("dan").await;
    let eve = p.fan("eve").await;

    // Devices: Ana has two; Ben's one is deactivated; Cho will cancel; Dan's old phone went
    // to Eve (a token moves to its latest owner); Eve has no reservation.
    let ana_web = format!("ana-web-{run}");
    let ana_phone = format!("ana-phone-{run}:APA91b{}", "x".repeat(140));
    let (s, _) = p
        .device(
            &ana,
            "activate",
            json!({"fcmToken": ana_web, "platform": "web"}),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = p
        .device(
            &ana,
            "activate",
            json!({"fcmToken": ana_phone, "platform": "android"}),
        )
        .await;
    assert_eq!(s, 204);
    // Activating again changes nothing.
    let (s, _) = p
        .device(&ana, "activate", json!({"fcmToken": ana_web}))
        .await;
    assert_eq!(s, 204);
    let ben_phone = format!("ben-{run}");
    p.device(
        &ben,
        "activate",
        json!({"fcmToken": ben_phone, "platform": "ios"}),
    )
    .await;
    let cho_phone = format!("cho-{run}");
    p.device(&cho, "activate", json!({"fcmToken": cho_phone}))
        .await;
    let dan_phone = format!("dan-{run}");
    p.device(&dan, "activate", json!({"fcmToken": dan_phone}))
        .await;
    p.device(&eve, "activate", json!({"fcmToken": dan_phone}))
        .await;
    // Dan's stale deactivate does not take the phone from Eve.
    let (s, _) = p
        .device(&dan, "deactivate", json!({"fcmToken": dan_phone}))
        .await;
    assert_eq!(s, 204);
    let (s, _) = p
        .device(&ben, "deactivate", json!({"fcmToken": ben_phone}))
        .await;
    assert_eq!(s, 204);

    // Bad input is a 400 problem and changes nothing; no token is a 401.
    for bad in [
        json!({}),
        json!({"fcmToken": ""}),
        json!({"fcmToken": "a b"}),
        json!({"fcmToken": "x", "platform": "windows"}),
        json!({"fcmToken": "x".repeat(4097)}),
    ] {
        let (s, body) = p.device(&ana, "activate", bad.clone()).await;
        assert_eq!(
            (s, code(&body)),
            (StatusCode::BAD_REQUEST, "VALIDATION_FAILED"),
            "{bad}"
        );
    }
    let (s, _) = p
        .call(
            Method::POST,
            "/notification/activate",
            None,
            Some(json!({"fcmToken": "x"})),
        )
        .await;
    assert_eq!(s, 401);

    let ana_first = p.book(&ana, &seoul, "2027-03-10").await;
    let ana_second = p.book(&ana, &seoul, "2027-03-11").await;
    p.book(&ben, &seoul, "2027-03-10").await;
    let cho_booking = p.book(&cho, &seoul, "2027-03-10").await;
    let (s, _) = p
        .call(
            Method::DELETE,
            &format!("/reservations/{cho_booking}"),
            Some(&cho.token),
            None,
        )
        .await;
    assert_eq!(s, 200);
    p.book(&dan, &la, "2027-03-09").await;
    let eve_la = p.book(&eve, &la, "2027-03-09").await;

    // Nothing is due the day before the day before.
    let report = p.run("2027-03-08").await;
    assert_eq!(report["jobs"], 0, "{report}");

    // 9 March, 09:00 Seoul: Seoul's 10 March and Los Angeles's 9 March are tomorrow.
    let report = p.run("2027-03-09").await;
    assert_eq!(report["runAt"], "2027-03-09T00:00:00.000Z", "{report}");
    assert_eq!(report["festivalDays"], 2, "{report}");
    // Ana, Ben (no device left) on the 10th; Dan (no device left) and Eve in LA.
    assert_eq!(report["jobs"], 4, "{report}");
    assert_eq!(report["delivered"], 3, "{report}");

    let ana_pushes = p.pushes(&ana.email).await;
    assert_eq!(tokens_of(&ana_pushes), {
        let mut t = vec![ana_web.clone(), ana_phone.clone()];
        t.sort();
        t
    });
    for push in &ana_pushes {
        assert_eq!(push["to"], ana.email.as_str());
        assert!(
            push["title"].as_str().unwrap().contains("부산 바다 축제"),
            "{push}"
        );
        assert!(
            push["body"].as_str().unwrap().contains("부산 바다 축제"),
            "{push}"
        );
        assert_eq!(
            push["data"],
            json!({"type": "FESTIVAL_REMINDER", "festivalId": seoul, "reservationId": ana_first,
                   "festivalDate": "2027-03-10"})
        );
    }
    assert!(
        p.pushes(&ben.email).await.is_empty(),
        "deactivated devices get nothing"
    );
    assert!(
        p.pushes(&cho.email).await.is_empty(),
        "cancelled reservations get nothing"
    );
    assert!(
        p.pushes(&dan.email).await.is_empty(),
        "a moved token pushes for its new owner"
    );
    let eve_pushes = p.pushes(&eve.email).await;
    assert_eq!(tokens_of(&eve_pushes), std::slice::from_ref(&dan_phone));
    assert_eq!(eve_pushes[0]["data"]["reservationId"], eve_la.as_str());

    // The same run again (a redelivered schedule) pushes nothing twice.
    let again = p.run("2027-03-09").await;
    assert_eq!(
        (
            again["jobs"].as_u64(),
            again["delivered"].as_u64(),
            again["alreadySent"].as_u64()
        ),
        (Some(4), Some(0), Some(3)),
        "{again}"
    );
    assert_eq!(p.pushes(&ana.email).await.len(), 2);

    // The next day reminds Ana's second date only.
    let next = p.run("2027-03-10").await;
    assert_eq!(next["delivered"], 2, "{next}");
    let ana_pushes = p.pushes(&ana.email).await;
    assert_eq!(ana_pushes.len(), 4);
    assert_eq!(ana_pushes[0]["data"]["reservationId"], ana_second.as_str());

    // A bad date is a 400.
    let (s, body) = p
        .call(
            Method::POST,
            "/_local/reminders/run?date=2027-02-30",
            None,
            None,
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED")
    );
}

impl Platform {
    async fn fan_for(&self, email: &str) -> Fan {
        let tokens = self.account(email).await;
        Fan {
            token: tokens["accessToken"].as_str().unwrap().to_string(),
            email: email.to_string(),
        }
    }
}

#[tokio::test]
async fn reminders_in_memory() {
    let admin = unique("admin");
    let p = start(&[
        ("ADMIN_EMAILS", admin.clone()),
        ("ADMIT_RATE_PER_SECOND", "1000".into()),
    ])
    .await;
    reminders(&p, &admin).await;
    let (s, doc) = p.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(s, 200);
    for path in ["/notification/activate", "/notification/deactivate"] {
        assert!(
            doc["paths"][path]["post"].is_object(),
            "{path} is documented"
        );
    }
}

#[tokio::test]
async fn reminders_on_redis_and_dynamodb() {
    let Some(redis) = real_redis() else {
        return;
    };
    let admin = unique("admin");
    let run = ulid_like();
    let p = start(&[
        ("ADMIN_EMAILS", admin.clone()),
        ("ADMIT_RATE_PER_SECOND", "1000".into()),
        ("REDIS_URL", redis),
        ("RECORDS_TABLE", format!("remind-records-{run}")),
        ("SEARCH_TABLE", format!("remind-search-{run}")),
    ])
    .await;
    reminders(&p, &admin).await;
}
