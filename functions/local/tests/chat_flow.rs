//! Black-box: festival chat over real WebSocket clients and the REST routes, once in memory
//! and once on Redis and DynamoDB (moto).

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use festa_local::chat_client::{ChatClient, ConnectError};
use reqwest::{Method as M, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// Long enough for any frame the server owes us to arrive.
const WAIT: Duration = Duration::from_secs(10);
/// How long we listen to be sure nothing more arrives.
const QUIET: Duration = Duration::from_millis(300);

struct Fan {
    email: String,
    token: String,
}

impl Platform {
    async fn fan(&self, prefix: &str) -> Fan {
        let email = unique(prefix);
        let tokens = self.account(&email).await;
        Fan {
            email,
            token: tokens["accessToken"].as_str().unwrap().to_string(),
        }
    }

    fn ws(&self) -> String {
        self.base.replacen("http://", "ws://", 1)
    }

    async fn connect(&self, fan: &Fan) -> ChatClient {
        ChatClient::connect(&self.ws(), &fan.token)
            .await
            .expect("a signed-in fan connects")
    }
}

fn send(room: &str, content: &str, client_msg_id: &str) -> Value {
    json!({"action": "sendMessage", "chatRoomId": room, "content": content, "clientMsgId": client_msg_id})
}

/// Drains message frames until `count` have arrived; answers their seqs in arrival order.
async fn messages(client: &mut ChatClient, count: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    while seqs.len() < count {
        let frame = client
            .next_of("message", WAIT)
            .await
            .unwrap_or_else(|| panic!("message {} of {count} never came", seqs.len() + 1));
        seqs.push(frame["seq"].as_u64().unwrap());
    }
    seqs
}

/// Every frame that arrives before a quiet spell.
async fn drain(client: &mut ChatClient) -> Vec<Value> {
    let mut frames = Vec::new();
    while let Some(frame) = client.next(QUIET).await {
        frames.push(frame);
    }
    frames
}

async fn chat(p: &Platform, admin: &str, check_rate: bool) {
    let admin_token = p.account(admin).await["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, festival) = p
        .call(
            M::POST,
            "/festivals/create",
            Some(&admin_token),
            Some(festival("채팅 축제", "chat")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{festival}");
    let room = festival["chatRoomId"].as_str().unwrap().to_string();
    let room_path = format!("/festivals/chatting/{room}");
    let (ana, ben, cat) = (p.fan("ana").await, p.fan("ben").await, p.fan("cat").await);

    // Refused upgrades.
    for url in [
        format!("{}/ws", p.ws()),
        format!("{}/ws?token=", p.ws()),
        format!("{}/ws?token=not-a-token", p.ws()),
    ] {
        match ChatClient::connect_url(&url).await {
            Err(ConnectError::Refused(status)) => assert_eq!(status, 401, "{url}"),
            Err(other) => panic!("{url}: {other:?}"),
            Ok(_) => panic!("{url} connected"),
        }
    }

    // Ben connects before joining: joining routes the room to his open connection.
    let mut ben1 = p.connect(&ben).await;
    let (status, joined) = p
        .call(
            M::POST,
            &format!("{room_path}/join"),
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["memberCount"], 1);
    assert_eq!(joined["festivalId"], festival["festivalId"]);
    assert_eq!(joined["name"], "채팅 축제");
    let (_, again) = p
        .call(
            M::POST,
            &format!("{room_path}/join"),
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(again["memberCount"], 1, "joining twice is harmless");
    assert_eq!(again["joinedAt"], joined["joinedAt"]);
    let (_, joined) = p
        .call(
            M::POST,
            &format!("{room_path}/join"),
            Some(&ben.token),
            None,
        )
        .await;
    assert_eq!(joined["memberCount"], 2);
    let (status, body) = p
        .call(
            M::POST,
            "/festivals/chatting/no-such-room/join",
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let (status, body) = p.call(M::GET, &room_path, Some(&cat.token), None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "NOT_A_MEMBER")
    );
    let (status, _) = p.call(M::GET, &room_path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Ana has two devices; the first views the room.
    let mut ana1 = p.connect(&ana).await;
    let mut ana2 = p.connect(&ana).await;
    let mut cat1 = p.connect(&cat).await;
    ana1.send(&json!({"action": "enterRoom", "chatRoomId": room}))
        .await;
    let unread = ana1.next_of("unread", WAIT).await.unwrap();
    assert_eq!(
        unread,
        json!({"type": "unread", "chatRoomId": room, "unreadCount": 0})
    );

    // Five messages: acks to the sender, each message once and in order to every
    // connection of every member, unread counts to the members not viewing.
    for i in 1..=5 {
        ana1.send(&send(&room, &format!("안녕 {i}"), &format!("a-{i}")))
            .await;
    }
    let mut ana1_frames = Vec::new();
    while ana1_frames
        .iter()
        .filter(|f: &&Value| f["type"] == "message")
        .count()
        < 5
    {
        ana1_frames.push(ana1.next(WAIT).await.expect("Ana's own messages come back"));
    }
    ana1_frames.extend(drain(&mut ana1).await);
    let acks: Vec<Value> = ana1_frames
        .iter()
        .filter(|f| f["type"] == "ack")
        .cloned()
        .collect();
    assert_eq!(
        acks.iter()
            .map(|a| a["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(acks[2]["clientMsgId"], "a-3");
    let ben_frames = drain(&mut ben1).await;
    let ben_messages: Vec<&Value> = ben_frames
        .iter()
        .filter(|f| f["type"] == "message")
        .collect();
    assert_eq!(
        ben_messages
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    let first = ben_messages[0];
    assert_eq!(first["content"], "안녕 1");
    assert_eq!(first["chatRoomId"], room.as_str());
    assert_eq!(first["clientMsgId"], "a-1");
    assert_eq!(first["messageId"], acks[0]["messageId"]);
    assert!(first["senderId"].is_string() && first["sentAt"].is_string());
    let ben_unread: Vec<u64> = ben_frames
        .iter()
        .filter(|f| f["type"] == "unread")
        .map(|f| f["unreadCount"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ben_unread,
        vec![1, 2, 3, 4, 5],
        "Ben is not viewing the room"
    );
    let ana2_frames = drain(&mut ana2).await;
    assert_eq!(
        ana2_frames
            .iter()
            .filter(|f| f["type"] == "message")
            .count(),
        5,
        "every device of a member gets every message"
    );
    assert!(
        ana2_frames
            .iter()
            .filter(|f| f["type"] == "unread")
            .all(|f| f["unreadCount"] == 0),
        "Ana views the room on another device: {ana2_frames:?}"
    );
    assert_eq!(
        ana1_frames
            .iter()
            .filter(|f| f["type"] == "message")
            .map(|m| m["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5],
        "the sender's own connections get the message too"
    );
    assert!(
        ana1_frames.iter().all(|f| f["type"] != "unread"),
        "Ana is viewing"
    );
    assert!(
        drain(&mut cat1).await.is_empty(),
        "a non-member hears nothing"
    );

    // A resend is acknowledged with its first seq and stored once.
    ana1.send(&send(&room, "안녕 3", "a-3")).await;
    let ack = ana1.next_of("ack", WAIT).await.unwrap();
    assert_eq!(
        (ack["seq"].as_u64(), &ack["messageId"]),
        (Some(3), &acks[2]["messageId"])
    );
    ana1.send(&send(&room, "여섯", "a-6")).await;
    assert_eq!(ana1.next_of("ack", WAIT).await.unwrap()["seq"], 6);
    assert_eq!(
        messages(&mut ben1, 1).await,
        vec![6],
        "the resend was not delivered again"
    );

    // A non-member can neither send, view nor read.
    cat1.send(&send(&room, "let me in", "c-1")).await;
    let error = cat1.next_of("error", WAIT).await.unwrap();
    assert_eq!(
        (error["code"].as_str(), error["clientMsgId"].as_str()),
        (Some("NOT_A_MEMBER"), Some("c-1"))
    );
    cat1.send(&json!({"action": "enterRoom", "chatRoomId": room}))
        .await;
    assert_eq!(
        cat1.next_of("error", WAIT).await.unwrap()["code"],
        "NOT_A_MEMBER"
    );
    cat1.send(&json!({"action": "markRead", "chatRoomId": room, "seq": 1}))
        .await;
    assert_eq!(
        cat1.next_of("error", WAIT).await.unwrap()["code"],
        "NOT_A_MEMBER"
    );

    // Bad frames get error frames and close nobody's connection.
    let bad: Vec<Message> = vec![
        Message::Text("not json".into()),
        Message::Text(r#"{"action":"dance"}"#.into()),
        Message::Text(r#"{"chatRoomId":"x"}"#.into()),
        Message::Text(send(&room, "", "e-1").to_string().into()),
        Message::Text(send(&room, &"가".repeat(2001), "e-2").to_string().into()),
        Message::Text(
            json!({"action": "sendMessage", "chatRoomId": room, "content": "no id"})
                .to_string()
                .into(),
        ),
        Message::Text(
            json!({"action": "markRead", "chatRoomId": room, "seq": "x"})
                .to_string()
                .into(),
        ),
        Message::Binary(vec![1, 2, 3].into()),
    ];
    let bad_count = bad.len();
    for frame in bad {
        cat1.send_raw(frame).await;
    }
    for _ in 0..bad_count {
        let error = cat1
            .next_of("error", WAIT)
            .await
            .expect("an error frame per bad frame");
        assert_eq!(error["code"], "INVALID_MESSAGE", "{error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(
        send_and_ack(&mut ana1, &room, "still here", "a-7").await,
        7,
        "others are unaffected"
    );
    assert_eq!(messages(&mut ben1, 1).await, vec![7]);
    cat1.send(&json!({"action": "leaveRoom", "chatRoomId": room}))
        .await;
    assert_eq!(
        cat1.next_of("error", WAIT).await.unwrap()["code"],
        "NOT_A_MEMBER",
        "Cat's socket still works"
    );

    // Unread across disconnects, reconnects and devices.
    drain(&mut ana2).await;
    drain(&mut ben1).await;
    ben1.close().await;
    tokio::time::sleep(QUIET).await;
    send_and_ack(&mut ana1, &room, "while Ben is away", "a-8").await;
    send_and_ack(&mut ana1, &room, "still away", "a-9").await;
    let rooms = list(p, &ben).await;
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0]["unreadCount"], 9, "Ben has read nothing");
    assert_eq!(rooms[0]["lastMessage"], "still away");
    assert_eq!(rooms[0]["festivalId"], festival["festivalId"]);
    let mut ben2 = p.connect(&ben).await;
    ben2.send(&json!({"action": "markRead", "chatRoomId": room, "seq": 4}))
        .await;
    assert_eq!(
        ben2.next_of("unread", WAIT).await.unwrap()["unreadCount"],
        5
    );
    ben2.send(&json!({"action": "markRead", "chatRoomId": room, "seq": 2}))
        .await;
    assert_eq!(
        ben2.next_of("unread", WAIT).await.unwrap()["unreadCount"],
        5,
        "never back"
    );
    send_and_ack(&mut ana1, &room, "ten", "a-10").await;
    assert_eq!(
        messages(&mut ben2, 1).await,
        vec![10],
        "a reconnected device is routed again"
    );
    assert_eq!(
        ben2.next_of("unread", WAIT).await.unwrap()["unreadCount"],
        6
    );
    assert_eq!(list(p, &ben).await[0]["unreadCount"], 6);
    ben2.send(&json!({"action": "markRead", "chatRoomId": room, "seq": 1_000_000}))
        .await;
    assert_eq!(
        ben2.next_of("unread", WAIT).await.unwrap()["unreadCount"],
        0
    );
    send_and_ack(&mut ana1, &room, "eleven", "a-11").await;
    assert_eq!(
        list(p, &ben).await[0]["unreadCount"],
        1,
        "a marker past the end is clamped"
    );

    // Ana stops viewing: her devices now hear her unread count.
    drain(&mut ana2).await;
    ana1.send(&json!({"action": "leaveRoom", "chatRoomId": room}))
        .await;
    assert_eq!(
        ana1.next_of("unread", WAIT).await.unwrap()["unreadCount"],
        0
    );
    drain(&mut ana1).await;
    let mut ben_sender = ben2;
    drain(&mut ben_sender).await;
    send_and_ack(&mut ben_sender, &room, "twelve", "b-12").await;
    assert_eq!(
        ana2.next_of("unread", WAIT).await.unwrap()["unreadCount"],
        1
    );
    assert_eq!(
        ana1.next_of("unread", WAIT).await.unwrap()["unreadCount"],
        1
    );
    assert_eq!(list(p, &ana).await[0]["unreadCount"], 1);

    // Entering over REST: a history page, the unread count before, then all read.
    let (status, view) = p
        .call(
            M::GET,
            &format!("{room_path}?limit=5"),
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["unreadCount"], 1);
    assert_eq!(view["memberCount"], 2);
    assert_eq!(view["name"], "채팅 축제");
    let page: Vec<u64> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(page, vec![8, 9, 10, 11, 12], "the newest, oldest first");
    assert_eq!(view["nextBefore"], 8);
    assert_eq!(list(p, &ana).await[0]["unreadCount"], 0);
    let mut seen = BTreeSet::new();
    let mut before = view["nextBefore"].as_u64();
    while let Some(b) = before {
        let (_, older) = p
            .call(
                M::GET,
                &format!("{room_path}?limit=5&before={b}"),
                Some(&ana.token),
                None,
            )
            .await;
        for m in older["messages"].as_array().unwrap() {
            assert!(seen.insert(m["seq"].as_u64().unwrap()));
        }
        before = older["nextBefore"].as_u64();
    }
    assert_eq!(seen, (1..=7).collect::<BTreeSet<u64>>());
    for bad in ["limit=0", "limit=101", "limit=x", "before=0", "before=-1"] {
        let (status, body) = p
            .call(
                M::GET,
                &format!("{room_path}?{bad}"),
                Some(&ana.token),
                None,
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "VALIDATION_FAILED"),
            "{bad}"
        );
    }

    // Concurrent senders: every member's connections see one gap-free seq order.
    drain(&mut ana1).await;
    drain(&mut ana2).await;
    drain(&mut ben_sender).await;
    let mut senders = vec![
        p.connect(&ana).await,
        p.connect(&ben).await,
        p.connect(&ana).await,
    ];
    let sent = 8;
    let bursts = senders.iter_mut().enumerate().map(|(s, client)| {
        let room = room.clone();
        async move {
            for i in 0..sent {
                client
                    .send(&send(
                        &room,
                        &format!("burst {s}-{i}"),
                        &format!("burst-{s}-{i}"),
                    ))
                    .await;
                // Under the per-user rate limit, Ana's two connections together.
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    });
    futures_util::future::join_all(bursts).await;
    let expected: Vec<u64> = (13..13 + 3 * sent as u64).collect();
    for client in [&mut ana1, &mut ana2, &mut ben_sender] {
        assert_eq!(messages(client, expected.len()).await, expected);
    }
    for client in senders {
        client.close().await;
    }

    if check_rate {
        // Over ten messages a second from one user: RATE_LIMITED, with the client's id. In a
        // fresh second, so the bursts above do not count.
        start_of_next_second().await;
        for i in 0..30 {
            ana1.send(&send(&room, "spam", &format!("spam-{i}"))).await;
        }
        let frames = drain(&mut ana1).await;
        let limited = frames
            .iter()
            .filter(|f| f["type"] == "error" && f["code"] == "RATE_LIMITED")
            .count();
        let acked = frames.iter().filter(|f| f["type"] == "ack").count();
        assert_eq!(limited + acked, 30, "{frames:?}");
        assert!(
            limited >= 10 && acked >= 10,
            "{acked} acked, {limited} limited"
        );
        // Ana's next message falls in a fresh second.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }

    // Leaving: messages stop, and leaving again is 404.
    drain(&mut ben_sender).await;
    let (status, _) = p
        .call(
            M::DELETE,
            &format!("/festivals/chatting/delete?chatRoomId={room}"),
            Some(&ben.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = p
        .call(
            M::DELETE,
            &format!("/festivals/chatting/delete?chatRoomId={room}"),
            Some(&ben.token),
            None,
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let (status, body) = p
        .call(
            M::DELETE,
            "/festivals/chatting/delete",
            Some(&ben.token),
            None,
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED")
    );
    send_and_ack(&mut ana2, &room, "after Ben left", "a-left").await;
    assert!(
        drain(&mut ben_sender)
            .await
            .iter()
            .all(|f| f["type"] != "message"),
        "a former member hears nothing"
    );
    ben_sender.send(&send(&room, "let me back", "b-back")).await;
    assert_eq!(
        ben_sender.next_of("error", WAIT).await.unwrap()["code"],
        "NOT_A_MEMBER"
    );
    assert!(list(p, &ben).await.is_empty());
    let (_, view) = p.call(M::GET, &room_path, Some(&ana.token), None).await;
    assert_eq!(view["memberCount"], 1);
}

/// Sleeps until just after the next whole second, so a burst falls in one rate window.
async fn start_of_next_second() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let left = 1000 - u64::from(now.subsec_millis());
    tokio::time::sleep(Duration::from_millis(left + 20)).await;
}

/// The abuse limits of API.md's chat section, through real sockets: five connections a user
/// (the sixth upgrade is 429 with Retry-After), ten messages a second per user across all
/// their connections, no direction overrides in messages, and sign-out closing every socket
/// of the user so nothing they send afterwards is acted on.
async fn abuse(p: &Platform, admin: &str, check_rate: bool) {
    let admin_token = p.account(admin).await["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, festival) = p
        .call(
            M::POST,
            "/festivals/create",
            Some(&admin_token),
            Some(festival("남용 방지 축제", "abuse")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{festival}");
    let room = festival["chatRoomId"].as_str().unwrap().to_string();
    let room_path = format!("/festivals/chatting/{room}");
    let (dan, eve) = (p.fan("dan").await, p.fan("eve").await);
    for fan in [&dan, &eve] {
        let (status, body) = p
            .call(
                M::POST,
                &format!("{room_path}/join"),
                Some(&fan.token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let dan_url = format!("{}/ws?token={}", p.ws(), dan.token);

    // Five connections; the sixth upgrade is refused with 429 and Retry-After.
    let mut dans = Vec::new();
    for _ in 0..5 {
        dans.push(p.connect(&dan).await);
    }
    let (status, retry_after) = ChatClient::refusal(&dan_url)
        .await
        .expect("the sixth upgrade is refused");
    assert_eq!(status, 429);
    assert!(retry_after >= Some(1), "{retry_after:?}");
    // Another user is not affected.
    let mut eve1 = p.connect(&eve).await;
    // Closing one frees its place (once its disconnect has run).
    dans.pop().unwrap().close().await;
    let mut reopened = None;
    for _ in 0..100 {
        match ChatClient::connect(&p.ws(), &dan.token).await {
            Ok(client) => {
                reopened = Some(client);
                break;
            }
            Err(ConnectError::Refused(429)) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(other) => panic!("reconnecting: {other:?}"),
        }
    }
    dans.push(reopened.expect("a closed connection frees its place"));

    if check_rate {
        // Eight messages on each of two sockets within one second: sixteen from one user,
        // so at most ten are taken (each socket alone would be under the limit).
        start_of_next_second().await;
        let (first, rest) = dans.split_at_mut(1);
        let (d1, d2) = (&mut first[0], &mut rest[0]);
        for i in 0..8 {
            d1.send(&send(&room, "burst", &format!("r1-{i}"))).await;
            d2.send(&send(&room, "burst", &format!("r2-{i}"))).await;
        }
        let mut frames = drain(d1).await;
        frames.extend(drain(d2).await);
        let acked = frames.iter().filter(|f| f["type"] == "ack").count();
        let limited = frames
            .iter()
            .filter(|f| f["type"] == "error" && f["code"] == "RATE_LIMITED")
            .count();
        assert_eq!(acked + limited, 16, "{frames:?}");
        assert!(acked <= 10, "{acked} acked across one user's sockets");
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }

    // Direction overrides are refused; emoji sequences and Korean are fine.
    for client in dans.iter_mut() {
        drain(client).await;
    }
    drain(&mut eve1).await;
    let d1 = &mut dans[0];
    for (i, spoof) in [
        "invoice\u{202E}fdp.exe",
        "\u{2067}admin\u{2069}",
        "a\u{200F}b",
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("bidi-{i}");
        d1.send(&send(&room, spoof, &id)).await;
        let error = d1.next_of("error", WAIT).await.expect("an error frame");
        assert_eq!(error["code"], "INVALID_MESSAGE", "{error}");
        assert_eq!(error["clientMsgId"], id.as_str());
    }
    let fine = "축하해요 👩\u{200D}👩\u{200D}👧 👍🏽 🇰🇷\n두 줄";
    send_and_ack(d1, &room, fine, "emoji-1").await;
    let heard = eve1.next_of("message", WAIT).await.expect("Eve hears it");
    assert_eq!(heard["content"], fine);
    assert!(
        drain(&mut eve1)
            .await
            .iter()
            .all(|f| f["type"] != "message"),
        "refused messages reach nobody"
    );

    // Sign-out closes every socket of Dan's; nothing sent on them afterwards is acted on.
    let (status, body) = p.call(M::POST, "/signout", Some(&dan.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for client in dans.iter_mut() {
        assert!(
            client.closed_within(WAIT).await,
            "sign-out closes the socket"
        );
    }
    let _ = dans[0]
        .try_send(&send(&room, "after sign-out", "late-1"))
        .await;
    assert!(
        drain(&mut eve1)
            .await
            .iter()
            .all(|f| f["type"] != "message"),
        "nothing Dan sends after signing out reaches the room"
    );
    let (status, view) = p.call(M::GET, &room_path, Some(&eve.token), None).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert!(view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["content"] != "after sign-out"));
    // The signed-out token opens nothing any more; Eve's socket lives on.
    assert_eq!(
        ChatClient::refusal(&dan_url)
            .await
            .map(|(status, _)| status),
        Some(401)
    );
    send_and_ack(&mut eve1, &room, "still here", "e-1").await;

    // A password reset ends every login too: Eve's socket closes, and her old token opens none.
    let (status, body) = p
        .call(
            M::POST,
            "/forgot-password",
            None,
            Some(json!({"email": eve.email})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let code = p.code_for(&eve.email).await;
    let (status, body) = p
        .call(
            M::POST,
            "/confirm-forgot-password",
            None,
            Some(json!({"email": eve.email, "code": code, "newPassword": "a-new-festival-pass"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        eve1.closed_within(WAIT).await,
        "a password reset closes the socket"
    );
    let eve_url = format!("{}/ws?token={}", p.ws(), eve.token);
    assert_eq!(
        ChatClient::refusal(&eve_url)
            .await
            .map(|(status, _)| status),
        Some(401)
    );
}

async fn send_and_ack(client: &mut ChatClient, room: &str, content: &str, id: &str) -> u64 {
    client.send(&send(room, content, id)).await;
    let ack = client.next_of("ack", WAIT).await.expect("an ack");
    assert_eq!(ack["clientMsgId"], id);
    ack["seq"].as_u64().unwrap()
}

async fn list(p: &Platform, fan: &Fan) -> Vec<Value> {
    let (status, rooms) = p
        .call(M::GET, "/festivals/chatting/list", Some(&fan.token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{rooms}");
    rooms["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn chat_in_memory() {
    let admin = unique("admin");
    let p = start(&[("ADMIN_EMAILS", admin.clone())]).await;
    chat(&p, &admin, true).await;
}

#[tokio::test]
async fn abuse_limits_in_memory() {
    let admin = unique("admin");
    let p = start(&[("ADMIN_EMAILS", admin.clone())]).await;
    abuse(&p, &admin, true).await;
}

#[tokio::test]
async fn abuse_limits_on_redis_and_dynamodb() {
    let Some(redis) = real_redis() else {
        return;
    };
    let admin = unique("admin");
    let run = ulid_like();
    let p = start(&[
        ("ADMIN_EMAILS", admin.clone()),
        ("REDIS_URL", redis),
        ("RECORDS_TABLE", format!("abuse-records-{run}")),
        ("SEARCH_TABLE", format!("abuse-search-{run}")),
    ])
    .await;
    abuse(&p, &admin, false).await;
}

#[tokio::test]
async fn chat_on_redis_and_dynamodb() {
    let Some(redis) = real_redis() else {
        return;
    };
    let admin = unique("admin");
    let run = ulid_like();
    let p = start(&[
        ("ADMIN_EMAILS", admin.clone()),
        ("REDIS_URL", redis),
        ("RECORDS_TABLE", format!("chat-records-{run}")),
        ("SEARCH_TABLE", format!("chat-search-{run}")),
    ])
    .await;
    chat(&p, &admin, false).await;
}
