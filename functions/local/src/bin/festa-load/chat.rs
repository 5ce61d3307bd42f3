//! `festa-load chat`: live chat in one festival's room, then history pages on a long room.
//!
//! M real accounts (made before the clock starts) join one room and each opens a WebSocket
//! and views the room. A few senders (second devices of the first accounts) send K messages
//! in all, each under the per-user rate limit (a sender is its user's only sending connection). Every listener records each message's
//! `seq` and when it arrived; a message carries when it was sent. Prints messages delivered
//! per second, end-to-end latency p50/p99/max, and the messages lost, duplicated or out of
//! order (all must be 0). Then a second room is filled with H messages through the chat
//! store and `GET /festivals/chatting/{room}?before=` pages are timed at random depths.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Arg, ArgMatches, Command};
use festa::ports::{Appended, MessageDraft};
use festa_local::chat_client::ChatClient;
use hdrhistogram::Histogram;
use rand::RngExt;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::accounts::{create_accounts, Api, Error, User};

/// A listener still missing messages this long after the last send counts them lost.
const SETTLE: Duration = Duration::from_secs(30);

/// The `chat` subcommand's arguments.
pub fn command() -> Command {
    let number = |name: &'static str, default: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .default_value(default)
            .value_parser(clap::value_parser!(usize))
            .help(help)
    };
    Command::new("chat")
        .about(
            "M WebSocket clients in one room receive K messages; then history pages on a long room",
        )
        .arg(number(
            "clients",
            "1000",
            "listening WebSocket clients, one account each",
        ))
        .arg(number(
            "senders",
            "10",
            "sending connections (second devices of the first accounts)",
        ))
        .arg(number("messages", "1000", "messages sent in all"))
        .arg(number(
            "rate",
            "5",
            "messages a second per sender (the limit is 10)",
        ))
        .arg(number("history", "100000", "messages in the history room"))
        .arg(number("pages", "2000", "history pages requested"))
        .arg(number(
            "setup-concurrency",
            "8",
            "accounts created at once before the run",
        ))
}

/// What one listener saw.
struct Heard {
    /// Seqs in arrival order.
    seqs: Vec<u64>,
    /// Send-to-arrival micros of each message.
    latencies: Vec<u64>,
    last_arrival: Option<Instant>,
}

