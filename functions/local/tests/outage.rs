//! Fault injection: the local platform on the real adapters, with a Redis and a moto (the
//! DynamoDB emulator) that this test owns, kills and restarts in the middle of a run of
//! joins, bookings and chat sends (API.md, "Overload and outages").
//!
//! While a store is down, every route that needs it answers `503 SERVICE_UNAVAILABLE` with
//! `Retry-After` within [`BOUND`] (measured per request), chat frames get an error frame with
//! that code, and nothing is half-written. After the restart (a fresh, empty store: a new
//! Redis has lost the lines, admissions and presence; a new moto has lost every table, which
//! the test creates again, as an operator would restore them), the same platform process
//! serves again, with no oversold stock, every confirmed ticket accounted for, and chat
//! sequence numbers with no gap and no repeat.
//!
//! Run by `scripts/test.sh` (which exports `FESTA_MOTO_SERVER`, the virtualenv's
//! `moto_server`, and puts `redis-server` on the path); skipped without the real backends.
//! The test is alone in this binary because it points the process's `AWS_ENDPOINT_URL` at its
//! own moto.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use festa_local::chat_client::{ChatClient, ConnectError};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The answer-time bound a request must keep while a store is down (API.md: promptly; the
/// clients are bounded at about 1.5 s for Redis and 2 s for AWS), with a margin for a loaded
/// machine. A correctness bound, not a speed measurement.
const BOUND: Duration = Duration::from_millis(2500);
/// How long the platform may take to serve again once the store is back.
const RECOVERY: Duration = Duration::from_secs(15);
const DATE: &str = "2027-05-01";
const STOCK: u64 = 4;

/// A throw-away server process on its own loopback port; killed when dropped.
struct Service {
    child: Option<Child>,
    port: u16,
    kind: Kind,
}

/// Which server a [`Service`] runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Redis,
    Moto,
}

impl Service {
    fn redis_process(port: u16) -> Child {
        Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on the path (scripts/test.sh installs it)")
    }

