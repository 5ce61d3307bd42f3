//! The `RoomPresence` contract: the same cases against the in-memory presence and
//! (feature `redis`) the Redis one at `REDIS_URL`.
//!
//! Without `REDIS_URL` the Redis run is skipped, unless `FESTA_REQUIRE_REAL=1` demands it.
//! Every case uses room and connection ids no other run uses, so runs and cases may share a
//! server; the Redis run deletes its keys afterwards.
//!
//! Send rates count per second of the `now` passed in, in both adapters, so no case sleeps.

#[cfg(feature = "redis")]
mod real_redis;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use festa::adapters::memory::MemoryPresence;
use festa::ports::{Recipient, RoomPresence};
use rand::RngExt;

// ---------------------------------------------------------------------------------------------
// Fixtures

/// An id no other case or run uses; every room and connection id of a run starts with
/// `pr-<run>-`.
fn id(run: &str, name: &str) -> String {
    format!("pr-{run}-{name}")
}

fn recipient(connection_id: &str, user_id: &str, viewing: bool, read_seq: u64) -> Recipient {
    Recipient {
        connection_id: connection_id.to_string(),
        user_id: user_id.to_string(),
        viewing,
        read_seq,
    }
}

/// The recipients of a delivery, in connection order (the adapters answer in any order).
async fn deliver(presence: &dyn RoomPresence, room: &str, seq: u64) -> Vec<Recipient> {
    let mut recipients = presence.deliver(room, seq).await.unwrap();
    recipients.sort_by(|a, b| a.connection_id.cmp(&b.connection_id));
    recipients
}

async fn marker(presence: &dyn RoomPresence, room: &str, user: &str) -> u64 {
    let markers = presence
        .read_markers(&[room.to_string()], user)
        .await
        .unwrap();
    assert_eq!(markers.len(), 1);
    markers[0]
}

// ---------------------------------------------------------------------------------------------
// Cases

async fn attach_and_detach(presence: Arc<dyn RoomPresence>, run: &str) {
    let p = presence.as_ref();
    let room = id(run, "attach");
    let (c1, c2, c3) = (id(run, "c1"), id(run, "c2"), id(run, "c3"));

    assert_eq!(deliver(p, &room, 1).await, vec![], "nobody is attached");

    p.attach(&room, &c1, "alice").await.unwrap();
    p.attach(&room, &c2, "bob").await.unwrap();
    p.attach(&room, &c3, "alice").await.unwrap();
    // Attaching again changes nothing.
    p.attach(&room, &c1, "alice").await.unwrap();
    assert_eq!(
        deliver(p, &room, 1).await,
        vec![
            recipient(&c1, "alice", false, 0),
            recipient(&c2, "bob", false, 0),
            recipient(&c3, "alice", false, 0),
        ]
    );

    p.detach(&room, &c2).await.unwrap();
    assert_eq!(
        deliver(p, &room, 2).await,
        vec![
            recipient(&c1, "alice", false, 0),
            recipient(&c3, "alice", false, 0),
        ]
    );

    // Harmless: detaching twice, an unknown connection, from a room nobody attached to.
    p.detach(&room, &c2).await.unwrap();
    p.detach(&room, &id(run, "c-unknown")).await.unwrap();
    p.detach(&id(run, "attach-nobody"), &c1).await.unwrap();
    assert_eq!(deliver(p, &room, 3).await.len(), 2);
    assert_eq!(deliver(p, &id(run, "attach-nobody"), 3).await, vec![]);

    p.detach(&room, &c1).await.unwrap();
    p.detach(&room, &c3).await.unwrap();
    assert_eq!(deliver(p, &room, 4).await, vec![]);
    // Attachment is per room.
    p.attach(&id(run, "attach-other"), &c1, "alice")
        .await
        .unwrap();
    assert_eq!(deliver(p, &room, 5).await, vec![]);
}

