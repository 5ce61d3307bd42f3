//! The `WaitingRoom` contract: the same cases against the in-memory waiting room and
//! (feature `redis`) the Redis one at `REDIS_URL`.
//!
//! Without `REDIS_URL` the Redis run is skipped, unless `FESTA_REQUIRE_REAL=1` demands it.
//! Every case uses festival ids no other run uses, so runs and cases may share a server; the
//! Redis run deletes its keys afterwards.
//!
//! Times are passed in, and admissions and the token bucket follow them in both adapters. The
//! ticker lease differs: the memory adapter lapses it by the `now` passed in, Redis by its own
//! clock (`PX`). Cases that need a lease to lapse therefore use a short one, advance `now` by
//! more than it, and really sleep past it; no other case lets a lease lapse in either sense.

#[cfg(feature = "redis")]
mod real_redis;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use festa::adapters::memory::MemoryWaitingRoom;
use festa::ports::{AdmitPolicy, AdmitTick, LineView, TickOutcome, WaitingRoom};
use futures_util::future::join_all;

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A festival id no other case or run uses; every id of a run starts with `wr-<run>-`.
fn line(run: &str, name: &str) -> String {
    format!("wr-{run}-{name}")
}

fn user(i: usize) -> String {
    format!("user{i:03}@wr.festa.test")
}

/// Now, to the millisecond, since the adapters keep times in milliseconds.
fn base() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap()
}

