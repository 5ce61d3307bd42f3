//! Replays the sample events of the chat Lambdas (`events/*.json`, one per binary) through the
//! very code path each binary runs: `festa::api::Route::find_method(festa_chat::routes(..))` +
//! `festa::api::lambda::handle` for the four REST routes, and `festa_chat::socket::handle` for
//! the seven WebSocket routes. State is in memory: the festival the events name is stored up
//! front, logins are real sessions (so `ws-connect` checks a real token), and every frame
//! pushed to a connection is recorded.
//!
//! Fixtures hold placeholders for what only a live system can give (`<access-token>`, the
//! `<user-id>`/`<session-id>` of the authorizer context); the tests fill them in. Every
//! WebSocket fixture is one connection, `Ue3fKdQ0IE0CFTg=`, from `$connect` to `$disconnect`.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use festa::adapters::memory::{
    ManualClock, MemoryChat, MemoryConnections, MemoryPresence, MemoryRecords, RecordedFrames,
};
use festa::adapters::system::RandomIds;
use festa::api::replay::{
    as_caller, binaries, edit, event_names, events_dir, fill, replay, without_authorizer, Replayed,
};
use festa::api::Route;
use festa::model::{Festival, Role, Session, TicketStock};
use festa::ports::{Clock, ConnectionStore, FestivalStore, IdSource, RoomPresence, SessionStore};
use festa::services::chat::{Chat, RoomTurns};
use festa::services::directory::FestivalDirectory;
use festa::services::tokens::{Identity, TokenKeys, ACCESS_TTL, REFRESH_TTL};
use festa_chat::{ChatState, TokenGate};
use http::Method;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest,
};
use serde_json::{json, Value};

/// Every chat binary, each with its sample event `events/<name>.json`.
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
/// The REST binaries: method and path.
const ROUTES: [(&str, &str, &str); 4] = [
    (
        "join-chat-room",
        "POST",
        "/festivals/chatting/{chatRoomId}/join",
    ),
    ("enter-chat-room", "GET", "/festivals/chatting/{chatRoomId}"),
    ("list-chat-rooms", "GET", "/festivals/chatting/list"),
    ("leave-chat-room", "DELETE", "/festivals/chatting/delete"),
];
/// The WebSocket binaries: the route key API Gateway invokes each for, and its event type.
const SOCKET_ROUTES: [(&str, &str, &str); 7] = [
    ("ws-connect", "$connect", "CONNECT"),
    ("ws-disconnect", "$disconnect", "DISCONNECT"),
    ("ws-send-message", "sendMessage", "MESSAGE"),
    ("ws-enter-room", "enterRoom", "MESSAGE"),
    ("ws-leave-room", "leaveRoom", "MESSAGE"),
    ("ws-mark-read", "markRead", "MESSAGE"),
    ("ws-default", "$default", "MESSAGE"),
];

/// The sample festival every chat event names (that of `create-festival.json`); its room has
/// the festival's id.
const FESTIVAL_ID: &str = "01M83TH6S0BRX93GKV0KC6Y6HC";
const FESTIVAL_NAME: &str = "서울 세계 불꽃축제 2027";
/// When the join event was sent, the first of the chat samples.
const START: &str = "2026-11-23T09:19:00Z";
/// The connection every WebSocket sample comes from.
const CONNECTION: &str = "Ue3fKdQ0IE0CFTg=";
/// Other connections (another device, other users).
const SECOND: &str = "Ue3gT1pRoE0CFRw=";
const LEE_CONNECTION: &str = "Ue3hA7xLoE0CFaQ=";
const PARK_CONNECTION: &str = "Ue3iB2mNoE0CFbA=";
/// What the send sample sends.
const CONTENT: &str = "불꽃 보기 좋은 자리 아시는 분 계세요? 63빌딩 쪽으로 가려고 해요!";
const CLIENT_MSG_ID: &str = "5b0d8f3e-2c71-4a9e-9f46-1d3c7a2e8b50";

#[derive(Clone, Copy)]
struct User {
    email: &'static str,
    name: &'static str,
}

/// The caller the sample events are for.
const FAN: User = User {
    email: "fan@festa.example",
    name: "김페스타",
};
const LEE: User = User {
    email: "lee@festa.example",
    name: "이축제",
};
const PARK: User = User {
    email: "park@festa.example",
    name: "박불꽃",
};

struct Harness {
    state: Arc<ChatState>,
    records: Arc<MemoryRecords>,
    connections: Arc<MemoryConnections>,
    presence: Arc<MemoryPresence>,
    frames: Arc<RecordedFrames>,
    clock: Arc<ManualClock>,
    keys: TokenKeys,
    ids: RandomIds,
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 10, d).unwrap()
}

fn festival(festival_id: &str, name: &str) -> Festival {
    Festival {
        festival_id: festival_id.into(),
        name: name.into(),
        description: "한강의 밤하늘을 수놓는 세계 각국의 불꽃 쇼".into(),
        location: "서울 영등포구 여의도 한강공원".into(),
        start_date: day(2),
        end_date: day(3),
        time_zone: "Asia/Seoul".into(),
        price: 30000,
        image_url: Some("https://cdn.festa.example/festivals/seoul-fireworks-2027.jpg".into()),
        chat_room_id: festival_id.into(),
        tickets: [2, 3]
            .map(|d| TicketStock {
                date: day(d),
                total: 5000,
                remaining: 5000,
            })
            .to_vec(),
        created_at: at("2026-11-23T09:07:00Z"),
    }
}

/// The chat functions over memory, with the sample festival stored and the token gate on.
async fn harness() -> Harness {
    let records = Arc::new(MemoryRecords::new());
    records
        .create_festival(&festival(FESTIVAL_ID, FESTIVAL_NAME))
        .await
        .unwrap();
    let connections = Arc::new(MemoryConnections::new());
    let presence = Arc::new(MemoryPresence::new());
    let frames = Arc::new(RecordedFrames::new());
    let clock = Arc::new(ManualClock::new(at(START)));
    let keys = TokenKeys::from_secret(&[7u8; 32]).unwrap();
    let state = ChatState {
        chat: Chat {
            store: Arc::new(MemoryChat::new()),
            connections: connections.clone(),
            presence: presence.clone(),
            pusher: frames.clone(),
            festivals: FestivalDirectory::new(records.clone()),
            sessions: records.clone(),
            clock: clock.clone(),
            ids: Arc::new(RandomIds::default()),
            turns: RoomTurns::default(),
        },
        gate: Some(TokenGate {
            keys: festa::prefetch::Prefetched::ready(keys.clone()),
            sessions: records.clone(),
            clock: clock.clone(),
        }),
    };
    Harness {
        state: Arc::new(state),
        records,
        connections,
        presence,
        frames,
        clock,
        keys,
        ids: RandomIds::default(),
    }
}

/// `user` logs in: a live session in the store and the identity its access token carries.
async fn login(h: &Harness, user: User) -> Identity {
    let now = h.clock.now();
    let identity = Identity {
        user_id: h.ids.new_id(),
        email: user.email.into(),
        name: user.name.into(),
        role: Role::User,
        session_id: h.ids.new_id(),
        expires_at: now + ACCESS_TTL,
    };
    h.records
        .create_session(&Session {
            session_id: identity.session_id.clone(),
            user_id: identity.user_id.clone(),
            email: identity.email.clone(),
            name: identity.name.clone(),
            refresh_hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            spent_hashes: Vec::new(),
            revoked: false,
            created_at: now,
            expires_at: now + REFRESH_TTL,
        })
        .await
        .unwrap();
    identity
}

/// The access token the login gave `who`.
fn token(h: &Harness, who: &Identity) -> String {
    h.keys.issue(who, h.clock.now()).unwrap()
}

