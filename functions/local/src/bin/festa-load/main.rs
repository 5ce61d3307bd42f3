//! Load tests of the local platform.
//!
//! `festa-load rush`: the original waiting-room scenario (see `rush.rs`).
//!
//! `festa-load chat`: 1,000 WebSocket clients in one room, and history pages (see `chat.rs`).
//!
//! `festa-load reminders`: plans and sends reminders for 100,000 reservations (see
//! `reminders.rs`).
//!
//! `festa-load cost`: what one ticket rush costs on AWS, per route (see `cost.rs`).
//!
//! `festa-load search`: seeds a catalogue into an in-process local platform, then measures
//! `GET /festivals/search` over HTTP: first every distinct query once (answered by the n-gram
//! index), then a fixed number of repeated queries (answered by the cache: in process by
//! default, Redis when `REDIS_URL` is set). Prints throughput and latency percentiles.

mod accounts;
mod chat;
mod cost;
mod reminders;
mod rush;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Arg, Command};
use festa::model::Role;
use festa::services::festivals::CreateFestivalRequest;
use festa::services::tokens::Identity;
use hdrhistogram::Histogram;
use rand::RngExt;

const CITIES: &[&str] = &[
    "서울",
    "부산",
    "대구",
    "인천",
    "광주",
    "대전",
    "울산",
    "제주",
    "전주",
    "강릉",
    "Seoul",
    "Busan",
    "Jeju",
    "Gyeongju",
    "Suwon",
    "Pohang",
    "Andong",
    "Boryeong",
    "Tongyeong",
    "Yeosu",
];
const THEMES: &[&str] = &[
    "불꽃", "록", "재즈", "머드", "유등", "벚꽃", "맥주", "와인", "음식", "영화", "빛", "연극",
    "국악", "탈춤", "Jazz", "Rock", "Food", "Film", "Lantern", "Kpop", "EDM", "Classic", "Craft",
    "Tea", "Kimchi",
];
const KINDS: &[&str] = &[
    "축제",
    "페스티벌",
    "Festival",
    "한마당",
    "대축제",
    "Fair",
    "Week",
];
/// The API's default page size, which the load test uses.
const PAGE_SIZE: usize = 20;
const VENUES: &[&str] = &[
    "한강공원",
    "해수욕장",
    "시민광장",
    "Arena",
    "Riverside",
    "Forest Park",
    "문화회관",
    "Old Town",
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Command::new("festa-load")
        .about("Load tests for the local platform")
        .subcommand_required(true)
        .subcommand(
            Command::new("search")
                .about("GET /festivals/search on a large catalogue")
                .arg(
                    Arg::new("festivals")
                        .long("festivals")
                        .default_value("100000")
                        .value_parser(clap::value_parser!(usize)),
                )
                .arg(
                    Arg::new("queries")
                        .long("queries")
                        .default_value("2000")
                        .value_parser(clap::value_parser!(usize))
                        .help("distinct keywords (each first answered by the index)"),
                )
                .arg(
                    Arg::new("requests")
                        .long("requests")
                        .default_value("20000")
                        .value_parser(clap::value_parser!(usize))
                        .help("repeated requests after the first pass"),
                )
                .arg(
                    Arg::new("concurrency")
                        .long("concurrency")
                        .default_value("32")
                        .value_parser(clap::value_parser!(usize)),
                ),
        )
        .subcommand(rush::command())
        .subcommand(chat::command())
        .subcommand(reminders::command())
        .subcommand(cost::command())
        .get_matches();
    let args = match args.subcommand() {
        Some(("rush", args)) => return rush::run(args).await,
        Some(("chat", args)) => return chat::run(args).await,
        Some(("reminders", args)) => return reminders::run(args).await,
        Some(("cost", args)) => return cost::run(args).await,
        Some(("search", args)) => args,
        _ => unreachable!("subcommand required"),
    };
    let festivals = *args.get_one::<usize>("festivals").unwrap();
    let queries = *args.get_one::<usize>("queries").unwrap();
    let requests = *args.get_one::<usize>("requests").unwrap();
    let concurrency = *args.get_one::<usize>("concurrency").unwrap().max(&1);

    let config = festa::config::Config::from_env()?;
    let cache = match &config.cache {
        festa::config::CacheTarget::InProcess => "in-process cache",
        _ => "Redis cache",
    };
    let platform = festa_local::build(config).await?;
    println!("records: {}", platform.description.join("; "));

    let started = Instant::now();
    seed(&platform.festivals, festivals).await?;
    let seeded = started.elapsed();
    println!(
        "seeded {festivals} festivals in {:.1} s ({:.0}/s)",
        seeded.as_secs_f64(),
        festivals as f64 / seeded.as_secs_f64()
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, platform.router).await });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;

    let keywords = Arc::new(keyword_mix(queries));
    let cold: Vec<String> = keywords.iter().cloned().collect();
    let report = run(&client, &base, cold, concurrency).await;
    report.print(&format!(
        "search, first time per keyword (n-gram index, {festivals} festivals)"
    ));
    let mut rng = rand::rng();
    let warm: Vec<String> = (0..requests)
        .map(|_| keywords[rng.random_range(0..keywords.len())].clone())
        .collect();
    let report = run(&client, &base, warm, concurrency).await;
    report.print(&format!("search, repeated keywords ({cache})"));
    Ok(())
}