fn ms(n: i64) -> chrono::Duration {
    chrono::Duration::milliseconds(n)
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

fn admission_ttl(policy: &AdmitPolicy) -> chrono::Duration {
    chrono::Duration::from_std(policy.admission_ttl).unwrap()
}

fn first_tick(festival_id: &str, chain: &str) -> AdmitTick {
    AdmitTick {
        festival_id: festival_id.to_string(),
        chain: chain.to_string(),
        tick: 0,
    }
}

fn next_of(tick: &AdmitTick) -> AdmitTick {
    AdmitTick {
        tick: tick.tick + 1,
        ..tick.clone()
    }
}

/// The tick a `Continue` asks for, after checking it is the successor of `tick`.
fn continued(outcome: TickOutcome, tick: &AdmitTick, admitted: u64) -> AdmitTick {
    assert_eq!(
        outcome,
        TickOutcome::Continue {
            admitted,
            next: next_of(tick),
        }
    );
    next_of(tick)
}

/// Joins `users` one after another at `now`; returns the first tick, which the first join
/// must have started.
async fn join_all_in_order(
    room: &dyn WaitingRoom,
    festival_id: &str,
    users: &[String],
    now: DateTime<Utc>,
    chain: &str,
    policy: &AdmitPolicy,
) -> AdmitTick {
    let mut started = None;
    for (i, u) in users.iter().enumerate() {
        let view = room.join(festival_id, u, now, chain, policy).await.unwrap();
        assert_eq!(view.rank, Some(i as u64 + 1), "{u}");
        assert_eq!(view.waiting, i as u64 + 1);
        assert_eq!(view.admitted_until, None);
        if i == 0 {
            started = view.started_chain;
        } else {
            assert_eq!(view.started_chain, None, "{u}: a chain was live already");
        }
    }
    let started = started.expect("the first join starts the chain");
    assert_eq!(started, first_tick(festival_id, chain));
    started
}

async fn view(
    room: &dyn WaitingRoom,
    festival_id: &str,
    email: &str,
    now: DateTime<Utc>,
) -> LineView {
    room.position(
        festival_id,
        email,
        now,
        "chain-looker",
        &AdmitPolicy::default(),
    )
    .await
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Cases

async fn first_come_first_served(room: Arc<dyn WaitingRoom>, run: &str) {
    let room = room.as_ref();
    let f = line(run, "fcfs");
    let policy = AdmitPolicy::at_rate(10);
    let ttl = admission_ttl(&policy);
    let t0 = base();
    let users: Vec<String> = (0..50).map(user).collect();
    let mut tick = join_all_in_order(room, &f, &users, t0, "chain-fcfs", &policy).await;

    // Ten a second, in the order they came.
    for round in 0..5usize {
        let now = t0 + secs(round as i64);
        let outcome = room.admit(&tick, now, &policy).await.unwrap();
        if round < 4 {
            tick = continued(outcome, &tick, 10);
        } else {
            assert_eq!(outcome, TickOutcome::Drained { admitted: 10 });
        }
        let admitted = (round + 1) * 10;
        for (i, u) in users.iter().enumerate() {
            let seen = view(room, &f, u, now).await;
            assert_eq!(
                seen.started_chain, None,
                "a live or drained chain is left alone"
            );
            assert_eq!(seen.waiting, (50 - admitted) as u64);
            if i < admitted {
                let until = t0 + secs((i / 10) as i64) + ttl;
                assert_eq!(seen.rank, None, "{u} after round {round}");
                assert_eq!(seen.admitted_until, Some(until), "{u} after round {round}");
                assert_eq!(room.admission(&f, u, now).await.unwrap(), Some(until));
            } else {
                assert_eq!(seen.rank, Some((i - admitted + 1) as u64), "{u}");
                assert_eq!(seen.admitted_until, None, "{u} after round {round}");
                assert_eq!(room.admission(&f, u, now).await.unwrap(), None);
            }
        }
    }
}

async fn concurrent_joins_keep_one_place(room: Arc<dyn WaitingRoom>, run: &str) {
    let f = line(run, "one-place");
    // Fast enough that one tick admits everyone below.
    let policy = AdmitPolicy::at_rate(100);
    let ttl = admission_ttl(&policy);
    let t0 = base();
    let early: Vec<String> = (0..10).map(user).collect();
    let tick = join_all_in_order(room.as_ref(), &f, &early, t0, "chain-one", &policy).await;

    // One user joins fifty times at once, while twenty others join.
    let x = "twitchy@wr.festa.test".to_string();
    let late: Vec<String> = (100..120).map(user).collect();
    let mut joins = tokio::task::JoinSet::new();
    for i in 0..70 {
        let email = if i % 7 < 5 {
            x.clone()
        } else {
            late[i / 7 * 2 + i % 7 - 5].clone()
        };
        let (room, f, policy) = (room.clone(), f.clone(), policy);
        joins.spawn(async move {
            let seen = room
                .join(&f, &email, t0, &format!("chain-{i}"), &policy)
                .await
                .unwrap();
            (email, seen)
        });
    }
    let mut x_ranks = BTreeSet::new();
    let mut joined_at = Vec::new();
    while let Some(joined) = joins.join_next().await {
        let (email, seen) = joined.unwrap();
        assert_eq!(seen.started_chain, None, "chain-one holds the lease");
        assert_eq!(seen.admitted_until, None);
        if email == x {
            x_ranks.insert(seen.rank);
        } else {
            joined_at.push((email, seen.rank));
        }
    }
    assert_eq!(joined_at.len(), 20);
    assert_eq!(x_ranks.len(), 1, "x's rank moved: {x_ranks:?}");
    let x_rank = x_ranks.into_iter().next().unwrap().expect("x is in line");
    assert!((11..=31).contains(&x_rank), "{x_rank}");

    // Counted once: 31 places, each held by one user, as each join reported it.
    let seen = view(room.as_ref(), &f, &x, t0).await;
    assert_eq!((seen.rank, seen.waiting), (Some(x_rank), 31));
    let mut ranks = BTreeSet::new();
    for (email, rank) in &joined_at {
        assert_eq!(
            view(room.as_ref(), &f, email, t0).await.rank,
            *rank,
            "{email}"
        );
        ranks.insert(rank.unwrap());
    }
    for email in &early {
        ranks.insert(view(room.as_ref(), &f, email, t0).await.rank.unwrap());
    }
    ranks.insert(x_rank);
    assert_eq!(ranks, (1..=31).collect::<BTreeSet<u64>>());

    assert_eq!(
        room.admit(&tick, t0, &policy).await.unwrap(),
        TickOutcome::Drained { admitted: 31 }
    );
    let until = t0 + ttl;

    // Joining again while admitted keeps the admission and takes no place.
    let again = room
        .join(&f, &x, t0 + secs(1), "chain-again", &policy)
        .await
        .unwrap();
    assert_eq!(
        (
            again.rank,
            again.waiting,
            again.admitted_until,
            again.started_chain
        ),
        (None, 0, Some(until), None)
    );
    for (i, u) in ["newcomer-1@wr.festa.test", "newcomer-2@wr.festa.test"]
        .iter()
        .enumerate()
    {
        let seen = room
            .join(&f, u, t0 + secs(1), "chain-new", &policy)
            .await
            .unwrap();
        assert_eq!(seen.rank, Some(i as u64 + 1));
    }
    let again = room
        .join(&f, &x, t0 + secs(2), "chain-again", &policy)
        .await
        .unwrap();
    assert_eq!(
        (again.rank, again.waiting, again.admitted_until),
        (None, 2, Some(until))
    );

    // Once the admission has expired, joining again goes to the back, once however often.
    let expired = until;
    let rejoins = join_all((0..10).map(|i| {
        let (room, f, x) = (room.clone(), f.clone(), x.clone());
        async move {
            room.join(&f, &x, expired, &format!("chain-late-{i}"), &policy)
                .await
                .unwrap()
        }
    }))
    .await;
    for seen in rejoins {
        assert_eq!(
            (seen.rank, seen.waiting, seen.admitted_until),
            (Some(3), 3, None)
        );
    }
    assert_eq!(room.admission(&f, &x, expired).await.unwrap(), None);
}

async fn exactly_one_chain_starts(room: Arc<dyn WaitingRoom>, run: &str) {
    let policy = AdmitPolicy::at_rate(10);
    let t0 = base();

    // The first join of a line starts the caller's chain; nobody else's while it lives.
    let f = line(run, "one-chain-a");
    let first = room
        .join(&f, &user(0), t0, "chain-a", &policy)
        .await
        .unwrap();
    assert_eq!(first.started_chain, Some(first_tick(&f, "chain-a")));
    assert_eq!((first.rank, first.waiting), (Some(1), 1));
    let second = room
        .join(&f, &user(1), t0 + ms(1), "chain-b", &policy)
        .await
        .unwrap();
    assert_eq!(second.started_chain, None);
    for (email, chain) in [
        (user(0), "chain-c"),
        (user(1), "chain-d"),
        (user(9), "chain-e"),
    ] {
        let seen = room
            .position(&f, &email, t0 + ms(2), chain, &policy)
            .await
            .unwrap();
        assert_eq!(seen.started_chain, None, "{email}");
    }
    let rejoined = room
        .join(&f, &user(0), t0 + ms(3), "chain-f", &policy)
        .await
        .unwrap();
    assert_eq!((rejoined.rank, rejoined.started_chain), (Some(1), None));

    // A line nobody joined shows nothing and starts nothing.
    let empty = line(run, "one-chain-empty");
    assert_eq!(
        room.position(&empty, &user(0), t0, "chain-z", &policy)
            .await
            .unwrap(),
        LineView {
            rank: None,
            waiting: 0,
            admitted_until: None,
            measured_rate: None,
            started_chain: None,
        }
    );

    // Forty first joins at once, each offering its own chain: exactly one starts.
    let f = line(run, "one-chain-b");
    let views = join_all((0..40).map(|i| {
        let (room, f) = (room.clone(), f.clone());
        tokio::spawn(async move {
            room.join(&f, &user(i), t0, &format!("chain-{i}"), &policy)
                .await
                .unwrap()
        })
    }))
    .await;
    let started: Vec<(usize, AdmitTick)> = views
        .into_iter()
        .enumerate()
        .filter_map(|(i, v)| v.unwrap().started_chain.map(|t| (i, t)))
        .collect();
    assert_eq!(started.len(), 1, "{started:?}");
    let (winner, tick) = started.into_iter().next().unwrap();
    assert_eq!(tick, first_tick(&f, &format!("chain-{winner}")));

    for i in 40..45 {
        let seen = room
            .join(&f, &user(i), t0 + ms(5), "chain-later", &policy)
            .await
            .unwrap();
        assert_eq!(seen.started_chain, None);
        let seen = room
            .position(&f, &user(i - 40), t0 + ms(5), "chain-later", &policy)
            .await
            .unwrap();
        assert_eq!(seen.started_chain, None);
    }
    // Only the started chain may tick.
    let loser = (winner + 1) % 40;
    assert_eq!(
        room.admit(&first_tick(&f, &format!("chain-{loser}")), t0, &policy)
            .await
            .unwrap(),
        TickOutcome::Stale
    );
    continued(room.admit(&tick, t0, &policy).await.unwrap(), &tick, 10);
}

async fn stale_and_duplicate_ticks_are_dropped(room: Arc<dyn WaitingRoom>, run: &str) {
    let f = line(run, "stale");
    let policy = AdmitPolicy::at_rate(10);
    let t0 = base();
    let users: Vec<String> = (0..25).map(user).collect();
    let c0 = join_all_in_order(room.as_ref(), &f, &users, t0, "chain-s", &policy).await;

    // Another chain, a tick not yet due, another festival: none of them is this line's tick.
    let strays = [
        AdmitTick {
            chain: "chain-x".into(),
            ..c0.clone()
        },
        next_of(&c0),
        AdmitTick {
            festival_id: line(run, "stale-elsewhere"),
            ..c0.clone()
        },
    ];
    for stray in &strays {
        assert_eq!(
            room.admit(stray, t0, &policy).await.unwrap(),
            TickOutcome::Stale,
            "{stray:?}"
        );
    }
    let seen = view(room.as_ref(), &f, &users[0], t0).await;
    assert_eq!((seen.rank, seen.waiting), (Some(1), 25));
    assert_eq!(room.admission(&f, &users[0], t0).await.unwrap(), None);

    let c1 = continued(room.admit(&c0, t0, &policy).await.unwrap(), &c0, 10);
    // Delivered again, at once or later: dropped.
    for now in [t0, t0 + secs(1)] {
        assert_eq!(
            room.admit(&c0, now, &policy).await.unwrap(),
            TickOutcome::Stale
        );
    }
    assert_eq!(view(room.as_ref(), &f, &users[10], t0).await.waiting, 15);

    let c2 = continued(
        room.admit(&c1, t0 + secs(1), &policy).await.unwrap(),
        &c1,
        10,
    );
    for old in [&c1, &c0] {
        assert_eq!(
            room.admit(old, t0 + secs(1), &policy).await.unwrap(),
            TickOutcome::Stale
        );
    }
    assert_eq!(view(room.as_ref(), &f, &users[20], t0).await.rank, Some(1));

    // The same tick delivered eight times at once counts once.
    let outcomes = join_all((0..8).map(|_| {
        let (room, c2) = (room.clone(), c2.clone());
        tokio::spawn(async move { room.admit(&c2, t0 + secs(2), &policy).await.unwrap() })
    }))
    .await;
    let counted: Vec<TickOutcome> = outcomes
        .into_iter()
        .map(Result::unwrap)
        .filter(|o| *o != TickOutcome::Stale)
        .collect();
    assert_eq!(counted, vec![TickOutcome::Drained { admitted: 5 }]);
    assert_eq!(
        room.admit(&next_of(&c2), t0 + secs(3), &policy)
            .await
            .unwrap(),
        TickOutcome::Stale
    );
    for u in &users {
        assert!(room.admission(&f, u, t0 + secs(3)).await.unwrap().is_some());
    }
}

async fn admissions_never_exceed_the_rate(room: Arc<dyn WaitingRoom>, run: &str) {
    let f = line(run, "rate");
    let policy = AdmitPolicy::at_rate(10);
    let t0 = base();
    let users: Vec<String> = (0..200).map(user).collect();
    let mut tick = join_all_in_order(room.as_ref(), &f, &users, t0, "chain-r", &policy).await;

    let mut total = 0u64;
    let mut admitted_at = Vec::new();
    // A tick every second from t0 to t0+9s, one more half a second after each but the last,
    // duplicates of every on-time tick, and an extra tick right after each in the same
    // millisecond (a legitimate successor, so only the token bucket can hold it back).
    for half in 0..19i64 {
        let now = t0 + ms(half * 500);
        let outcomes = join_all((0..4).map(|_| {
            let (room, tick) = (room.clone(), tick.clone());
            tokio::spawn(async move { room.admit(&tick, now, &policy).await.unwrap() })
        }))
        .await;
        let mut counted: Vec<TickOutcome> = outcomes
            .into_iter()
            .map(Result::unwrap)
            .filter(|o| *o != TickOutcome::Stale)
            .collect();
        assert_eq!(counted.len(), 1, "a duplicate tick counted: {counted:?}");
        let TickOutcome::Continue { admitted, next } = counted.pop().unwrap() else {
            panic!("the line drained early");
        };
        assert_eq!(next, next_of(&tick));
        total += admitted;
        admitted_at.push(admitted);

        let extra = room.admit(&next, now, &policy).await.unwrap();
        tick = continued(extra, &next, 0);

        // Never more than a full bucket plus the rate times the time since.
        let elapsed = half as f64 / 2.0;
        assert!(
            total as f64 <= 10.0 * (elapsed + 1.0),
            "{total} admitted by t0+{elapsed}s"
        );
    }
    let mut expected = vec![5u64; 19];
    expected[0] = 10;
    assert_eq!(admitted_at, expected);
    assert_eq!(total, 100);
    let end = t0 + secs(9);
    let seen = view(room.as_ref(), &f, &users[100], end).await;
    assert_eq!((seen.rank, seen.waiting), (Some(1), 100));
    assert!(room.admission(&f, &users[99], end).await.unwrap().is_some());
    assert_eq!(room.admission(&f, &users[100], end).await.unwrap(), None);
}

async fn late_ticks_still_average_the_rate(room: Arc<dyn WaitingRoom>, run: &str) {
    // SQS delays are whole seconds and Lambda polling adds more, so ticks come late; the
    // bucket keeps what accrued meanwhile (up to two seconds' worth), so the rate holds.
    let f = line(run, "late");
    // A lease long enough to survive the minute's pause below.
    let policy = AdmitPolicy {
        lease_ttl: std::time::Duration::from_secs(120),
        ..AdmitPolicy::at_rate(10)
    };
    let t0 = base();
    let users: Vec<String> = (0..200).map(user).collect();
    let mut tick = join_all_in_order(room.as_ref(), &f, &users, t0, "chain-l", &policy).await;
    let mut per_tick = Vec::new();
    for i in 0..10i64 {
        let outcome = room
            .admit(&tick, t0 + ms(i * 1_300), &policy)
            .await
            .unwrap();
        let TickOutcome::Continue { admitted, next } = outcome else {
            panic!("the line drained early");
        };
        per_tick.push(admitted);
        tick = next;
    }
    // 10 at once, then 13 for every 1.3 s: exactly the rate over the 11.7 s since.
    assert_eq!(per_tick, [10, 13, 13, 13, 13, 13, 13, 13, 13, 13]);
    // After a long pause the catch-up is capped at two seconds' worth.
    let outcome = room.admit(&tick, t0 + secs(60), &policy).await.unwrap();
    assert!(
        matches!(outcome, TickOutcome::Continue { admitted: 20, .. }),
        "{outcome:?}"
    );
}

async fn a_released_chain_ends_at_once(room: Arc<dyn WaitingRoom>, run: &str) {
    let room = room.as_ref();
    let f = line(run, "release");
    let policy = AdmitPolicy::at_rate(1);
    let t0 = base();
    let users: Vec<String> = (0..3).map(user).collect();
    let tick = join_all_in_order(room, &f, &users, t0, "chain-x", &policy).await;
    let next = continued(room.admit(&tick, t0, &policy).await.unwrap(), &tick, 1);
    // Releasing with a tick that does not hold the lease changes nothing.
    room.release_chain(&tick).await.unwrap();
    room.release_chain(&next_of(&next)).await.unwrap();
    let seen = room
        .position(&f, &users[1], t0, "chain-y", &policy)
        .await
        .unwrap();
    assert_eq!(seen.started_chain, None);
    // Released by its holder, the chain is over: its tick is stale, a poll starts another.
    room.release_chain(&next).await.unwrap();
    assert_eq!(
        room.admit(&next, t0 + secs(1), &policy).await.unwrap(),
        TickOutcome::Stale
    );
    let seen = room
        .position(&f, &users[1], t0 + secs(1), "chain-z", &policy)
        .await
        .unwrap();
    assert_eq!(seen.started_chain, Some(first_tick(&f, "chain-z")));
}

async fn drained_line_ends_the_chain(room: Arc<dyn WaitingRoom>, run: &str) {
    let room = room.as_ref();
    let f = line(run, "drained");
    let policy = AdmitPolicy::at_rate(10);
    let t0 = base();
    let users: Vec<String> = (0..3).map(user).collect();
    let t = join_all_in_order(room, &f, &users, t0, "chain-d1", &policy).await;

    assert_eq!(
        room.admit(&t, t0, &policy).await.unwrap(),
        TickOutcome::Drained { admitted: 3 }
    );
    // The chain is over: neither its tick nor a successor does anything.
    for stale in [t.clone(), next_of(&t)] {
        assert_eq!(
            room.admit(&stale, t0 + secs(1), &policy).await.unwrap(),
            TickOutcome::Stale
        );
    }
    // An empty line starts no chain, even for an admitted user joining again.
    let seen = room
        .join(&f, &users[0], t0 + secs(1), "chain-d2", &policy)
        .await
        .unwrap();
    assert_eq!(
        (seen.rank, seen.waiting, seen.started_chain),
        (None, 0, None)
    );
    assert!(seen.admitted_until.is_some());
    // The next newcomer starts a new chain, which admits them.
    let seen = room
        .join(
            &f,
            "newcomer@wr.festa.test",
            t0 + secs(1),
            "chain-d3",
            &policy,
        )
        .await
        .unwrap();
    assert_eq!(seen.started_chain, Some(first_tick(&f, "chain-d3")));
    assert_eq!((seen.rank, seen.waiting), (Some(1), 1));
    assert_eq!(
        room.admit(&first_tick(&f, "chain-d3"), t0 + secs(1), &policy)
            .await
            .unwrap(),
        TickOutcome::Drained { admitted: 1 }
    );
}

async fn a_lost_tick_is_recovered_after_the_lease(room: Arc<dyn WaitingRoom>, run: &str) {
    const LEASE_MS: i64 = 400;
    let policy = AdmitPolicy {
        lease_ttl: Duration::from_millis(LEASE_MS as u64),
        ..AdmitPolicy::at_rate(10)
    };
    // Past the lease by `now` (memory) and by the clock (Redis).
    let lapse = || tokio::time::sleep(Duration::from_millis(LEASE_MS as u64 + 300));

    // The first tick is lost.
    let f = line(run, "lost-first");
    let t0 = base();
    let lost = room
        .join(&f, &user(0), t0, "chain-lost", &policy)
        .await
        .unwrap()
        .started_chain
        .expect("the first join starts a chain");
    let seen = room
        .join(&f, &user(1), t0 + ms(50), "chain-early", &policy)
        .await
        .unwrap();
    assert_eq!(seen.started_chain, None, "the lease is live");
    let seen = room
        .position(&f, &user(0), t0 + ms(100), "chain-early", &policy)
        .await
        .unwrap();
    assert_eq!(seen.started_chain, None, "the lease is live");

    lapse().await;
    let later = t0 + ms(LEASE_MS + 300);
    let seen = room
        .position(&f, &user(1), later, "chain-rescue", &policy)
        .await
        .unwrap();
    assert_eq!(seen.started_chain, Some(first_tick(&f, "chain-rescue")));
    assert_eq!((seen.rank, seen.waiting), (Some(2), 2));
    let seen = room
        .position(&f, &user(0), later, "chain-other", &policy)
        .await
        .unwrap();
    assert_eq!(seen.started_chain, None, "the rescue chain holds the lease");
    // The lost tick, should it turn up after all, is stale.
    assert_eq!(
        room.admit(&lost, later, &policy).await.unwrap(),
        TickOutcome::Stale
    );
    assert_eq!(
        room.admit(&first_tick(&f, "chain-rescue"), later, &policy)
            .await
            .unwrap(),
        TickOutcome::Drained { admitted: 2 }
    );

    // A tick lost in the middle of a chain.
    let f = line(run, "lost-middle");
    let t0 = base();
    let users: Vec<String> = (0..15).map(user).collect();
    let c0 = join_all_in_order(room.as_ref(), &f, &users, t0, "chain-m", &policy).await;
    let c1 = continued(room.admit(&c0, t0, &policy).await.unwrap(), &c0, 10);
    let seen = room
        .position(&f, &users[10], t0 + ms(50), "chain-early", &policy)
        .await
        .unwrap();
    assert_eq!(seen.started_chain, None, "the lease is live");

    lapse().await;
    let later = t0 + ms(LEASE_MS + 300);
    let seen = room
        .position(&f, &users[14], later, "chain-rescue", &policy)
        .await
        .unwrap();
    assert_eq!(seen.started_chain, Some(first_tick(&f, "chain-rescue")));
    assert_eq!((seen.rank, seen.waiting), (Some(5), 5));
    assert_eq!(
        room.admit(&c1, later, &policy).await.unwrap(),
        TickOutcome::Stale
    );
    // The rescue chain goes on with the same bucket: 7 tokens refilled in 700 ms.
    let rescued = first_tick(&f, "chain-rescue");
    assert_eq!(
        room.admit(&rescued, later, &policy).await.unwrap(),
        TickOutcome::Drained { admitted: 5 }
    );
}

async fn leave_and_give_up(room: Arc<dyn WaitingRoom>, run: &str) {
    let room = room.as_ref();
    let f = line(run, "leave");
    let policy = AdmitPolicy::at_rate(10);
    let t0 = base();
    let users: Vec<String> = (0..5).map(user).collect();
    let t = join_all_in_order(room, &f, &users, t0, "chain-l", &policy).await;

    room.leave_line(&f, &users[1]).await.unwrap();
    for (u, rank) in users.iter().zip([Some(1), None, Some(2), Some(3), Some(4)]) {
        let seen = view(room, &f, u, t0).await;
        assert_eq!(
            (seen.rank, seen.waiting, seen.admitted_until),
            (rank, 4, None),
            "{u}"
        );
    }
    // No-ops: leaving twice, leaving a line one is not in, leaving a line nobody joined.
    room.leave_line(&f, &users[1]).await.unwrap();
    room.leave_line(&f, "stranger@wr.festa.test").await.unwrap();
    room.leave_line(&line(run, "leave-nobody"), &users[0])
        .await
        .unwrap();
    assert_eq!(view(room, &f, &users[0], t0).await.waiting, 4);

    assert_eq!(
        room.admit(&t, t0, &policy).await.unwrap(),
        TickOutcome::Drained { admitted: 4 }
    );
    assert_eq!(room.admission(&f, &users[1], t0).await.unwrap(), None);
    let until = t0 + admission_ttl(&policy);

    room.give_up_admission(&f, &users[0]).await.unwrap();
    assert_eq!(room.admission(&f, &users[0], t0).await.unwrap(), None);
    let seen = view(room, &f, &users[0], t0).await;
    assert_eq!((seen.rank, seen.admitted_until), (None, None));
    assert_eq!(
        room.admission(&f, &users[2], t0).await.unwrap(),
        Some(until)
    );
    // No-ops: giving up twice, without an admission, in a line nobody joined.
    room.give_up_admission(&f, &users[0]).await.unwrap();
    room.give_up_admission(&f, &users[1]).await.unwrap();
    room.give_up_admission(&line(run, "leave-nobody"), &users[0])
        .await
        .unwrap();
    assert_eq!(
        room.admission(&f, &users[3], t0).await.unwrap(),
        Some(until)
    );

    // Having given up, one may queue again; and a line everyone left drains with nobody in.
    let seen = room
        .join(&f, &users[0], t0 + secs(1), "chain-l2", &policy)
        .await
        .unwrap();
    assert_eq!((seen.rank, seen.waiting), (Some(1), 1));
    assert_eq!(seen.started_chain, Some(first_tick(&f, "chain-l2")));
    room.leave_line(&f, &users[0]).await.unwrap();
    assert_eq!(view(room, &f, &users[0], t0 + secs(1)).await.waiting, 0);
    assert_eq!(
        room.admit(&first_tick(&f, "chain-l2"), t0 + secs(1), &policy)
            .await
            .unwrap(),
        TickOutcome::Drained { admitted: 0 }
    );
}

async fn expired_admissions_are_not_admissions(room: Arc<dyn WaitingRoom>, run: &str) {
    let room = room.as_ref();
    let f = line(run, "expired");
    let policy = AdmitPolicy {
        admission_ttl: Duration::from_secs(90),
        ..AdmitPolicy::at_rate(10)
    };
    let t0 = base();
    let users: Vec<String> = (0..2).map(user).collect();
    let t = join_all_in_order(room, &f, &users[..1], t0, "chain-e", &policy).await;
    assert_eq!(
        room.admit(&t, t0, &policy).await.unwrap(),
        TickOutcome::Drained { admitted: 1 }
    );
    let until = t0 + secs(90);
    let u = &users[0];

    assert_eq!(room.admission(&f, u, t0).await.unwrap(), Some(until));
    assert_eq!(
        room.admission(&f, u, until - ms(1)).await.unwrap(),
        Some(until)
    );
    assert_eq!(
        view(room, &f, u, until - ms(1)).await.admitted_until,
        Some(until)
    );
    for now in [until, until + ms(1), until + secs(86_400)] {
        assert_eq!(room.admission(&f, u, now).await.unwrap(), None, "at {now}");
        let seen = view(room, &f, u, now).await;
        assert_eq!((seen.rank, seen.admitted_until), (None, None), "at {now}");
    }
    // Nobody else holds one.
    assert_eq!(room.admission(&f, &users[1], t0).await.unwrap(), None);
    assert_eq!(
        room.admission(&line(run, "expired-nobody"), u, t0)
            .await
            .unwrap(),
        None
    );
}

async fn measured_rate(room: Arc<dyn WaitingRoom>, run: &str) {
    let room = room.as_ref();
    let f = line(run, "measured");
    let policy = AdmitPolicy::at_rate(10);
    let t0 = base();
    let users: Vec<String> = (0..100).map(user).collect();
    let mut tick = join_all_in_order(room, &f, &users, t0, "chain-m", &policy).await;
    assert_eq!(view(room, &f, &users[99], t0).await.measured_rate, None);

    // One tick measures nothing: there is no interval yet.
    tick = continued(room.admit(&tick, t0, &policy).await.unwrap(), &tick, 10);
    assert_eq!(view(room, &f, &users[99], t0).await.measured_rate, None);

    for s in 1..=4 {
        tick = continued(
            room.admit(&tick, t0 + secs(s), &policy).await.unwrap(),
            &tick,
            10,
        );
    }
    let rate = view(room, &f, &users[99], t0 + secs(4))
        .await
        .measured_rate
        .expect("measured after ticks a second apart");
    assert!((5.0..=15.0).contains(&rate), "measured {rate}/s at 10/s");
    let joined = room
        .join(&f, "late@wr.festa.test", t0 + secs(4), "chain-x", &policy)
        .await
        .unwrap();
    assert_eq!(joined.measured_rate, Some(rate));
}

async fn spending_an_admission(room: Arc<dyn WaitingRoom>, run: &str) {
    let room = room.as_ref();
    let f = line(run, "spend");
    let policy = AdmitPolicy::at_rate(10);
    let t0 = base();
    let users: Vec<String> = (0..4).map(user).collect();
    let t = join_all_in_order(room, &f, &users, t0, "chain-s", &policy).await;
    assert_eq!(
        room.admit(&t, t0, &policy).await.unwrap(),
        TickOutcome::Drained { admitted: 4 }
    );
    let until = t0 + admission_ttl(&policy);
    let u = &users[0];

    // Spent by one attempt: no longer an admission, and no other attempt can spend it.
    assert_eq!(
        room.spend_admission(&f, u, t0, "try-a").await.unwrap(),
        Some(until)
    );
    assert_eq!(room.admission(&f, u, t0).await.unwrap(), None);
    let seen = view(room, &f, u, t0).await;
    assert_eq!((seen.rank, seen.admitted_until), (None, None));
    assert_eq!(
        room.spend_admission(&f, u, t0, "try-b").await.unwrap(),
        None
    );
    // The same attempt again (a retry of the same booking) finds what it spent, until the
    // admission would have ended.
    assert_eq!(
        room.spend_admission(&f, u, t0 + secs(1), "try-a")
            .await
            .unwrap(),
        Some(until)
    );
    assert_eq!(
        room.spend_admission(&f, u, until, "try-a").await.unwrap(),
        None
    );

    // Given back by the attempt that spent it (only by it, and once): the same turn, not a
    // longer one.
    assert!(!room
        .return_admission(&f, u, t0 + secs(1), "try-b")
        .await
        .unwrap());
    assert!(room
        .return_admission(&f, u, t0 + secs(1), "try-a")
        .await
        .unwrap());
    assert_eq!(room.admission(&f, u, t0).await.unwrap(), Some(until));
    assert!(!room
        .return_admission(&f, u, t0 + secs(1), "try-a")
        .await
        .unwrap());
    assert_eq!(room.admission(&f, u, t0).await.unwrap(), Some(until));

    // Spent, the user may queue again; an admission given back meanwhile takes them out of
    // the line, as an admitted user is never also waiting.
    assert_eq!(
        room.spend_admission(&f, u, t0 + secs(2), "try-c")
            .await
            .unwrap(),
        Some(until)
    );
    let joined = room
        .join(&f, u, t0 + secs(2), "chain-s2", &policy)
        .await
        .unwrap();
    assert_eq!(
        (joined.rank, joined.waiting, joined.admitted_until),
        (Some(1), 1, None)
    );
    assert!(room
        .return_admission(&f, u, t0 + secs(2), "try-c")
        .await
        .unwrap());
    let seen = view(room, &f, u, t0 + secs(2)).await;
    assert_eq!(
        (seen.rank, seen.waiting, seen.admitted_until),
        (None, 0, Some(until))
    );

    // An admission that ended meanwhile is not given back.
    let v = &users[1];
    assert_eq!(
        room.spend_admission(&f, v, t0, "try-d").await.unwrap(),
        Some(until)
    );
    assert!(!room.return_admission(&f, v, until, "try-d").await.unwrap());
    assert_eq!(room.admission(&f, v, t0).await.unwrap(), None);

    // Given up while a booking spends it: nothing comes back.
    let w = &users[2];
    assert_eq!(
        room.spend_admission(&f, w, t0, "try-e").await.unwrap(),
        Some(until)
    );
    room.give_up_admission(&f, w).await.unwrap();
    assert!(!room.return_admission(&f, w, t0, "try-e").await.unwrap());
    assert_eq!(room.admission(&f, w, t0).await.unwrap(), None);
    assert_eq!(
        room.spend_admission(&f, w, t0, "try-e").await.unwrap(),
        None
    );

    // Nothing to spend: never admitted, an ended admission, a line nobody joined.
    assert_eq!(
        room.spend_admission(&f, "stranger@wr.festa.test", t0, "try-f")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        room.spend_admission(&f, &users[3], until, "try-g")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        room.admission(&f, &users[3], t0).await.unwrap(),
        Some(until),
        "a refused spend changes nothing"
    );
    let nobody = line(run, "spend-nobody");
    assert_eq!(
        room.spend_admission(&nobody, u, t0, "try-h").await.unwrap(),
        None
    );
    assert!(!room
        .return_admission(&nobody, u, t0, "try-h")
        .await
        .unwrap());
}

async fn concurrent_spends_have_one_winner(room: Arc<dyn WaitingRoom>, run: &str) {
    let f = line(run, "spend-race");
    let policy = AdmitPolicy::at_rate(10);
    let t0 = base();
    let users: Vec<String> = (0..10).map(user).collect();
    let t = join_all_in_order(room.as_ref(), &f, &users, t0, "chain-sr", &policy).await;
    assert_eq!(
        room.admit(&t, t0, &policy).await.unwrap(),
        TickOutcome::Drained { admitted: 10 }
    );
    let until = t0 + admission_ttl(&policy);

    // Every user sends eight bookings at once, each its own attempt, on one admission.
    let attempts: Vec<(String, String)> = users
        .iter()
        .flat_map(|u| (0..8).map(move |i| (u.clone(), format!("attempt-{i}"))))
        .collect();
    let outcomes = join_all(attempts.iter().map(|(u, claim)| {
        let room = room.clone();
        let f = f.clone();
        async move { room.spend_admission(&f, u, t0, claim).await.unwrap() }
    }))
    .await;
    for u in &users {
        let won: Vec<_> = attempts
            .iter()
            .zip(&outcomes)
            .filter(|((who, _), spent)| who == u && spent.is_some())
            .collect();
        assert_eq!(won.len(), 1, "{u}: {won:?}");
        assert_eq!(*won[0].1, Some(until));
        assert_eq!(room.admission(&f, u, t0).await.unwrap(), None);
    }
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
                    super::$case(Arc::new(MemoryWaitingRoom::new()), &run).await;
                }
            )*
        }

        #[cfg(feature = "redis")]
        mod on_redis {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some((room, conn)) = redis_room().await else { return };
                    let run = ulid::Ulid::generate().to_string();
                    super::$case(Arc::new(room), &run).await;
                    forget_run(conn, &run).await;
                }
            )*
        }
    };
}

