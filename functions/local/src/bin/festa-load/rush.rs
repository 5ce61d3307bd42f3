//! `festa-load rush`: the original system's waiting-room load test, replayed.
//!
//! N virtual users, each a real account (signed up, confirmed through the outbox, logged in
//! before the clock starts), join one festival's line in the same instant, poll their rank
//! when `pollAfterMs` says (or every `--poll-ms`, as the original's users did every 5 s),
//! check their admission once the rank says they are through, book one ticket, and give the
//! admission up. Prints requests per second, latency percentiles per route, errors, tickets
//! sold against stock and the time the line took to drain.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Arg, ArgMatches, Command};
use hdrhistogram::Histogram;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::accounts::{create_accounts, Api, Error, User};
/// A virtual user that has not finished by then counts as an error.
const GIVE_UP_AFTER: Duration = Duration::from_secs(30 * 60);

/// The `rush` subcommand's arguments.
pub fn command() -> Command {
    Command::new("rush")
        .about(
            "N real accounts rush one festival's waiting room, then book (the original's scenario)",
        )
        .arg(
            Arg::new("users")
                .long("users")
                .default_value("1000")
                .value_parser(clap::value_parser!(usize)),
        )
        .arg(
            Arg::new("tickets")
                .long("tickets")
                .default_value("800")
                .value_parser(clap::value_parser!(u64))
                .help("tickets for the festival date (fewer than users shows SOLD_OUT at work)"),
        )
        .arg(
            Arg::new("rate")
                .long("rate")
                .value_parser(clap::value_parser!(u32))
                .help("admissions per second (default: ADMIT_RATE_PER_SECOND, else 10)"),
        )
        .arg(
            Arg::new("poll-ms")
                .long("poll-ms")
                .value_parser(clap::value_parser!(u64))
                .help("poll every N ms instead of following pollAfterMs (the original: 5000)"),
        )
        .arg(
            Arg::new("setup-concurrency")
                .long("setup-concurrency")
                .default_value("8")
                .value_parser(clap::value_parser!(usize))
                .help("accounts created at once before the rush"),
        )
}

/// One request's outcome.
struct Sample {
    route: &'static str,
    micros: u64,
    ok: bool,
}

/// What one virtual user did.
#[derive(Default)]
struct Journey {
    samples: Vec<Sample>,
    admitted_after: Option<Duration>,
    booked: bool,
    sold_out: bool,
    failed: bool,
}

/// Runs the scenario and prints the report.
pub async fn run(args: &ArgMatches) -> Result<(), Error> {
    let users = *args.get_one::<usize>("users").unwrap();
    let tickets = *args.get_one::<u64>("tickets").unwrap();
    let poll_ms = args.get_one::<u64>("poll-ms").copied();
    let setup_concurrency = (*args.get_one::<usize>("setup-concurrency").unwrap()).max(1);

    let mut config = festa::config::Config::from_env()?;
    if let Some(rate) = args.get_one::<u32>("rate") {
        config.admit_rate_per_second = *rate;
    }
    let rate = config.admit_rate_per_second;
    let run_id = ulid::Ulid::generate().to_string().to_lowercase();
    let admin = format!("rush-admin-{run_id}@festa.load");
    config.admin_emails.insert(admin.clone());
    let platform = festa_local::build(config).await?;
    println!("platform: {}", platform.description.join("; "));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, platform.router).await });
    let api = Arc::new(Api {
        http: Client::builder()
            .pool_max_idle_per_host(usize::MAX)
            .build()?,
        base,
    });

    // Set-up, off the clock: the festival and every account.
    let admin_token = api.account(&admin, "Rush admin").await?;
    let day = chrono::Utc::now().date_naive() + chrono::Days::new(30);
    let (s, festival) = api
        .send(
            api.http
                .post(format!("{}/festivals/create", api.base))
                .bearer_auth(&admin_token)
                .json(&json!({
                    "name": "부하 시험 불꽃축제", "description": "rush", "location": "서울",
                    "startDate": day, "endDate": day, "ticketsPerDay": tickets,
                })),
        )
        .await?;
    if s != StatusCode::CREATED {
        return Err(format!("festival creation {s}: {festival}").into());
    }
    let festival_id = festival["festivalId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let set_up = Instant::now();
    let accounts = create_accounts(&api, &run_id, users, setup_concurrency).await?;
    println!(
        "set-up: {users} accounts in {:.1} s (sign-up, confirmation, login; not measured below)",
        set_up.elapsed().as_secs_f64()
    );
    println!(
        "rush: {users} users, {tickets} tickets, admitting {rate}/s, polling {}",
        poll_ms.map_or("at pollAfterMs".to_string(), |ms| format!("every {ms} ms"))
    );

    // The rush: everyone joins at the same instant.
    let start = Arc::new(tokio::sync::Barrier::new(users + 1));
    let mut journeys = tokio::task::JoinSet::new();
    for user in accounts {
        let (api, start, festival_id) = (api.clone(), start.clone(), festival_id.clone());
        journeys.spawn(async move {
            start.wait().await;
            let began = Instant::now();
            journey(&api, &festival_id, day, &user, poll_ms, began).await
        });
    }
    start.wait().await;
    let began = Instant::now();
    let mut all = Vec::with_capacity(users);
    while let Some(done) = journeys.join_next().await {
        all.push(done?);
    }
    let elapsed = began.elapsed();

    let (_, after) = api
        .send(
            api.http
                .get(format!("{}/festivals/{festival_id}", api.base)),
        )
        .await?;
    let remaining = after["tickets"][0]["remaining"]
        .as_u64()
        .unwrap_or_default();
    report(&all, elapsed, tickets, remaining);
    Ok(())
}

