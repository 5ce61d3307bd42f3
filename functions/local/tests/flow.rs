//! Black-box: drives the local platform over real HTTP through the whole accounts and
//! festivals flow, including the failure rows of API.md, once in memory and once against real
//! Redis and DynamoDB (the moto server).

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn whole_flow(p: &Platform, admin: &str) {
    use Method as M;
    // A new user: sign up, read the code from the outbox, confirm, log in.
    let fan = unique("fan");
    let (s, created) = p
        .call(
            M::POST,
            "/signup",
            None,
            Some(json!({"email": fan, "password": "festival-pass", "name": "페스타 팬"})),
        )
        .await;
    assert_eq!(
        (s, created["status"].as_str()),
        (StatusCode::CREATED, Some("UNCONFIRMED")),
        "{created}"
    );
    let (s, body) = p
        .call(
            M::POST,
            "/login",
            None,
            Some(json!({"email": fan, "password": "festival-pass"})),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::FORBIDDEN, "USER_NOT_CONFIRMED")
    );
    let good = p.code_for(&fan).await;
    let bad = format!("{:06}", (good.parse::<u32>().unwrap() + 1) % 1_000_000);
    let (s, body) = p
        .call(
            M::POST,
            "/confirm-signup",
            None,
            Some(json!({"email": fan, "code": bad})),
        )
        .await;
    assert_eq!((s, code(&body)), (StatusCode::BAD_REQUEST, "CODE_MISMATCH"));
    let (s, body) = p
        .call(
            M::POST,
            "/confirm-signup",
            None,
            Some(json!({"email": fan, "code": good})),
        )
        .await;
    assert_eq!(
        (s, body["status"].as_str()),
        (StatusCode::OK, Some("CONFIRMED"))
    );
    let (s, body) = p
        .call(
            M::POST,
            "/signup",
            None,
            Some(json!({"email": fan, "password": "festival-pass", "name": "again"})),
        )
        .await;
    assert_eq!((s, code(&body)), (StatusCode::CONFLICT, "EMAIL_TAKEN"));
    let (s, tokens) = p
        .call(
            M::POST,
            "/login",
            None,
            Some(json!({"email": fan.to_uppercase(), "password": "festival-pass"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (tokens["tokenType"].as_str(), tokens["expiresIn"].as_i64()),
        (Some("Bearer"), Some(900))
    );
    let fan_token = tokens["accessToken"].as_str().unwrap().to_string();
    let (s, me) = p
        .call(M::GET, "/verify-token", Some(&fan_token), None)
        .await;
    assert_eq!(
        (s, me["role"].as_str(), me["valid"].as_bool()),
        (StatusCode::OK, Some("user"), Some(true))
    );

    // A plain user may not create festivals.
    let (s, body) = p
        .call(
            M::POST,
            "/festivals/create",
            Some(&fan_token),
            Some(festival("불꽃", "")),
        )
        .await;
    assert_eq!((s, code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    let (s, _) = p
        .call(
            M::POST,
            "/festivals/create",
            None,
            Some(festival("불꽃", "")),
        )
        .await;
    assert_eq!(s, 401);

    // The admin creates festivals; list, get and search find them.
    let admin_tokens = p.account(admin).await;
    let admin_token = admin_tokens["accessToken"].as_str().unwrap().to_string();
    let tag = ulid_like();
    let (s, fireworks) = p
        .call(
            M::POST,
            "/festivals/create",
            Some(&admin_token),
            Some(festival(
                &format!("서울 세계 불꽃축제 {tag}"),
                "한강의 밤하늘",
            )),
        )
        .await;
    assert_eq!(s, 201, "{fireworks}");
    let (s, rock) = p
        .call(
            M::POST,
            "/festivals/create",
            Some(&admin_token),
            Some(festival(
                &format!("Busan Rock Festival {tag}"),
                "바닷가 록 공연",
            )),
        )
        .await;
    assert_eq!(s, 201, "{rock}");
    assert_eq!(fireworks["tickets"].as_array().unwrap().len(), 2);
    assert_eq!(fireworks["timeZone"], "Asia/Seoul");
    let (s, page) = p.call(M::GET, "/festivals?limit=2", None, None).await;
    assert_eq!(s, 200);
    assert_eq!(
        page["items"][0]["festivalId"], rock["festivalId"],
        "newest first"
    );
    assert_eq!(page["items"][1]["festivalId"], fireworks["festivalId"]);
    let cursor = page["nextCursor"].as_str().map(str::to_string);
    if let Some(cursor) = cursor {
        let (s, next) = p
            .call(
                M::GET,
                &format!("/festivals?limit=2&cursor={cursor}"),
                None,
                None,
            )
            .await;
        assert_eq!(s, 200);
        assert!(next["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["festivalId"] != rock["festivalId"]));
    }
    let id = fireworks["festivalId"].as_str().unwrap();
    let (s, got) = p
        .call(M::GET, &format!("/festivals/{id}"), None, None)
        .await;
    assert_eq!(
        (s, &got["tickets"][0]),
        (
            StatusCode::OK,
            &json!({"date": "2026-10-03", "total": 100, "remaining": 100})
        )
    );
    let search = |q: &str| format!("/festivals/search?keyword={}", urlencode(q));
    let (s, found) = p
        .call(M::GET, &search(&format!("불꽃 {tag}")), None, None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["items"][0]["festivalId"], fireworks["festivalId"]);
    let (_, found) = p
        .call(M::GET, &search(&format!("ROCK {tag} 바닷가")), None, None)
        .await;
    assert_eq!(found["items"][0]["festivalId"], rock["festivalId"]);
    // The cached answer is invalidated by a new festival.
    let (_, before) = p
        .call(M::GET, &search(&format!("{tag} 공연")), None, None)
        .await;
    assert_eq!(before["items"].as_array().unwrap().len(), 1);
    let (s, _) = p
        .call(
            M::POST,
            "/festivals/create",
            Some(&admin_token),
            Some(festival(&format!("재즈 {tag}"), "야외 공연")),
        )
        .await;
    assert_eq!(s, 201);
    let (_, after) = p
        .call(M::GET, &search(&format!("{tag} 공연")), None, None)
        .await;
    assert_eq!(after["items"].as_array().unwrap().len(), 2, "{after}");

    // Refresh rotates; the spent token is refused and ends that login.
    let refresh = admin_tokens["refreshToken"].clone();
    let (s, rotated) = p
        .call(
            M::POST,
            "/refresh-token",
            None,
            Some(json!({"refreshToken": refresh})),
        )
        .await;
    assert_eq!(s, 200);
    let new_access = rotated["accessToken"].as_str().unwrap().to_string();
    let (s, _) = p
        .call(M::GET, "/verify-token", Some(&new_access), None)
        .await;
    assert_eq!(s, 200);
    let (s, _) = p
        .call(
            M::POST,
            "/refresh-token",
            None,
            Some(json!({"refreshToken": refresh})),
        )
        .await;
    assert_eq!(s, 401);
    let (s, _) = p
        .call(M::GET, "/verify-token", Some(&new_access), None)
        .await;
    assert_eq!(s, 401, "a replayed refresh token revokes the whole login");

    // Sign-out: the token is refused at once.
    let (s, _) = p.call(M::POST, "/signout", Some(&fan_token), None).await;
    assert_eq!(s, 204);
    let (s, body) = p
        .call(M::GET, "/verify-token", Some(&fan_token), None)
        .await;
    assert_eq!((s, code(&body)), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
}

async fn failure_rows(p: &Platform, admin: &str) {
    use Method as M;
    let signup = |email: &str, password: &str, name: &str| json!({"email": email, "password": password, "name": name});
    for body in [
        signup("not-an-email", "festival-pass", "x"),
        signup(&unique("short"), "seven77", "x"),
        signup(&unique("noname"), "festival-pass", "   "),
        signup(&unique("longname"), "festival-pass", &"가".repeat(51)),
        json!({"email": 5, "password": "festival-pass", "name": "x"}),
        json!({"password": "festival-pass", "name": "x"}),
        json!([]),
    ] {
        let (s, problem) = p.call(M::POST, "/signup", None, Some(body.clone())).await;
        assert_eq!(
            (s, code(&problem)),
            (StatusCode::BAD_REQUEST, "VALIDATION_FAILED"),
            "{body}"
        );
    }
    let (s, body) = p.raw("/signup", b"{\"email\":".to_vec()).await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED")
    );
    let (s, _) = p.raw("/login", vec![0xff, 0xfe, b'{']).await;
    assert_eq!(s, 400);
    let (s, body) = p.raw("/signup", vec![b' '; 64 * 1024 + 1]).await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
    );
    let (s, body) = p
        .call(
            M::POST,
            "/confirm-signup",
            None,
            Some(json!({"email": unique("ghost"), "code": "123456"})),
        )
        .await;
    assert_eq!((s, code(&body)), (StatusCode::BAD_REQUEST, "CODE_MISMATCH"));
    let (s, body) = p
        .call(
            M::POST,
            "/confirm-signup",
            None,
            Some(json!({"email": unique("ghost"), "code": "12ab"})),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED")
    );

    // Five wrong codes, then 429.
    let typo = unique("typo");
    let (s, _) = p
        .call(
            M::POST,
            "/signup",
            None,
            Some(signup(&typo, "festival-pass", "x")),
        )
        .await;
    assert_eq!(s, 201);
    let good = p.code_for(&typo).await;
    let bad = format!("{:06}", (good.parse::<u32>().unwrap() + 1) % 1_000_000);
    for _ in 0..5 {
        let (s, _) = p
            .call(
                M::POST,
                "/confirm-signup",
                None,
                Some(json!({"email": typo, "code": bad})),
            )
            .await;
        assert_eq!(s, 400);
    }
    let (s, body) = p
        .call(
            M::POST,
            "/confirm-signup",
            None,
            Some(json!({"email": typo, "code": good})),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS")
    );

    let (s, body) = p
        .call(
            M::POST,
            "/login",
            None,
            Some(json!({"email": unique("nobody"), "password": "festival-pass"})),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS")
    );
    let fan = unique("fan");
    p.account(&fan).await;
    let (s, body) = p
        .call(
            M::POST,
            "/login",
            None,
            Some(json!({"email": fan, "password": "wrong-pass"})),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS")
    );

    for token in ["", "garbage", "a.b.c"] {
        let (s, _) = p.call(M::GET, "/verify-token", Some(token), None).await;
        assert_eq!(s, 401, "{token:?}");
    }
    let (s, _) = p.call(M::POST, "/signout", None, None).await;
    assert_eq!(s, 401);
    for refresh in [
        json!({"refreshToken": "garbage"}),
        json!({"refreshToken": format!("{}.01J.{}", "Y".repeat(3000), "s".repeat(43))}),
        json!({"refreshToken": 7}),
        json!({}),
    ] {
        let (s, _) = p
            .call(M::POST, "/refresh-token", None, Some(refresh.clone()))
            .await;
        assert!(s == 401 || s == 400, "{refresh}: {s}");
    }

    let admin_token = p.login(admin).await;
    let with = |patch: Value| {
        let mut f = festival("검증 축제", "");
        for (k, v) in patch.as_object().unwrap() {
            f[k] = v.clone();
        }
        f
    };
    for body in [
        with(json!({"endDate": "2026-10-02"})),
        with(json!({"endDate": "2026-11-03"})),
        with(json!({"ticketsPerDay": 0})),
        with(json!({"ticketsPerDay": 1_000_001})),
        with(json!({"ticketsPerDay": -1})),
        with(json!({"startDate": "2026-13-01"})),
        with(json!({"timeZone": "Mars/Olympus"})),
        with(json!({"name": ""})),
        with(json!({"imageUrl": "javascript:alert(1)"})),
        with(json!({"imageUrl": "http://\u{0}"})),
        with(json!({"name": "불꽃\u{0}축제"})),
        with(json!({"name": "\u{200b}\u{200b}"})),
        with(json!({"startDate": "+262142-12-01", "endDate": "+262142-12-31"})),
        with(json!({"startDate": "1999-12-31", "endDate": "2000-01-01"})),
    ] {
        let (s, problem) = p
            .call(
                M::POST,
                "/festivals/create",
                Some(&admin_token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (s, code(&problem)),
            (StatusCode::BAD_REQUEST, "VALIDATION_FAILED"),
            "{body}"
        );
    }
    let (s, f) = p
        .call(
            M::POST,
            "/festivals/create",
            Some(&admin_token),
            Some(with(
                json!({"endDate": "2026-11-02", "timeZone": "Europe/Berlin"}),
            )),
        )
        .await;
    assert_eq!(
        (s, f["tickets"].as_array().map(Vec::len)),
        (StatusCode::CREATED, Some(31)),
        "31 days is the limit"
    );

    let (s, body) = p
        .call(M::GET, "/festivals/01J00000000000000000000000", None, None)
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::NOT_FOUND, "FESTIVAL_NOT_FOUND")
    );
    let (s, _) = p.call(M::GET, "/festivals/not-an-id", None, None).await;
    assert_eq!(s, 404);
    for path in [
        "/festivals/search",
        "/festivals/search?keyword=%20",
        &format!("/festivals/search?keyword={}", "a".repeat(101)),
        "/festivals?limit=0",
        "/festivals?limit=101",
        "/festivals?cursor=%%%",
        "/festivals?cursor=bm90LWEtdWxpZA",
    ] {
        let (s, body) = p.call(M::GET, path, None, None).await;
        assert_eq!(
            (s, code(&body)),
            (StatusCode::BAD_REQUEST, "VALIDATION_FAILED"),
            "{path}"
        );
    }
    let (s, body) = p
        .call(M::GET, "/festivals/search?keyword=%FF", None, None)
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED"),
        "undecodable query"
    );
    let (s, body) = p
        .call(
            M::POST,
            "/signup",
            None,
            Some(signup(&unique("nul"), "festival-pass", "a\u{0}b")),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED")
    );
    // A malformed chunked body is a bad request, not a too-large one.
    let status = p
        .raw_tcp(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        .await;
    assert!(status.starts_with("HTTP/1.1 400"), "{status}");
    let non_ascii = p
        .http
        .get(format!("{}/verify-token", p.base))
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (s, body) = read(non_ascii).await;
    assert_eq!(s, 401);
    assert!(
        body["detail"].as_str().unwrap().contains("Bearer <token>"),
        "{body}"
    );
    let (s, body) = p.call(M::GET, "/no/such/route", None, None).await;
    assert_eq!((s, code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
}

async fn platform_basics(p: &Platform) {
    let (s, health) = p.call(Method::GET, "/health", None, None).await;
    assert_eq!((s, health), (StatusCode::OK, json!({"status": "ok"})));
    let (s, doc) = p.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for (path, method) in [
        ("/signup", "post"),
        ("/confirm-signup", "post"),
        ("/login", "post"),
        ("/signout", "post"),
        ("/verify-token", "get"),
        ("/refresh-token", "post"),
        ("/festivals/create", "post"),
        ("/festivals", "get"),
        ("/festivals/{festivalId}", "get"),
        ("/festivals/search", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
}

#[tokio::test]
async fn in_memory_platform() {
    let admin = unique("admin");
    let p = start(&[("ADMIN_EMAILS", admin.clone())]).await;
    platform_basics(&p).await;
    whole_flow(&p, &admin).await;
    failure_rows(&p, &admin).await;
}

#[tokio::test]
async fn platform_on_redis_and_dynamodb() {
    let Some(redis) = real_redis() else {
        return;
    };
    let admin = unique("admin");
    let run = ulid_like();
    let p = start(&[
        ("ADMIN_EMAILS", admin.clone()),
        ("REDIS_URL", redis),
        ("RECORDS_TABLE", format!("flow-records-{run}")),
        ("SEARCH_TABLE", format!("flow-search-{run}")),
        (
            "JWT_SECRET",
            "a-test-secret-that-is-long-enough-1234".into(),
        ),
    ])
    .await;
    platform_basics(&p).await;
    whole_flow(&p, &admin).await;
    failure_rows(&p, &admin).await;
}