contract!(
    first_come_first_served,
    concurrent_joins_keep_one_place,
    exactly_one_chain_starts,
    stale_and_duplicate_ticks_are_dropped,
    admissions_never_exceed_the_rate,
    late_ticks_still_average_the_rate,
    a_released_chain_ends_at_once,
    drained_line_ends_the_chain,
    a_lost_tick_is_recovered_after_the_lease,
    leave_and_give_up,
    expired_admissions_are_not_admissions,
    measured_rate,
    spending_an_admission,
    concurrent_spends_have_one_winner,
);

#[cfg(feature = "redis")]
use festa::adapters::redis_waiting_room::RedisWaitingRoom;

/// A Redis waiting room at `REDIS_URL`, or `None` when the real run may be skipped.
#[cfg(feature = "redis")]
async fn redis_room() -> Option<(RedisWaitingRoom, redis::aio::ConnectionManager)> {
    let conn = real_redis::connect("waiting room").await?;
    Some((RedisWaitingRoom::new(conn.clone()), conn))
}

/// Deletes every key of the run's lines.
#[cfg(feature = "redis")]
async fn forget_run(mut conn: redis::aio::ConnectionManager, run: &str) {
    real_redis::delete_matching(&mut conn, &format!("festa:queue:{{{}*", line(run, ""))).await;
}
