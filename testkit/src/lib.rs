//! Dev-only support for proving the Lambda binaries as Lambdas: each is started as its own
//! process against a Lambda Runtime API emulator, with the environment `template.yaml` gives
//! its function pointed at a test Redis and moto, fed its `events/` fixture, and judged on what
//! it posts back.
//!
//! One module per job:
//! - [`runtime_api`]: the Runtime API emulator (what a Lambda binary talks to);
//! - [`launcher`]: starts one binary as a process with exactly a Lambda's environment;
//! - [`template`]: reads the template's functions and their variables;
//! - [`world`]: the local stand-ins a function's variables resolve to (tables, queues, stubs…);
//! - [`scenarios`]: per binary, what to seed, which event to send and what a right answer is;
//! - [`check`]: the runtime-loop test each function crate runs;
//! - [`coldstart`]: the cold-start benchmark behind `festa-coldstart`.

pub mod check;
pub mod coldstart;
pub mod launcher;
pub mod runtime_api;
pub mod scenarios;
pub mod template;
pub mod world;

use std::path::PathBuf;

/// The repository root (found from this crate), where `template.yaml` and `events/` live.
pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A crate's Lambda binaries with their built executables, for a `tests/runtime.rs`:
/// `festa_testkit::binaries!["signup", "login"]` gives `[("signup", "<path>"), ...]`.
/// The path comes from Cargo (`CARGO_BIN_EXE_<name>`), so only a crate's own integration tests
/// can name its binaries, and a binary missing from the list fails the coverage check.
#[macro_export]
macro_rules! binaries {
    ($($name:literal),* $(,)?) => {
        &[$(($name, env!(concat!("CARGO_BIN_EXE_", $name)))),*]
    };
}

/// The two runtime-loop tests of a function crate, for its `tests/runtime.rs`:
/// `festa_testkit::runtime_tests!["signup", "login"]`. One checks that the named binaries are
/// the crate's `src/bin`, the template's functions built from it, and have events and
/// scenarios; the other runs each binary on its sample and error events ([`check`]).
#[macro_export]
macro_rules! runtime_tests {
    ($($name:literal),* $(,)?) => {
        const BINARIES: &[(&str, &str)] = $crate::binaries![$($name),*];

        #[test]
        fn the_binaries_are_the_templates_functions_and_have_events() {
            $crate::check::coverage(env!("CARGO_MANIFEST_DIR"), BINARIES);
        }

        #[test]
        fn each_binary_answers_its_events_through_the_runtime_api() {
            $crate::check::answers(BINARIES);
        }
    };
}
