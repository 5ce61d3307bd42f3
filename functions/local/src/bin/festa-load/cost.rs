//! `festa-load cost`: what one ticket rush costs on AWS, route by route, before anyone deploys.
//!
//! N people open a festival, log in and join its line at the same moment. Each then polls
//! exactly as the API tells it to (`pollAfterMs`, from `festa::services::queue::poll_after`,
//! or every `--poll-ms` like the original system's clients), checks its admission, books and
//! looks at its reservations. The admitter ticks once a second until the line is empty. The
//! model counts every API Gateway request, authorizer invocation (API Gateway caches its answer
//! per token for `--authorizer-ttl` seconds), Lambda invocation and billed duration, DynamoDB
//! request unit, SQS request and event, and prices them.
//!
//! Durations: each route's work on 1 vCPU (measured here; the password hash dominates
//! `login`) scaled to the function's share of a vCPU (Lambda gives 1 vCPU per 1,769 MB), plus a
//! typical in-region latency per call to DynamoDB, Redis, SQS and EventBridge. Cold starts:
//! one per concurrent instance at the busiest second, each billed its measured init time.

use std::collections::BTreeMap;

use clap::{Arg, ArgMatches, Command};
use festa::services::queue::poll_after;

/// Public list prices, us-east-1 (N. Virginia), on-demand, as AWS's pricing pages gave them
/// when this model was written (2026-12-04). Free tiers are left out: a deployment that rushes
/// has used them up. ap-northeast-2 (Seoul, where samconfig.toml deploys) charges the same for
/// Lambda and SQS and somewhat more for API Gateway, DynamoDB and ElastiCache; put your
/// region's prices here to read your own bill.
mod price {
    /// REST API calls, per million (first 333 million a month).
    pub const API_GATEWAY_REST: f64 = 3.50;
    /// Lambda requests, per million.
    pub const LAMBDA_REQUEST: f64 = 0.20;
    /// Lambda duration on arm64, per GB-second.
    pub const LAMBDA_GB_SECOND_ARM: f64 = 0.000_013_333_4;
    /// DynamoDB on-demand write request units, per million.
    pub const DYNAMODB_WRU: f64 = 0.625;
    /// DynamoDB on-demand read request units, per million.
    pub const DYNAMODB_RRU: f64 = 0.125;
    /// SQS standard queue requests, per million.
    pub const SQS_REQUEST: f64 = 0.40;
    /// EventBridge custom events, per million.
    pub const EVENTBRIDGE_EVENT: f64 = 1.00;
    /// ElastiCache cache.t4g.small (Redis OSS), per node-hour; the stack runs two (Multi-AZ).
    pub const REDIS_NODE_HOUR: f64 = 0.032;
    /// NAT gateway, per hour (the push subnets' one), data aside.
    pub const NAT_GATEWAY_HOUR: f64 = 0.045;
    /// Interface VPC endpoints, per endpoint per AZ per hour (SQS, EventBridge, Secrets
    /// Manager in two AZs).
    pub const ENDPOINT_AZ_HOUR: f64 = 0.01;
}

/// Lambda's CPU share: one vCPU per 1,769 MB of memory.
const MB_PER_VCPU: f64 = 1769.0;

/// Typical in-region latency of one call, in ms (DynamoDB single-item, ElastiCache in the same
/// VPC, SQS SendMessage, EventBridge PutEvents).
const DYNAMODB_MS: f64 = 5.0;
const REDIS_MS: f64 = 1.0;
const SQS_MS: f64 = 10.0;
const EVENTS_MS: f64 = 15.0;

/// What one invocation of a route does.
#[derive(Clone, Copy)]
struct Work {
    /// The function's memory size (template.yaml).
    memory_mb: f64,
    /// Work on one full vCPU, ms (JSON, routing, token checks; the password hash for login).
    cpu_ms: f64,
    dynamodb_calls: f64,
    redis_calls: f64,
    sqs_calls: f64,
    event_calls: f64,
    /// Request units of those DynamoDB calls.
    rru: f64,
    wru: f64,
    /// Cold start: spawn to the first `/next`, ms (README, "Proven as Lambdas": the slowest
    /// median of the release bootstraps).
    init_ms: f64,
}

