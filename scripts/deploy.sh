#!/usr/bin/env bash
# Festa: deploy what `sam build` built (.aws-sam/build) to one environment of samconfig.toml.
#
#   sam build && scripts/deploy.sh dev       # or prod; CI runs exactly this
#
# `sam deploy --config-env <env>` with that environment's parameter_overrides (samconfig.toml),
# plus the values that belong to a deployment rather than to the code, taken from these
# variables when they are set and not empty (CI: the GitHub environment's variables):
#
#   ADMIN_EMAILS          -> AdminEmails          comma-separated administrator addresses
#   MAIL_FROM             -> MailFrom             verified SES sender
#   CORS_ALLOWED_ORIGINS  -> CorsAllowedOrigins   browser origins of the single-page app
#   ALARM_EMAIL           -> AlarmEmail           subscribed to the alarm topic
#
# A parameter given neither way keeps the stack's current value (default on the first
# deploy). Needed: python3 >= 3.11 (tomllib), the pinned aws-sam-cli
# (scripts/requirements-build.txt) and AWS credentials.
set -euo pipefail

env_name="${1:-}"
if [[ "$env_name" != "dev" && "$env_name" != "prod" ]]; then
  echo "usage: scripts/deploy.sh dev|prod" >&2
  exit 2
fi
shift

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

[[ -f .aws-sam/build/template.yaml ]] || {
  echo "error: no .aws-sam/build/template.yaml; run sam build first" >&2
  exit 1
}

base="$(python3 - "$env_name" <<'PY'
import sys, tomllib
with open("samconfig.toml", "rb") as f:
    config = tomllib.load(f)
print(config[sys.argv[1]]["deploy"]["parameters"].get("parameter_overrides", ""))
PY
)"

# samconfig's overrides are Key=Value words without spaces.
read -r -a overrides <<<"$base"
add() {
  local parameter="$1" variable="$2"
  if [[ -n "${!variable:-}" ]]; then
    # Quoted, as SAM CLI parses Key="value" (and refuses a bare Key=).
    overrides+=("$parameter=\"${!variable}\"")
  fi
}
add AdminEmails ADMIN_EMAILS
add MailFrom MAIL_FROM
add CorsAllowedOrigins CORS_ALLOWED_ORIGINS
add AlarmEmail ALARM_EMAIL

printf 'sam deploy --config-env %s --parameter-overrides' "$env_name"
printf ' %s' "${overrides[@]}"
printf '\n'
exec sam deploy --config-env "$env_name" --no-progressbar "$@" --parameter-overrides "${overrides[@]}"
