//! The real `auth` binaries, each started as its own process against the Lambda Runtime
//! API emulator with the environment `template.yaml` gives its function (pointed at the test
//! Redis and moto), fed its `events/` fixture through `/invocation/next` (and its
//! `events/errors/` fixtures), and judged on what it posts back (`festa_testkit::check`).
//!
//! Skipped without `REDIS_URL`/`AWS_ENDPOINT_URL`, unless `FESTA_REQUIRE_REAL=1` (CI) makes
//! that a failure.

festa_testkit::runtime_tests![
    "signup",
    "resend-confirmation",
    "confirm-signup",
    "forgot-password",
    "confirm-forgot-password",
    "login",
    "signout",
    "verify-token",
    "refresh-token",
    "authorizer",
];