impl Work {
    /// Billed milliseconds of one warm invocation (Lambda rounds up to the millisecond).
    fn billed_ms(&self) -> f64 {
        let cpu = self.cpu_ms * MB_PER_VCPU / self.memory_mb.min(MB_PER_VCPU);
        let waits = self.dynamodb_calls * DYNAMODB_MS
            + self.redis_calls * REDIS_MS
            + self.sqs_calls * SQS_MS
            + self.event_calls * EVENTS_MS;
        (cpu + waits).ceil().max(1.0)
    }
}

/// The routes of a rush, with their work. The CPU figure of `login` is one Argon2id
/// verification (`festa::services::passwords`) on this machine's core.
fn routes(memory_mb: f64, argon2_ms: f64) -> BTreeMap<&'static str, Work> {
    let w = |cpu_ms, ddb, redis, sqs, events, rru, wru| Work {
        memory_mb,
        cpu_ms,
        dynamodb_calls: ddb,
        redis_calls: redis,
        sqs_calls: sqs,
        event_calls: events,
        rru,
        wru,
        init_ms: 8.0,
    };
    BTreeMap::from([
        ("GET /festivals/{id}", w(1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0)),
        ("POST /login", w(argon2_ms, 2.0, 0.0, 0.0, 0.0, 1.0, 1.0)),
        ("authorizer", w(0.5, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0)),
        // The festival is read once per instance, then remembered (FestivalDirectory).
        (
            "GET waiting-room (join)",
            w(0.5, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0),
        ),
        ("GET rank (poll)", w(0.5, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)),
        ("GET allowed", w(0.5, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)),
        // Admission spent in Redis; stock, reservation and guard items in one transaction
        // (transactions cost two units per item); the event published.
        ("POST /reservations", w(1.0, 2.0, 1.0, 0.0, 1.0, 1.0, 6.0)),
        ("GET /reservations", w(0.5, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0)),
        // One tick a second: a Redis script and the next tick sent to its own queue.
        ("queue-admitter (SQS)", w(0.5, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0)),
    ])
}

/// The `cost` subcommand's arguments.
pub fn command() -> Command {
    Command::new("cost")
        .about("What one ticket rush costs on AWS, per route (a model; prints its assumptions)")
        .arg(
            Arg::new("users")
                .long("users")
                .default_value("1000,100000")
                .value_delimiter(',')
                .value_parser(clap::value_parser!(u64)),
        )
        .arg(
            Arg::new("rate")
                .long("rate")
                .default_value("10")
                .value_parser(clap::value_parser!(u32))
                .help("admissions per second (stack parameter AdmitRatePerSecond)"),
        )
        .arg(
            Arg::new("authorizer-ttl")
                .long("authorizer-ttl")
                .default_value("60")
                .value_parser(clap::value_parser!(u64))
                .help("seconds API Gateway caches the authorizer's answer (0: no cache)"),
        )
        .arg(
            Arg::new("poll-ms")
                .long("poll-ms")
                .value_parser(clap::value_parser!(u64))
                .help("clients poll every N ms instead of following pollAfterMs"),
        )
        .arg(
            Arg::new("memory-mb")
                .long("memory-mb")
                .default_value("256")
                .value_parser(clap::value_parser!(u32))
                .help("the functions' memory size (template.yaml Globals)"),
        )
}

/// One rush's counts.
#[derive(Default)]
struct Tally {
    requests: BTreeMap<&'static str, f64>,
    /// Requests per second, per route, to find each function's busiest second.
    per_second: BTreeMap<&'static str, Vec<u32>>,
    drain_seconds: f64,
}

impl Tally {
    fn add(&mut self, route: &'static str, at_seconds: f64) {
        *self.requests.entry(route).or_default() += 1.0;
        let second = at_seconds.max(0.0) as usize;
        let bins = self.per_second.entry(route).or_default();
        if bins.len() <= second {
            bins.resize(second + 1, 0);
        }
        bins[second] += 1;
    }
}

