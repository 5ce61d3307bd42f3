//! The real `chat` binaries, each started as its own process against the Lambda Runtime
//! API emulator with the environment `template.yaml` gives its function (pointed at the test
//! Redis and moto), fed its `events/` fixture through `/invocation/next` (and its
//! `events/errors/` fixtures), and judged on what it posts back (`festa_testkit::check`).
//!
//! Skipped without `REDIS_URL`/`AWS_ENDPOINT_URL`, unless `FESTA_REQUIRE_REAL=1` (CI) makes
//! that a failure.

const BINARIES: &[(&str, &str)] = festa_testkit::binaries![
    "join-chat-room",
    "enter-chat-room",
    "list-chat-rooms",
    "leave-chat-room",
    "ws-connect",
    "ws-disconnect",
    "ws-send-message",
    "ws-enter-room",
    "ws-leave-room",
    "ws-mark-read",
    "ws-default",
];

#[test]
fn the_binaries_are_the_templates_functions_and_have_events() {
    festa_testkit::check::coverage(env!("CARGO_MANIFEST_DIR"), BINARIES);
}

#[test]
fn each_binary_answers_its_events_through_the_runtime_api() {
    festa_testkit::check::answers(BINARIES);
}
