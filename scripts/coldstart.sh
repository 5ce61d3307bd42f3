#!/usr/bin/env bash
# Festa: cold-start benchmark of the release Lambda binaries.
#
#   scripts/package.sh                        # first: builds target/lambda/<name>/bootstrap(.zip)
#   scripts/coldstart.sh                      # every function, 5 cold starts each
#   scripts/coldstart.sh --runs 10 authorizer # arguments go to festa-coldstart
#
# Starts a throw-away redis-server and moto_server like scripts/test.sh (same helpers), then
# runs festa-coldstart: each bootstrap started as a new process against the testkit's Lambda
# Runtime API emulator with its function's template environment, fed its events/ fixture;
# prints init time (spawn -> first /next), first answer time, peak RSS, bootstrap and zip
# bytes as a Markdown table with min / median / max, and flags what is over budget.
#
# Environment knobs:
#   FESTA_VENV               Python virtualenv for moto (default: <repo>/.venv)
#   FESTA_SERVICE_TIMEOUT    seconds to wait for each service (default: 30)
#   FESTA_COLDSTART_PROFILE  cargo profile the harness itself is built in (default: dev)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

venv="${FESTA_VENV:-$repo/.venv}"
service_timeout="${FESTA_SERVICE_TIMEOUT:-30}"
profile="${FESTA_COLDSTART_PROFILE:-dev}"

# shellcheck source=lib/services.sh
. "$repo/scripts/lib/services.sh"

compgen -G "target/lambda/*/bootstrap" >/dev/null ||
  die "no target/lambda/*/bootstrap: run scripts/package.sh first"

section "cargo build --profile $profile -p festa-testkit --bin festa-coldstart"
run cargo build --profile "$profile" -p festa-testkit --bin festa-coldstart
case "$profile" in
dev) harness="target/debug/festa-coldstart" ;;
*) harness="target/$profile/festa-coldstart" ;;
esac

ensure_toolchain
start_services

section "festa-coldstart $*"
run "$harness" "$@"
