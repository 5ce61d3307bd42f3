//! `ApiGatewayPusher` against an HTTP stub standing in for API Gateway's management API: what
//! goes on the wire, and how the answers (200, 410 Gone, 403, 500) map to `Push` or an error.

#![cfg(feature = "apigateway")]

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use festa::adapters::apigateway_pusher::ApiGatewayPusher;
use festa::ports::{ConnectionPusher, Push};
use percent_encoding::percent_decode_str;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Real API Gateway connection ids end in `=`, which the SDK percent-encodes in the path.
const ALICE: &str = "L0SM9cOFvHcCIhw=";
const BOB: &str = "Pf3k2dNqIcwCFaQ=";

/// A frame as the chat sends it: JSON with non-ASCII text.
const FRAME: &str = r#"{"type":"message","chatRoomId":"r-1","seq":7,"content":"안녕하세요 🎉"}"#;

/// A configuration as a Lambda's would be: region, credentials, and a global endpoint (as
/// `AWS_ENDPOINT_URL` gives) that the callback URL must override. Retries are off so the
/// failure cases answer at once and each request reaches the stub exactly once.
async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .empty_test_environment()
        .region(Region::new("ap-northeast-2"))
        .test_credentials()
        .http_client(festa::adapters::aws::https_client())
        // Nothing listens on the discard port: a request sent here would fail.
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

/// A pusher for the stub's `prod` stage.
async fn pusher(server: &MockServer) -> ApiGatewayPusher {
    ApiGatewayPusher::new(&sdk_config().await, &format!("{}/prod", server.uri()))
}

/// The request's path, percent-decoded.
fn decoded_path(request: &Request) -> String {
    percent_decode_str(request.url.path())
        .decode_utf8()
        .expect("a UTF-8 path")
        .into_owned()
}

/// Matches a `PostToConnection` to the given connection.
fn post_to(connection_id: &str) -> impl Fn(&Request) -> bool + Send + Sync + 'static {
    let want = format!("/prod/@connections/{connection_id}");
    move |request: &Request| request.method.as_str() == "POST" && decoded_path(request) == want
}

/// API Gateway's answer to a push to a closed connection.
fn gone() -> ResponseTemplate {
    ResponseTemplate::new(410)
        .insert_header("x-amzn-errortype", "GoneException")
        .set_body_raw(r#"{"message":"GoneException"}"#, "application/json")
}

#[tokio::test]
async fn posts_the_frame_signed_to_the_connection_and_answers_delivered() {
    let server = MockServer::start().await;
    Mock::given(post_to(ALICE))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    let push = pusher(&server).await.push(ALICE, FRAME).await.unwrap();
    assert_eq!(push, Push::Delivered);

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(decoded_path(request), format!("/prod/@connections/{ALICE}"));
    assert_eq!(
        request.body,
        FRAME.as_bytes(),
        "the frame is the exact body"
    );
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let authorization = header("authorization");
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 "),
        "{authorization}"
    );
    assert!(
        authorization.contains("/ap-northeast-2/execute-api/aws4_request"),
        "signed for the management API in the stage's region: {authorization}"
    );
    assert_eq!(header("content-type"), "application/octet-stream");
}

#[tokio::test]
async fn a_closed_connection_is_gone_while_another_is_delivered() {
    let server = MockServer::start().await;
    Mock::given(post_to(ALICE))
        .respond_with(gone())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(post_to(BOB))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let pusher = pusher(&server).await;

    assert_eq!(pusher.push(ALICE, FRAME).await.unwrap(), Push::Gone);
    assert_eq!(pusher.push(BOB, FRAME).await.unwrap(), Push::Delivered);
}