/// The sample event of one chat binary, as the file holds it.
fn fixture(name: &str) -> String {
    assert!(CHAT_EVENTS.contains(&name), "{name} is not a chat event");
    festa::api::replay::fixture(name)
}

/// When API Gateway sent the event (`requestContext.requestTimeEpoch`).
fn sent_at(event: &str) -> DateTime<Utc> {
    let raw: Value = serde_json::from_str(event).unwrap();
    let millis = raw["requestContext"]["requestTimeEpoch"].as_i64().unwrap();
    Utc.timestamp_millis_opt(millis).unwrap()
}

/// Moves the clock to when the sample was sent (never back).
fn catch_up(h: &Harness, event: &str) {
    let by = sent_at(event) - h.clock.now();
    if by > Duration::zero() {
        h.clock.advance(by);
    }
}

// ----- REST -----

/// Runs the Lambda of the REST binary `name` on an event, as the binary does.
async fn invoke(h: &Harness, name: &str, event: &str) -> Replayed {
    let (_, method, path) = ROUTES
        .iter()
        .find(|(binary, _, _)| *binary == name)
        .unwrap_or_else(|| panic!("{name} is not a chat REST route"));
    let method: Method = method.parse().unwrap();
    let route = Route::find_method(festa_chat::routes(h.state.clone()), &method, path).unwrap();
    replay(&route, event).await
}

/// `who` calls the REST binary `name` with `event`, as API Gateway forwards it once the
/// authorizer allowed their token.
async fn call(h: &Harness, name: &str, who: &Identity, event: &str) -> Replayed {
    let event = as_caller(event, &h.keys, who, h.clock.now());
    invoke(h, name, &event).await
}

/// The sample of a room route, for another room.
fn for_room(event: &str, chat_room_id: &str) -> String {
    edit(event, |v| {
        let resource = v["resource"].as_str().unwrap().to_string();
        v["path"] = json!(resource.replace("{chatRoomId}", chat_room_id));
        v["requestContext"]["path"] = json!(format!(
            "/prod{}",
            resource.replace("{chatRoomId}", chat_room_id)
        ));
        v["pathParameters"]["chatRoomId"] = json!(chat_room_id);
    })
}

/// The sample with these query parameters instead of its own (`None` for none).
fn with_query(event: &str, query: Option<Value>) -> String {
    edit(event, |v| {
        let multi = query.as_ref().map(|q| {
            q.as_object()
                .unwrap()
                .iter()
                .map(|(k, val)| (k.clone(), json!([val])))
                .collect::<serde_json::Map<_, _>>()
        });
        v["queryStringParameters"] = query.clone().unwrap_or(Value::Null);
        v["multiValueQueryStringParameters"] = multi.map_or(Value::Null, Value::Object);
    })
}

/// `who` joins the sample room through the join sample; answers what it answered.
async fn join(h: &Harness, who: &Identity) -> Value {
    call(h, "join-chat-room", who, &fixture("join-chat-room"))
        .await
        .assert_json(200)
        .clone()
}

/// `who` enters the sample room through the enter sample with `query`.
async fn enter(h: &Harness, who: &Identity, query: Option<Value>) -> Replayed {
    let event = with_query(&fixture("enter-chat-room"), query);
    call(h, "enter-chat-room", who, &event).await
}

async fn rooms(h: &Harness, who: &Identity) -> Value {
    call(h, "list-chat-rooms", who, &fixture("list-chat-rooms"))
        .await
        .assert_json(200)
        .clone()
}

// ----- WebSocket -----

/// Runs the Lambda of the WebSocket binary `name` on an event, as the binary does, after
/// checking the event is one API Gateway sends that binary's route.
async fn socket(h: &Harness, name: &str, event: &str) -> ApiGatewayProxyResponse {
    socket_on(&h.state, name, event).await
}

async fn socket_on(state: &ChatState, name: &str, event: &str) -> ApiGatewayProxyResponse {
    let (_, route_key, event_type) = SOCKET_ROUTES
        .iter()
        .find(|(binary, _, _)| *binary == name)
        .unwrap_or_else(|| panic!("{name} is not a chat WebSocket route"));
    let request: ApiGatewayWebsocketProxyRequest =
        serde_json::from_str(event).expect("an API Gateway WebSocket event");
    let context = &request.request_context;
    assert_eq!(context.route_key.as_deref(), Some(*route_key), "{name}");
    assert_eq!(context.event_type.as_deref(), Some(*event_type), "{name}");
    festa_chat::socket::handle(state, request).await
}

/// The event as it arrives from another connection.
fn on(event: &str, connection_id: &str) -> String {
    edit(event, |v| {
        v["requestContext"]["connectionId"] = json!(connection_id);
    })
}

/// The frame sample with another frame as its body.
fn with_frame(event: &str, frame: Value) -> String {
    edit(event, |v| v["body"] = json!(frame.to_string()))
}

/// The frame sample with this raw text as its body.
fn with_text(event: &str, text: &str) -> String {
    edit(event, |v| v["body"] = json!(text))
}

#[track_caller]
fn assert_status(response: &ApiGatewayProxyResponse, status: i64) {
    assert_eq!(response.status_code, status, "{response:?}");
}

/// `who` opens `connection_id` through the connect sample, with their access token.
async fn connect(h: &Harness, who: &Identity, connection_id: &str) {
    let event = fill(&fixture("ws-connect"), "<access-token>", &token(h, who));
    let response = socket(h, "ws-connect", &on(&event, connection_id)).await;
    assert_status(&response, 200);
}

/// A logged-in `user` who joined the sample room and has `connection_id` open.
async fn member(h: &Harness, user: User, connection_id: &str) -> Identity {
    let who = login(h, user).await;
    join(h, &who).await;
    connect(h, &who, connection_id).await;
    who
}

/// `connection_id` sends the send sample's frame (its content and clientMsgId).
async fn send_sample(h: &Harness, connection_id: &str) {
    let event = on(&fixture("ws-send-message"), connection_id);
    assert_status(&socket(h, "ws-send-message", &event).await, 200);
}

/// `connection_id` sends `content` with the `clientMsgId` `client_msg_id`.
async fn send(h: &Harness, connection_id: &str, content: &str, client_msg_id: &str) {
    let frame = json!({
        "action": "sendMessage",
        "chatRoomId": FESTIVAL_ID,
        "content": content,
        "clientMsgId": client_msg_id,
    });
    let event = with_frame(&on(&fixture("ws-send-message"), connection_id), frame);
    assert_status(&socket(h, "ws-send-message", &event).await, 200);
}

/// `connection_id` sends the frame sample of binary `name` with `frame` as its body.
async fn frame(h: &Harness, name: &str, connection_id: &str, frame: Value) {
    let event = with_frame(&on(&fixture(name), connection_id), frame);
    assert_status(&socket(h, name, &event).await, 200);
}

/// Every frame pushed to the connection, oldest first.
fn pushed(h: &Harness, connection_id: &str) -> Vec<Value> {
    h.frames.to(connection_id)
}

/// The frames of one `type` pushed to the connection.
fn pushed_of(h: &Harness, connection_id: &str, kind: &str) -> Vec<Value> {
    pushed(h, connection_id)
        .into_iter()
        .filter(|f| f["type"] == kind)
        .collect()
}

/// The `unreadCount`s the connection was told, oldest first.
fn unread_counts(h: &Harness, connection_id: &str) -> Vec<u64> {
    pushed_of(h, connection_id, "unread")
        .iter()
        .map(|f| {
            assert_eq!(f["chatRoomId"], FESTIVAL_ID, "{f}");
            f["unreadCount"].as_u64().unwrap()
        })
        .collect()
}

