//! The runtime-loop test each function crate runs from its `tests/runtime.rs`: every binary of
//! the crate started as its own process against the Runtime API emulator, with its function's
//! environment pointed at the test Redis and moto, fed its fixture, and judged on its answer.
//!
//! Every entry point panics with the whole list of what failed, since its callers are tests.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::launcher::{tail, Instance, Outcome};
use crate::scenarios;
use crate::template::Template;
use crate::world::{Services, World};

/// How long a binary may take to ask for its next event after answering.
const POLL_AGAIN_WITHIN: Duration = Duration::from_secs(5);
/// How much of a failed binary's output a failure quotes.
const OUTPUT_TAIL: usize = 3000;

/// Which fixture a run sends.
#[derive(Debug, Clone, Copy)]
pub enum Fixture<'a> {
    /// `events/<binary>.json`.
    Sample,
    /// `events/errors/<case>.json`.
    Error(&'a str),
}

/// What one cold start and invocation came to.
#[derive(Debug)]
pub struct Run {
    pub outcome: Outcome,
    /// The scenario's judgement, and that the runtime went on polling.
    pub verdict: Result<(), String>,
    /// Spawn → first `/next`.
    pub init: Option<Duration>,
    /// Spawn → answer posted.
    pub answer: Option<Duration>,
    pub peak_rss_kib: Option<u64>,
}

/// One cold start of `executable` as the function of `binary`: a fresh world, the scenario's
/// seed, the process, one invocation, the verdict. Errors are set-up failures (the world or
/// the scenario could not be prepared, the process could not be spawned).
pub async fn run_once(
    services: &Services,
    template: &Template,
    binary: &str,
    executable: &Path,
    fixture: Fixture<'_>,
) -> Result<Run, String> {
    let function = template
        .function(binary)
        .ok_or_else(|| format!("template.yaml has no function for the binary {binary}"))?;
    let world = Arc::new(World::new(services, function, template).await?);
    let prepared = match fixture {
        Fixture::Sample => scenarios::prepare(&world, binary).await?,
        Fixture::Error(case) => scenarios::prepare_error(&world, case).await?,
    };
    let mut instance = Instance::start(&world.launch(executable))
        .await
        .map_err(|e| format!("spawning {}: {e}", executable.display()))?;
    let (request_id, outcome) = instance.invoke(&prepared.event).await;
    let init = instance.init_time();
    let answer = instance.answer_time(&request_id);
    let answered = matches!(outcome, Outcome::Response(_) | Outcome::Error { .. });
    let polling = answered && instance.polls_again(POLL_AGAIN_WITHIN).await;
    let verdict = (prepared.check)(world.clone(), outcome.clone()).await;
    let stopped = instance.stop().await;
    let verdict = verdict
        .and_then(|()| {
            if polling {
                Ok(())
            } else {
                Err("the runtime did not ask for the next event after answering".into())
            }
        })
        .map_err(|e| {
            format!(
                "{e}\n    outcome: {outcome:?}\n    stderr: {}\n    stdout: {}",
                tail(&stopped.stderr, OUTPUT_TAIL),
                tail(&stopped.stdout, OUTPUT_TAIL)
            )
        });
    Ok(Run {
        outcome,
        verdict,
        init,
        answer,
        peak_rss_kib: stopped.peak_rss_kib,
    })
}

/// The crate's binaries (as its test lists them), its `src/bin`, the template's functions
/// built from it, the sample events and the scenarios all name the same set.
pub fn coverage(manifest_dir: &str, listed: &[(&str, &str)]) {
    let template = Template::load().unwrap_or_else(|e| panic!("{e}"));
    let names = |it: &mut dyn Iterator<Item = String>| it.collect::<BTreeSet<String>>();
    let listed_names = names(&mut listed.iter().map(|(name, _)| name.to_string()));
    let sources = names(&mut festa::api::replay::binaries(manifest_dir).into_keys());
    let functions = names(
        &mut template
            .functions_of_crate(Path::new(manifest_dir))
            .into_iter()
            .map(|f| f.binary.clone()),
    );
    assert_eq!(
        listed_names, sources,
        "tests/runtime.rs must list every binary of src/bin"
    );
    assert_eq!(
        sources, functions,
        "the crate's binaries and the template's functions built from it"
    );
    let events = festa::api::replay::event_names();
    let scenario_names: BTreeSet<&str> = scenarios::binaries().into_iter().collect();
    for (name, executable) in listed {
        assert!(events.contains(*name), "events/{name}.json is missing");
        assert!(
            scenario_names.contains(name),
            "{name} has no scenario in festa_testkit::scenarios"
        );
        assert!(
            Path::new(executable).is_file(),
            "{executable} was not built"
        );
    }
}

/// Every binary of the crate answers its sample event as its scenario says, and every error
/// fixture of its binaries (`events/errors/<binary>.<case>.json`) comes back as an error answer
/// or a partial batch failure; after each answer the runtime goes on polling.
pub fn answers(listed: &[(&str, &str)]) {
    let cases = scenarios::error_cases().unwrap_or_else(|e| panic!("{e}"));
    run_all(listed, |binary| {
        std::iter::once((binary.to_string(), None))
            .chain(
                cases
                    .iter()
                    .filter(|case| scenarios::error_case_binary(case) == binary)
                    .map(|case| (binary.to_string(), Some(case.clone()))),
            )
            .collect()
    });
}

fn run_all(listed: &[(&str, &str)], runs_of: impl Fn(&str) -> Vec<(String, Option<String>)>) {
    let Some(services) = Services::from_env() else {
        return;
    };
    let template = Template::load().unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut failures = Vec::new();
    let mut ran = 0;
    for (binary, executable) in listed {
        for (binary, case) in runs_of(binary) {
            let fixture = case.as_deref().map_or(Fixture::Sample, Fixture::Error);
            let label = case.clone().unwrap_or_else(|| binary.clone());
            let result = runtime.block_on(run_once(
                &services,
                &template,
                &binary,
                Path::new(executable),
                fixture,
            ));
            ran += 1;
            match result {
                Ok(run) => match run.verdict {
                    Ok(()) => eprintln!("ok: {label}"),
                    Err(e) => failures.push(format!("{label}: {e}")),
                },
                Err(e) => failures.push(format!("{label}: set-up failed: {e}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