/// One virtual user from joining to leaving.
async fn journey(
    api: &Api,
    festival_id: &str,
    day: chrono::NaiveDate,
    user: &User,
    poll_ms: Option<u64>,
    began: Instant,
) -> Journey {
    let mut j = Journey::default();
    let queue = format!("{}/queues/{festival_id}", api.base);
    let join = format!("{queue}/waiting-room/users/{}", user.email);
    let rank = format!("{queue}/users/{}/rank", user.email);
    let allowed = format!("{queue}/users/{}/allowed", user.email);

    let mut status = match timed(&mut j, "join", api, api.http.get(&join), user).await {
        Some((StatusCode::OK, v)) => v,
        _ => return failed(j),
    };
    loop {
        if began.elapsed() > GIVE_UP_AFTER {
            return failed(j);
        }
        if status["rank"].as_i64() == Some(-1) {
            match timed(&mut j, "allowed", api, api.http.get(&allowed), user).await {
                Some((StatusCode::OK, v)) if v["allowed"] == true => break,
                // Not waiting and not admitted (an admission that lapsed): join again.
                Some((StatusCode::OK, _)) => {
                    status = match timed(&mut j, "join", api, api.http.get(&join), user).await {
                        Some((StatusCode::OK, v)) => v,
                        _ => return failed(j),
                    };
                    continue;
                }
                _ => return failed(j),
            }
        }
        let wait = poll_ms.unwrap_or_else(|| status["pollAfterMs"].as_u64().unwrap_or(1000));
        tokio::time::sleep(Duration::from_millis(wait.max(1))).await;
        status = match timed(&mut j, "rank", api, api.http.get(&rank), user).await {
            Some((StatusCode::OK, v)) => v,
            _ => return failed(j),
        };
    }
    j.admitted_after = Some(began.elapsed());

    let book = api
        .http
        .post(format!("{}/reservations", api.base))
        .header("Idempotency-Key", format!("rush-{}", user.email))
        .json(&json!({"festivalId": festival_id, "festivalDate": day}));
    match timed(&mut j, "book", api, book, user).await {
        Some((StatusCode::CREATED, _)) => j.booked = true,
        Some((StatusCode::CONFLICT, v)) if v["code"] == "SOLD_OUT" => {
            j.sold_out = true;
            // A sold-out answer is the system working, not an error.
            if let Some(last) = j.samples.last_mut() {
                last.ok = true;
            }
        }
        _ => return failed(j),
    }
    let leave = api
        .http
        .delete(format!("{queue}/users/{}/leave-proceed", user.email));
    if !matches!(
        timed(&mut j, "leave-proceed", api, leave, user).await,
        Some((StatusCode::NO_CONTENT, _))
    ) {
        j.failed = true;
    }
    j
}

fn failed(mut j: Journey) -> Journey {
    j.failed = true;
    j
}

/// Sends one authenticated request and records its latency under `route`.
async fn timed(
    j: &mut Journey,
    route: &'static str,
    api: &Api,
    req: reqwest::RequestBuilder,
    user: &User,
) -> Option<(StatusCode, Value)> {
    let t = Instant::now();
    let answer = api.send(req.bearer_auth(&user.token)).await.ok();
    let ok = answer.as_ref().is_some_and(|(s, _)| s.is_success());
    j.samples.push(Sample {
        route,
        micros: t.elapsed().as_micros() as u64,
        ok,
    });
    answer
}

fn report(all: &[Journey], elapsed: Duration, tickets: u64, remaining: u64) {
    let histogram = || Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    let mut routes: BTreeMap<&str, (Histogram<u64>, usize)> = BTreeMap::new();
    let mut overall = histogram();
    for s in all.iter().flat_map(|j| &j.samples) {
        let (h, errors) = routes.entry(s.route).or_insert_with(|| (histogram(), 0));
        h.saturating_record(s.micros);
        overall.saturating_record(s.micros);
        if !s.ok {
            *errors += 1;
        }
    }
    let requests = overall.len();
    let errors: usize = routes.values().map(|(_, e)| e).sum();
    let booked = all.iter().filter(|j| j.booked).count();
    let sold_out = all.iter().filter(|j| j.sold_out).count();
    let failed = all.iter().filter(|j| j.failed).count();
    let drained = all.iter().filter_map(|j| j.admitted_after).max();
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!();
    println!(
        "requests {requests} in {:.1} s: {:.1} req/s; errors {errors} ({:.2}%); users failed {failed}",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        100.0 * errors as f64 / requests.max(1) as f64
    );
    println!(
        "{:<14} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "route (ms)", "requests", "mean", "p50", "p95", "p99", "max", "errors"
    );
    for (route, (h, errors)) in routes
        .iter()
        .map(|(r, v)| (*r, v))
        .chain([("all", &(overall, errors))])
    {
        println!(
            "{route:<14} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {errors:>7}",
            h.len(),
            h.mean() / 1000.0,
            ms(h, 0.5),
            ms(h, 0.95),
            ms(h, 0.99),
            h.max() as f64 / 1000.0,
        );
    }
    println!(
        "tickets: {booked} sold of {tickets} (SOLD_OUT answers {sold_out}); remaining {remaining}; {}",
        if booked as u64 + remaining == tickets {
            "sold + remaining = stock"
        } else {
            "MISMATCH: sold + remaining != stock"
        }
    );
    if let Some(drained) = drained {
        println!(
            "line drained in {:.1} s (last admission after the rush began)",
            drained.as_secs_f64()
        );
    }
}
