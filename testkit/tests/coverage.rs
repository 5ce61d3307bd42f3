//! The template, the function crates, the sample events, the error fixtures and the
//! scenarios all name the same Lambdas, so none can be added without the runtime-loop test
//! covering it. Needs no services.

use std::collections::BTreeSet;

use festa_testkit::scenarios;
use festa_testkit::template::Template;
use serde_json::Value;

/// Every `functions/*` crate's `src/bin/*.rs`, but the local platform's tools.
fn crate_binaries() -> BTreeSet<String> {
    let functions = festa_testkit::repo_root().join("functions");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(&functions).unwrap() {
        let dir = entry.unwrap().path();
        if dir.file_name().is_some_and(|n| n == "local") || !dir.join("src/bin").is_dir() {
            continue;
        }
        names.extend(festa::api::replay::binaries(dir.to_str().unwrap()).into_keys());
    }
    names
}

#[test]
fn template_crates_events_and_scenarios_name_the_same_binaries() {
    let template = Template::load().unwrap();
    let functions: BTreeSet<String> = template
        .functions
        .iter()
        .map(|f| f.binary.clone())
        .collect();
    assert_eq!(
        functions.len(),
        template.functions.len(),
        "one function per binary"
    );
    assert_eq!(
        functions,
        crate_binaries(),
        "template.yaml vs functions/*/src/bin"
    );
    assert_eq!(
        functions,
        festa::api::replay::event_names(),
        "template.yaml vs events/*.json"
    );
    for binary in &functions {
        assert!(
            scenarios::binaries().contains(&binary.as_str()),
            "{binary} has no scenario in festa_testkit::scenarios"
        );
        let function = template.function(binary).unwrap();
        let tests = function.crate_dir.join("tests/runtime.rs");
        let text =
            std::fs::read_to_string(&tests).unwrap_or_else(|e| panic!("{}: {e}", tests.display()));
        assert!(
            text.contains(&format!("\"{binary}\"")),
            "{} does not start {binary}",
            tests.display()
        );
    }
}

#[test]
fn every_error_fixture_names_a_binary_a_kind_and_a_readme_line() {
    let template = Template::load().unwrap();
    let dir = festa::api::replay::events_dir().join("errors");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let mut kinds = BTreeSet::new();
    for case in scenarios::error_cases().unwrap() {
        let binary = scenarios::error_case_binary(&case);
        assert!(
            template.function(binary).is_some(),
            "{case}: no function runs {binary}"
        );
        assert!(
            readme.contains(&format!("`{case}.json`")),
            "{case} has no README line"
        );
        let text = std::fs::read_to_string(dir.join(format!("{case}.json"))).unwrap();
        let event: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{case}: {e}"));
        let kind = if event["type"] == "TOKEN" {
            "TOKEN authorizer"
        } else if event["Records"].is_array() {
            "SQS batch"
        } else if event["requestContext"]["connectionId"].is_string() {
            "WebSocket route"
        } else if event["httpMethod"].is_string() {
            "REST route"
        } else {
            panic!("{case}: not an event kind the functions receive")
        };
        kinds.insert(kind);
    }
    assert_eq!(
        kinds,
        BTreeSet::from([
            "REST route",
            "SQS batch",
            "TOKEN authorizer",
            "WebSocket route"
        ]),
        "one error fixture per kind at least"
    );
}
