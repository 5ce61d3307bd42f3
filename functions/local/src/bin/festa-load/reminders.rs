//! `festa-load reminders`: the reminder pipeline on one festival date with N confirmed
//! reservations (one device each), in process. Measures the planner (jobs queued a second,
//! slice latency) and the sender twice: into the in-memory outbox, and through the real FCM
//! HTTP v1 client against a local FCM stub (OAuth token included). Every push is counted, and
//! a second run over the same jobs must send nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::{Json, Router};
use chrono::{NaiveDate, TimeZone, Utc};
use clap::{Arg, ArgMatches, Command};
use festa::adapters::fcm::FcmGateway;
use festa::adapters::memory::{
    MemoryDevices, MemoryRecords, MemoryReminderLedger, MemoryReminderQueue,
};
use festa::adapters::outbox::Outbox;
use festa::adapters::system::SystemClock;
use festa::model::{Device, Festival, Reservation, ReservationStatus, TicketStock};
use festa::ports::{DeviceRegistry, FestivalStore, PushGateway, ReservationStore};
use festa::services::reminders::{Planner, PlannerMessage, Sender};
use futures_util::stream::{self, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{json, Value};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The throwaway test service account (it grants nothing anywhere): the stub's OAuth
/// endpoint accepts any signed assertion.
const TEST_KEY: &str =
    include_str!("../../../../../shared/tests/fixtures/fcm-test-service-account.json");

pub fn command() -> Command {
    let number = |name: &'static str, default: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .default_value(default)
            .value_parser(clap::value_parser!(usize))
            .help(help)
    };
    Command::new("reminders")
        .about("Plans and sends reminders for N reservations of one festival date, in process")
        .arg(number(
            "reservations",
            "100000",
            "confirmed reservations, one device each",
        ))
        .arg(number("concurrency", "64", "jobs sent at once"))
}

