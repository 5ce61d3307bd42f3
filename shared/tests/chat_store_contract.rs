//! The `ChatStore` and `ConnectionStore` contract: the same cases against the in-memory
//! adapters and (feature `dynamodb`) the DynamoDB ones on an emulator (moto) or real DynamoDB
//! at `AWS_ENDPOINT_URL`.
//!
//! Without `AWS_ENDPOINT_URL` the DynamoDB run is skipped, unless `FESTA_REQUIRE_REAL=1` (CI),
//! which makes a missing endpoint a failure. A DynamoDB run creates its own uniquely named
//! tables once and every case uses room, user and connection ids no other case or run uses.
//! As for the other DynamoDB suites, moto must answer one request at a time
//! (`scripts/moto_serial.py`) to isolate transactions as DynamoDB does.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use festa::adapters::memory::{MemoryChat, MemoryConnections};
use festa::error::AppError;
use festa::model::{ChatMessage, ChatRoom, Connection, Membership, RoomActivity};
use festa::ports::{Appended, ChatStore, ConnectionStore, MessageDraft};
use futures_util::future::join_all;

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A room no other case or run uses.
fn room(run: &str, name: &str) -> ChatRoom {
    ChatRoom {
        chat_room_id: format!("room-{run}-{name}"),
        festival_id: format!("fest-{run}-{name}"),
        name: format!("Festival {name}"),
    }
}

fn user(run: &str, i: usize) -> String {
    format!("user-{run}-{i}")
}

/// Now, with nanoseconds, so the adapters must keep times exactly.
fn base() -> DateTime<Utc> {
    Utc::now()
}

fn draft(room: &ChatRoom, sender: &str, client_msg_id: &str, at: DateTime<Utc>) -> MessageDraft {
    MessageDraft {
        chat_room_id: room.chat_room_id.clone(),
        sender_id: sender.to_string(),
        sender_name: format!("name of {sender}"),
        content: format!("{client_msg_id} from {sender}"),
        client_msg_id: client_msg_id.to_string(),
        message_id: ulid::Ulid::generate().to_string(),
        sent_at: at,
        guard_expires_at: at + Duration::hours(24),
    }
}

fn stored(appended: Appended) -> ChatMessage {
    match appended {
        Appended::Stored(m) => m,
        Appended::Resent(m) => panic!("expected a new message, got a resend of seq {}", m.seq),
    }
}

fn resent(appended: Appended) -> ChatMessage {
    match appended {
        Appended::Resent(m) => m,
        Appended::Stored(m) => panic!("expected a resend, got a new message at seq {}", m.seq),
    }
}

fn sorted_by_room(mut ms: Vec<Membership>) -> Vec<Membership> {
    ms.sort_by(|a, b| a.chat_room_id.cmp(&b.chat_room_id));
    ms
}

fn connection(run: &str, id: &str, user_id: &str, at: DateTime<Utc>) -> Connection {
    Connection {
        connection_id: format!("conn-{run}-{id}"),
        user_id: user_id.to_string(),
        name: format!("name of {user_id}"),
        session_id: format!("login-{run}-{id}"),
        connected_at: at,
        expires_at: at + Duration::hours(2),
    }
}

// ---------------------------------------------------------------------------------------------
// Cases

