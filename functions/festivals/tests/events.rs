//! Replays the sample events of the festival Lambdas (`events/*.json`, one per binary) through
//! the very code path each binary runs: `festa_festivals::route` + `festa::api::lambda::handle`.
//! State is in memory.
//!
//! Fixtures hold placeholders for what only a live system can give (`<access-token>`, the
//! `<user-id>`/`<session-id>` of the authorizer context, `<festival-id>`); the tests fill them in.

use std::collections::BTreeSet;
use std::sync::Arc;

use festa::adapters::memory::{MemoryCache, MemoryRecords, MemorySearchIndex};
use festa::adapters::system::{RandomIds, SystemClock};
use festa::api::replay::{as_caller, edit, event_names, events_dir, fill, replay, Replayed};
use festa::model::Role;
use festa::ports::{Clock, IdSource};
use festa::services::festivals::Festivals;
use festa::services::tokens::{Identity, TokenKeys, ACCESS_TTL};
use festa_festivals::FestivalsState;
use serde_json::{json, Value};

/// Every festival binary, each with its sample event `events/<name>.json`.
const FESTIVAL_EVENTS: [&str; 4] = [
    "create-festival",
    "list-festivals",
    "get-festival",
    "search-festivals",
];
/// Every account binary (functions/auth/tests/events.rs replays these).
const AUTH_EVENTS: [&str; 7] = [
    "signup",
    "confirm-signup",
    "login",
    "signout",
    "verify-token",
    "refresh-token",
    "authorizer",
];
/// Every chat binary (functions/chat/tests/events.rs replays these); the chat REST routes live
/// under `/festivals/chatting`.
const CHAT_EVENTS: [&str; 11] = [
    "join-chat-room",
    "enter-chat-room",
    "list-chat-rooms",
    "leave-chat-room",
    "ws-connect",
    "ws-disconnect",
    "ws-send-message",
    "ws-enter-room",
    "ws-leave-room",
    "ws-mark-read",
    "ws-default",
];

const FESTIVAL_NAME: &str = "서울 세계 불꽃축제 2027";

struct Harness {
    state: Arc<FestivalsState>,
    keys: TokenKeys,
    clock: SystemClock,
    ids: RandomIds,
}

fn harness() -> Harness {
    let records = Arc::new(MemoryRecords::new());
    let state = FestivalsState {
        festivals: Festivals {
            store: records,
            index: Arc::new(MemorySearchIndex::new()),
            cache: Arc::new(MemoryCache::new()),
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::default()),
        },
    };
    Harness {
        state: Arc::new(state),
        keys: TokenKeys::from_secret(&[7u8; 32]).unwrap(),
        clock: SystemClock,
        ids: RandomIds::default(),
    }
}

/// The sample event of one festival binary, as the file holds it.
fn fixture(name: &str) -> String {
    assert!(
        FESTIVAL_EVENTS.contains(&name),
        "{name} is not a festival event"
    );
    festa::api::replay::fixture(name)
}

/// Runs the Lambda of `path` on an event, as its binary does (see `festa::api::replay`).
async fn invoke(h: &Harness, path: &str, event: &str) -> Replayed {
    let route = festa_festivals::route(h.state.clone(), path).unwrap();
    replay(&route, event).await
}

/// A protected route's event as API Gateway forwards it once the authorizer allowed a caller
/// with `role`.
fn authorized(h: &Harness, event: &str, role: Role) -> String {
    let now = h.clock.now();
    let (email, name) = match role {
        Role::Admin => ("admin@festa.example", "박관리"),
        Role::User => ("fan@festa.example", "김페스타"),
    };
    let identity = Identity {
        user_id: h.ids.new_id(),
        email: email.into(),
        name: name.into(),
        role,
        session_id: h.ids.new_id(),
        expires_at: now + ACCESS_TTL,
    };
    as_caller(event, &h.keys, &identity, now)
}

/// Creates the sample festival through the create-festival event; answers the festival.
async fn create_festival(h: &Harness) -> Value {
    let event = authorized(h, &fixture("create-festival"), Role::Admin);
    invoke(h, "/festivals/create", &event)
        .await
        .assert_json(201)
        .clone()
}