async fn viewers_are_marked_by_delivery(presence: Arc<dyn RoomPresence>, run: &str) {
    let p = presence.as_ref();
    let room = id(run, "viewers");
    let (a1, a2, b1, c1) = (id(run, "a1"), id(run, "a2"), id(run, "b1"), id(run, "c1"));

    p.attach(&room, &a1, "alice").await.unwrap();
    p.attach(&room, &a2, "alice").await.unwrap();
    p.attach(&room, &b1, "bob").await.unwrap();
    p.attach(&room, &c1, "carol").await.unwrap();
    assert_eq!(p.view(&room, &a1, "alice", 3).await.unwrap(), 3);
    assert_eq!(p.mark_read(&room, "bob", 2).await.unwrap(), 2);

    // Alice views on one of her two connections: both hear she has read it all.
    assert_eq!(
        deliver(p, &room, 5).await,
        vec![
            recipient(&a1, "alice", true, 5),
            recipient(&a2, "alice", false, 5),
            recipient(&b1, "bob", false, 2),
            recipient(&c1, "carol", false, 0),
        ]
    );
    assert_eq!(marker(p, &room, "alice").await, 5);
    assert_eq!(marker(p, &room, "bob").await, 2);
    assert_eq!(marker(p, &room, "carol").await, 0);

    // Viewing never moves a marker back.
    assert_eq!(p.view(&room, &a2, "alice", 1).await.unwrap(), 5);

    // Viewing attaches a connection that was not.
    let d1 = id(run, "d1");
    assert_eq!(p.view(&room, &d1, "dave", 4).await.unwrap(), 4);
    assert_eq!(
        deliver(p, &room, 6).await,
        vec![
            recipient(&a1, "alice", true, 6),
            recipient(&a2, "alice", true, 6),
            recipient(&b1, "bob", false, 2),
            recipient(&c1, "carol", false, 0),
            recipient(&d1, "dave", true, 6),
        ]
    );
    // A delivery older than a viewer's marker leaves it where it is.
    assert_eq!(
        deliver(p, &room, 4).await,
        vec![
            recipient(&a1, "alice", true, 6),
            recipient(&a2, "alice", true, 6),
            recipient(&b1, "bob", false, 2),
            recipient(&c1, "carol", false, 0),
            recipient(&d1, "dave", true, 6),
        ]
    );
    // Viewing one room marks nothing in another.
    let other = id(run, "viewers-other");
    p.attach(&other, &a1, "alice").await.unwrap();
    assert_eq!(
        deliver(p, &other, 9).await,
        vec![recipient(&a1, "alice", false, 0)]
    );
}

async fn unview_and_detach_stop_viewing(presence: Arc<dyn RoomPresence>, run: &str) {
    let p = presence.as_ref();
    let room = id(run, "unview");
    let (a1, b1) = (id(run, "a1"), id(run, "b1"));

    assert_eq!(p.view(&room, &a1, "alice", 1).await.unwrap(), 1);
    assert_eq!(p.view(&room, &b1, "bob", 1).await.unwrap(), 1);
    assert_eq!(p.unview(&room, &a1, "alice").await.unwrap(), 1);
    assert_eq!(
        deliver(p, &room, 2).await,
        vec![
            recipient(&a1, "alice", false, 1),
            recipient(&b1, "bob", true, 2),
        ]
    );
    // Unviewing twice answers the marker again.
    assert_eq!(p.unview(&room, &a1, "alice").await.unwrap(), 1);

    p.detach(&room, &b1).await.unwrap();
    assert_eq!(
        deliver(p, &room, 3).await,
        vec![recipient(&a1, "alice", false, 1)]
    );
    assert_eq!(marker(p, &room, "bob").await, 2);
    // Attached again, the connection is not viewing until it says so.
    p.attach(&room, &b1, "bob").await.unwrap();
    assert_eq!(
        deliver(p, &room, 4).await,
        vec![
            recipient(&a1, "alice", false, 1),
            recipient(&b1, "bob", false, 2),
        ]
    );

    // Unviewing a connection that never viewed, in a room never seen, answers the marker.
    assert_eq!(p.unview(&room, &id(run, "c1"), "carol").await.unwrap(), 0);
    assert_eq!(
        p.unview(&id(run, "unview-nobody"), &a1, "alice")
            .await
            .unwrap(),
        0
    );
    assert_eq!(deliver(p, &room, 5).await.len(), 2);
}