async fn seed(
    festivals: &festa::services::festivals::Festivals,
    count: usize,
) -> festa::AppResult<()> {
    let admin = Identity {
        user_id: "load".into(),
        email: "load@festa.local".into(),
        name: "load".into(),
        role: Role::Admin,
        session_id: "load".into(),
        expires_at: chrono::Utc::now() + chrono::Duration::days(1),
    };
    let start = chrono::NaiveDate::from_ymd_opt(2027, 5, 1).unwrap();
    let mut pending = tokio::task::JoinSet::new();
    for i in 0..count {
        let (city, theme, kind) = (
            CITIES[i % CITIES.len()],
            THEMES[(i / 3) % THEMES.len()],
            KINDS[(i / 7) % KINDS.len()],
        );
        let request = CreateFestivalRequest {
            name: format!("{city} {theme} {kind} {i}"),
            description: format!(
                "{city}에서 열리는 {theme} {kind}. {} 공연과 먹거리, 체험 프로그램 No.{i}",
                THEMES[(i * 7) % THEMES.len()]
            ),
            location: format!("{city} {}", VENUES[i % VENUES.len()]),
            start_date: start + chrono::Duration::days((i % 200) as i64),
            end_date: start + chrono::Duration::days((i % 200) as i64 + (i % 3) as i64),
            tickets_per_day: 1000,
            price: Some(10_000),
            image_url: None,
            time_zone: None,
        };
        let (festivals, admin) = (festivals.clone(), admin.clone());
        pending.spawn(async move { festivals.create(&admin, request).await.map(|_| ()) });
        if pending.len() >= 64 {
            pending
                .join_next()
                .await
                .expect("a task")
                .map_err(festa::AppError::internal)??;
        }
    }
    while let Some(done) = pending.join_next().await {
        done.map_err(festa::AppError::internal)??;
    }
    Ok(())
}

/// Keywords people type: a theme, a city and a theme, a word fragment, a festival number.
fn keyword_mix(count: usize) -> Vec<String> {
    let mut rng = rand::rng();
    let mut seen = std::collections::HashSet::new();
    let mut keywords = Vec::with_capacity(count);
    for _ in 0..count.saturating_mul(50) {
        if keywords.len() == count {
            break;
        }
        let keyword = match rng.random_range(0..4) {
            0 => THEMES[rng.random_range(0..THEMES.len())].to_string(),
            1 => format!(
                "{} {}",
                CITIES[rng.random_range(0..CITIES.len())],
                THEMES[rng.random_range(0..THEMES.len())]
            ),
            2 => format!(
                "{} {}",
                THEMES[rng.random_range(0..THEMES.len())],
                KINDS[rng.random_range(0..KINDS.len())]
            ),
            _ => format!("No.{}", rng.random_range(0..100_000)),
        };
        if seen.insert(keyword.clone()) {
            keywords.push(keyword);
        }
    }
    keywords
}

struct Report {
    latencies: Histogram<u64>,
    errors: usize,
    elapsed: Duration,
    items: usize,
    /// Pages the read budget cut short: fewer than a full page, yet a cursor to go on.
    early_pages: usize,
}

impl Report {
    fn print(&self, title: &str) {
        let h = &self.latencies;
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        println!("{title}");
        println!(
            "  requests {}  errors {}  throughput {:.0} req/s  results/request {:.1}  pages cut short by the read budget {}",
            h.len(),
            self.errors,
            h.len() as f64 / self.elapsed.as_secs_f64(),
            self.items as f64 / h.len().max(1) as f64,
            self.early_pages
        );
        println!(
            "  latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}  mean {:.2}",
            ms(0.5),
            ms(0.9),
            ms(0.99),
            h.max() as f64 / 1000.0,
            h.mean() / 1000.0
        );
    }
}

async fn run(
    client: &reqwest::Client,
    base: &str,
    keywords: Vec<String>,
    concurrency: usize,
) -> Report {
    let work = Arc::new(std::sync::Mutex::new(keywords));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, base, work) = (client.clone(), base.to_string(), work.clone());
        workers.spawn(async move {
            let mut latencies = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
            let (mut errors, mut items, mut early_pages) = (0, 0, 0);
            loop {
                let Some(keyword) = work.lock().unwrap().pop() else {
                    break;
                };
                let t = Instant::now();
                let answer = client
                    .get(format!("{base}/festivals/search"))
                    .query(&[("keyword", keyword.as_str())])
                    .send()
                    .await;
                let ok = match answer {
                    Ok(res) if res.status().is_success() => {
                        match res.json::<serde_json::Value>().await {
                            Ok(page) => {
                                let count = page["items"].as_array().map_or(0, Vec::len);
                                items += count;
                                if count < PAGE_SIZE && !page["nextCursor"].is_null() {
                                    early_pages += 1;
                                }
                                true
                            }
                            Err(_) => false,
                        }
                    }
                    _ => false,
                };
                latencies.saturating_record(t.elapsed().as_micros() as u64);
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors, items, early_pages)
        });
    }
    let mut report = Report {
        latencies: Histogram::new_with_bounds(1, 60_000_000, 3).unwrap(),
        errors: 0,
        elapsed: Duration::ZERO,
        items: 0,
        early_pages: 0,
    };
    while let Some(done) = workers.join_next().await {
        let (latencies, errors, items, early_pages) = done.expect("worker");
        report.early_pages += early_pages;
        report.latencies.add(latencies).unwrap();
        report.errors += errors;
        report.items += items;
    }
    report.elapsed = started.elapsed();
    report
}