async fn joining_twice_keeps_one_membership(
    chat: Arc<dyn ChatStore>,
    _: Arc<dyn ConnectionStore>,
    run: &str,
) {
    let chat = chat.as_ref();
    let (r1, r2) = (room(run, "one"), room(run, "two"));
    let (u1, u2) = (user(run, 1), user(run, 2));
    let t0 = base();

    let (m1, a) = chat.join(&r1, &u1, t0).await.unwrap();
    assert_eq!(
        m1,
        Membership {
            chat_room_id: r1.chat_room_id.clone(),
            festival_id: r1.festival_id.clone(),
            name: r1.name.clone(),
            user_id: u1.clone(),
            joined_at: t0,
            joined_seq: 0,
        }
    );
    assert_eq!(
        a,
        RoomActivity {
            chat_room_id: r1.chat_room_id.clone(),
            member_count: 1,
            ..RoomActivity::default()
        }
    );

    // Joining again is harmless: the first membership, one member.
    let (again, a) = chat
        .join(&r1, &u1, t0 + Duration::seconds(5))
        .await
        .unwrap();
    assert_eq!(again, m1);
    assert_eq!(a.member_count, 1);

    let (m2, a) = chat.join(&r1, &u2, t0).await.unwrap();
    assert_eq!(m2.user_id, u2);
    assert_eq!(a.member_count, 2);
    let (m1b, a) = chat.join(&r2, &u1, t0).await.unwrap();
    assert_eq!(a.member_count, 1);

    assert_eq!(
        chat.membership(&r1.chat_room_id, &u1).await.unwrap(),
        Some(m1.clone())
    );
    assert_eq!(
        chat.membership(&r1.chat_room_id, &user(run, 3))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        sorted_by_room(chat.memberships_of(&u1).await.unwrap()),
        vec![m1.clone(), m1b.clone()]
    );
    assert_eq!(chat.memberships_of(&u2).await.unwrap(), vec![m2.clone()]);
    assert_eq!(chat.memberships_of(&user(run, 3)).await.unwrap(), vec![]);

    // Leaving answers true once, and counts down.
    assert!(chat.leave(&r1.chat_room_id, &u1).await.unwrap());
    assert!(!chat.leave(&r1.chat_room_id, &u1).await.unwrap());
    assert!(!chat
        .leave(&room(run, "nowhere").chat_room_id, &u1)
        .await
        .unwrap());
    let counts = chat
        .activity(&[r1.chat_room_id.clone(), r2.chat_room_id.clone()])
        .await
        .unwrap();
    assert_eq!(counts[0].member_count, 1);
    assert_eq!(counts[1].member_count, 1);
    assert_eq!(chat.membership(&r1.chat_room_id, &u1).await.unwrap(), None);
    assert_eq!(chat.memberships_of(&u1).await.unwrap(), vec![m1b]);
    assert_eq!(chat.memberships_of(&u2).await.unwrap(), vec![m2]);

    // A new join after leaving is a new membership.
    let later = t0 + Duration::minutes(1);
    let (back, a) = chat.join(&r1, &u1, later).await.unwrap();
    assert_eq!(back.joined_at, later);
    assert_eq!(a.member_count, 2);
}

async fn joined_seq_is_the_last_seq_at_join(
    chat: Arc<dyn ChatStore>,
    _: Arc<dyn ConnectionStore>,
    run: &str,
) {
    let chat = chat.as_ref();
    let r = room(run, "late");
    let (u1, u2) = (user(run, 1), user(run, 2));
    let t0 = base();
    let (first, _) = chat.join(&r, &u1, t0).await.unwrap();
    assert_eq!(first.joined_seq, 0);
    for i in 0..3 {
        stored(
            chat.append(&draft(&r, &u1, &format!("m{i}"), t0))
                .await
                .unwrap(),
        );
    }
    let (late, a) = chat.join(&r, &u2, t0).await.unwrap();
    assert_eq!(late.joined_seq, 3);
    assert_eq!(a.last_seq, 3);
    assert_eq!(a.member_count, 2);
    // Joining again keeps the first answer, though the room moved on.
    stored(chat.append(&draft(&r, &u2, "m3", t0)).await.unwrap());
    let (again, a) = chat.join(&r, &u2, t0).await.unwrap();
    assert_eq!(again.joined_seq, 3);
    assert_eq!(a.last_seq, 4);
}

