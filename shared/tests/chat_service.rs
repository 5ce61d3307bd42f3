//! The chat abuse rules end to end through the in-memory adapters (GIVEN / WHEN / THEN):
//! connections per user, the send rate per user, frames after a login ended, membership
//! before room-wide work, and message text.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use festa::adapters::memory::{
    ManualClock, MemoryChat, MemoryConnections, MemoryPresence, MemoryRecords, RecordedFrames,
    SequentialIds,
};
use festa::model::{Festival, Role, Session};
use festa::ports::{Clock, FestivalStore, Recipient, RoomPresence, SessionStore};
use festa::services::chat::{Chat, HistoryPage, RoomTurns, MAX_CONNECTIONS_PER_USER};
use festa::services::directory::FestivalDirectory;
use festa::services::tokens::Identity;
use festa::{AppError, AppResult};
use serde_json::{json, Value};

const ROOM: &str = "01JROOM0000000000000000000";

/// Memory presence that counts the calls that work over a whole room.
#[derive(Default)]
struct CountingPresence {
    inner: MemoryPresence,
    room_wide: AtomicUsize,
}

#[async_trait]
impl RoomPresence for CountingPresence {
    async fn attach(&self, room: &str, connection: &str, user: &str) -> AppResult<()> {
        self.inner.attach(room, connection, user).await
    }
    async fn detach(&self, room: &str, connection: &str) -> AppResult<()> {
        self.inner.detach(room, connection).await
    }
    async fn view(&self, room: &str, connection: &str, user: &str, seq: u64) -> AppResult<u64> {
        self.inner.view(room, connection, user, seq).await
    }
    async fn unview(&self, room: &str, connection: &str, user: &str) -> AppResult<u64> {
        self.inner.unview(room, connection, user).await
    }
    async fn mark_read(&self, room: &str, user: &str, seq: u64) -> AppResult<u64> {
        self.inner.mark_read(room, user, seq).await
    }
    async fn forget_member(&self, room: &str, user: &str) -> AppResult<()> {
        self.room_wide.fetch_add(1, Ordering::SeqCst);
        self.inner.forget_member(room, user).await
    }
    async fn read_markers(&self, rooms: &[String], user: &str) -> AppResult<Vec<u64>> {
        self.inner.read_markers(rooms, user).await
    }
    async fn deliver(&self, room: &str, seq: u64) -> AppResult<Vec<Recipient>> {
        self.room_wide.fetch_add(1, Ordering::SeqCst);
        self.inner.deliver(room, seq).await
    }
    async fn track(
        &self,
        user: &str,
        connection: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        max: usize,
    ) -> AppResult<bool> {
        self.inner
            .track(user, connection, now, expires_at, max)
            .await
    }
    async fn untrack(&self, user: &str, connection: &str) -> AppResult<()> {
        self.inner.untrack(user, connection).await
    }
    async fn connections_of(&self, user: &str) -> AppResult<Vec<String>> {
        self.inner.connections_of(user).await
    }
    async fn holds(&self, user: &str, connection: &str, now: DateTime<Utc>) -> AppResult<bool> {
        self.inner.holds(user, connection, now).await
    }
    async fn evict(&self, user: &str) -> AppResult<Vec<String>> {
        self.inner.evict(user).await
    }
    async fn allow_message(&self, user: &str, now: DateTime<Utc>, per: u32) -> AppResult<bool> {
        self.inner.allow_message(user, now, per).await
    }
}

struct World {
    chat: Chat,
    records: Arc<MemoryRecords>,
    connections: Arc<MemoryConnections>,
    presence: Arc<CountingPresence>,
    frames: Arc<RecordedFrames>,
    clock: Arc<ManualClock>,
}

async fn world() -> World {
    let records = Arc::new(MemoryRecords::new());
    let start = Utc.with_ymd_and_hms(2027, 5, 1, 9, 0, 0).unwrap();
    records
        .create_festival(&Festival {
            festival_id: ROOM.into(),
            name: "불꽃축제".into(),
            description: "d".into(),
            location: "서울".into(),
            start_date: chrono::NaiveDate::from_ymd_opt(2027, 10, 2).unwrap(),
            end_date: chrono::NaiveDate::from_ymd_opt(2027, 10, 2).unwrap(),
            time_zone: "Asia/Seoul".into(),
            price: 0,
            image_url: None,
            chat_room_id: ROOM.into(),
            tickets: Vec::new(),
            created_at: start,
        })
        .await
        .unwrap();
    let connections = Arc::new(MemoryConnections::new());
    let presence = Arc::new(CountingPresence::default());
    let frames = Arc::new(RecordedFrames::new());
    let clock = Arc::new(ManualClock::new(start));
    let chat = Chat {
        store: Arc::new(MemoryChat::new()),
        connections: connections.clone(),
        presence: presence.clone(),
        pusher: frames.clone(),
        festivals: FestivalDirectory::new(records.clone()),
        sessions: records.clone(),
        clock: clock.clone(),
        ids: Arc::new(SequentialIds::default()),
        turns: RoomTurns::default(),
    };
    World {
        chat,
        records,
        connections,
        presence,
        frames,
        clock,
    }
}

