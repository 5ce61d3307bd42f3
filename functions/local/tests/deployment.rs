//! The stack gives every Lambda the variables its crate's `from_env` refuses to start without
//! (docs/deployment-contract.md). A function missing one would fail every cold start in AWS,
//! which no local test would notice, so the template itself is checked here.

use std::collections::{BTreeMap, BTreeSet};

/// What each area's state requires at cold start (see each crate's `state.rs`).
const REQUIRED: &[(&str, &[&str])] = &[
    ("./functions/auth", &["RECORDS_TABLE"]),
    ("./functions/festivals", &["RECORDS_TABLE", "SEARCH_TABLE"]),
    (
        "./functions/queue",
        &["RECORDS_TABLE", "ADMIT_QUEUE_URL", "REDIS_URL"],
    ),
    (
        "./functions/reservations",
        &["RECORDS_TABLE", "EVENT_BUS_NAME"],
    ),
    (
        "./functions/chat",
        &[
            "RECORDS_TABLE",
            "MESSAGES_TABLE",
            "CONNECTIONS_TABLE",
            "CHAT_CALLBACK_URL",
            "REDIS_URL",
        ],
    ),
    // The device routes' state; the planner and the sender build their own (below).
    ("./functions/notifications", &["RECORDS_TABLE"]),
];

/// What single binaries require beyond their crate's state.
const REQUIRED_BY_BINARY: &[(&str, &[&str])] = &[
    ("ws-connect", &["JWT_SECRET"]),
    (
        "reminder-planner",
        &["RECORDS_TABLE", "REMINDER_QUEUE_URL", "PUSH_QUEUE_URL"],
    ),
    (
        "push-sender",
        &[
            "RECORDS_TABLE",
            "PUSH_QUEUE_URL",
            "FCM_SERVICE_ACCOUNT_SECRET_ARN",
        ],
    ),
];

/// One function of the template: its binary, crate and variables.
#[derive(Default, Debug)]
struct Function {
    binary: String,
    code_uri: String,
    variables: BTreeSet<String>,
}

/// The template's functions and its global variables, read by indentation (the template is
/// written in a plain block style, which cfn-lint also checks).
fn read_template() -> (Vec<Function>, BTreeSet<String>) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"))
        .expect("template.yaml");
    let mut functions = Vec::new();
    let mut globals = BTreeSet::new();
    let mut current: Option<Function> = None;
    let mut in_globals = false;
    let mut in_variables = false;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if indent == 0 {
            in_globals = trimmed == "Globals:";
        }
        if indent <= 2 && trimmed.ends_with(':') {
            if let Some(f) = current.take() {
                functions.push(f);
            }
            if indent == 2 && !in_globals {
                current = Some(Function::default());
            }
            in_variables = false;
            continue;
        }
        if trimmed == "Variables:" {
            in_variables = true;
            continue;
        }
        if in_variables {
            match trimmed.split_once(':') {
                Some((name, _)) if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') => {
                    if in_globals {
                        globals.insert(name.to_string());
                    } else if let Some(f) = current.as_mut() {
                        f.variables.insert(name.to_string());
                    }
                    continue;
                }
                _ => in_variables = false,
            }
        }
        if let Some(f) = current.as_mut() {
            if let Some(binary) = trimmed.strip_prefix("Binary: ") {
                f.binary = binary.to_string();
            } else if let Some(uri) = trimmed.strip_prefix("CodeUri: ") {
                f.code_uri = uri.to_string();
            }
        }
    }
    functions.extend(current);
    (
        functions
            .into_iter()
            .filter(|f| !f.binary.is_empty())
            .collect(),
        globals,
    )
}

#[test]
fn every_function_gets_the_variables_its_crate_requires() {
    let (functions, globals) = read_template();
    let required: BTreeMap<&str, &[&str]> = REQUIRED.iter().copied().collect();
    let by_binary: BTreeMap<&str, &[&str]> = REQUIRED_BY_BINARY.iter().copied().collect();
    assert!(functions.len() >= 20, "found {} functions", functions.len());
    for binary in by_binary.keys() {
        assert!(
            functions.iter().any(|f| f.binary == *binary),
            "no function builds {binary}"
        );
    }
    for f in &functions {
        let needs = required
            .get(f.code_uri.as_str())
            .unwrap_or_else(|| panic!("{}: unknown CodeUri {}", f.binary, f.code_uri));
        let extra = by_binary
            .get(f.binary.as_str())
            .copied()
            .unwrap_or_default();
        for var in needs.iter().chain(extra) {
            assert!(
                globals.contains(*var) || f.variables.contains(*var),
                "{} ({}) lacks {var}",
                f.binary,
                f.code_uri
            );
        }
    }
}

/// A binary under a crate's `src/bin` with no function in the template would be built and
/// tested but never deployed.
#[test]
fn every_binary_of_every_crate_is_deployed() {
    let (functions, _) = read_template();
    for (code_uri, _) in REQUIRED {
        let dir = format!(
            "{}/../../{}/src/bin",
            env!("CARGO_MANIFEST_DIR"),
            code_uri.trim_start_matches("./")
        );
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let binary = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("file name");
            assert!(
                functions
                    .iter()
                    .any(|f| f.binary == binary && f.code_uri == *code_uri),
                "no function builds {binary} from {code_uri}"
            );
        }
    }
}