#[tokio::test]
async fn forbidden_and_server_errors_fail_without_leaking_the_frame() {
    let server = MockServer::start().await;
    Mock::given(post_to(ALICE))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-amzn-errortype", "ForbiddenException")
                .set_body_raw(r#"{"message":"Forbidden"}"#, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(post_to(BOB))
        .respond_with(ResponseTemplate::new(500).set_body_string("internal error"))
        .expect(1)
        .mount(&server)
        .await;
    let pusher = pusher(&server).await;

    // A refusal is a fault of ours (500); API Gateway's own 5xx is an outage (503).
    for (connection_id, status, answered) in [(ALICE, "403", 500), (BOB, "500", 503)] {
        let err = pusher
            .push(connection_id, FRAME)
            .await
            .expect_err(&format!("a {status} is a failure"));
        let text = err.to_string();
        assert!(
            text.contains("API Gateway PostToConnection failed"),
            "{text}"
        );
        assert!(!text.contains("안녕하세요"), "the frame leaked: {text}");
        assert_eq!(err.problem().status, answered);
    }
}

/// The chat service over the AWS pusher: a member's closed device answers `GoneException`;
/// the send still succeeds, exactly that connection is forgotten, and the member's other
/// device keeps receiving.
#[tokio::test]
async fn a_gone_connection_is_forgotten_without_failing_the_send() {
    use std::sync::Arc;

    use chrono::Utc;
    use festa::adapters::memory::{
        ManualClock, MemoryChat, MemoryConnections, MemoryPresence, MemoryRecords, SequentialIds,
    };
    use festa::model::{Festival, Role};
    use festa::ports::{Clock, ConnectionStore, FestivalStore, RoomPresence, SessionStore};
    use festa::services::chat::{Chat, RoomTurns};
    use festa::services::directory::FestivalDirectory;
    use festa::services::tokens::Identity;

    const SENDER: &str = "SenderConn0000=";
    const STALE: &str = "StaleDevice000=";
    const LIVE: &str = "LiveDevice0000=";
    let server = MockServer::start().await;
    Mock::given(post_to(STALE))
        .respond_with(gone())
        .expect(1)
        .mount(&server)
        .await;
    for connection in [SENDER, LIVE] {
        Mock::given(post_to(connection))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
    }

    let records = Arc::new(MemoryRecords::new());
    let festival = Festival {
        festival_id: "fest-1".into(),
        name: "불꽃축제".into(),
        description: "d".into(),
        location: "서울".into(),
        start_date: chrono::NaiveDate::from_ymd_opt(2027, 10, 2).unwrap(),
        end_date: chrono::NaiveDate::from_ymd_opt(2027, 10, 2).unwrap(),
        time_zone: "Asia/Seoul".into(),
        price: 0,
        image_url: None,
        chat_room_id: "fest-1".into(),
        tickets: Vec::new(),
        created_at: Utc::now(),
    };
    records.create_festival(&festival).await.unwrap();
    let connections = Arc::new(MemoryConnections::new());
    let presence = Arc::new(MemoryPresence::new());
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let chat = Chat {
        store: Arc::new(MemoryChat::new()),
        connections: connections.clone(),
        presence: presence.clone(),
        pusher: Arc::new(pusher(&server).await),
        festivals: FestivalDirectory::new(records.clone()),
        sessions: records.clone(),
        clock: clock.clone(),
        ids: Arc::new(SequentialIds::default()),
        turns: RoomTurns::default(),
    };
    let person = |id: &str| Identity {
        user_id: id.into(),
        email: format!("{id}@festa.test"),
        name: id.into(),
        role: Role::User,
        session_id: "s".into(),
        expires_at: Utc::now() + chrono::Duration::hours(1),
    };
    let (ana, ben) = (person("ana"), person("ben"));
    for who in [&ana, &ben] {
        records
            .create_session(&festa::model::Session {
                session_id: who.session_id.clone(),
                user_id: who.user_id.clone(),
                email: who.email.clone(),
                name: who.name.clone(),
                refresh_hash: String::new(),
                spent_hashes: Vec::new(),
                revoked: false,
                created_at: Utc::now(),
                expires_at: Utc::now() + chrono::Duration::days(1),
            })
            .await
            .unwrap();
    }
    chat.join(&ana, "fest-1").await.unwrap();
    chat.join(&ben, "fest-1").await.unwrap();
    chat.connect(SENDER, &ana).await.unwrap();
    chat.connect(STALE, &ben).await.unwrap();
    chat.connect(LIVE, &ben).await.unwrap();

    let frame =
        r#"{"action":"sendMessage","chatRoomId":"fest-1","content":"hi","clientMsgId":"c1"}"#;
    // Long after the connections opened (one still opening also answers Gone, and is kept).
    clock.advance(chrono::Duration::minutes(1));
    chat.frame(SENDER, frame).await.expect("the send succeeds");

    let now = clock.now();
    assert!(connections.get(STALE, now).await.unwrap().is_none());
    assert!(connections.get(LIVE, now).await.unwrap().is_some());
    assert!(connections.get(SENDER, now).await.unwrap().is_some());
    let attached: Vec<String> = presence
        .deliver("fest-1", 1)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.connection_id)
        .collect();
    assert!(!attached.contains(&STALE.to_string()), "{attached:?}");
    assert!(attached.contains(&LIVE.to_string()) && attached.contains(&SENDER.to_string()));
    let pushed = |id: &'static str| {
        let requests = server.received_requests();
        async move {
            requests
                .await
                .unwrap()
                .into_iter()
                .filter(|r| decoded_path(r) == format!("/prod/@connections/{id}"))
                .map(|r| String::from_utf8(r.body).unwrap())
                .collect::<Vec<_>>()
        }
    };
    let to_sender = pushed(SENDER).await;
    assert!(
        to_sender.iter().any(|f| f.contains(r#""type":"ack""#)),
        "{to_sender:?}"
    );
    let to_live = pushed(LIVE).await;
    assert!(
        to_live.iter().any(|f| f.contains(r#""type":"message""#)),
        "{to_live:?}"
    );
    assert!(
        to_live.iter().any(|f| f.contains(r#""unreadCount":1"#)),
        "{to_live:?}"
    );
    assert_eq!(pushed(STALE).await.len(), 1, "one attempt, then forgotten");

    // The next message is not pushed to the forgotten connection at all.
    let frame =
        r#"{"action":"sendMessage","chatRoomId":"fest-1","content":"again","clientMsgId":"c2"}"#;
    chat.frame(SENDER, frame).await.unwrap();
    assert_eq!(pushed(STALE).await.len(), 1);
}

/// Matches a `DeleteConnection` of the given connection.
fn delete_of(connection_id: &str) -> impl Fn(&Request) -> bool + Send + Sync + 'static {
    let want = format!("/prod/@connections/{connection_id}");
    move |request: &Request| request.method.as_str() == "DELETE" && decoded_path(request) == want
}

/// GIVEN a user with two tracked connections (one already gone at API Gateway) and another
/// user with one, WHEN the user's connections are closed (sign-out), THEN each of theirs gets
/// one DeleteConnection (Gone is fine), they leave presence, and the other user's is untouched.
#[tokio::test]
async fn eviction_deletes_every_connection_of_the_user_and_takes_gone_in_stride() {
    use std::sync::Arc;

    use festa::adapters::apigateway_pusher::ApiGatewayEviction;
    use festa::adapters::memory::MemoryPresence;
    use festa::ports::{RoomPresence, SocketEviction};

    let server = MockServer::start().await;
    Mock::given(delete_of(ALICE))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(delete_of(BOB))
        .respond_with(gone())
        .expect(1)
        .mount(&server)
        .await;
    let presence = Arc::new(MemoryPresence::new());
    let now = chrono::Utc::now();
    let later = now + chrono::Duration::hours(2);
    for (user, connection) in [("ana", ALICE), ("ana", BOB), ("ben", "BenConn0000=")] {
        assert!(presence
            .track(user, connection, now, later, 5)
            .await
            .unwrap());
    }
    let eviction = ApiGatewayEviction::new(
        &sdk_config().await,
        &format!("{}/prod", server.uri()),
        presence.clone(),
    );

    eviction.close_user_connections("ana").await.unwrap();

    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert!(presence.connections_of("ana").await.unwrap().is_empty());
    assert!(presence.holds("ben", "BenConn0000=", now).await.unwrap());
    // A failure other than Gone is reported (the connections are out of presence already).
    let failing = MockServer::start().await;
    Mock::given(delete_of(ALICE))
        .respond_with(ResponseTemplate::new(500))
        .mount(&failing)
        .await;
    assert!(presence.track("ana", ALICE, now, later, 5).await.unwrap());
    let eviction = ApiGatewayEviction::new(
        &sdk_config().await,
        &format!("{}/prod", failing.uri()),
        presence.clone(),
    );
    assert!(eviction.close_user_connections("ana").await.is_err());
    assert!(!presence.holds("ana", ALICE, now).await.unwrap());
}