fn ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["festivalId"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn create_festival_event_adds_a_festival_for_an_admin() {
    let h = harness();
    let festival = create_festival(&h).await;
    let id = festival["festivalId"].as_str().unwrap();
    assert_eq!(id.len(), 26, "a ULID: {id}");
    assert_eq!(festival["name"], FESTIVAL_NAME);
    assert_eq!(festival["location"], "서울 영등포구 여의도 한강공원");
    assert_eq!(festival["startDate"], "2027-10-02");
    assert_eq!(festival["endDate"], "2027-10-03");
    assert_eq!(festival["timeZone"], "Asia/Seoul");
    assert_eq!(festival["price"], 30000);
    assert!(festival["chatRoomId"]
        .as_str()
        .is_some_and(|c| !c.is_empty()));
    assert_eq!(
        festival["tickets"],
        json!([
            {"date": "2027-10-02", "total": 5000, "remaining": 5000},
            {"date": "2027-10-03", "total": 5000, "remaining": 5000},
        ])
    );
}

#[tokio::test]
async fn create_festival_event_from_a_user_is_forbidden() {
    let h = harness();
    let event = authorized(&h, &fixture("create-festival"), Role::User);
    invoke(&h, "/festivals/create", &event)
        .await
        .assert_problem(403, "FORBIDDEN");
    let page = invoke(&h, "/festivals", &fixture("list-festivals")).await;
    assert_eq!(page.assert_json(200)["items"], json!([]));
}

#[tokio::test]
async fn list_festivals_event_pages_newest_first() {
    let h = harness();
    let empty = invoke(&h, "/festivals", &fixture("list-festivals")).await;
    assert_eq!(
        empty.assert_json(200),
        &json!({"items": [], "nextCursor": null})
    );

    let older = create_festival(&h).await;
    let newer = create_festival(&h).await;
    let answer = invoke(&h, "/festivals", &fixture("list-festivals")).await;
    let page = answer.assert_json(200);
    assert_eq!(
        ids(page),
        [
            newer["festivalId"].as_str().unwrap(),
            older["festivalId"].as_str().unwrap()
        ]
    );
    assert_eq!(page["nextCursor"], Value::Null);

    // The sample's `limit` is honoured: one a page, then the cursor leads on.
    let one = edit(&fixture("list-festivals"), |v| {
        v["queryStringParameters"]["limit"] = json!("1");
        v["multiValueQueryStringParameters"]["limit"] = json!(["1"]);
    });
    let answer = invoke(&h, "/festivals", &one).await;
    let first = answer.assert_json(200);
    assert_eq!(ids(first), [newer["festivalId"].as_str().unwrap()]);
    assert!(first["nextCursor"].is_string());
}

#[tokio::test]
async fn get_festival_event_answers_the_festival_or_404() {
    let h = harness();
    let created = create_festival(&h).await;
    let id = created["festivalId"].as_str().unwrap();

    let event = fill(&fixture("get-festival"), "<festival-id>", id);
    let answer = invoke(&h, "/festivals/{festivalId}", &event).await;
    assert_eq!(answer.assert_json(200), &created);

    // A well-formed id of no festival, and the sample's placeholder as it is.
    let unknown = fill(&fixture("get-festival"), "<festival-id>", &h.ids.new_id());
    invoke(&h, "/festivals/{festivalId}", &unknown)
        .await
        .assert_problem(404, "FESTIVAL_NOT_FOUND");
    invoke(&h, "/festivals/{festivalId}", &fixture("get-festival"))
        .await
        .assert_problem(404, "FESTIVAL_NOT_FOUND");
}

#[tokio::test]
async fn search_festivals_event_finds_the_festival_by_a_korean_word() {
    let h = harness();
    // Asked before the festival exists: an empty (and cached) answer that creation must outdate.
    let before = invoke(&h, "/festivals/search", &fixture("search-festivals")).await;
    assert_eq!(before.assert_json(200)["items"], json!([]));

    let created = create_festival(&h).await;
    let answer = invoke(&h, "/festivals/search", &fixture("search-festivals")).await;
    let found = answer.assert_json(200);
    assert_eq!(ids(found), [created["festivalId"].as_str().unwrap()]);
    assert_eq!(found["items"][0]["name"], FESTIVAL_NAME);
    assert_eq!(found["nextCursor"], Value::Null);

    let other = edit(&fixture("search-festivals"), |v| {
        v["queryStringParameters"]["keyword"] = json!("재즈");
        v["multiValueQueryStringParameters"]["keyword"] = json!(["재즈"]);
    });
    let answer = invoke(&h, "/festivals/search", &other).await;
    assert_eq!(answer.assert_json(200)["items"], json!([]));

    let blank = edit(&fixture("search-festivals"), |v| {
        v["queryStringParameters"]["keyword"] = json!("  ");
        v["multiValueQueryStringParameters"]["keyword"] = json!(["  "]);
    });
    invoke(&h, "/festivals/search", &blank)
        .await
        .assert_problem(400, "VALIDATION_FAILED");

    // A repeated parameter counts by its first value, as on the local platform.
    let repeated = edit(&fixture("search-festivals"), |v| {
        v["queryStringParameters"]["limit"] = json!("oops");
        v["multiValueQueryStringParameters"]["limit"] = json!(["1", "oops"]);
    });
    let answer = invoke(&h, "/festivals/search", &repeated).await;
    assert_eq!(ids(answer.assert_json(200)).len(), 1);
}

#[tokio::test]
async fn a_protected_route_without_authorizer_context_is_a_401_problem() {
    let h = harness();
    let event = edit(
        &authorized(&h, &fixture("create-festival"), Role::Admin),
        |v| {
            v["requestContext"]
                .as_object_mut()
                .unwrap()
                .remove("authorizer");
        },
    );
    invoke(&h, "/festivals/create", &event)
        .await
        .assert_problem(401, "UNAUTHORIZED");
    let page = invoke(&h, "/festivals", &fixture("list-festivals")).await;
    assert_eq!(page.assert_json(200)["items"], json!([]));
}

#[tokio::test]
async fn a_body_over_64_kib_is_a_413_problem() {
    let h = harness();
    let mut body: Value = serde_json::from_str(
        serde_json::from_str::<Value>(&fixture("create-festival")).unwrap()["body"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    body["description"] = json!("불꽃".repeat(11 * 1024));
    let body = body.to_string();
    assert!(body.len() > 64 * 1024);
    let event = edit(
        &authorized(&h, &fixture("create-festival"), Role::Admin),
        |v| {
            v["body"] = Value::String(body);
        },
    );
    invoke(&h, "/festivals/create", &event)
        .await
        .assert_problem(413, "PAYLOAD_TOO_LARGE");
}

/// A sample event without a test fails here: every `/festivals` route event is a festival event
/// replayed above (or, under `/festivals/chatting`, a chat event replayed by
/// functions/chat/tests/events.rs), and events/ holds one event per Lambda binary.
#[test]
fn every_festival_event_is_covered_and_every_event_has_an_area() {
    for name in event_names() {
        let text = std::fs::read_to_string(events_dir().join(format!("{name}.json"))).unwrap();
        let raw: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let resource = raw["resource"].as_str().unwrap_or_default();
        if resource.starts_with("/festivals/chatting") {
            assert!(
                CHAT_EVENTS.contains(&name.as_str()),
                "events/{name}.json has no test in functions/chat/tests/events.rs"
            );
        } else if resource.starts_with("/festivals") {
            assert!(
                FESTIVAL_EVENTS.contains(&name.as_str()),
                "events/{name}.json has no test in functions/festivals/tests/events.rs"
            );
            lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    let festivals: BTreeSet<String> = FESTIVAL_EVENTS.iter().map(|s| s.to_string()).collect();
    let accounts: BTreeSet<String> = AUTH_EVENTS.iter().map(|s| s.to_string()).collect();
    let chat: BTreeSet<String> = CHAT_EVENTS.iter().map(|s| s.to_string()).collect();
    assert!(festivals.is_disjoint(&accounts));
    assert!(festivals.is_disjoint(&chat) && accounts.is_disjoint(&chat));
    assert_eq!(
        event_names(),
        lambda_binaries(),
        "events/ holds exactly one sample event per Lambda binary"
    );
}

/// Every Lambda binary of every function crate (the local platform is not a Lambda).
fn lambda_binaries() -> BTreeSet<String> {
    let functions = events_dir().join("../functions");
    let mut names = BTreeSet::new();
    for area in std::fs::read_dir(&functions).unwrap() {
        let area = area.unwrap().path();
        if area.file_name().is_some_and(|n| n == "local") {
            continue;
        }
        let Ok(bins) = std::fs::read_dir(area.join("src/bin")) else {
            continue;
        };
        for bin in bins {
            let path = bin.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                names.insert(path.file_stem().unwrap().to_str().unwrap().to_string());
            }
        }
    }
    names
}