/// The `seq`s of the messages the connection received, oldest first.
fn message_seqs(h: &Harness, connection_id: &str) -> Vec<u64> {
    pushed_of(h, connection_id, "message")
        .iter()
        .map(|f| f["seq"].as_u64().unwrap())
        .collect()
}

/// The last frame pushed to the connection.
#[track_caller]
fn last(h: &Harness, connection_id: &str) -> Value {
    pushed(h, connection_id)
        .pop()
        .unwrap_or_else(|| panic!("nothing was pushed to {connection_id}"))
}

/// Checks for an error frame with `code` (and the sender's `clientMsgId`, if any).
#[track_caller]
fn assert_error_frame(frame: &Value, code: &str, client_msg_id: Option<&str>) {
    assert_eq!(frame["type"], "error", "{frame}");
    assert_eq!(frame["code"], code, "{frame}");
    assert_eq!(frame["clientMsgId"], json!(client_msg_id), "{frame}");
    assert!(
        frame["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{frame}"
    );
}

async fn is_open(h: &Harness, connection_id: &str) -> bool {
    h.connections
        .get(connection_id, h.clock.now())
        .await
        .unwrap()
        .is_some()
}

/// Standard base64 (RFC 4648), as API Gateway encodes a binary frame.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ----- the samples, in the order they were sent -----

#[tokio::test]
async fn the_samples_replay_in_order_as_one_chat_session() {
    let h = harness().await;
    let fan = login(&h, FAN).await;
    let lee = member(&h, LEE, LEE_CONNECTION).await;

    // 09:19 join-chat-room
    let event = fixture("join-chat-room");
    catch_up(&h, &event);
    let joined = call(&h, "join-chat-room", &fan, &event).await;
    assert_eq!(joined.assert_json(200)["memberCount"], 2);

    // 09:20 ws-connect, with the token of the login.
    let event = fill(&fixture("ws-connect"), "<access-token>", &token(&h, &fan));
    catch_up(&h, &event);
    assert_status(&socket(&h, "ws-connect", &event).await, 200);
    assert!(is_open(&h, CONNECTION).await);

    // 09:21 ws-enter-room: nothing unread yet.
    let event = fixture("ws-enter-room");
    catch_up(&h, &event);
    assert_status(&socket(&h, "ws-enter-room", &event).await, 200);
    assert_eq!(
        pushed(&h, CONNECTION),
        [json!({"type": "unread", "chatRoomId": FESTIVAL_ID, "unreadCount": 0})]
    );

    // 09:22 ws-send-message
    let event = fixture("ws-send-message");
    catch_up(&h, &event);
    assert_status(&socket(&h, "ws-send-message", &event).await, 200);
    let ack = &pushed_of(&h, CONNECTION, "ack")[0];
    assert_eq!(ack["seq"], 1);
    let message = &pushed_of(&h, CONNECTION, "message")[0];
    assert_eq!(message["sentAt"], "2026-11-23T09:22:10.256Z");
    assert_eq!(message["senderId"], fan.user_id.as_str());
    assert_eq!(
        pushed_of(&h, LEE_CONNECTION, "message"),
        std::slice::from_ref(message)
    );
    assert_eq!(unread_counts(&h, LEE_CONNECTION), [1]);

    // 09:23 ws-mark-read (seq 1): the fan has read their own message.
    let event = fixture("ws-mark-read");
    catch_up(&h, &event);
    assert_status(&socket(&h, "ws-mark-read", &event).await, 200);
    assert_eq!(
        last(&h, CONNECTION),
        json!({"type": "unread", "chatRoomId": FESTIVAL_ID, "unreadCount": 0})
    );

    // 09:24 ws-leave-room
    let event = fixture("ws-leave-room");
    catch_up(&h, &event);
    assert_status(&socket(&h, "ws-leave-room", &event).await, 200);
    assert_eq!(
        last(&h, CONNECTION),
        json!({"type": "unread", "chatRoomId": FESTIVAL_ID, "unreadCount": 0})
    );

    // 09:25 ws-default: an action chat does not have.
    let event = fixture("ws-default");
    catch_up(&h, &event);
    assert_status(&socket(&h, "ws-default", &event).await, 200);
    assert_error_frame(&last(&h, CONNECTION), "INVALID_MESSAGE", None);

    // 09:26 enter-chat-room
    let event = fixture("enter-chat-room");
    catch_up(&h, &event);
    let view = call(&h, "enter-chat-room", &fan, &event).await;
    let view = view.assert_json(200);
    let mut stored = message.clone();
    stored.as_object_mut().unwrap().remove("type");
    assert_eq!(view["messages"], json!([stored]));
    assert_eq!(view["unreadCount"], 0);

    // 09:27 list-chat-rooms
    let event = fixture("list-chat-rooms");
    catch_up(&h, &event);
    let list = call(&h, "list-chat-rooms", &fan, &event).await;
    let items = &list.assert_json(200)["items"];
    assert_eq!(items[0]["lastMessage"], CONTENT);

    // 09:28 ws-disconnect
    let event = fixture("ws-disconnect");
    catch_up(&h, &event);
    assert_status(&socket(&h, "ws-disconnect", &event).await, 200);
    assert!(!is_open(&h, CONNECTION).await);

    // 09:29 leave-chat-room
    let event = fixture("leave-chat-room");
    catch_up(&h, &event);
    let left = call(&h, "leave-chat-room", &fan, &event).await;
    assert_eq!(left.status, 204, "{}", left.body);
    assert_eq!(rooms(&h, &fan).await, json!({"items": []}));
    assert_eq!(rooms(&h, &lee).await["items"][0]["unreadCount"], 1);
}

// ----- ws-connect -----

#[tokio::test]
async fn ws_connect_event_with_the_login_token_records_the_connection() {
    let h = harness().await;
    let fan = login(&h, FAN).await;
    let event = fill(&fixture("ws-connect"), "<access-token>", &token(&h, &fan));
    let response = socket(&h, "ws-connect", &event).await;
    assert_status(&response, 200);

    let connection = h
        .connections
        .get(CONNECTION, h.clock.now())
        .await
        .unwrap()
        .expect("the connection is recorded");
    assert_eq!(connection.user_id, fan.user_id);
    assert_eq!(connection.name, FAN.name);
    assert_eq!(connection.connected_at, at(START));
    assert!(connection.expires_at > at(START) + Duration::hours(2));
    // Nothing is pushed to a connection while API Gateway is still opening it.
    assert!(pushed(&h, CONNECTION).is_empty());

    // The same user on a second device: both connections are theirs.
    connect(&h, &fan, SECOND).await;
    let mine = h.presence.connections_of(&fan.user_id).await.unwrap();
    assert_eq!(mine.len(), 2);
}

#[tokio::test]
async fn ws_connect_event_without_a_good_token_is_refused_with_401() {
    let h = harness().await;
    let fan = login(&h, FAN).await;
    let sample = fixture("ws-connect");
    let other_keys = TokenKeys::from_secret(&[8u8; 32]).unwrap();
    let stranger = Identity {
        session_id: h.ids.new_id(),
        ..fan.clone()
    };
    let no_token = edit(&sample, |v| {
        v["queryStringParameters"] = Value::Null;
        v["multiValueQueryStringParameters"] = Value::Null;
    });
    let cases = [
        ("no query at all", no_token),
        ("the placeholder", sample.clone()),
        ("an empty token", fill(&sample, "<access-token>", "")),
        ("a blank token", fill(&sample, "<access-token>", "   ")),
        ("no JWT", fill(&sample, "<access-token>", "not-a-token")),
        (
            "another deployment's key",
            fill(
                &sample,
                "<access-token>",
                &other_keys.issue(&fan, h.clock.now()).unwrap(),
            ),
        ),
        (
            "a session that never existed",
            fill(&sample, "<access-token>", &token(&h, &stranger)),
        ),
    ];
    for (i, (case, event)) in cases.iter().enumerate() {
        let connection_id = format!("Ue3fRefused{i}A=");
        let response = socket(&h, "ws-connect", &on(event, &connection_id)).await;
        assert_status(&response, 401);
        assert_eq!(
            response.body,
            Some(lambda_http::Body::from("Unauthorized")),
            "{case}"
        );
        assert!(!is_open(&h, &connection_id).await, "{case}");
    }

    // A token of a login that was signed out, and one that has expired.
    let good = fill(&sample, "<access-token>", &token(&h, &fan));
    h.records
        .revoke_session(&fan.email, &fan.session_id)
        .await
        .unwrap();
    assert_status(&socket(&h, "ws-connect", &good).await, 401);
    let lee = login(&h, LEE).await;
    let lees = fill(&sample, "<access-token>", &token(&h, &lee));
    h.clock.advance(ACCESS_TTL + Duration::seconds(1));
    assert_status(&socket(&h, "ws-connect", &lees).await, 401);
    assert!(!is_open(&h, CONNECTION).await);
    assert!(pushed(&h, CONNECTION).is_empty());
}

#[tokio::test]
async fn ws_connect_event_on_a_function_without_the_token_key_fails_closed() {
    let h = harness().await;
    let fan = login(&h, FAN).await;
    let ungated = ChatState {
        chat: h.state.chat.clone(),
        gate: None,
    };
    let event = fill(&fixture("ws-connect"), "<access-token>", &token(&h, &fan));
    let response = socket_on(&ungated, "ws-connect", &event).await;
    assert_status(&response, 500);
    assert!(!is_open(&h, CONNECTION).await);
}

#[tokio::test]
async fn ws_connect_event_for_a_member_attaches_the_connection_to_their_rooms() {
    let h = harness().await;
    // Joined first, connected later: the connection hears the room.
    let fan = login(&h, FAN).await;
    join(&h, &fan).await;
    connect(&h, &fan, CONNECTION).await;
    member(&h, LEE, LEE_CONNECTION).await;
    send(&h, LEE_CONNECTION, "안녕하세요!", "lee-1").await;
    assert_eq!(message_seqs(&h, CONNECTION), [1]);
    assert_eq!(unread_counts(&h, CONNECTION), [1]);

    // Connected first, joined later: joining attaches the open connection.
    let park = login(&h, PARK).await;
    connect(&h, &park, PARK_CONNECTION).await;
    send(&h, LEE_CONNECTION, "두 번째", "lee-2").await;
    assert!(pushed(&h, PARK_CONNECTION).is_empty());
    join(&h, &park).await;
    send(&h, LEE_CONNECTION, "세 번째", "lee-3").await;
    assert_eq!(message_seqs(&h, PARK_CONNECTION), [3]);
    // Messages from before joining never count as unread.
    assert_eq!(unread_counts(&h, PARK_CONNECTION), [1]);
    assert_eq!(message_seqs(&h, CONNECTION), [1, 2, 3]);
}

// ----- join-chat-room -----

#[tokio::test]
async fn join_chat_room_event_joins_the_festival_room() {
    let h = harness().await;
    let fan = login(&h, FAN).await;
    let answer = call(&h, "join-chat-room", &fan, &fixture("join-chat-room")).await;
    assert_eq!(
        answer.assert_json(200),
        &json!({
            "chatRoomId": FESTIVAL_ID,
            "festivalId": FESTIVAL_ID,
            "name": FESTIVAL_NAME,
            "memberCount": 1,
            "joinedAt": "2026-11-23T09:19:00.000Z",
        })
    );

    h.clock.advance(Duration::minutes(1));
    let lee = login(&h, LEE).await;
    let theirs = join(&h, &lee).await;
    assert_eq!(theirs["memberCount"], 2);
    assert_eq!(theirs["joinedAt"], "2026-11-23T09:20:00.000Z");

    // Joining again is harmless: still a member since the first join, counted once.
    h.clock.advance(Duration::minutes(1));
    let again = join(&h, &fan).await;
    assert_eq!(again["memberCount"], 2);
    assert_eq!(again["joinedAt"], "2026-11-23T09:19:00.000Z");
}

#[tokio::test]
async fn join_chat_room_event_for_an_unknown_room_is_a_404_problem() {
    let h = harness().await;
    let fan = login(&h, FAN).await;
    let unknown = for_room(&fixture("join-chat-room"), &h.ids.new_id());
    call(&h, "join-chat-room", &fan, &unknown)
        .await
        .assert_problem(404, "NOT_FOUND");
    assert_eq!(rooms(&h, &fan).await, json!({"items": []}));
}

#[tokio::test]
async fn chat_routes_without_authorizer_context_are_401_problems() {
    let h = harness().await;
    let fan = login(&h, FAN).await;
    for (name, _, _) in ROUTES {
        let event = as_caller(&fixture(name), &h.keys, &fan, h.clock.now());
        invoke(&h, name, &without_authorizer(&event))
            .await
            .assert_problem(401, "UNAUTHORIZED");
    }
    // The join without a caller joined nobody.
    let answer = enter(&h, &fan, None).await;
    answer.assert_problem(403, "NOT_A_MEMBER");
}

// ----- ws-send-message -----

#[tokio::test]
async fn ws_send_message_event_acks_the_sender_and_reaches_every_member() {
    let h = harness().await;
    let fan = member(&h, FAN, CONNECTION).await;
    member(&h, LEE, LEE_CONNECTION).await;
    h.clock.advance(Duration::seconds(5));

    send_sample(&h, CONNECTION).await;
    let acks = pushed_of(&h, CONNECTION, "ack");
    assert_eq!(acks.len(), 1);
    let message_id = acks[0]["messageId"].as_str().unwrap().to_string();
    assert_eq!(message_id.len(), 26, "a ULID: {message_id}");
    assert_eq!(
        acks[0],
        json!({"type": "ack", "clientMsgId": CLIENT_MSG_ID, "seq": 1, "messageId": message_id})
    );
    let message = json!({
        "type": "message",
        "chatRoomId": FESTIVAL_ID,
        "seq": 1,
        "messageId": message_id,
        "senderId": fan.user_id,
        "senderName": FAN.name,
        "content": CONTENT,
        "sentAt": "2026-11-23T09:19:05.000Z",
        "clientMsgId": CLIENT_MSG_ID,
    });
    assert_eq!(
        pushed_of(&h, CONNECTION, "message"),
        std::slice::from_ref(&message)
    );
    // The sender has read their own message.
    assert!(unread_counts(&h, CONNECTION).iter().all(|n| *n == 0));
    // The other member hears the message, then their unread count.
    assert_eq!(
        pushed(&h, LEE_CONNECTION),
        [
            message.clone(),
            json!({"type": "unread", "chatRoomId": FESTIVAL_ID, "unreadCount": 1})
        ]
    );

    // The very same event again (a client retry): acknowledged with the first seq, stored
    // once, and nobody hears it twice.
    h.clock.advance(Duration::seconds(2));
    send_sample(&h, CONNECTION).await;
    assert_eq!(
        pushed_of(&h, CONNECTION, "ack"),
        [acks[0].clone(), acks[0].clone()]
    );
    assert_eq!(pushed_of(&h, CONNECTION, "message").len(), 1);
    assert_eq!(pushed(&h, LEE_CONNECTION).len(), 2);
    let view = enter(&h, &fan, None).await;
    assert_eq!(
        view.assert_json(200)["messages"].as_array().unwrap().len(),
        1
    );

    // A clientMsgId is the sender's own: another member sending the same one sends anew.
    send_sample(&h, LEE_CONNECTION).await;
    assert_eq!(pushed_of(&h, LEE_CONNECTION, "ack")[0]["seq"], 2);
    assert_eq!(message_seqs(&h, CONNECTION), [1, 2]);
}

#[tokio::test]
async fn ws_send_message_event_from_a_non_member_is_a_not_a_member_error_frame() {
    let h = harness().await;
    let fan = member(&h, FAN, CONNECTION).await;
    let park = login(&h, PARK).await;
    connect(&h, &park, PARK_CONNECTION).await;

    send_sample(&h, PARK_CONNECTION).await;
    let answers = pushed(&h, PARK_CONNECTION);
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_error_frame(&answers[0], "NOT_A_MEMBER", Some(CLIENT_MSG_ID));
    assert!(pushed(&h, CONNECTION).is_empty());

    // From a connection that was never opened (or has ended): connect again.
    send_sample(&h, "Ue3zNeverOpenedA=").await;
    assert_error_frame(
        &last(&h, "Ue3zNeverOpenedA="),
        "UNAUTHORIZED",
        Some(CLIENT_MSG_ID),
    );

    let view = enter(&h, &fan, None).await;
    assert_eq!(view.assert_json(200)["messages"], json!([]));
}

#[tokio::test]
async fn ws_send_message_event_with_a_binary_or_invalid_body_is_an_invalid_message_frame() {
    let h = harness().await;
    let fan = member(&h, FAN, CONNECTION).await;
    member(&h, LEE, LEE_CONNECTION).await;
    let sample = fixture("ws-send-message");

    // A binary frame: API Gateway hands it over base64-encoded.
    let text: Value = serde_json::from_str(&sample).unwrap();
    let body = base64(text["body"].as_str().unwrap().as_bytes());
    let binary = edit(&sample, |v| {
        v["body"] = json!(body);
        v["isBase64Encoded"] = json!(true);
    });
    assert_status(&socket(&h, "ws-send-message", &binary).await, 200);
    let answers = pushed(&h, CONNECTION);
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_error_frame(&answers[0], "INVALID_MESSAGE", None);

    // Content that is empty, blank or too long, and a clientMsgId that is no id.
    let too_long = "불".repeat(2001);
    let bad = [
        ("", CLIENT_MSG_ID),
        ("  \n\t", CLIENT_MSG_ID),
        (too_long.as_str(), CLIENT_MSG_ID),
        (CONTENT, ""),
    ];
    for (content, client_msg_id) in bad {
        send(&h, CONNECTION, content, client_msg_id).await;
        assert_error_frame(
            &last(&h, CONNECTION),
            "INVALID_MESSAGE",
            Some(client_msg_id),
        );
    }
    // A sendMessage frame missing its content, and text that is no JSON object.
    let missing = json!({"action": "sendMessage", "chatRoomId": FESTIVAL_ID, "clientMsgId": "c-9"});
    frame(&h, "ws-send-message", CONNECTION, missing).await;
    assert_error_frame(&last(&h, CONNECTION), "INVALID_MESSAGE", Some("c-9"));
    let garbage = with_text(&sample, "{\"action\":\"sendMessage\",");
    assert_status(&socket(&h, "ws-send-message", &garbage).await, 200);
    assert_error_frame(&last(&h, CONNECTION), "INVALID_MESSAGE", None);

    // 2000 characters is still a message. Nothing else was stored or pushed to others.
    send(&h, CONNECTION, &"불".repeat(2000), "longest").await;
    assert_eq!(pushed_of(&h, CONNECTION, "ack")[0]["seq"], 1);
    assert_eq!(message_seqs(&h, LEE_CONNECTION), [1]);
    let view = enter(&h, &fan, None).await;
    assert_eq!(
        view.assert_json(200)["messages"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn a_connection_still_opening_is_not_forgotten_when_gone() {
    let h = harness().await;
    let fan = member(&h, FAN, CONNECTION).await;
    member(&h, LEE, LEE_CONNECTION).await;
    // API Gateway answers Gone until `$connect` returns; a second later it works.
    connect(&h, &fan, SECOND).await;
    h.frames.close(SECOND);
    send(&h, LEE_CONNECTION, "어서 오세요", "lee-1").await;
    assert!(
        is_open(&h, SECOND).await,
        "a young connection keeps its record"
    );
    assert_eq!(message_seqs(&h, CONNECTION), [1]);
}

#[tokio::test]
async fn ws_send_message_event_over_10_a_second_is_rate_limited() {
    let h = harness().await;
    member(&h, FAN, CONNECTION).await;
    for i in 1..=10 {
        send(
            &h,
            CONNECTION,
            &format!("메시지 {i}"),
            &format!("burst-{i}"),
        )
        .await;
    }
    assert_eq!(pushed_of(&h, CONNECTION, "ack").len(), 10);
    send(&h, CONNECTION, "하나 더", "burst-11").await;
    assert_error_frame(&last(&h, CONNECTION), "RATE_LIMITED", Some("burst-11"));

    // The next second the connection may send again.
    h.clock.advance(Duration::seconds(1));
    send(&h, CONNECTION, "하나 더", "burst-11").await;
    assert_eq!(pushed_of(&h, CONNECTION, "ack")[10]["seq"], 11);
    assert_eq!(message_seqs(&h, CONNECTION).last(), Some(&11));
    assert_eq!(pushed_of(&h, CONNECTION, "error").len(), 1);
}

#[tokio::test]
async fn a_gone_connection_is_forgotten_and_never_fails_the_send() {
    let h = harness().await;
    let fan = member(&h, FAN, CONNECTION).await;
    connect(&h, &fan, SECOND).await;
    member(&h, LEE, LEE_CONNECTION).await;

    // The fan's second device went away without API Gateway telling us yet (long after it
    // opened: a connection still opening also answers Gone, and is left alone).
    h.frames.close(SECOND);
    h.clock.advance(Duration::minutes(1));
    send(&h, LEE_CONNECTION, "다들 어디 계세요?", "lee-1").await;
    assert_eq!(pushed_of(&h, LEE_CONNECTION, "ack")[0]["seq"], 1);
    assert!(
        !is_open(&h, SECOND).await,
        "the gone connection is forgotten"
    );
    assert!(is_open(&h, CONNECTION).await);
    assert_eq!(message_seqs(&h, CONNECTION), [1]);
    assert_eq!(unread_counts(&h, CONNECTION), [1]);
    assert!(pushed(&h, SECOND).is_empty());

    // Later messages still reach the fan's other connection.
    send(&h, LEE_CONNECTION, "저는 63빌딩 앞이에요", "lee-2").await;
    assert_eq!(pushed_of(&h, LEE_CONNECTION, "ack")[1]["seq"], 2);
    assert_eq!(message_seqs(&h, CONNECTION), [1, 2]);
    assert_eq!(unread_counts(&h, CONNECTION), [1, 2]);
    let view = enter(&h, &fan, None).await;
    assert_eq!(view.assert_json(200)["unreadCount"], 2);

    // The sender's own connection gone: the message is still stored and delivered.
    h.frames.close(LEE_CONNECTION);
    send(&h, LEE_CONNECTION, "들리세요?", "lee-3").await;
    assert_eq!(message_seqs(&h, CONNECTION), [1, 2, 3]);
    assert!(!is_open(&h, LEE_CONNECTION).await);
}

// ----- ws-enter-room, ws-mark-read, ws-leave-room, ws-default -----

#[tokio::test]
async fn ws_enter_room_event_resets_unread_and_keeps_it_at_zero_while_viewing() {
    let h = harness().await;
    let fan = member(&h, FAN, CONNECTION).await;
    member(&h, LEE, LEE_CONNECTION).await;
    send(&h, LEE_CONNECTION, "첫 번째", "lee-1").await;
    send(&h, LEE_CONNECTION, "두 번째", "lee-2").await;
    assert_eq!(unread_counts(&h, CONNECTION), [1, 2]);

    assert_status(
        &socket(&h, "ws-enter-room", &fixture("ws-enter-room")).await,
        200,
    );
    assert_eq!(
        last(&h, CONNECTION),
        json!({"type": "unread", "chatRoomId": FESTIVAL_ID, "unreadCount": 0})
    );

    // While viewing, messages arrive with no unread count, and nothing stays unread.
    send(&h, LEE_CONNECTION, "세 번째", "lee-3").await;
    assert_eq!(message_seqs(&h, CONNECTION), [1, 2, 3]);
    assert_eq!(unread_counts(&h, CONNECTION), [1, 2, 0]);
    assert_eq!(last(&h, CONNECTION)["type"], "message");
    assert_eq!(rooms(&h, &fan).await["items"][0]["unreadCount"], 0);

    // The fan's other device, not viewing, hears the count the viewer keeps at zero.
    connect(&h, &fan, SECOND).await;
    send(&h, LEE_CONNECTION, "네 번째", "lee-4").await;
    assert_eq!(unread_counts(&h, SECOND), [0]);
    assert_eq!(unread_counts(&h, CONNECTION), [1, 2, 0]);

    // Entering a room one is not a member of is refused.
    let park = login(&h, PARK).await;
    connect(&h, &park, PARK_CONNECTION).await;
    let event = on(&fixture("ws-enter-room"), PARK_CONNECTION);
    assert_status(&socket(&h, "ws-enter-room", &event).await, 200);
    assert_error_frame(&last(&h, PARK_CONNECTION), "NOT_A_MEMBER", None);
    send(&h, LEE_CONNECTION, "다섯 번째", "lee-5").await;
    assert!(message_seqs(&h, PARK_CONNECTION).is_empty());
}

#[tokio::test]
async fn ws_mark_read_event_moves_the_read_marker_forward_only() {
    let h = harness().await;
    member(&h, FAN, CONNECTION).await;
    member(&h, LEE, LEE_CONNECTION).await;
    for i in 1..=3 {
        send(
            &h,
            LEE_CONNECTION,
            &format!("공지 {i}"),
            &format!("lee-{i}"),
        )
        .await;
    }
    assert_eq!(unread_counts(&h, CONNECTION), [1, 2, 3]);

    // The sample reads up to seq 1.
    assert_status(
        &socket(&h, "ws-mark-read", &fixture("ws-mark-read")).await,
        200,
    );
    assert_eq!(unread_counts(&h, CONNECTION), [1, 2, 3, 2]);

    let mark = |seq: u64| json!({"action": "markRead", "chatRoomId": FESTIVAL_ID, "seq": seq});
    frame(&h, "ws-mark-read", CONNECTION, mark(3)).await;
    assert_eq!(unread_counts(&h, CONNECTION).last(), Some(&0));
    // Never back.
    frame(&h, "ws-mark-read", CONNECTION, mark(1)).await;
    assert_eq!(unread_counts(&h, CONNECTION).last(), Some(&0));
    // Never past the newest message: a later message still arrives unread.
    frame(&h, "ws-mark-read", CONNECTION, mark(99)).await;
    assert_eq!(unread_counts(&h, CONNECTION).last(), Some(&0));
    send(&h, LEE_CONNECTION, "공지 4", "lee-4").await;
    assert_eq!(unread_counts(&h, CONNECTION).last(), Some(&1));

    // A negative seq is no frame; a non-member cannot mark anything.
    let negative = json!({"action": "markRead", "chatRoomId": FESTIVAL_ID, "seq": -1});
    frame(&h, "ws-mark-read", CONNECTION, negative).await;
    assert_error_frame(&last(&h, CONNECTION), "INVALID_MESSAGE", None);
    let park = login(&h, PARK).await;
    connect(&h, &park, PARK_CONNECTION).await;
    frame(&h, "ws-mark-read", PARK_CONNECTION, mark(1)).await;
    assert_error_frame(&last(&h, PARK_CONNECTION), "NOT_A_MEMBER", None);
}

#[tokio::test]
async fn ws_leave_room_event_stops_viewing() {
    let h = harness().await;
    member(&h, FAN, CONNECTION).await;
    member(&h, LEE, LEE_CONNECTION).await;
    assert_status(
        &socket(&h, "ws-enter-room", &fixture("ws-enter-room")).await,
        200,
    );
    send(&h, LEE_CONNECTION, "보고 계세요?", "lee-1").await;
    assert_eq!(unread_counts(&h, CONNECTION), [0]);

    assert_status(
        &socket(&h, "ws-leave-room", &fixture("ws-leave-room")).await,
        200,
    );
    assert_eq!(
        last(&h, CONNECTION),
        json!({"type": "unread", "chatRoomId": FESTIVAL_ID, "unreadCount": 0})
    );
    send(&h, LEE_CONNECTION, "이제 안 보시네요", "lee-2").await;
    assert_eq!(message_seqs(&h, CONNECTION), [1, 2]);
    assert_eq!(unread_counts(&h, CONNECTION), [0, 0, 1]);
}

#[tokio::test]
async fn ws_default_event_answers_an_invalid_message_frame() {
    let h = harness().await;
    member(&h, FAN, CONNECTION).await;
    member(&h, LEE, LEE_CONNECTION).await;

    // The sample: an action chat does not have.
    let response = socket(&h, "ws-default", &fixture("ws-default")).await;
    assert_status(&response, 200);
    assert_error_frame(&last(&h, CONNECTION), "INVALID_MESSAGE", None);

    frame(&h, "ws-default", CONNECTION, json!({"action": "dance"})).await;
    assert_error_frame(&last(&h, CONNECTION), "INVALID_MESSAGE", None);
    let with_id = json!({"action": "dance", "clientMsgId": "c-7"});
    frame(&h, "ws-default", CONNECTION, with_id).await;
    assert_error_frame(&last(&h, CONNECTION), "INVALID_MESSAGE", Some("c-7"));
    for text in ["hello", "[1,2]", "", "{\"chatRoomId\":\"x\"}"] {
        let event = with_text(&fixture("ws-default"), text);
        assert_status(&socket(&h, "ws-default", &event).await, 200);
        assert_error_frame(&last(&h, CONNECTION), "INVALID_MESSAGE", None);
    }
    assert_eq!(pushed(&h, CONNECTION).len(), 7);
    // Nobody else heard anything.
    assert!(pushed(&h, LEE_CONNECTION).is_empty());
}

// ----- enter-chat-room, list-chat-rooms, leave-chat-room -----

#[tokio::test]
async fn enter_chat_room_event_pages_history_oldest_first() {
    let h = harness().await;
    let lee = member(&h, LEE, LEE_CONNECTION).await;
    send(&h, LEE_CONNECTION, "첫 번째", "lee-1").await;
    h.clock.advance(Duration::seconds(1));
    let fan = member(&h, FAN, CONNECTION).await;
    send(&h, LEE_CONNECTION, "두 번째", "lee-2").await;
    send(&h, LEE_CONNECTION, "세 번째", "lee-3").await;

    // The sample (limit 30): every message, oldest first; what came before joining is history
    // but never unread.
    let answer = enter(&h, &fan, Some(json!({"limit": "30"}))).await;
    let view = answer.assert_json(200);
    let seqs: Vec<u64> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(view["messages"][0]["content"], "첫 번째");
    assert_eq!(view["messages"][2]["senderId"], lee.user_id.as_str());
    assert_eq!(view["chatRoomId"], FESTIVAL_ID);
    assert_eq!(view["name"], FESTIVAL_NAME);
    assert_eq!(view["memberCount"], 2);
    assert_eq!(view["unreadCount"], 2);
    assert_eq!(view["nextBefore"], Value::Null);
    let sample = call(&h, "enter-chat-room", &fan, &fixture("enter-chat-room")).await;
    let again = sample.assert_json(200);
    assert_eq!(again["messages"], view["messages"]);
    assert_eq!(again["unreadCount"], 0, "entering marked everything read");

    // Pages of two: the newest first, then what is older.
    let page = enter(&h, &fan, Some(json!({"limit": "2"}))).await;
    let page = page.assert_json(200);
    assert_eq!(page["messages"][0]["seq"], 2);
    assert_eq!(page["messages"][1]["seq"], 3);
    assert_eq!(page["nextBefore"], 2);
    let older = enter(&h, &fan, Some(json!({"limit": "2", "before": "2"}))).await;
    let older = older.assert_json(200);
    assert_eq!(older["messages"].as_array().unwrap().len(), 1);
    assert_eq!(older["messages"][0]["seq"], 1);
    assert_eq!(older["nextBefore"], Value::Null);

    for query in [
        json!({"limit": "0"}),
        json!({"limit": "101"}),
        json!({"limit": "many"}),
        json!({"before": "0"}),
        json!({"before": "-3"}),
    ] {
        enter(&h, &fan, Some(query))
            .await
            .assert_problem(400, "VALIDATION_FAILED");
    }
    let park = login(&h, PARK).await;
    enter(&h, &park, None)
        .await
        .assert_problem(403, "NOT_A_MEMBER");
    let unknown = for_room(&fixture("enter-chat-room"), &h.ids.new_id());
    call(&h, "enter-chat-room", &fan, &unknown)
        .await
        .assert_problem(404, "NOT_FOUND");
}

#[tokio::test]
async fn list_chat_rooms_event_lists_the_callers_rooms_latest_activity_first() {
    let h = harness().await;
    let fan = login(&h, FAN).await;
    assert_eq!(rooms(&h, &fan).await, json!({"items": []}));

    join(&h, &fan).await;
    let sample = call(&h, "list-chat-rooms", &fan, &fixture("list-chat-rooms")).await;
    assert_eq!(
        sample.assert_json(200),
        &json!({"items": [{
            "chatRoomId": FESTIVAL_ID,
            "festivalId": FESTIVAL_ID,
            "name": FESTIVAL_NAME,
            "lastMessage": null,
            "lastMessageAt": null,
            "unreadCount": 0,
        }]})
    );

    // A second festival's room, joined later, comes first until the first room speaks.
    let other_id = h.ids.new_id();
    h.records
        .create_festival(&festival(&other_id, "부산 바다 불꽃축제 2027"))
        .await
        .unwrap();
    h.clock.advance(Duration::minutes(1));
    call(
        &h,
        "join-chat-room",
        &fan,
        &for_room(&fixture("join-chat-room"), &other_id),
    )
    .await
    .assert_json(200);
    let list = rooms(&h, &fan).await;
    assert_eq!(list["items"][0]["chatRoomId"], other_id.as_str());
    assert_eq!(list["items"][1]["chatRoomId"], FESTIVAL_ID);

    h.clock.advance(Duration::minutes(1));
    member(&h, LEE, LEE_CONNECTION).await;
    send(&h, LEE_CONNECTION, "불꽃 시작했어요!", "lee-1").await;
    let list = rooms(&h, &fan).await;
    assert_eq!(list["items"][0]["chatRoomId"], FESTIVAL_ID);
    assert_eq!(list["items"][0]["lastMessage"], "불꽃 시작했어요!");
    assert_eq!(
        list["items"][0]["lastMessageAt"],
        "2026-11-23T09:21:00.000Z"
    );
    assert_eq!(list["items"][0]["unreadCount"], 1);
    assert_eq!(list["items"][1]["chatRoomId"], other_id.as_str());
    assert_eq!(list["items"][1]["unreadCount"], 0);
}

#[tokio::test]
async fn leave_chat_room_event_leaves_once_then_is_a_404_problem() {
    let h = harness().await;
    let fan = member(&h, FAN, CONNECTION).await;
    let lee = member(&h, LEE, LEE_CONNECTION).await;

    let left = call(&h, "leave-chat-room", &fan, &fixture("leave-chat-room")).await;
    assert_eq!(left.status, 204, "{}", left.body);
    assert_eq!(left.body, Value::Null);
    assert_eq!(rooms(&h, &fan).await, json!({"items": []}));
    enter(&h, &fan, None)
        .await
        .assert_problem(403, "NOT_A_MEMBER");
    call(&h, "leave-chat-room", &fan, &fixture("leave-chat-room"))
        .await
        .assert_problem(404, "NOT_FOUND");

    // The room's messages stop reaching the fan's connection, and they can no longer send.
    send(&h, LEE_CONNECTION, "아직 계세요?", "lee-1").await;
    assert!(pushed(&h, CONNECTION).is_empty());
    send_sample(&h, CONNECTION).await;
    assert_error_frame(&last(&h, CONNECTION), "NOT_A_MEMBER", Some(CLIENT_MSG_ID));
    assert_eq!(rooms(&h, &lee).await["items"][0]["unreadCount"], 0);

    // Joining again: what was said while away is not unread.
    let back = join(&h, &fan).await;
    assert_eq!(back["memberCount"], 2);
    let view = enter(&h, &fan, None).await;
    assert_eq!(view.assert_json(200)["unreadCount"], 0);

    // No room named: a 400.
    let nameless = with_query(&fixture("leave-chat-room"), None);
    call(&h, "leave-chat-room", &fan, &nameless)
        .await
        .assert_problem(400, "VALIDATION_FAILED");
}

// ----- ws-disconnect -----

#[tokio::test]
async fn ws_disconnect_event_forgets_the_connection() {
    let h = harness().await;
    let fan = member(&h, FAN, CONNECTION).await;
    member(&h, LEE, LEE_CONNECTION).await;

    let response = socket(&h, "ws-disconnect", &fixture("ws-disconnect")).await;
    assert_status(&response, 200);
    assert!(!is_open(&h, CONNECTION).await);
    assert!(h
        .presence
        .connections_of(&fan.user_id)
        .await
        .unwrap()
        .is_empty());

    // Later messages are not pushed to it; the member still is one.
    send(&h, LEE_CONNECTION, "나가셨네요", "lee-1").await;
    assert_eq!(pushed_of(&h, LEE_CONNECTION, "ack")[0]["seq"], 1);
    assert!(pushed(&h, CONNECTION).is_empty());
    let view = enter(&h, &fan, None).await;
    assert_eq!(view.assert_json(200)["unreadCount"], 1);

    // A late second $disconnect for it is fine.
    let again = socket(&h, "ws-disconnect", &fixture("ws-disconnect")).await;
    assert_status(&again, 200);
}

// ----- the fixtures themselves -----

/// A sample event without a test fails here: every `/festivals/chatting` route event and every
/// WebSocket event is a chat event replayed above, and each binary of this crate has exactly
/// one.
#[test]
fn every_chat_event_is_covered() {
    let mut ours = BTreeSet::new();
    for name in event_names() {
        let text = std::fs::read_to_string(events_dir().join(format!("{name}.json"))).unwrap();
        let raw: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let rest = raw["resource"]
            .as_str()
            .is_some_and(|r| r.starts_with("/festivals/chatting"));
        let websocket = raw["requestContext"]["connectionId"].is_string();
        if !rest && !websocket {
            continue;
        }
        assert!(
            CHAT_EVENTS.contains(&name.as_str()),
            "events/{name}.json has no test in functions/chat/tests/events.rs"
        );
        if rest {
            let (_, method, path) = ROUTES
                .iter()
                .find(|(n, _, _)| *n == name)
                .unwrap_or_else(|| panic!("{name} is no chat REST binary"));
            assert_eq!(raw["httpMethod"], *method, "{name}");
            assert_eq!(raw["resource"], *path, "{name}");
            lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        } else {
            let (_, route_key, event_type) = SOCKET_ROUTES
                .iter()
                .find(|(n, _, _)| *n == name)
                .unwrap_or_else(|| panic!("{name} is no chat WebSocket binary"));
            let event: ApiGatewayWebsocketProxyRequest =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let context = &event.request_context;
            assert_eq!(context.route_key.as_deref(), Some(*route_key), "{name}");
            assert_eq!(context.event_type.as_deref(), Some(*event_type), "{name}");
            assert_eq!(context.message_direction.as_deref(), Some("IN"), "{name}");
            assert_eq!(context.connection_id.as_deref(), Some(CONNECTION), "{name}");
            assert_eq!(context.stage.as_deref(), Some("prod"), "{name}");
            assert!(context.request_time_epoch >= context.connected_at, "{name}");
            assert!(context
                .domain_name
                .as_deref()
                .is_some_and(|d| d.starts_with(&format!(
                    "{}.execute-api.",
                    context.apiid.as_deref().unwrap()
                ))));
            match *event_type {
                "CONNECT" => {
                    assert_eq!(
                        event.query_string_parameters.first("token"),
                        Some("<access-token>")
                    );
                    assert!(event.body.is_none(), "{name}");
                }
                "DISCONNECT" => {
                    assert!(context.disconnect_status_code.is_some(), "{name}");
                    assert!(context.disconnect_reason.is_some(), "{name}");
                    assert!(event.body.is_none(), "{name}");
                }
                _ => {
                    assert!(context.message_id.is_some(), "{name}");
                    assert!(!event.is_base64_encoded, "{name}");
                    // API Gateway picks the route by the body's `action`
                    // (`$request.body.action`); `$default` takes the actions no route has.
                    let body: Value = serde_json::from_str(event.body.as_deref().unwrap())
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    let action = body["action"].as_str().unwrap();
                    if *route_key == "$default" {
                        assert!(SOCKET_ROUTES.iter().all(|(_, key, _)| *key != action));
                    } else {
                        assert_eq!(action, *route_key, "{name}");
                        assert_eq!(body["chatRoomId"], FESTIVAL_ID, "{name}");
                    }
                }
            }
        }
        ours.insert(name);
    }
    let expected: BTreeSet<String> = CHAT_EVENTS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        ours, expected,
        "every chat binary has exactly one sample event"
    );

    // Named after this crate's binaries, each serving what its event is for.
    let binaries = binaries(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        binaries.keys().cloned().collect::<BTreeSet<String>>(),
        expected,
        "one sample event per binary"
    );
    let source = |name: &str| binaries[name].clone();
    for (name, method, path) in ROUTES {
        let source: String = source(name).split_whitespace().collect();
        assert!(
            source.contains(&format!("`{method}{path}`")),
            "src/bin/{name}.rs does not serve {method} {path}"
        );
    }
    for (name, route_key, _) in SOCKET_ROUTES {
        let source = source(name);
        assert!(
            source.contains("festa_chat::socket::serve")
                && source.contains(&format!("WebSocket route `{route_key}`")),
            "src/bin/{name}.rs does not serve the WebSocket route {route_key}"
        );
    }
    assert!(source("ws-connect").contains("token_keys"));
}

/// Every sample is answered as-is by the code its binary runs (placeholders filled in), one
/// binary after the other in the order listed above.
#[tokio::test]
async fn every_chat_event_is_answered() {
    let h = harness().await;
    let fan = login(&h, FAN).await;
    for (name, _, _) in ROUTES {
        let answer = call(&h, name, &fan, &fixture(name)).await;
        let expected = if name == "leave-chat-room" { 204 } else { 200 };
        assert_eq!(answer.status, expected, "{name}: {}", answer.body);
    }
    for (name, _, _) in SOCKET_ROUTES {
        let mut event = fixture(name);
        if name == "ws-connect" {
            event = fill(&event, "<access-token>", &token(&h, &fan));
        }
        assert_status(&socket(&h, name, &event).await, 200);
    }
    // Every frame sample was answered on the connection (which `ws-disconnect` had closed).
    let answers = pushed(&h, CONNECTION);
    assert_eq!(answers.len(), 5, "{answers:?}");
    assert!(answers.iter().all(|f| f["type"] == "error"), "{answers:?}");
}

// ----- abuse limits and ended logins -----

#[tokio::test]
async fn ws_connect_event_a_sixth_time_for_one_user_is_refused_with_429() {
    let h = harness().await;
    let fan = login(&h, FAN).await;
    for i in 0..5 {
        connect(&h, &fan, &format!("Fan{i}ConnectionId=")).await;
    }
    let event = fill(&fixture("ws-connect"), "<access-token>", &token(&h, &fan));
    let response = socket(&h, "ws-connect", &on(&event, "Fan5ConnectionId=")).await;
    assert_status(&response, 429);
    assert!(!is_open(&h, "Fan5ConnectionId=").await);
    // Someone else still connects.
    let park = login(&h, PARK).await;
    connect(&h, &park, PARK_CONNECTION).await;
    // A disconnect frees a place.
    let gone = on(&fixture("ws-disconnect"), "Fan0ConnectionId=");
    assert_status(&socket(&h, "ws-disconnect", &gone).await, 200);
    connect(&h, &fan, "Fan5ConnectionId=").await;
}

#[tokio::test]
async fn ws_send_message_event_after_sign_out_is_refused_and_not_stored() {
    let h = harness().await;
    let fan = member(&h, FAN, CONNECTION).await;
    let lee = member(&h, LEE, "LeeConnectionId=").await;
    // What sign-out does: revoke every login, then evict (and close) the connections.
    h.records.revoke_all_sessions(&fan.email).await.unwrap();
    let evictions = festa::adapters::memory::RecordedEvictions::new(h.presence.clone());
    festa::ports::SocketEviction::close_user_connections(&evictions, &fan.user_id)
        .await
        .unwrap();
    assert_eq!(evictions.closed(), vec![CONNECTION.to_string()]);

    send_sample(&h, CONNECTION).await;

    assert_error_frame(&last(&h, CONNECTION), "UNAUTHORIZED", Some(CLIENT_MSG_ID));
    assert!(pushed_of(&h, "LeeConnectionId=", "message").is_empty());
    let view = enter(&h, &lee, None).await;
    assert_eq!(view.assert_json(200)["messages"], json!([]));
    // Nor can the signed-out token open a new connection.
    let event = fill(&fixture("ws-connect"), "<access-token>", &token(&h, &fan));
    assert_status(&socket(&h, "ws-connect", &on(&event, "Again=")).await, 401);
}

#[tokio::test]
async fn ws_send_message_event_with_a_direction_override_is_an_invalid_message_frame() {
    let h = harness().await;
    member(&h, FAN, CONNECTION).await;
    send(&h, CONNECTION, "receipt\u{202E}fdp.exe", "bidi-1").await;
    assert_error_frame(&last(&h, CONNECTION), "INVALID_MESSAGE", Some("bidi-1"));
    send(
        &h,
        CONNECTION,
        "불꽃 🎆 👩\u{200D}👩\u{200D}👧 🇰🇷",
        "emoji-1",
    )
    .await;
    assert!(pushed_of(&h, CONNECTION, "ack")
        .iter()
        .any(|a| a["clientMsgId"] == "emoji-1"));
}
