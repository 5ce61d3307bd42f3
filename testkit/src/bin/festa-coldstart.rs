//! `festa-coldstart`: cold starts of every release `bootstrap`, as a Markdown table.
//!
//! ```text
//! festa-coldstart [--runs N] [--lambda-dir DIR] [BINARY...]
//! ```
//!
//! Needs `REDIS_URL` and `AWS_ENDPOINT_URL` (moto); `scripts/coldstart.sh` starts both and
//! runs this. Exits non-zero when a run answered wrongly or a bootstrap is missing; budgets
//! are only flagged.

use std::path::PathBuf;
use std::process::ExitCode;

use festa_testkit::coldstart::{bench, markdown, Options};
use festa_testkit::world::Services;

fn usage() -> ExitCode {
    eprintln!("usage: festa-coldstart [--runs N] [--lambda-dir DIR] [BINARY...]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut options = Options {
        runs: 5,
        lambda_dir: festa_testkit::repo_root().join("target/lambda"),
        only: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => options.runs = n,
                _ => return usage(),
            },
            "--lambda-dir" => match args.next() {
                Some(dir) => options.lambda_dir = PathBuf::from(dir),
                None => return usage(),
            },
            "-h" | "--help" => return usage(),
            name if !name.starts_with('-') => options.only.push(name.to_string()),
            _ => return usage(),
        }
    }
    let Some(services) = Services::from_env() else {
        eprintln!(
            "festa-coldstart needs REDIS_URL and AWS_ENDPOINT_URL; scripts/coldstart.sh sets them"
        );
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("festa-coldstart: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench(&services, &options)) {
        Ok(rows) => {
            print!("{}", markdown(&rows, &options));
            if rows.iter().any(|r| !r.failures.is_empty()) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("festa-coldstart: {e}");
            ExitCode::FAILURE
        }
    }
}