/// How long before the line opens people arrive, open the festival and log in (evenly spread).
const ARRIVALS_SECONDS: f64 = 600.0;

/// People arrive over the ten minutes before the line opens, then everyone joins in the same
/// second; person `i` (0-based) is admitted when the admitter reaches them. Times are seconds
/// from the first arrival.
fn simulate(users: u64, rate: f64, authorizer_ttl: f64, poll_ms: Option<u64>) -> Tally {
    let mut tally = Tally {
        drain_seconds: users as f64 / rate,
        ..Tally::default()
    };
    let opens = ARRIVALS_SECONDS;
    for i in 0..users {
        let arrives = ARRIVALS_SECONDS * i as f64 / users as f64;
        let turn = opens + (i + 1) as f64 / rate;
        let mut last_authorized = f64::NEG_INFINITY;
        let mut protected = |tally: &mut Tally, route: &'static str, at: f64| {
            if at - last_authorized >= authorizer_ttl {
                tally.add("authorizer", at);
                last_authorized = at;
            }
            tally.add(route, at);
        };
        tally.add("GET /festivals/{id}", arrives);
        tally.add("POST /login", arrives);
        protected(&mut tally, "GET waiting-room (join)", opens);
        let mut now = opens;
        loop {
            let eta = turn - now;
            let wait = match poll_ms {
                Some(ms) => ms as f64 / 1000.0,
                None => poll_after(eta).as_secs_f64(),
            };
            now += wait;
            protected(&mut tally, "GET rank (poll)", now);
            if now >= turn {
                break;
            }
        }
        protected(&mut tally, "GET allowed", now);
        protected(&mut tally, "POST /reservations", now + 2.0);
        protected(&mut tally, "GET /reservations", now + 4.0);
    }
    for second in 0..tally.drain_seconds.ceil() as u64 {
        tally.add("queue-admitter (SQS)", opens + second as f64);
    }
    tally
}

/// Runs the model and prints it.
pub async fn run(args: &ArgMatches) -> Result<(), crate::accounts::Error> {
    let rate = f64::from(*args.get_one::<u32>("rate").unwrap()).max(1.0);
    let ttl = *args.get_one::<u64>("authorizer-ttl").unwrap() as f64;
    let poll_ms = args.get_one::<u64>("poll-ms").copied();
    let memory_mb = f64::from(*args.get_one::<u32>("memory-mb").unwrap());
    let argon2_ms = measure_argon2_ms().await;
    println!(
        "model: arm64 at {memory_mb} MB ({:.2} vCPU); one Argon2id verification takes {argon2_ms:.1} ms \
         on one core here; latencies per call: DynamoDB {DYNAMODB_MS} ms, Redis {REDIS_MS} ms, SQS \
         {SQS_MS} ms, EventBridge {EVENTS_MS} ms; admitter {rate}/s; authorizer cache {ttl} s; polling \
         {}; prices: us-east-1 list prices of 2026-12-04, no free tier",
        memory_mb / MB_PER_VCPU,
        match poll_ms {
            Some(ms) => format!("every {ms} ms"),
            None => "as pollAfterMs says".into(),
        }
    );
    let work = routes(memory_mb, argon2_ms);
    for &users in args.get_many::<u64>("users").unwrap() {
        let tally = simulate(users, rate, ttl, poll_ms);
        let lines = bill(&tally, &work);
        print_bill(users, &tally, &lines);
        // What the knobs do to the same rush's bill by use.
        let variant =
            |rate, ttl, poll_ms| total(&bill(&simulate(users, rate, ttl, poll_ms), &work));
        println!(
            "same rush by use: clients polling every 5 s as the original's did ${:.2}; no \
             authorizer cache ${:.2}; authorizer cache 300 s ${:.2}; admitting {} a second ${:.2}",
            variant(rate, ttl, Some(5_000)),
            variant(rate, 0.0, poll_ms),
            variant(rate, 300.0, poll_ms),
            rate * 10.0,
            variant(rate * 10.0, ttl, poll_ms),
        );
    }
    Ok(())
}