impl World {
    /// `name` logged in: a live session and the identity its token carries.
    async fn login(&self, name: &str) -> Identity {
        let now = self.clock.now();
        let identity = Identity {
            user_id: format!("user-{name}"),
            email: format!("{name}@festa.test"),
            name: name.into(),
            role: Role::User,
            session_id: format!("login-{name}"),
            expires_at: now + Duration::minutes(15),
        };
        self.records
            .create_session(&Session {
                session_id: identity.session_id.clone(),
                user_id: identity.user_id.clone(),
                email: identity.email.clone(),
                name: identity.name.clone(),
                refresh_hash: String::new(),
                spent_hashes: Vec::new(),
                revoked: false,
                created_at: now,
                expires_at: now + Duration::days(14),
            })
            .await
            .unwrap();
        identity
    }

    async fn frame(&self, connection: &str, frame: Value) {
        self.chat
            .frame(connection, &frame.to_string())
            .await
            .unwrap();
    }

    fn last(&self, connection: &str) -> Value {
        self.frames
            .to(connection)
            .last()
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn acked(&self, connection: &str, client_msg_id: &str) -> bool {
        self.frames
            .to(connection)
            .iter()
            .any(|f| f["type"] == "ack" && f["clientMsgId"] == client_msg_id)
    }

    async fn history(&self, who: &Identity) -> Vec<String> {
        self.chat
            .enter(who, ROOM, HistoryPage::parse(None, None).unwrap())
            .await
            .unwrap()
            .messages
            .into_iter()
            .map(|m| m.content)
            .collect()
    }
}

fn send(content: &str, id: &str) -> Value {
    json!({"action": "sendMessage", "chatRoomId": ROOM, "content": content, "clientMsgId": id})
}

/// GIVEN a user with five open connections, WHEN a sixth connects, THEN it is refused with
/// RATE_LIMITED (429 with Retry-After) and leaves no record; closing one frees a place, and a
/// tracked connection whose record is gone (a half-finished disconnect) is pruned.
#[tokio::test]
async fn a_sixth_connection_is_refused_until_one_closes() {
    let w = world().await;
    let ana = w.login("ana").await;
    for i in 0..MAX_CONNECTIONS_PER_USER {
        w.chat.connect(&format!("ana-{i}"), &ana).await.unwrap();
    }
    let err = w.chat.connect("ana-5", &ana).await.unwrap_err();
    assert!(matches!(err, AppError::RateLimited(_)), "{err:?}");
    assert_eq!(err.status(), 429);
    assert_eq!(err.retry_after(), Some(1));
    let now = w.clock.now();
    assert!(
        festa::ports::ConnectionStore::get(w.connections.as_ref(), "ana-5", now)
            .await
            .unwrap()
            .is_none()
    );
    // Others are not limited by Ana's count.
    let ben = w.login("ben").await;
    w.chat.connect("ben-0", &ben).await.unwrap();

    w.chat.disconnect("ana-0").await.unwrap();
    w.chat.connect("ana-5", &ana).await.unwrap();
    // A disconnect that removed the record but never untracked: pruned at the limit.
    festa::ports::ConnectionStore::close(w.connections.as_ref(), "ana-1")
        .await
        .unwrap();
    w.chat.connect("ana-6", &ana).await.unwrap();
    assert!(!w.presence.holds(&ana.user_id, "ana-1", now).await.unwrap());
}

/// GIVEN a member with two connections, WHEN they send 16 messages in one second spread over
/// both, THEN only ten are taken: the limit is per user, not per connection.
#[tokio::test]
async fn the_send_rate_is_shared_by_every_connection_of_a_user() {
    let w = world().await;
    let ana = w.login("ana").await;
    w.chat.join(&ana, ROOM).await.unwrap();
    w.chat.connect("a1", &ana).await.unwrap();
    w.chat.connect("a2", &ana).await.unwrap();
    for i in 0..8 {
        w.frame("a1", send("hi", &format!("a1-{i}"))).await;
        w.frame("a2", send("hi", &format!("a2-{i}"))).await;
    }
    let frames: Vec<Value> = w
        .frames
        .to("a1")
        .into_iter()
        .chain(w.frames.to("a2"))
        .collect();
    let acked = frames.iter().filter(|f| f["type"] == "ack").count();
    let limited = frames
        .iter()
        .filter(|f| f["type"] == "error" && f["code"] == "RATE_LIMITED")
        .count();
    assert_eq!((acked, limited), (10, 6), "{frames:?}");
}

/// GIVEN a member's open connection, WHEN their connections are evicted (what sign-out
/// does before API Gateway closes the socket) and a frame still arrives on it, THEN it is
/// refused with UNAUTHORIZED and nothing is stored or delivered.
#[tokio::test]
async fn a_frame_on_a_connection_whose_login_ended_is_not_acted_on() {
    let w = world().await;
    let (ana, ben) = (w.login("ana").await, w.login("ben").await);
    w.chat.join(&ana, ROOM).await.unwrap();
    w.chat.join(&ben, ROOM).await.unwrap();
    w.chat.connect("ana-1", &ana).await.unwrap();
    w.chat.connect("ben-1", &ben).await.unwrap();
    w.frame("ana-1", send("before", "m1")).await;
    assert!(w.acked("ana-1", "m1"));

    w.presence.evict(&ana.user_id).await.unwrap();
    w.frame("ana-1", send("after sign-out", "m2")).await;

    assert_eq!(w.last("ana-1")["code"], "UNAUTHORIZED");
    assert_eq!(w.history(&ben).await, vec!["before"]);
    assert!(w
        .frames
        .to("ben-1")
        .iter()
        .all(|f| f["content"] != "after sign-out"));
}

/// GIVEN a token checked at the upgrade, WHEN the login is revoked before the connection is
/// registered (a sign-out racing the upgrade, which could not see it), THEN `$connect` reads
/// the login again, refuses with 401 and leaves nothing behind.
#[tokio::test]
async fn a_connect_racing_a_sign_out_is_refused() {
    let w = world().await;
    let ana = w.login("ana").await;
    w.chat.join(&ana, ROOM).await.unwrap();
    w.records.revoke_all_sessions(&ana.email).await.unwrap();

    let err = w.chat.connect("ana-1", &ana).await.unwrap_err();

    assert_eq!(err.status(), 401, "{err:?}");
    let now = w.clock.now();
    assert!(!w.presence.holds(&ana.user_id, "ana-1", now).await.unwrap());
    assert!(w
        .presence
        .connections_of(&ana.user_id)
        .await
        .unwrap()
        .is_empty());
}

/// GIVEN a room with a member and a stranger's connection, WHEN the stranger sends frames
/// and asks to leave the room over REST, THEN each is refused (NOT_A_MEMBER, 404) without any
/// room-wide work: no fan-out, no scan of the room's presence, and not even a wait for the
/// room's turn (held here by someone else).
#[tokio::test]
async fn a_stranger_causes_no_room_wide_work() {
    let w = world().await;
    let (ana, eve) = (w.login("ana").await, w.login("eve").await);
    w.chat.join(&ana, ROOM).await.unwrap();
    w.chat.connect("ana-1", &ana).await.unwrap();
    w.chat.connect("eve-1", &eve).await.unwrap();
    let before = w.presence.room_wide.load(Ordering::SeqCst);

    let turn = w.chat.turns.take(ROOM).await;
    for frame in [
        send("spam", "s1"),
        json!({"action": "enterRoom", "chatRoomId": ROOM}),
        json!({"action": "markRead", "chatRoomId": ROOM, "seq": 5}),
        json!({"action": "leaveRoom", "chatRoomId": ROOM}),
    ] {
        tokio::time::timeout(StdDuration::from_secs(2), w.frame("eve-1", frame.clone()))
            .await
            .unwrap_or_else(|_| panic!("{frame} waited for the room"));
        assert_eq!(w.last("eve-1")["code"], "NOT_A_MEMBER", "{frame}");
    }
    drop(turn);
    let err = w.chat.leave(&eve, ROOM).await.unwrap_err();
    assert_eq!(err.status(), 404);

    assert_eq!(w.presence.room_wide.load(Ordering::SeqCst), before);
    assert!(w.frames.to("ana-1").is_empty(), "the member heard nothing");
}

/// GIVEN a member, WHEN a message carries a direction override or another invisible
/// formatting character, THEN it is refused with INVALID_MESSAGE; emoji sequences, Korean
/// and line breaks are fine.
#[tokio::test]
async fn message_text_refuses_direction_overrides_and_keeps_emoji() {
    let w = world().await;
    let ana = w.login("ana").await;
    w.chat.join(&ana, ROOM).await.unwrap();
    w.chat.connect("ana-1", &ana).await.unwrap();
    for (i, bad) in [
        "gpj\u{202E}exe.txt",
        "\u{2066}x\u{2069}",
        "a\u{200E}",
        "a\u{0}b",
    ]
    .into_iter()
    .enumerate()
    {
        w.frame("ana-1", send(bad, &format!("bad-{i}"))).await;
        assert_eq!(w.last("ana-1")["code"], "INVALID_MESSAGE", "{bad:?}");
    }
    let fine = "안녕 👩\u{200D}👩\u{200D}👧 👋🏿 🇰🇷 ❤\u{FE0F}\n둘째 줄";
    w.frame("ana-1", send(fine, "ok")).await;
    assert!(w.acked("ana-1", "ok"));
    assert_eq!(w.history(&ana).await, vec![fine]);
}