async fn read_markers_only_move_forward(presence: Arc<dyn RoomPresence>, run: &str) {
    let p = presence.as_ref();
    let (r1, r2, r3) = (id(run, "read-1"), id(run, "read-2"), id(run, "read-3"));

    assert_eq!(p.mark_read(&r1, "alice", 5).await.unwrap(), 5);
    assert_eq!(p.mark_read(&r1, "alice", 3).await.unwrap(), 5);
    assert_eq!(p.mark_read(&r1, "alice", 5).await.unwrap(), 5);
    assert_eq!(p.mark_read(&r1, "alice", 9).await.unwrap(), 9);
    // 10 follows 9, though it sorts before it as text.
    assert_eq!(p.mark_read(&r1, "alice", 10).await.unwrap(), 10);
    assert_eq!(p.mark_read(&r1, "alice", 0).await.unwrap(), 10);
    // Exact beyond a double's integers.
    let big = (1u64 << 53) + 1;
    assert_eq!(p.mark_read(&r2, "alice", big).await.unwrap(), big);
    assert_eq!(p.mark_read(&r2, "alice", big - 1).await.unwrap(), big);
    assert_eq!(p.mark_read(&r2, "alice", big + 2).await.unwrap(), big + 2);
    assert_eq!(p.mark_read(&r3, "alice", u64::MAX).await.unwrap(), u64::MAX);
    assert_eq!(p.mark_read(&r1, "bob", 1).await.unwrap(), 1);

    let unknown = id(run, "read-unknown");
    let rooms = [
        r1.clone(),
        unknown.clone(),
        r2.clone(),
        r3.clone(),
        r1.clone(),
    ];
    assert_eq!(
        p.read_markers(&rooms, "alice").await.unwrap(),
        vec![10, 0, big + 2, u64::MAX, 10]
    );
    assert_eq!(
        p.read_markers(&rooms, "bob").await.unwrap(),
        vec![1, 0, 0, 0, 1]
    );
    assert_eq!(p.read_markers(&rooms, "carol").await.unwrap(), vec![0; 5]);
    assert_eq!(
        p.read_markers(&[], "alice").await.unwrap(),
        Vec::<u64>::new()
    );

    p.forget_member(&r1, "alice").await.unwrap();
    assert_eq!(
        p.read_markers(&rooms, "alice").await.unwrap(),
        vec![0, 0, big + 2, u64::MAX, 0]
    );
    assert_eq!(marker(p, &r1, "bob").await, 1, "only alice was forgotten");
    // Harmless: forgetting twice, someone without a marker, in a room never seen.
    p.forget_member(&r1, "alice").await.unwrap();
    p.forget_member(&r1, "carol").await.unwrap();
    p.forget_member(&unknown, "alice").await.unwrap();
    // Forgotten, the marker starts again from nothing.
    assert_eq!(p.mark_read(&r1, "alice", 2).await.unwrap(), 2);
    assert_eq!(p.unview(&r1, &id(run, "a1"), "alice").await.unwrap(), 2);
}

async fn a_member_who_leaves_is_detached_everywhere(presence: Arc<dyn RoomPresence>, run: &str) {
    let p = presence.as_ref();
    let room = id(run, "leave");
    let (a1, a2, b1) = (id(run, "a1"), id(run, "a2"), id(run, "b1"));
    p.attach(&room, &a1, "alice").await.unwrap();
    assert_eq!(p.view(&room, &a2, "alice", 3).await.unwrap(), 3);
    p.attach(&room, &b1, "bob").await.unwrap();

    p.forget_member(&room, "alice").await.unwrap();
    assert_eq!(
        deliver(p, &room, 4).await,
        vec![recipient(&b1, "bob", false, 0)],
        "every device of the leaver is detached, viewing or not"
    );
    assert_eq!(marker(p, &room, "alice").await, 0);
    // Harmless again, and for someone never present.
    p.forget_member(&room, "alice").await.unwrap();
    p.forget_member(&id(run, "leave-nobody"), "carol")
        .await
        .unwrap();
}

async fn a_users_devices_are_tracked(presence: Arc<dyn RoomPresence>, run: &str) {
    let p = presence.as_ref();
    let (alice, bob) = (id(run, "alice"), id(run, "bob"));
    let (a1, a2, b1) = (id(run, "a1"), id(run, "a2"), id(run, "b1"));
    let now = Utc::now();
    let later = now + Duration::hours(2);
    assert!(p.track(&alice, &a1, now, later, 5).await.unwrap());
    assert!(p.track(&alice, &a2, now, later, 5).await.unwrap());
    assert!(p.track(&alice, &a2, now, later, 5).await.unwrap());
    assert!(p.track(&bob, &b1, now, later, 5).await.unwrap());
    let mut devices = p.connections_of(&alice).await.unwrap();
    devices.sort();
    let mut expected = vec![a1.clone(), a2.clone()];
    expected.sort();
    assert_eq!(devices, expected, "tracking twice keeps one entry");
    p.untrack(&alice, &a1).await.unwrap();
    p.untrack(&alice, &a1).await.unwrap();
    assert_eq!(p.connections_of(&alice).await.unwrap(), vec![a2.clone()]);
    assert_eq!(p.connections_of(&bob).await.unwrap(), vec![b1]);
    p.untrack(&alice, &a2).await.unwrap();
    assert!(p.connections_of(&alice).await.unwrap().is_empty());
    assert!(p
        .connections_of(&id(run, "nobody"))
        .await
        .unwrap()
        .is_empty());
}