async fn append_numbers_messages_once(
    chat: Arc<dyn ChatStore>,
    _: Arc<dyn ConnectionStore>,
    run: &str,
) {
    let chat = chat.as_ref();
    let r = room(run, "append");
    let (u1, u2, outsider) = (user(run, 1), user(run, 2), user(run, 9));
    let t0 = base();
    chat.join(&r, &u1, t0).await.unwrap();
    chat.join(&r, &u2, t0).await.unwrap();

    let mut kept = Vec::new();
    for (i, sender) in [&u1, &u2, &u1].into_iter().enumerate() {
        let d = draft(
            &r,
            sender,
            &format!("c{i}"),
            t0 + Duration::seconds(i as i64),
        );
        let m = stored(chat.append(&d).await.unwrap());
        assert_eq!(
            m,
            ChatMessage {
                chat_room_id: r.chat_room_id.clone(),
                seq: i as u64 + 1,
                message_id: d.message_id.clone(),
                sender_id: sender.clone(),
                sender_name: d.sender_name.clone(),
                content: d.content.clone(),
                sent_at: d.sent_at,
                client_msg_id: d.client_msg_id.clone(),
            }
        );
        kept.push(m);
    }

    // Not a member, or no such room: refused, nothing stored.
    let err = chat
        .append(&draft(&r, &outsider, "x", t0))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotAMember), "{err:?}");
    let err = chat
        .append(&draft(&room(run, "nowhere"), &u1, "x", t0))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotAMember), "{err:?}");

    // u1 sends c0 again, with a new message id and text: the first one is the answer.
    let mut again = draft(&r, &u1, "c0", t0 + Duration::seconds(30));
    again.content = "typed again".into();
    let first = resent(chat.append(&again).await.unwrap());
    assert_eq!(first, kept[0]);

    // The same client id from someone else is their own message.
    let other = stored(chat.append(&draft(&r, &u2, "c0", t0)).await.unwrap());
    assert_eq!(other.seq, 4);
    kept.push(other);

    // Once the guard lapses, the client id may be used again.
    let mut short = draft(&r, &u1, "short", t0);
    short.guard_expires_at = t0 + Duration::seconds(10);
    assert_eq!(stored(chat.append(&short).await.unwrap()).seq, 5);
    let mut within = draft(&r, &u1, "short", t0 + Duration::seconds(2));
    within.guard_expires_at = t0 + Duration::seconds(12);
    assert_eq!(resent(chat.append(&within).await.unwrap()).seq, 5);
    let mut after = draft(&r, &u1, "short", t0 + Duration::seconds(20));
    after.guard_expires_at = t0 + Duration::seconds(30);
    assert_eq!(stored(chat.append(&after).await.unwrap()).seq, 6);

    // Someone who left cannot even resend.
    assert!(chat.leave(&r.chat_room_id, &u2).await.unwrap());
    let err = chat.append(&draft(&r, &u2, "c1", t0)).await.unwrap_err();
    assert!(matches!(err, AppError::NotAMember), "{err:?}");

    let history = chat.history(&r.chat_room_id, None, 100).await.unwrap();
    let seqs: Vec<u64> = history.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![6, 5, 4, 3, 2, 1]);
    assert_eq!(
        history[2..].to_vec(),
        kept.into_iter().rev().collect::<Vec<_>>()
    );
    let a = chat
        .activity(std::slice::from_ref(&r.chat_room_id))
        .await
        .unwrap();
    assert_eq!(a[0].last_seq, 6);
}

async fn concurrent_appends_leave_no_gap(
    chat: Arc<dyn ChatStore>,
    _: Arc<dyn ConnectionStore>,
    run: &str,
) {
    let chat = chat.as_ref();
    let r = room(run, "rush");
    let members: Vec<String> = (0..4).map(|i| user(run, i)).collect();
    let t0 = base();
    for m in &members {
        chat.join(&r, m, t0).await.unwrap();
    }
    let drafts: Vec<MessageDraft> = (0..40)
        .map(|i| draft(&r, &members[i % 4], &format!("rush-{i}"), t0))
        .collect();
    let answers = join_all(drafts.iter().map(|d| chat.append(d))).await;
    let mut messages: Vec<ChatMessage> = answers.into_iter().map(|a| stored(a.unwrap())).collect();
    messages.sort_by_key(|m| m.seq);
    let seqs: Vec<u64> = messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=40).collect::<Vec<u64>>());

    let history = chat.history(&r.chat_room_id, None, 100).await.unwrap();
    assert_eq!(history, messages.iter().rev().cloned().collect::<Vec<_>>());

    // Ten resends of one client id at once: one message, nine answers with it.
    let resends: Vec<MessageDraft> = (0..10)
        .map(|_| draft(&r, &members[1], "twitchy", t0))
        .collect();
    let answers = join_all(resends.iter().map(|d| chat.append(d))).await;
    let (mut new, mut old) = (Vec::new(), Vec::new());
    for answer in answers {
        match answer.unwrap() {
            Appended::Stored(m) => new.push(m),
            Appended::Resent(m) => old.push(m),
        }
    }
    assert_eq!(new.len(), 1, "exactly one resend is stored");
    assert_eq!(new[0].seq, 41);
    assert!(old.iter().all(|m| *m == new[0]));
    let a = chat
        .activity(std::slice::from_ref(&r.chat_room_id))
        .await
        .unwrap();
    assert_eq!(a[0].last_seq, 41);
    assert_eq!(
        chat.history(&r.chat_room_id, None, 100)
            .await
            .unwrap()
            .len(),
        41
    );
}