/// Runs the scenario and prints the report.
pub async fn run(args: &ArgMatches) -> Result<(), Error> {
    let get = |name: &str| *args.get_one::<usize>(name).unwrap();
    let (clients, senders, total, rate) = (
        get("clients").max(1),
        get("senders").max(1),
        get("messages"),
        get("rate").clamp(1, 10),
    );
    let (history, pages, setup_concurrency) = (
        get("history"),
        get("pages"),
        get("setup-concurrency").max(1),
    );

    let mut config = festa::config::Config::from_env()?;
    let run_id = ulid::Ulid::generate().to_string().to_lowercase();
    let admin = format!("chat-admin-{run_id}@festa.load");
    config.admin_emails.insert(admin.clone());
    let platform = festa_local::build(config).await?;
    println!("platform: {}", platform.description.join("; "));
    let chat = platform.chat.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, platform.router).await });
    let api = Arc::new(Api {
        http: Client::builder()
            .pool_max_idle_per_host(usize::MAX)
            .build()?,
        base: format!("http://{address}"),
    });
    let ws = format!("ws://{address}");

    // Set-up, off the clock.
    let admin_token = api.account(&admin, "Chat admin").await?;
    let live_room = create_festival(&api, &admin_token, "부하 시험 채팅 축제").await?;
    let set_up = Instant::now();
    let accounts = create_accounts(&api, &run_id, clients, setup_concurrency).await?;
    println!(
        "set-up: {clients} accounts in {:.1} s (sign-up, confirmation, login; not measured)",
        set_up.elapsed().as_secs_f64()
    );
    join_all(&api, &accounts, &live_room).await?;
    let mut listeners = Vec::with_capacity(clients);
    for user in &accounts {
        let mut client = ChatClient::connect(&ws, &user.token)
            .await
            .map_err(|e| format!("connect: {e:?}"))?;
        client
            .send(&json!({"action": "enterRoom", "chatRoomId": live_room}))
            .await;
        listeners.push(client);
    }
    for client in &mut listeners {
        client
            .next_of("unread", Duration::from_secs(30))
            .await
            .ok_or("a listener never entered the room")?;
    }
    let mut sending = Vec::with_capacity(senders);
    for s in 0..senders {
        let user = &accounts[s % accounts.len()];
        sending.push(
            ChatClient::connect(&ws, &user.token)
                .await
                .map_err(|e| format!("connect: {e:?}"))?,
        );
    }
    println!(
        "chat: {clients} listeners viewing one room; {senders} senders send {total} messages at {rate}/s each"
    );

    // The run: senders send, listeners count.
    let epoch = Instant::now();
    let expected = total as u64;
    let mut heard = tokio::task::JoinSet::new();
    for mut client in listeners {
        heard.spawn(async move { listen(&mut client, expected, epoch).await });
    }
    let mut sends = tokio::task::JoinSet::new();
    for (s, mut client) in sending.into_iter().enumerate() {
        let count = total / senders + usize::from(s < total % senders);
        let room = live_room.clone();
        // Senders are spread evenly over each period, as independent people would be, rather
        // than all sending in the same instant.
        let offset = Duration::from_secs_f64(s as f64 / (senders * rate) as f64);
        sends.spawn(async move {
            tokio::time::sleep(offset).await;
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
            for i in 0..count {
                tick.tick().await;
                let sent_at = epoch.elapsed().as_micros();
                client
                    .send(&json!({"action": "sendMessage", "chatRoomId": room,
                        "content": format!("t={sent_at}"), "clientMsgId": format!("s{s}-{i}")}))
                    .await;
            }
            let (mut acks, mut errors) = (0, 0);
            while acks + errors < count {
                match client.next(Duration::from_secs(30)).await {
                    Some(frame) if frame["type"] == "ack" => acks += 1,
                    Some(frame) if frame["type"] == "error" => errors += 1,
                    Some(_) => {}
                    None => break,
                }
            }
            (acks, errors)
        });
    }
    let (mut acked, mut refused) = (0, 0);
    while let Some(done) = sends.join_next().await {
        let (acks, errors) = done?;
        acked += acks;
        refused += errors;
    }
    let mut all = Vec::with_capacity(clients);
    while let Some(done) = heard.join_next().await {
        all.push(done?);
    }
    report_live(&all, clients, expected, acked, refused, epoch);

    // History pages on a long room.
    if history > 0 && pages > 0 {
        let long_room = create_festival(&api, &admin_token, "부하 시험 기록 축제").await?;
        let (s, joined) = api
            .send(
                api.http
                    .post(format!("{}/festivals/chatting/{long_room}/join", api.base))
                    .bearer_auth(&admin_token),
            )
            .await?;
        if s != StatusCode::OK {
            return Err(format!("join {s}: {joined}").into());
        }
        let (_, me) = api
            .send(
                api.http
                    .get(format!("{}/verify-token", api.base))
                    .bearer_auth(&admin_token),
            )
            .await?;
        let sender = me["userId"].as_str().unwrap_or_default().to_string();
        let filled = Instant::now();
        fill(&chat, &long_room, &sender, history).await?;
        println!(
            "history: {history} messages stored in {:.1} s (through the chat store; not measured)",
            filled.elapsed().as_secs_f64()
        );
        page_load(&api, &admin_token, &long_room, history as u64, pages).await?;
    }
    Ok(())
}