async fn a_user_holds_at_most_max_live_connections(presence: Arc<dyn RoomPresence>, run: &str) {
    let p = presence.as_ref();
    let (alice, bob) = (id(run, "cap-alice"), id(run, "cap-bob"));
    let now = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    let later = now + Duration::hours(2);
    for i in 0..5 {
        let c = id(run, &format!("cap-a{i}"));
        assert!(p.track(&alice, &c, now, later, 5).await.unwrap(), "{i}");
    }
    let sixth = id(run, "cap-a5");
    assert!(
        !p.track(&alice, &sixth, now, later, 5).await.unwrap(),
        "a sixth is refused"
    );
    assert!(!p.holds(&alice, &sixth, now).await.unwrap());
    assert_eq!(p.connections_of(&alice).await.unwrap().len(), 5);
    // One already held is tracked again (a retried connect), even at the limit.
    assert!(p
        .track(&alice, &id(run, "cap-a0"), now, later, 5)
        .await
        .unwrap());
    // Another user has their own count.
    assert!(p
        .track(&bob, &id(run, "cap-b0"), now, later, 5)
        .await
        .unwrap());
    // A closed one frees its place.
    p.untrack(&alice, &id(run, "cap-a0")).await.unwrap();
    assert!(p.track(&alice, &sixth, now, later, 5).await.unwrap());
    assert!(!p
        .track(&alice, &id(run, "cap-a6"), now, later, 5)
        .await
        .unwrap());
}

async fn expired_connections_stop_counting(presence: Arc<dyn RoomPresence>, run: &str) {
    let p = presence.as_ref();
    let alice = id(run, "exp-alice");
    let t0 = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    let soon = t0 + Duration::minutes(10);
    for i in 0..5 {
        let c = id(run, &format!("exp-a{i}"));
        assert!(p.track(&alice, &c, t0, soon, 5).await.unwrap());
        assert!(p.holds(&alice, &c, t0).await.unwrap());
    }
    // Their `$disconnect`s were lost: once they expire, nobody is locked out.
    let after = soon + Duration::seconds(1);
    assert!(!p.holds(&alice, &id(run, "exp-a0"), after).await.unwrap());
    let fresh = id(run, "exp-fresh");
    assert!(p
        .track(&alice, &fresh, after, after + Duration::hours(2), 5)
        .await
        .unwrap());
    assert_eq!(
        p.connections_of(&alice).await.unwrap(),
        vec![fresh.clone()],
        "the expired ones are forgotten"
    );
    assert!(p.holds(&alice, &fresh, after).await.unwrap());
}

async fn eviction_forgets_every_connection_of_the_user(presence: Arc<dyn RoomPresence>, run: &str) {
    let p = presence.as_ref();
    let (alice, bob) = (id(run, "ev-alice"), id(run, "ev-bob"));
    let now = Utc::now();
    let later = now + Duration::hours(2);
    let (a1, a2, b1) = (id(run, "ev-a1"), id(run, "ev-a2"), id(run, "ev-b1"));
    for (user, c) in [(&alice, &a1), (&alice, &a2), (&bob, &b1)] {
        assert!(p.track(user, c, now, later, 5).await.unwrap());
    }
    let mut evicted = p.evict(&alice).await.unwrap();
    evicted.sort();
    let mut expected = vec![a1.clone(), a2.clone()];
    expected.sort();
    assert_eq!(evicted, expected);
    assert!(!p.holds(&alice, &a1, now).await.unwrap());
    assert!(!p.holds(&alice, &a2, now).await.unwrap());
    assert!(p.connections_of(&alice).await.unwrap().is_empty());
    assert!(p.holds(&bob, &b1, now).await.unwrap(), "others keep theirs");
    assert!(p.evict(&alice).await.unwrap().is_empty(), "harmless again");
    // A connection is held only by its own user.
    assert!(!p.holds(&alice, &b1, now).await.unwrap());
}