async fn history_pages_newest_first(
    chat: Arc<dyn ChatStore>,
    _: Arc<dyn ConnectionStore>,
    run: &str,
) {
    let chat = chat.as_ref();
    let r = room(run, "pages");
    let u = user(run, 1);
    let t0 = base();
    assert_eq!(
        chat.history(&r.chat_room_id, None, 10).await.unwrap(),
        vec![]
    );
    chat.join(&r, &u, t0).await.unwrap();
    assert_eq!(
        chat.history(&r.chat_room_id, None, 10).await.unwrap(),
        vec![]
    );
    for i in 0..7 {
        chat.append(&draft(&r, &u, &format!("p{i}"), t0 + Duration::seconds(i)))
            .await
            .unwrap();
    }
    let page = |before: Option<u64>, limit: usize| {
        let id = r.chat_room_id.clone();
        async move {
            chat.history(&id, before, limit)
                .await
                .unwrap()
                .iter()
                .map(|m| m.seq)
                .collect::<Vec<u64>>()
        }
    };
    assert_eq!(page(None, 3).await, vec![7, 6, 5]);
    assert_eq!(page(Some(5), 3).await, vec![4, 3, 2]);
    assert_eq!(page(Some(2), 3).await, vec![1]);
    assert_eq!(page(Some(1), 3).await, Vec::<u64>::new());
    assert_eq!(page(None, 100).await, vec![7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(page(Some(100), 2).await, vec![7, 6]);
    assert_eq!(page(None, 0).await, Vec::<u64>::new());
    let newest = &chat.history(&r.chat_room_id, None, 1).await.unwrap()[0];
    assert_eq!(newest.client_msg_id, "p6");
    assert_eq!(newest.sent_at, t0 + Duration::seconds(6));
}

async fn activity_answers_in_the_order_asked(
    chat: Arc<dyn ChatStore>,
    _: Arc<dyn ConnectionStore>,
    run: &str,
) {
    let chat = chat.as_ref();
    let (busy, quiet, unknown) = (room(run, "busy"), room(run, "quiet"), room(run, "unknown"));
    let (u1, u2) = (user(run, 1), user(run, 2));
    let t0 = base();
    chat.join(&busy, &u1, t0).await.unwrap();
    chat.join(&busy, &u2, t0).await.unwrap();
    chat.join(&quiet, &u1, t0).await.unwrap();
    chat.append(&draft(&busy, &u1, "a", t0)).await.unwrap();
    let last = draft(&busy, &u2, "b", t0 + Duration::milliseconds(1500));
    chat.append(&last).await.unwrap();

    let zeros = |r: &ChatRoom| RoomActivity {
        chat_room_id: r.chat_room_id.clone(),
        ..RoomActivity::default()
    };
    let busy_now = RoomActivity {
        chat_room_id: busy.chat_room_id.clone(),
        last_seq: 2,
        member_count: 2,
        last_message: Some(last.content.clone()),
        last_message_at: Some(last.sent_at),
    };
    let quiet_now = RoomActivity {
        member_count: 1,
        ..zeros(&quiet)
    };
    let asked = [&quiet, &unknown, &busy, &quiet].map(|r| r.chat_room_id.clone());
    assert_eq!(
        chat.activity(&asked).await.unwrap(),
        vec![
            quiet_now.clone(),
            zeros(&unknown),
            busy_now.clone(),
            quiet_now
        ]
    );
    assert_eq!(chat.activity(&[]).await.unwrap(), vec![]);

    // More rooms than one batch read takes.
    let mut many: Vec<String> = (0..150)
        .map(|i| room(run, &format!("silent-{i}")).chat_room_id)
        .collect();
    many.push(busy.chat_room_id.clone());
    let answered = chat.activity(&many).await.unwrap();
    assert_eq!(answered.len(), 151);
    assert_eq!(answered[150], busy_now);
    assert_eq!(answered[7], zeros(&room(run, "silent-7")));
}

async fn connections_open_get_close(
    _: Arc<dyn ChatStore>,
    conns: Arc<dyn ConnectionStore>,
    run: &str,
) {
    let conns = conns.as_ref();
    let (u1, u2) = (user(run, 1), user(run, 2));
    let t0 = base();
    let c1 = connection(run, "c1", &u1, t0);
    let c2 = connection(run, "c2", &u1, t0 + Duration::minutes(30));
    let c3 = connection(run, "c3", &u2, t0);
    let old = connection(run, "old", &u1, t0 - Duration::hours(3));
    for c in [&c1, &c2, &c3, &old] {
        conns.open(c).await.unwrap();
    }

    assert_eq!(
        conns.get(&c1.connection_id, t0).await.unwrap(),
        Some(c1.clone())
    );
    assert_eq!(conns.get(&old.connection_id, t0).await.unwrap(), None);
    assert_eq!(
        conns
            .get(&old.connection_id, t0 - Duration::hours(2))
            .await
            .unwrap(),
        Some(old.clone())
    );
    // Expiry is exclusive: at `expires_at` the connection is gone.
    assert_eq!(
        conns.get(&c1.connection_id, c1.expires_at).await.unwrap(),
        None
    );
    assert_eq!(
        conns.get(&format!("conn-{run}-none"), t0).await.unwrap(),
        None
    );

    assert_eq!(
        conns.close(&c1.connection_id).await.unwrap(),
        Some(c1.clone())
    );
    assert_eq!(conns.close(&c1.connection_id).await.unwrap(), None);
    assert_eq!(conns.get(&c1.connection_id, t0).await.unwrap(), None);

    // Opening an id again replaces it.
    let moved = Connection {
        name: "renamed".into(),
        ..c2.clone()
    };
    conns.open(&moved).await.unwrap();
    assert_eq!(conns.get(&c2.connection_id, t0).await.unwrap(), Some(moved));
}

// ---------------------------------------------------------------------------------------------
// Runs

/// Every case, once per adapter pair: `in_memory::<case>` and `on_dynamodb::<case>`.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod in_memory {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let run = ulid::Ulid::generate().to_string().to_lowercase();
                    super::$case(
                        Arc::new(MemoryChat::new()),
                        Arc::new(MemoryConnections::new()),
                        &run,
                    )
                    .await;
                }
            )*
        }

        #[cfg(feature = "dynamodb")]
        mod on_dynamodb {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some((chat, conns)) = dynamo::stores().await else { return };
                    let run = ulid::Ulid::generate().to_string().to_lowercase();
                    super::$case(Arc::new(chat), Arc::new(conns), &run).await;
                }
            )*
        }
    };
}

