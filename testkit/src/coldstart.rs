//! The cold-start benchmark behind `festa-coldstart`: each release `bootstrap`
//! (`target/lambda/<binary>/bootstrap`) started several times, each time as a new process
//! against the Runtime API emulator with the same scenarios as the runtime-loop test, and
//! reported as a Markdown table with the budgets flagged.
//!
//! Speed is only printed, never asserted: the figures depend on the machine and its load.

use std::path::PathBuf;
use std::time::Duration;

use crate::check::{run_once, Fixture};
use crate::template::Template;
use crate::world::Services;

/// Budgets every function is to reach and keep (issue 11).
pub const INIT_BUDGET: Duration = Duration::from_millis(12);
pub const RSS_BUDGET_KIB: u64 = 16 * 1024;
/// 2.5 MB, decimal as package sizes are usually quoted.
pub const ZIP_BUDGET_BYTES: u64 = 2_500_000;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// Cold starts per function.
    pub runs: usize,
    /// Where `<binary>/bootstrap` (and `bootstrap.zip`, from `scripts/package.sh`) are.
    pub lambda_dir: PathBuf,
    /// Only these binaries (all of the template's when empty).
    pub only: Vec<String>,
}

/// One function's measurements.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub binary: String,
    pub init: Vec<Duration>,
    pub answer: Vec<Duration>,
    pub rss_kib: Vec<u64>,
    pub bootstrap_bytes: Option<u64>,
    pub zip_bytes: Option<u64>,
    /// Runs that answered wrongly or could not be set up.
    pub failures: Vec<String>,
}

impl Row {
    /// The budgets this function is over: median init, largest peak RSS, zip size.
    pub fn over_budget(&self) -> Vec<String> {
        let mut over = Vec::new();
        if let Some(init) = median(&self.init) {
            if init > INIT_BUDGET {
                over.push(format!("init {}", ms(&init)));
            }
        }
        if let Some(rss) = self.rss_kib.iter().max() {
            if *rss > RSS_BUDGET_KIB {
                over.push(format!("RSS {}", mib(*rss)));
            }
        }
        if let Some(zip) = self.zip_bytes {
            if zip > ZIP_BUDGET_BYTES {
                over.push(format!("zip {}", thousands(zip)));
            }
        }
        over
    }
}

/// Runs the benchmark; a function whose bootstrap is missing is a failure row.
pub async fn bench(services: &Services, options: &Options) -> Result<Vec<Row>, String> {
    let template = Template::load()?;
    let mut rows = Vec::new();
    for function in &template.functions {
        let binary = &function.binary;
        if !options.only.is_empty() && !options.only.contains(binary) {
            continue;
        }
        let dir = options.lambda_dir.join(binary);
        let bootstrap = dir.join("bootstrap");
        let mut row = Row {
            binary: binary.clone(),
            bootstrap_bytes: std::fs::metadata(&bootstrap).ok().map(|m| m.len()),
            zip_bytes: std::fs::metadata(dir.join("bootstrap.zip"))
                .ok()
                .map(|m| m.len()),
            ..Row::default()
        };
        if row.bootstrap_bytes.is_none() {
            row.failures
                .push(format!("{} is missing", bootstrap.display()));
            rows.push(row);
            continue;
        }
        for _ in 0..options.runs {
            match run_once(services, &template, binary, &bootstrap, Fixture::Sample).await {
                Ok(run) => {
                    if let Err(e) = run.verdict {
                        row.failures.push(e);
                    }
                    row.init.extend(run.init);
                    row.answer.extend(run.answer);
                    row.rss_kib.extend(run.peak_rss_kib);
                }
                Err(e) => row.failures.push(e),
            }
        }
        eprintln!(
            "{binary}: init {}, first answer {}, RSS {}",
            spread(&row.init, ms),
            spread(&row.answer, ms),
            spread(&row.rss_kib, |k| mib(*k)),
        );
        rows.push(row);
    }
    Ok(rows)
}

/// The report as Markdown: the machine, the table, and any failed runs.
pub fn markdown(rows: &[Row], options: &Options) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Cold starts: {} per function, {} ({} cores), {}. Each run is a new process; min / median / max.\n\
         Budgets: init {} (median), peak RSS {} (max), zip {} bytes.\n\n",
        options.runs,
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        chrono::Utc::now().format("%Y-%m-%d"),
        ms(&INIT_BUDGET),
        mib(RSS_BUDGET_KIB),
        thousands(ZIP_BUDGET_BYTES),
    ));
    out.push_str(
        "| function | init ms | first answer ms | peak RSS MiB | bootstrap bytes | zip bytes | over budget |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let over = row.over_budget();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            row.binary,
            spread(&row.init, |d| number(d.as_secs_f64() * 1000.0)),
            spread(&row.answer, |d| number(d.as_secs_f64() * 1000.0)),
            spread(&row.rss_kib, |k| number(*k as f64 / 1024.0)),
            row.bootstrap_bytes.map_or("–".into(), thousands),
            row.zip_bytes.map_or("–".into(), thousands),
            if over.is_empty() {
                "–".to_string()
            } else {
                format!("**{}**", over.join(", "))
            },
        ));
    }
    let failed: Vec<&Row> = rows.iter().filter(|r| !r.failures.is_empty()).collect();
    if !failed.is_empty() {
        out.push_str("\nFailed runs:\n");
        for row in failed {
            for failure in &row.failures {
                out.push_str(&format!(
                    "- {}: {}\n",
                    row.binary,
                    failure.replace('\n', " ")
                ));
            }
        }
    }
    out
}

fn median<T: Copy + Ord>(values: &[T]) -> Option<T> {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied()
}

/// `min / median / max` of `values`, each shown by `show`.
fn spread<T: Copy + Ord>(values: &[T], show: impl Fn(&T) -> String) -> String {
    match (values.iter().min(), median(values), values.iter().max()) {
        (Some(min), Some(mid), Some(max)) => {
            format!("{} / {} / {}", show(min), show(&mid), show(max))
        }
        _ => "–".into(),
    }
}

fn number(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

fn ms(d: &Duration) -> String {
    format!("{} ms", number(d.as_secs_f64() * 1000.0))
}

fn mib(kib: u64) -> String {
    format!("{} MiB", number(kib as f64 / 1024.0))
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
        .collect();
    groups.join(",")
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_what_is_over_budget_and_formats_the_spread() {
        let row = Row {
            binary: "x".into(),
            init: vec![
                Duration::from_millis(9),
                Duration::from_millis(30),
                Duration::from_millis(13),
            ],
            rss_kib: vec![8 * 1024, 17 * 1024],
            zip_bytes: Some(2_400_000),
            ..Row::default()
        };
        assert_eq!(row.over_budget(), ["init 13 ms", "RSS 17 MiB"]);
        assert_eq!(spread(&row.init, ms), "9.0 ms / 13 ms / 30 ms");
        assert_eq!(thousands(2_500_000), "2,500,000");
        assert_eq!(thousands(999), "999");
    }
}