async fn create_festival(api: &Api, token: &str, name: &str) -> Result<String, Error> {
    let day = chrono::Utc::now().date_naive() + chrono::Days::new(30);
    let (s, festival) = api
        .send(
            api.http
                .post(format!("{}/festivals/create", api.base))
                .bearer_auth(token)
                .json(
                    &json!({"name": name, "description": "chat load", "location": "서울",
                    "startDate": day, "endDate": day, "ticketsPerDay": 100}),
                ),
        )
        .await?;
    match festival["chatRoomId"].as_str() {
        Some(room) if s == StatusCode::CREATED => Ok(room.to_string()),
        _ => Err(format!("festival creation {s}: {festival}").into()),
    }
}

async fn join_all(api: &Arc<Api>, accounts: &[User], room: &str) -> Result<(), Error> {
    let mut joins = tokio::task::JoinSet::new();
    for user in accounts {
        let (api, token, room) = (api.clone(), user.token.clone(), room.to_string());
        joins.spawn(async move {
            let url = format!("{}/festivals/chatting/{room}/join", api.base);
            api.send(api.http.post(url).bearer_auth(token)).await
        });
        if joins.len() >= 32 {
            check_join(joins.join_next().await)?;
        }
    }
    while let Some(done) = joins.join_next().await {
        check_join(Some(done))?;
    }
    Ok(())
}

type JoinAnswer = Result<Result<(StatusCode, Value), Error>, tokio::task::JoinError>;

fn check_join(done: Option<JoinAnswer>) -> Result<(), Error> {
    match done {
        Some(Ok(Ok((StatusCode::OK, _)))) | None => Ok(()),
        Some(Ok(Ok((s, v)))) => Err(format!("join {s}: {v}").into()),
        Some(Ok(Err(e))) => Err(e),
        Some(Err(e)) => Err(e.into()),
    }
}

/// Reads message frames until `expected` arrived or the room has been quiet for `SETTLE`.
async fn listen(client: &mut ChatClient, expected: u64, epoch: Instant) -> Heard {
    let mut heard = Heard {
        seqs: Vec::with_capacity(expected as usize),
        latencies: Vec::with_capacity(expected as usize),
        last_arrival: None,
    };
    while (heard.seqs.len() as u64) < expected {
        let Some((arrived, frame)) = client.next_timed(SETTLE).await else {
            break;
        };
        if frame["type"] != "message" {
            continue;
        }
        let sent_at: u128 = frame["content"]
            .as_str()
            .and_then(|c| c.strip_prefix("t="))
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let arrived_at = arrived.duration_since(epoch).as_micros();
        heard.seqs.push(frame["seq"].as_u64().unwrap_or(0));
        heard
            .latencies
            .push(arrived_at.saturating_sub(sent_at) as u64);
        heard.last_arrival = Some(arrived);
    }
    heard
}

fn histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap()
}

fn report_live(
    all: &[Heard],
    clients: usize,
    expected: u64,
    acked: usize,
    refused: usize,
    epoch: Instant,
) {
    let mut latency = histogram();
    let (mut delivered, mut lost, mut duplicated, mut out_of_order) = (0u64, 0u64, 0u64, 0u64);
    for heard in all {
        let unique: HashSet<u64> = heard.seqs.iter().copied().collect();
        delivered += heard.seqs.len() as u64;
        duplicated += heard.seqs.len() as u64 - unique.len() as u64;
        lost += expected.saturating_sub(unique.len() as u64);
        out_of_order += heard.seqs.windows(2).filter(|w| w[1] <= w[0]).count() as u64;
        for micros in &heard.latencies {
            latency.saturating_record(*micros);
        }
    }
    let last = all.iter().filter_map(|h| h.last_arrival).max();
    let span = last.map_or(Duration::ZERO, |l| l.duration_since(epoch));
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    println!();
    println!(
        "sent {} messages ({acked} acknowledged, {refused} refused) to {clients} listeners",
        acked + refused
    );
    println!(
        "delivered {delivered} of {} in {:.1} s: {:.0} messages delivered/s",
        expected * clients as u64,
        span.as_secs_f64(),
        delivered as f64 / span.as_secs_f64().max(f64::EPSILON)
    );
    println!(
        "end-to-end latency (ms): mean {:.2}  p50 {:.2}  p99 {:.2}  max {:.2}",
        latency.mean() / 1000.0,
        ms(0.5),
        ms(0.99),
        latency.max() as f64 / 1000.0
    );
    println!("lost {lost}, duplicated {duplicated}, out of order {out_of_order}");
}