pub async fn run(args: &ArgMatches) -> Result<(), Error> {
    let count = *args.get_one::<usize>("reservations").unwrap();
    let concurrency = (*args.get_one::<usize>("concurrency").unwrap()).max(1);
    let date = NaiveDate::from_ymd_opt(2027, 5, 5).unwrap();
    let at = Utc.with_ymd_and_hms(2027, 5, 4, 0, 0, 0).unwrap();

    let records = Arc::new(MemoryRecords::new());
    let devices = Arc::new(MemoryDevices::new());
    let festival_id = ulid::Ulid::generate().to_string();
    records
        .create_festival(&Festival {
            festival_id: festival_id.clone(),
            name: "부하 테스트 축제".into(),
            description: String::new(),
            location: "서울".into(),
            start_date: date,
            end_date: date,
            time_zone: "Asia/Seoul".into(),
            price: 0,
            image_url: None,
            chat_room_id: festival_id.clone(),
            tickets: vec![TicketStock {
                date,
                total: count as u32,
                remaining: count as u32,
            }],
            created_at: at,
        })
        .await?;
    let setup = Instant::now();
    for i in 0..count {
        let email = format!("fan{i}@load.test");
        let reservation = Reservation {
            reservation_id: ulid::Ulid::generate().to_string(),
            email: email.clone(),
            festival_id: festival_id.clone(),
            festival_name: "부하 테스트 축제".into(),
            festival_date: date,
            quantity: 1,
            status: ReservationStatus::Confirmed,
            created_at: at,
        };
        records.book(&reservation, None, at).await?;
        devices
            .activate(
                &email,
                &Device {
                    token: format!("load-token-{i}:APA91b{}", "x".repeat(140)),
                    platform: None,
                    activated_at: at,
                },
            )
            .await?;
    }
    println!(
        "set up {count} reservations with one device each in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    // The planner: the run, then every slice it hands itself, one after another as the
    // planner queue's batch size of one has them.
    let queue = Arc::new(MemoryReminderQueue::new());
    let planner = Planner::new(
        records.clone(),
        records.clone(),
        queue.clone(),
        queue.clone(),
        Arc::new(SystemClock),
    );
    let mut slices = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let started = Instant::now();
    planner.handle(&PlannerMessage::Run { at }).await?;
    let mut jobs = 0;
    while let Some(task) = queue.take_tasks().pop() {
        let slice = Instant::now();
        let report = planner.handle(&PlannerMessage::Task(task)).await?;
        slices.record(slice.elapsed().as_micros().max(1) as u64)?;
        jobs += report.jobs;
    }
    let planning = started.elapsed();
    let queued = queue.take_jobs();
    assert_eq!(jobs, count);
    assert_eq!(queued.len(), count);
    println!("planner (in memory)");
    println!(
        "  {jobs} jobs in {:.2} s: {:.0} jobs/s, {} slices of up to {} reservations",
        planning.as_secs_f64(),
        jobs as f64 / planning.as_secs_f64(),
        slices.len(),
        planner.page_size * planner.pages_per_task
    );
    print_latency("  slice", &slices);

    let outbox = Arc::new(Outbox::new());
    send(
        "sender → in-memory outbox",
        &queued,
        outbox.clone(),
        concurrency,
        records.clone(),
        devices.clone(),
    )
    .await?;

    let (stub, pushes) = fcm_stub().await?;
    let mut key: Value = serde_json::from_str(TEST_KEY)?;
    key["token_uri"] = json!(format!("{stub}/token"));
    let gateway = Arc::new(FcmGateway::new(&key.to_string(), Some(&stub))?);
    send(
        "sender → FCM HTTP v1 client → local FCM stub (loopback HTTP/1.1)",
        &queued,
        gateway,
        concurrency,
        records,
        devices,
    )
    .await?;
    let received = pushes.load(std::sync::atomic::Ordering::Relaxed);
    println!("  the stub received {received} pushes");
    assert_eq!(received, count, "one push per device, none twice");
    Ok(())
}

/// Sends every job through `gateway` with a fresh ledger, then sends them all again to show
/// the ledger turns every repeat away.
async fn send(
    title: &str,
    jobs: &[festa::model::ReminderJob],
    gateway: Arc<dyn PushGateway>,
    concurrency: usize,
    records: Arc<MemoryRecords>,
    devices: Arc<MemoryDevices>,
) -> Result<(), Error> {
    let sender = Sender {
        reservations: records,
        devices,
        ledger: Arc::new(MemoryReminderLedger::new()),
        gateway,
        clock: Arc::new(SystemClock),
    };
    for round in ["first delivery", "redelivery"] {
        let started = Instant::now();
        let results: Vec<_> = stream::iter(jobs)
            .map(|job| {
                let sender = sender.clone();
                async move {
                    let began = Instant::now();
                    let report = sender.send(job).await;
                    (began.elapsed(), report)
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let elapsed = started.elapsed();
        let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
        let (mut delivered, mut repeats, mut unfinished) = (0, 0, 0);
        for (took, report) in results {
            latency.record(took.as_micros().max(1) as u64)?;
            let report = report?;
            delivered += report.delivered;
            repeats += report.already_sent;
            unfinished += usize::from(report.pending.is_some());
        }
        println!("{title}, {round}");
        println!(
            "  {} jobs in {:.2} s: {:.0} jobs/s at {concurrency} in flight; pushed {delivered}, already sent {repeats}, unfinished {unfinished}",
            jobs.len(),
            elapsed.as_secs_f64(),
            jobs.len() as f64 / elapsed.as_secs_f64()
        );
        print_latency("  job", &latency);
    }
    Ok(())
}

fn print_latency(label: &str, h: &Histogram<u64>) {
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{label} latency ms: p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}",
        ms(0.5),
        ms(0.9),
        ms(0.99),
        h.max() as f64 / 1000.0
    );
}

/// A local stand-in for Google's token endpoint and FCM's `messages:send`, counting pushes.
async fn fcm_stub() -> Result<(String, Arc<std::sync::atomic::AtomicUsize>), Error> {
    let pushes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = pushes.clone();
    let app = Router::new()
        .route(
            "/token",
            post(|| async {
                Json(json!({"access_token": "ya29.load", "expires_in": 3599, "token_type": "Bearer"}))
            }),
        )
        .route(
            "/v1/projects/{project}/messages:send",
            post(move || {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                async move { Json(json!({"name": format!("projects/festa-test/messages/{n}")})) }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    // Give the server task its first poll.
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok((url, pushes))
}