async fn send_rate_is_per_user_and_second(presence: Arc<dyn RoomPresence>, run: &str) {
    let p = presence.as_ref();
    let (a, b, z) = (id(run, "rate-a"), id(run, "rate-b"), id(run, "rate-z"));
    let second = Utc::now().timestamp();
    let at = |s: i64, ms: i64| DateTime::from_timestamp_millis(s * 1000 + ms).unwrap();

    for i in 0..10 {
        assert!(
            p.allow_message(&a, at(second, i * 10), 10).await.unwrap(),
            "message {i}"
        );
    }
    for ms in [100, 500, 999] {
        assert!(!p.allow_message(&a, at(second, ms), 10).await.unwrap());
    }
    // Another user has their own count.
    assert!(p.allow_message(&b, at(second, 999), 10).await.unwrap());
    // The next second starts again.
    for i in 0..10 {
        assert!(
            p.allow_message(&a, at(second + 1, i), 10).await.unwrap(),
            "message {i} of the next second"
        );
    }
    assert!(!p.allow_message(&a, at(second + 1, 500), 10).await.unwrap());
    // A limit of nothing allows nothing.
    assert!(!p.allow_message(&z, at(second, 0), 0).await.unwrap());
}

async fn concurrent_marks_end_at_the_max(presence: Arc<dyn RoomPresence>, run: &str) {
    let room = id(run, "concurrent");
    let seqs: Vec<u64> = {
        let mut rng = rand::rng();
        (0..50)
            .map(|_| rng.random_range(1..=1_000_000u64))
            .collect()
    };
    let max = *seqs.iter().max().unwrap();
    let mut marks = tokio::task::JoinSet::new();
    for seq in seqs {
        let (presence, room) = (presence.clone(), room.clone());
        marks.spawn(async move {
            let answered = presence.mark_read(&room, "alice", seq).await.unwrap();
            (seq, answered)
        });
    }
    while let Some(marked) = marks.join_next().await {
        let (seq, answered) = marked.unwrap();
        assert!((seq..=max).contains(&answered), "{seq} answered {answered}");
    }
    assert_eq!(marker(presence.as_ref(), &room, "alice").await, max);
}

// ---------------------------------------------------------------------------------------------
// Runs

/// Every case, once per adapter: `in_memory::<case>` and `on_redis::<case>`.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod in_memory {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let run = ulid::Ulid::generate().to_string();
                    super::$case(Arc::new(MemoryPresence::new()), &run).await;
                }
            )*
        }

        #[cfg(feature = "redis")]
        mod on_redis {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some((presence, conn)) = redis_presence().await else { return };
                    let run = ulid::Ulid::generate().to_string();
                    super::$case(Arc::new(presence), &run).await;
                    forget_run(conn, &run).await;
                }
            )*
        }
    };
}

contract!(
    attach_and_detach,
    viewers_are_marked_by_delivery,
    unview_and_detach_stop_viewing,
    read_markers_only_move_forward,
    a_member_who_leaves_is_detached_everywhere,
    a_users_devices_are_tracked,
    a_user_holds_at_most_max_live_connections,
    expired_connections_stop_counting,
    eviction_forgets_every_connection_of_the_user,
    send_rate_is_per_user_and_second,
    concurrent_marks_end_at_the_max,
);

#[cfg(feature = "redis")]
use festa::adapters::redis_presence::RedisPresence;

/// A Redis presence at `REDIS_URL`, or `None` when the real run may be skipped.
#[cfg(feature = "redis")]
async fn redis_presence() -> Option<(RedisPresence, redis::aio::ConnectionManager)> {
    let conn = real_redis::connect("presence").await?;
    Some((RedisPresence::new(conn.clone()), conn))
}

/// Deletes every key of the run's rooms, connections and users.
#[cfg(feature = "redis")]
async fn forget_run(mut conn: redis::aio::ConnectionManager, run: &str) {
    for prefix in ["festa:chat:{", "festa:chat:rate:{", "festa:chat:user:{"] {
        real_redis::delete_matching(&mut conn, &format!("{prefix}{}*", id(run, ""))).await;
    }
}