contract!(
    joining_twice_keeps_one_membership,
    joined_seq_is_the_last_seq_at_join,
    append_numbers_messages_once,
    concurrent_appends_leave_no_gap,
    history_pages_newest_first,
    activity_answers_in_the_order_asked,
    connections_open_get_close,
);

#[cfg(feature = "dynamodb")]
mod dynamo {
    use festa::adapters::dynamodb::{
        ensure_chat_tables, ensure_tables, Client, DynamoChat, DynamoConnections,
    };
    use tokio::sync::OnceCell;

    /// This run's tables: records, messages, connections.
    struct Tables {
        records: String,
        messages: String,
        connections: String,
    }

    /// Created once and shared by every case.
    static TABLES: OnceCell<Tables> = OnceCell::const_new();

    /// Stores on this run's tables, or `None` (after a note) when no endpoint is configured.
    ///
    /// Every test has its own runtime, so every test gets its own client; only the tables
    /// are shared.
    pub async fn stores() -> Option<(DynamoChat, DynamoConnections)> {
        if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
            if std::env::var("FESTA_REQUIRE_REAL").as_deref() == Ok("1") {
                panic!("FESTA_REQUIRE_REAL=1 but AWS_ENDPOINT_URL is not set");
            }
            eprintln!("skipped: set AWS_ENDPOINT_URL to run the DynamoDB chat contract");
            return None;
        }
        let config = festa::adapters::aws::load().await;
        let client = Client::new(&config);
        let tables = TABLES
            .get_or_init(|| async {
                let run = ulid::Ulid::generate().to_string().to_lowercase();
                let tables = Tables {
                    records: format!("festa-chat-contract-records-{run}"),
                    messages: format!("festa-chat-contract-messages-{run}"),
                    connections: format!("festa-chat-contract-connections-{run}"),
                };
                ensure_tables(
                    &client,
                    &tables.records,
                    &format!("{}-search", tables.records),
                )
                .await
                .expect("create the records tables");
                ensure_chat_tables(&client, &tables.messages, &tables.connections)
                    .await
                    .expect("create the chat tables");
                // A second call finds them and changes nothing.
                ensure_chat_tables(&client, &tables.messages, &tables.connections)
                    .await
                    .expect("ensure_chat_tables is idempotent");
                tables
            })
            .await;
        Some((
            DynamoChat::new(
                client.clone(),
                tables.records.as_str(),
                tables.messages.as_str(),
            ),
            DynamoConnections::new(client, tables.connections.as_str()),
        ))
    }
}
