#!/usr/bin/env bash
# Festa: run every test.
#
#   scripts/test.sh                  # cfn-lint, fmt, clippy, cargo test
#   scripts/test.sh -- --nocapture   # extra args are appended to the test command
#
# Starts a throw-away redis-server and moto_server on free loopback ports and
# points the tests at them (REDIS_URL, AWS_ENDPOINT_URL, FESTA_REQUIRE_REAL=1).
#
# Environment knobs:
#   FESTA_VENV              Python virtualenv for moto/cfn-lint (default: <repo>/.venv)
#   FESTA_TEST_CMD          test command (default: cargo test --workspace --all-features)
#   FESTA_SKIP_LINT=1       skip cfn-lint, cargo fmt and cargo clippy
#   FESTA_SERVICE_TIMEOUT   seconds to wait for each service (default: 30)
#   PYTHON                  interpreter used to create the virtualenv (default: python3)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

venv="${FESTA_VENV:-$repo/.venv}"
test_cmd="${FESTA_TEST_CMD:-cargo test --workspace --all-features}"
service_timeout="${FESTA_SERVICE_TIMEOUT:-30}"

# Helpers, toolchain and services are shared with scripts/coldstart.sh.
# shellcheck source=lib/services.sh
. "$repo/scripts/lib/services.sh"

ensure_toolchain

# ------------------------------------------------------------------ lint ---
if [[ "${FESTA_SKIP_LINT:-}" == "1" ]]; then
  section "lint skipped (FESTA_SKIP_LINT=1)"
else
  section "cfn-lint template.yaml"
  [[ -f template.yaml ]] || die "template.yaml not found in $repo"
  run "$venv/bin/cfn-lint" template.yaml
  echo "ok"

  if command -v rustup >/dev/null 2>&1 &&
    { ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; }; then
    rustup component add rustfmt clippy
  fi

  section "cargo fmt --all -- --check"
  run cargo fmt --all -- --check
  echo "ok"

  section "cargo clippy --workspace --all-targets --all-features -- -D warnings"
  run cargo clippy --workspace --all-targets --all-features -- -D warnings
fi

start_services

# ----------------------------------------------------------------- tests ---
# FESTA_TEST_CMD is a shell command line; the script's arguments are appended
# (shell-quoted) to it.
extra_args=""
if (($# > 0)); then
  printf -v extra_args ' %q' "$@"
fi
section "$test_cmd$extra_args"
run eval "$test_cmd$extra_args"