/// Stores `count` messages in the room through the chat store, 64 at a time.
async fn fill(
    chat: &festa::services::chat::Chat,
    room: &str,
    sender: &str,
    count: usize,
) -> Result<(), Error> {
    let mut pending = tokio::task::JoinSet::new();
    let now = chrono::Utc::now();
    for i in 0..count {
        let draft = MessageDraft {
            chat_room_id: room.to_string(),
            sender_id: sender.to_string(),
            sender_name: "Chat admin".into(),
            content: format!("기록 메시지 {i}: 오늘 불꽃놀이 몇 시에 시작하나요?"),
            client_msg_id: format!("fill-{i}"),
            message_id: ulid::Ulid::generate().to_string(),
            sent_at: now,
            guard_expires_at: now + chrono::Duration::hours(1),
        };
        let store = chat.store.clone();
        pending.spawn(async move { store.append(&draft).await });
        if pending.len() >= 64 {
            if let Some(done) = pending.join_next().await {
                stored(done)?;
            }
        }
    }
    while let Some(done) = pending.join_next().await {
        stored(done)?;
    }
    Ok(())
}

fn stored(done: Result<festa::AppResult<Appended>, tokio::task::JoinError>) -> Result<(), Error> {
    match done? {
        Ok(Appended::Stored(_)) => Ok(()),
        Ok(Appended::Resent(_)) => Err("a fill message was taken for a resend".into()),
        Err(e) => Err(e.into()),
    }
}

/// Times `pages` history pages at random depths of a room with `last` messages, 16 at a time.
async fn page_load(
    api: &Arc<Api>,
    token: &str,
    room: &str,
    last: u64,
    pages: usize,
) -> Result<(), Error> {
    let mut latency = histogram();
    let mut errors = 0;
    let started = Instant::now();
    let mut pending = tokio::task::JoinSet::new();
    let mut rng = rand::rng();
    for i in 0..pages {
        // The first page is the newest; the rest start at random depths.
        let url = if i == 0 {
            format!("{}/festivals/chatting/{room}", api.base)
        } else {
            let before = rng.random_range(2..=last + 1);
            format!("{}/festivals/chatting/{room}?before={before}", api.base)
        };
        let (api, token) = (api.clone(), token.to_string());
        pending.spawn(async move {
            let t = Instant::now();
            let answer = api.send(api.http.get(url).bearer_auth(token)).await;
            let ok = matches!(&answer, Ok((StatusCode::OK, v)) if v["messages"].as_array().is_some_and(|m| !m.is_empty()));
            (t.elapsed().as_micros() as u64, ok)
        });
        if pending.len() >= 16 {
            if let Some(done) = pending.join_next().await {
                let (micros, ok) = done?;
                latency.saturating_record(micros);
                errors += usize::from(!ok);
            }
        }
    }
    while let Some(done) = pending.join_next().await {
        let (micros, ok) = done?;
        latency.saturating_record(micros);
        errors += usize::from(!ok);
    }
    let elapsed = started.elapsed();
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "history pages (50 messages) on a room of {last}: {pages} in {:.1} s ({:.0}/s); p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms; errors {errors}",
        elapsed.as_secs_f64(),
        pages as f64 / elapsed.as_secs_f64(),
        ms(0.5),
        ms(0.99),
        latency.max() as f64 / 1000.0
    );
    Ok(())
}