/// One route's share of the bill.
struct Line {
    route: &'static str,
    requests: f64,
    billed_ms: f64,
    cold_starts: f64,
    /// API Gateway, Lambda, DynamoDB, SQS and EventBridge, in dollars.
    dollars: [f64; 4],
}

fn bill(tally: &Tally, work: &BTreeMap<&'static str, Work>) -> Vec<Line> {
    tally
        .requests
        .iter()
        .map(|(&route, &count)| {
            let w = work[route];
            let through_gateway =
                !(route.starts_with("authorizer") || route.starts_with("queue-admitter"));
            let gateway = if through_gateway {
                count * price::API_GATEWAY_REST / 1e6
            } else {
                0.0
            };
            let busiest = tally.per_second[route].iter().copied().max().unwrap_or(0) as f64;
            let cold_starts = (busiest * w.billed_ms() / 1000.0).ceil().max(1.0);
            let gb_seconds =
                (count * w.billed_ms() + cold_starts * w.init_ms) / 1000.0 * w.memory_mb / 1024.0;
            let lambda =
                count * price::LAMBDA_REQUEST / 1e6 + gb_seconds * price::LAMBDA_GB_SECOND_ARM;
            let dynamodb =
                count * (w.rru * price::DYNAMODB_RRU + w.wru * price::DYNAMODB_WRU) / 1e6;
            // Each tick is sent, received and deleted; each booking publishes one event.
            let queues = count
                * (w.sqs_calls * 3.0 * price::SQS_REQUEST
                    + w.event_calls * price::EVENTBRIDGE_EVENT)
                / 1e6;
            Line {
                route,
                requests: count,
                billed_ms: w.billed_ms(),
                cold_starts,
                dollars: [gateway, lambda, dynamodb, queues],
            }
        })
        .collect()
}

fn total(lines: &[Line]) -> f64 {
    lines.iter().flat_map(|l| l.dollars).sum()
}

fn print_bill(users: u64, tally: &Tally, lines: &[Line]) {
    println!(
        "\n{users} users: the line drains in {:.0} s ({:.1} h) after ten minutes of arrivals",
        tally.drain_seconds,
        tally.drain_seconds / 3600.0
    );
    println!(
        "| route | requests | per user | billed ms | cold starts | API Gateway $ | Lambda $ | DynamoDB $ | SQS + events $ |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut totals = [0.0f64; 4];
    for line in lines {
        for (total, part) in totals.iter_mut().zip(line.dollars) {
            *total += part;
        }
        let [gateway, lambda, dynamodb, queues] = line.dollars;
        println!(
            "| {} | {:.0} | {:.1} | {:.0} | {:.0} | {gateway:.4} | {lambda:.4} | {dynamodb:.4} | {queues:.4} |",
            line.route,
            line.requests,
            line.requests / users as f64,
            line.billed_ms,
            line.cold_starts,
        );
    }
    println!(
        "| **total** | | | | | {:.2} | {:.2} | {:.2} | {:.2} |",
        totals[0], totals[1], totals[2], totals[3]
    );
    let hours = (ARRIVALS_SECONDS + tally.drain_seconds) / 3600.0;
    let per_hour =
        2.0 * price::REDIS_NODE_HOUR + price::NAT_GATEWAY_HOUR + 6.0 * price::ENDPOINT_AZ_HOUR;
    let variable = total(lines);
    println!(
        "by use: ${variable:.2}, ${:.5} per user. Standing stack (2 Redis nodes, NAT gateway, 6 \
         endpoint-AZs): ${per_hour:.3}/h, ${:.2} over this rush, ${:.0} a month",
        variable / users as f64,
        per_hour * hours,
        per_hour * 730.0
    );
}

/// One Argon2id verification with our parameters, as `login` does, on this
/// machine's core (the best of three, in ms).
async fn measure_argon2_ms() -> f64 {
    let password = "festival-pass".to_string();
    let hash = festa::services::passwords::hash(password.clone())
        .await
        .expect("a hash");
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let _ = festa::services::passwords::verify(password.clone(), hash.clone()).await;
        best = best.min(started.elapsed().as_secs_f64() * 1000.0);
    }
    best
}