    fn moto_process(port: u16) -> Child {
        // moto answering one request at a time, as scripts/test.sh runs it (transactions
        // isolated as in DynamoDB), with the virtualenv's python next to its moto_server.
        let moto = std::env::var("FESTA_MOTO_SERVER")
            .expect("FESTA_MOTO_SERVER (exported by scripts/test.sh) names moto_server");
        let python = std::path::Path::new(&moto).with_file_name("python");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/moto_serial.py");
        Command::new(python)
            .args([script, "127.0.0.1", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the virtualenv's python runs moto")
    }

    async fn start(kind: Kind) -> Service {
        let port = free_port();
        let mut service = Service {
            child: None,
            port,
            kind,
        };
        service.restart().await;
        service
    }

    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Stops (`SIGSTOP`) or resumes (`SIGCONT`) the process: a server that accepts
    /// connections but never answers, as a hung node or a black-holed route does, which only
    /// the clients' timeouts can cut short.
    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Kills the process outright (no shutdown: a crash, as an outage is).
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a fresh process on the same port and waits until it answers.
    async fn restart(&mut self) {
        self.kill();
        self.child = Some(match self.kind {
            Kind::Redis => Service::redis_process(self.port),
            Kind::Moto => Service::moto_process(self.port),
        });
        let started = Instant::now();
        while !self.ready().await {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "service on port {} did not start",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn ready(&self) -> bool {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        if self.kind == Kind::Moto {
            return reqwest::get(format!("{}/moto-api/", self.url("http")))
                .await
                .is_ok_and(|r| r.status().is_success());
        }
        let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await else {
            return false;
        };
        let mut reply = [0u8; 16];
        stream.write_all(b"PING\r\n").await.is_ok()
            && matches!(stream.read(&mut reply).await, Ok(n) if reply[..n].starts_with(b"+PONG"))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One timed answer.
struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    body: Value,
    took: Duration,
}

/// The answer times seen while a store was down, per route, for the report.
#[derive(Default)]
struct Timings(BTreeMap<String, Vec<Duration>>);

impl Timings {
    fn record(&mut self, what: &str, took: Duration) {
        assert!(
            took < BOUND,
            "{what} took {took:?}, over the {BOUND:?} bound"
        );
        self.0.entry(what.to_string()).or_default().push(took);
    }

    fn print(&self, outage: &str) {
        for (what, times) in &self.0 {
            let max = times.iter().max().unwrap();
            eprintln!(
                "{outage} down: {what}: {} answers, slowest {max:?}",
                times.len()
            );
        }
    }
}

struct Fan {
    email: String,
    token: String,
}

async fn timed(
    p: &Platform,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    key: Option<&str>,
) -> Answer {
    let mut req = p
        .http
        .request(method, format!("{}{path}", p.base))
        // A hang fails here rather than holding the test.
        .timeout(Duration::from_secs(20));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let started = Instant::now();
    let res = req.send().await.expect("an answer, not a hang");
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let (status, body) = read(res).await;
    Answer {
        status,
        retry_after,
        body,
        took: started.elapsed(),
    }
}

/// Asserts the outage answer: 503, its code, `Retry-After`, within the bound.
fn unavailable(timings: &mut Timings, what: &str, answer: &Answer) {
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {}",
        answer.body
    );
    assert_eq!(code(&answer.body), "SERVICE_UNAVAILABLE", "{what}");
    assert!(
        !answer.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("127.0.0.1"),
        "{what}: the detail is hidden: {}",
        answer.body
    );
    let retry: u64 = answer
        .retry_after
        .as_deref()
        .unwrap_or_else(|| panic!("{what}: 503 without Retry-After"))
        .parse()
        .unwrap();
    assert!(retry >= 1, "{what}");
    timings.record(what, answer.took);
}

fn send(room: &str, content: &str, client_msg_id: &str) -> Value {
    json!({"action": "sendMessage", "chatRoomId": room, "content": content, "clientMsgId": client_msg_id})
}

impl Platform {
    async fn fan(&self, prefix: &str) -> Fan {
        let email = unique(prefix);
        let tokens = self.account(&email).await;
        Fan {
            token: tokens["accessToken"].as_str().unwrap().to_string(),
            email,
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

    /// Joins the line and waits for the admission.
    async fn admitted(&self, fid: &str, fan: &Fan) {
        let join = format!("/queues/{fid}/waiting-room/users/{}", fan.email);
        let (s, body) = self.call(Method::GET, &join, Some(&fan.token), None).await;
        assert_eq!(s, 200, "{body}");
        let allowed = format!("/queues/{fid}/users/{}/allowed", fan.email);
        let started = Instant::now();
        loop {
            let (s, body) = self
                .call(Method::GET, &allowed, Some(&fan.token), None)
                .await;
            assert_eq!(s, 200, "{body}");
            if body["allowed"] == true {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "never admitted"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn book(&self, fid: &str, fan: &Fan, key: &str) -> Answer {
        timed(
            self,
            Method::POST,
            "/reservations",
            Some(&fan.token),
            Some(json!({"festivalId": fid, "festivalDate": DATE})),
            Some(key),
        )
        .await
    }

    /// The confirmed tickets each fan holds for the festival, by reservation id.
    async fn confirmed(&self, fid: &str, fans: &[Fan]) -> BTreeMap<String, u64> {
        let mut held = BTreeMap::new();
        for fan in fans {
            let (s, list) = self
                .call(Method::GET, "/reservations", Some(&fan.token), None)
                .await;
            assert_eq!(s, 200, "{list}");
            for r in list["items"].as_array().unwrap() {
                if r["festivalId"] == fid && r["status"] == "CONFIRMED" {
                    held.insert(
                        r["reservationId"].as_str().unwrap().to_string(),
                        r["quantity"].as_u64().unwrap(),
                    );
                }
            }
        }
        held
    }

    async fn remaining(&self, fid: &str) -> u64 {
        let (s, f) = self
            .call(Method::GET, &format!("/festivals/{fid}"), None, None)
            .await;
        assert_eq!(s, 200, "{f}");
        f["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["date"] == DATE)
            .unwrap()["remaining"]
            .as_u64()
            .unwrap()
    }

    /// The room's whole history as (seq, clientMsgId), oldest first.
    async fn history(&self, room: &str, fan: &Fan) -> Vec<(u64, String)> {
        let (s, view) = self
            .call(
                Method::GET,
                &format!("/festivals/chatting/{room}?limit=100"),
                Some(&fan.token),
                None,
            )
            .await;
        assert_eq!(s, 200, "{view}");
        view["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["seq"].as_u64().unwrap(),
                    m["clientMsgId"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

/// Waits for the acknowledgement of `client_msg_id` and answers its seq.
async fn ack(client: &mut ChatClient, client_msg_id: &str) -> u64 {
    let started = Instant::now();
    loop {
        let frame = client
            .next(Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no answer to {client_msg_id}"));
        if frame["type"] == "ack" && frame["clientMsgId"] == client_msg_id {
            return frame["seq"].as_u64().unwrap();
        }
        assert_ne!(frame["type"], "error", "{frame}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

/// Sends a frame while a store is down and asserts its error frame arrives within the bound.
async fn refused_frame(
    timings: &mut Timings,
    what: &str,
    client: &mut ChatClient,
    frame: &Value,
    client_msg_id: &str,
) {
    let started = Instant::now();
    client.send(frame).await;
    let answer = client
        .next_of("error", Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("{what}: no error frame"));
    assert_eq!(answer["code"], "SERVICE_UNAVAILABLE", "{what}: {answer}");
    assert_eq!(answer["clientMsgId"], client_msg_id, "{what}: {answer}");
    timings.record(what, started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outages_of_redis_and_dynamodb_answer_503_promptly_and_heal() {
    if real_redis().is_none() {
        return;
    }
    let mut redis = Service::start(Kind::Redis).await;
    let mut moto = Service::start(Kind::Moto).await;
    // Alone in this binary (see the module's documentation), so no other test reads it.
    std::env::set_var("AWS_ENDPOINT_URL", moto.url("http"));

    let run = ulid_like();
    let records = format!("outage-records-{run}");
    let search = format!("outage-search-{run}");
    let admin = unique("admin");
    let p = start(&[
        ("ADMIN_EMAILS", admin.clone()),
        ("REDIS_URL", format!("{}/", redis.url("redis"))),
        ("RECORDS_TABLE", records.clone()),
        ("SEARCH_TABLE", search.clone()),
        ("ADMIT_RATE_PER_SECOND", "50".into()),
        (
            "JWT_SECRET",
            "an-outage-test-secret-long-enough-12345".into(),
        ),
    ])
    .await;

    let fid = redis_outage(&p, &mut redis, &admin).await;
    aws_outage(&p, &mut moto, &records, &search, &admin, &fid).await;
}

/// Redis (lines, admissions, presence, search cache) killed mid-run and restarted empty.
async fn redis_outage(p: &Platform, redis: &mut Service, admin: &str) -> String {
    use Method as M;
    let admin_token = p.account(admin).await["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let mut body = festival("장애 대비 축제", "레디스 장애 시험");
    body["startDate"] = json!(DATE);
    body["endDate"] = json!("2027-05-02");
    body["ticketsPerDay"] = json!(STOCK);
    let (s, fest) = p
        .call(M::POST, "/festivals/create", Some(&admin_token), Some(body))
        .await;
    assert_eq!(s, 201, "{fest}");
    let fid = fest["festivalId"].as_str().unwrap().to_string();
    let room = fest["chatRoomId"].as_str().unwrap().to_string();
    let mut fans = Vec::new();
    for i in 0..6 {
        fans.push(p.fan(&format!("outage{i}")).await);
    }

    // Before: three fans queue and book one ticket each; two chat.
    for (i, fan) in fans.iter().enumerate().take(3) {
        p.admitted(&fid, fan).await;
        let booked = p.book(&fid, fan, &format!("k-{i}")).await;
        assert_eq!(booked.status, 201, "{}", booked.body);
    }
    let before = p.confirmed(&fid, &fans).await;
    assert_eq!(before.len(), 3);
    for fan in &fans[..3] {
        let (s, body) = p
            .call(
                M::POST,
                &format!("/festivals/chatting/{room}/join"),
                Some(&fan.token),
                None,
            )
            .await;
        assert_eq!(s, 200, "{body}");
    }
    let mut sender = p.connect(&fans[0]).await;
    let listener = p.connect(&fans[1]).await;
    tokio::time::sleep(Duration::from_millis(200)).await; // both $connects done
    for n in 1..=3 {
        let id = format!("m-{n}");
        sender.send(&send(&room, &format!("메시지 {n}"), &id)).await;
        assert_eq!(ack(&mut sender, &id).await, n);
    }

    // Frozen: Redis holds every connection and answers nothing; only the timeouts end the
    // requests, within the bound, and nothing is stored meanwhile.
    redis.signal("-STOP");
    let mut frozen = Timings::default();
    let late = &fans[3];
    let join_late = format!("/queues/{fid}/waiting-room/users/{}", late.email);
    let answer = timed(p, M::GET, &join_late, Some(&late.token), None, None).await;
    unavailable(&mut frozen, "GET join", &answer);
    let booked = p.book(&fid, late, "k-3").await;
    unavailable(&mut frozen, "POST reservations", &booked);
    let answer = timed(
        p,
        M::GET,
        &format!("/festivals/chatting/{room}"),
        Some(&fans[0].token),
        None,
        None,
    )
    .await;
    unavailable(&mut frozen, "GET chat room", &answer);
    refused_frame(
        &mut frozen,
        "ws sendMessage",
        &mut sender,
        &send(&room, "멈춤", "frozen-1"),
        "frozen-1",
    )
    .await;
    frozen.print("Redis frozen");
    redis.signal("-CONT");
    // Resumed with its data: served again at once, the line and the lost frame intact.
    let started = Instant::now();
    loop {
        let answer = timed(p, M::GET, &join_late, Some(&late.token), None, None).await;
        if answer.status == 200 {
            break;
        }
        assert!(
            started.elapsed() < RECOVERY,
            "never recovered: {}",
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("Redis resumed: serving again after {:?}", started.elapsed());
    sender.send(&send(&room, "멈춤", "frozen-1")).await;
    assert_eq!(ack(&mut sender, "frozen-1").await, 4, "stored once, now");
    let leave = format!("/queues/{fid}/users/{}/leave", late.email);
    let (s, _) = p.call(M::DELETE, &leave, Some(&late.token), None).await;
    assert_eq!(s, 204);

    // Down: every route that needs Redis answers 503 promptly, a few rounds over.
    redis.kill();
    let mut timings = Timings::default();
    let queue =
        |path: &str, fan: &Fan| format!("/queues/{fid}/{path}").replace("{email}", &fan.email);
    for round in 0..3 {
        for (what, method, path, fan) in [
            (
                "GET join",
                M::GET,
                queue("waiting-room/users/{email}", late),
                late,
            ),
            ("GET rank", M::GET, queue("users/{email}/rank", late), late),
            (
                "GET allowed",
                M::GET,
                queue("users/{email}/allowed", &fans[0]),
                &fans[0],
            ),
            (
                "DELETE leave",
                M::DELETE,
                queue("users/{email}/leave", late),
                late,
            ),
            (
                "DELETE leave-proceed",
                M::DELETE,
                queue("users/{email}/leave-proceed", &fans[0]),
                &fans[0],
            ),
            (
                "GET chat room",
                M::GET,
                format!("/festivals/chatting/{room}"),
                &fans[0],
            ),
            (
                "GET chat list",
                M::GET,
                "/festivals/chatting/list".to_string(),
                &fans[0],
            ),
            (
                "POST chat join",
                M::POST,
                format!("/festivals/chatting/{room}/join"),
                &fans[3],
            ),
        ] {
            let answer = timed(p, method, &path, Some(&fan.token), None, None).await;
            unavailable(&mut timings, what, &answer);
        }
        let booked = p.book(&fid, late, "k-3").await;
        unavailable(&mut timings, "POST reservations", &booked);

        // The search cache is only a cache: a search answers from the index.
        let search = timed(
            p,
            M::GET,
            &format!("/festivals/search?keyword={}", urlencode("장애")),
            None,
            None,
            None,
        )
        .await;
        assert_eq!(search.status, 200, "{}", search.body);
        timings.record("GET search (cache down, index answers)", search.took);
        // Routes that need no Redis are unaffected.
        let festival = timed(p, M::GET, &format!("/festivals/{fid}"), None, None, None).await;
        assert_eq!(festival.status, 200);
        timings.record("GET festival (no Redis needed)", festival.took);

        // Chat: the send is refused before anything is stored (the rate limit is in Redis).
        let id = format!("down-{round}");
        refused_frame(
            &mut timings,
            "ws sendMessage",
            &mut sender,
            &send(&room, "장애 중", &id),
            &id,
        )
        .await;
        // A new socket cannot be registered in presence (nor counted against the user's five):
        // the upgrade is refused with 503, as API Gateway refuses a `$connect` that answers it.
        let started = Instant::now();
        match ChatClient::connect(&p.ws(), &fans[1].token).await {
            Err(ConnectError::Refused(503)) => {}
            Err(other) => panic!("ws connect: {other:?}"),
            Ok(_) => panic!("ws connect: upgraded while presence is down"),
        }
        timings.record("ws connect (503 refused)", started.elapsed());
    }
    timings.print("Redis");
    // Nothing was booked, stored or taken from stock meanwhile.
    assert_eq!(p.confirmed(&fid, &fans).await, before);
    assert_eq!(p.remaining(&fid).await, STOCK - 3);

    // Back, empty: the same process serves again without a restart.
    redis.restart().await;
    let started = Instant::now();
    let mut refused = 0;
    loop {
        let answer = timed(
            p,
            M::GET,
            &queue("users/{email}/rank", late),
            Some(&late.token),
            None,
            None,
        )
        .await;
        if answer.status == 200 {
            break;
        }
        unavailable(&mut timings, "GET rank while Redis restarts", &answer);
        refused += 1;
        assert!(started.elapsed() < RECOVERY, "never recovered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "Redis back: serving again after {:?} ({refused} answers 503 first)",
        started.elapsed()
    );

    // The lines were in the lost Redis: everyone queues again. The three late fans race for
    // the one ticket left (k-3 was refused while down, so it books now or sells out).
    for fan in &fans[3..] {
        p.admitted(&fid, fan).await;
    }
    let keys: Vec<String> = (3..fans.len()).map(|i| format!("k-{i}")).collect();
    let bookings = futures_util::future::join_all(
        fans[3..]
            .iter()
            .zip(&keys)
            .map(|(fan, key)| p.book(&fid, fan, key)),
    )
    .await;
    let statuses: Vec<u16> = bookings.iter().map(|b| b.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    for b in &bookings {
        assert!(
            b.status == 201 || code(&b.body) == "SOLD_OUT",
            "{} {}",
            b.status,
            b.body
        );
    }
    // A retry of a booking made before the outage answers the same reservation.
    p.admitted(&fid, &fans[0]).await;
    let again = p.book(&fid, &fans[0], "k-0").await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert!(before.contains_key(again.body["reservationId"].as_str().unwrap()));
    // Stock: never oversold, and every confirmed ticket is taken from it.
    let held = p.confirmed(&fid, &fans).await;
    let sold: u64 = held.values().sum();
    assert_eq!(sold, STOCK, "{held:?}");
    assert_eq!(p.remaining(&fid).await, 0);

    // Chat: the half-joined member joins again harmlessly; sockets opened now are routed; a
    // send refused while down is sent again and stored once; seqs have no gap or repeat.
    let (s, body) = p
        .call(
            M::POST,
            &format!("/festivals/chatting/{room}/join"),
            Some(&fans[3].token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["memberCount"], 4, "{body}");
    drop(listener);
    let mut sender = p.connect(&fans[0]).await;
    let mut listener = p.connect(&fans[1]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    sender.send(&send(&room, "다시 연결", "down-0")).await;
    assert_eq!(ack(&mut sender, "down-0").await, 5);
    sender.send(&send(&room, "메시지 2", "m-2")).await;
    assert_eq!(ack(&mut sender, "m-2").await, 2, "a resend keeps its seq");
    sender.send(&send(&room, "메시지 6", "m-6")).await;
    assert_eq!(ack(&mut sender, "m-6").await, 6);
    let heard = listener
        .next_of("message", Duration::from_secs(10))
        .await
        .expect("the listener hears the next message live");
    assert_eq!(heard["seq"], 5, "{heard}");
    let history = p.history(&room, &fans[1]).await;
    let expected: Vec<(u64, String)> = ["m-1", "m-2", "m-3", "frozen-1", "down-0", "m-6"]
        .iter()
        .enumerate()
        .map(|(i, id)| (i as u64 + 1, id.to_string()))
        .collect();
    assert_eq!(history, expected);
    fid
}

/// moto (every DynamoDB table) killed mid-run and restarted empty; the tables are made again.
async fn aws_outage(
    p: &Platform,
    moto: &mut Service,
    records: &str,
    search: &str,
    admin: &str,
    fid: &str,
) {
    use Method as M;
    let fan = p.fan("aws-outage").await;
    let (s, body) = p
        .call(
            M::POST,
            &format!("/festivals/chatting/{fid}/join"),
            Some(&fan.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let mut chat = p.connect(&fan).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Frozen: moto accepts connections and answers nothing; the SDK's timeouts end each call.
    moto.signal("-STOP");
    let mut frozen = Timings::default();
    let answer = timed(p, M::GET, &format!("/festivals/{fid}"), None, None, None).await;
    unavailable(&mut frozen, "GET festival", &answer);
    let answer = timed(p, M::GET, "/reservations", Some(&fan.token), None, None).await;
    unavailable(&mut frozen, "GET reservations", &answer);
    refused_frame(
        &mut frozen,
        "ws sendMessage",
        &mut chat,
        &send(fid, "멈춤", "aws-frozen"),
        "aws-frozen",
    )
    .await;
    frozen.print("DynamoDB frozen");
    moto.signal("-CONT");
    let started = Instant::now();
    loop {
        let (s, _) = p
            .call(M::GET, "/reservations", Some(&fan.token), None)
            .await;
        if s == 200 {
            break;
        }
        assert!(started.elapsed() < RECOVERY, "never recovered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "DynamoDB resumed: serving again after {:?}",
        started.elapsed()
    );

    moto.kill();
    let mut timings = Timings::default();
    for round in 0..3 {
        let email = unique("while-down");
        for (what, method, path, token, body) in [
            (
                "GET festival",
                M::GET,
                format!("/festivals/{fid}"),
                None,
                None,
            ),
            (
                "GET festivals",
                M::GET,
                "/festivals".to_string(),
                None,
                None,
            ),
            (
                "GET search",
                M::GET,
                format!("/festivals/search?keyword=down{round}"),
                None,
                None,
            ),
            (
                "POST signup",
                M::POST,
                "/signup".to_string(),
                None,
                Some(json!({"email": email, "password": "festival-pass", "name": "팬"})),
            ),
            (
                "POST login",
                M::POST,
                "/login".to_string(),
                None,
                Some(json!({"email": fan.email, "password": "festival-pass"})),
            ),
            (
                "GET reservations",
                M::GET,
                "/reservations".to_string(),
                Some(&fan.token),
                None,
            ),
            (
                "POST reservations",
                M::POST,
                "/reservations".to_string(),
                Some(&fan.token),
                Some(json!({"festivalId": fid, "festivalDate": DATE})),
            ),
            (
                "GET join",
                M::GET,
                format!("/queues/{fid}/waiting-room/users/{}", fan.email),
                Some(&fan.token),
                None,
            ),
            (
                "GET chat list",
                M::GET,
                "/festivals/chatting/list".to_string(),
                Some(&fan.token),
                None,
            ),
        ] {
            let answer = timed(p, method, &path, token.map(String::as_str), body, None).await;
            unavailable(&mut timings, what, &answer);
        }
        let id = format!("aws-down-{round}");
        refused_frame(
            &mut timings,
            "ws sendMessage",
            &mut chat,
            &send(fid, "장애 중", &id),
            &id,
        )
        .await;
        // The token's login cannot be checked: the upgrade is refused with 503.
        let started = Instant::now();
        match ChatClient::connect(&p.ws(), &fan.token).await {
            Err(ConnectError::Refused(503)) => {}
            Err(other) => panic!("ws connect: {other:?}"),
            Ok(_) => panic!("ws connect: upgraded while the session store is down"),
        }
        timings.record("ws connect (503 refused)", started.elapsed());
        let health = timed(p, M::GET, "/health", None, None, None).await;
        assert_eq!(health.status, 200);
    }
    timings.print("DynamoDB");

    // Back, empty: the operator restores the tables; the running process serves again.
    moto.restart().await;
    let started = Instant::now();
    let aws = festa::adapters::aws::load().await;
    let client = festa::adapters::aws::dynamodb(&aws);
    festa::adapters::dynamodb::ensure_tables(&client, records, search)
        .await
        .unwrap();
    festa::adapters::dynamodb::ensure_chat_tables(
        &client,
        &format!("{records}-messages"),
        &format!("{records}-connections"),
    )
    .await
    .unwrap();
    // Every record is gone with the old moto: the old login no longer holds.
    let (s, _) = p
        .call(M::GET, "/reservations", Some(&fan.token), None)
        .await;
    assert_eq!(s, 401);
    let admin_token = p.account(admin).await["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let mut body = festival("복구 축제", "다시 열림");
    body["startDate"] = json!(DATE);
    body["endDate"] = json!(DATE);
    let (s, fest) = p
        .call(M::POST, "/festivals/create", Some(&admin_token), Some(body))
        .await;
    assert_eq!(s, 201, "{fest}");
    let new_fid = fest["festivalId"].as_str().unwrap().to_string();
    let fan = p.fan("aws-back").await;
    p.admitted(&new_fid, &fan).await;
    let booked = p.book(&new_fid, &fan, "after-aws").await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let (s, body) = p
        .call(
            M::POST,
            &format!("/festivals/chatting/{new_fid}/join"),
            Some(&fan.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let mut chat = p.connect(&fan).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    chat.send(&send(&new_fid, "복구됨", "back-1")).await;
    assert_eq!(ack(&mut chat, "back-1").await, 1);
    eprintln!(
        "DynamoDB back: tables restored and serving after {:?}",
        started.elapsed()
    );
}
