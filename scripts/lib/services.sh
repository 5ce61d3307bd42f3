# Festa: shared by scripts/test.sh and scripts/coldstart.sh (sourced, not run).
#
# Helpers, the toolchain check (redis-server; moto and cfn-lint in the virtualenv), and
# start_services, which starts a throw-away redis-server and moto_server on free loopback
# ports and exports REDIS_URL, AWS_ENDPOINT_URL, credentials, region and FESTA_REQUIRE_REAL=1.
# Everything it starts is stopped by the EXIT trap it installs.
#
# Expects from the caller: repo, venv, service_timeout (set -euo pipefail in force).

section() { printf '\n==> %s\n' "$*"; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------- cleanup ---
tmpdir=""
redis_pid=""
moto_pid=""
step_pid=""

stop_pid() {
  local pid="$1" i
  [[ -n "$pid" ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$step_pid" ]]; then
    # A step was interrupted: stop its whole process group (cargo + test binaries).
    kill -TERM -- "-$step_pid" 2>/dev/null || true
    stop_pid "$step_pid"
    kill -KILL -- "-$step_pid" 2>/dev/null || true
  fi
  stop_pid "$redis_pid"
  stop_pid "$moto_pid"
  if [[ -n "$tmpdir" && -d "$tmpdir" ]]; then
    rm -rf -- "$tmpdir"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run CMD...: run a step in its own process group and wait for it, so that
# INT/TERM reach the trap at once (bash defers traps while a foreground
# command runs) and cleanup can stop the step's whole process tree.
run() {
  local rc=0
  set -m
  # Monitor mode off again inside, so the step's children stay in its group.
  (
    set +m
    "$@"
  ) &
  step_pid=$!
  set +m
  wait "$step_pid" || rc=$?
  step_pid=""
  return "$rc"
}

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

apt_updated=""
apt_install() {
  if [[ -z "$apt_updated" ]]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# ------------------------------------------------------------- toolchain ---
# ensure_toolchain: redis-server (apt) and the virtualenv with moto[server] and cfn-lint.
ensure_toolchain() {
  section "redis-server"
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis-server not found; installing it with apt-get"
    apt_install redis-server
  fi
  redis-server --version

  section "python virtualenv ($venv)"
  py="$venv/bin/python"
  if [[ ! -x "$py" ]] || ! "$py" -m pip --version >/dev/null 2>&1; then
    base_py="${PYTHON:-python3}"
    command -v "$base_py" >/dev/null 2>&1 || die "$base_py not found"
    if ! "$base_py" -m venv --clear "$venv"; then
      # Debian's system python needs python3-venv for ensurepip.
      echo "python venv module unusable; installing python3-venv"
      apt_install python3-venv
      "$base_py" -m venv --clear "$venv"
    fi
  fi
  if [[ ! -x "$venv/bin/moto_server" || ! -x "$venv/bin/cfn-lint" ]]; then
    echo "installing moto[server] and cfn-lint"
    "$py" -m pip install --quiet --disable-pip-version-check \
      'moto[server]>=5' 'cfn-lint>=1'
  fi
  [[ -x "$venv/bin/moto_server" ]] || die "$venv/bin/moto_server missing after install"
  [[ -x "$venv/bin/cfn-lint" ]] || die "$venv/bin/cfn-lint missing after install"
  echo "moto $("$py" -c 'import moto; print(moto.__version__)'), $("$venv/bin/cfn-lint" --version)"
}

# -------------------------------------------------------------- services ---
# start_services: redis-server and moto_server on free ports, and the variables the tests
# and the benchmark read.
start_services() {
  tmpdir="$(mktemp -d "${TMPDIR:-/tmp}/festa-test.XXXXXX")"

  # Free loopback TCP port, different from the ones given as arguments.
  free_port() {
    "$py" - "$@" <<'EOF'
import socket, sys
avoid = {int(a) for a in sys.argv[1:]} | {6379, 5000}
held = []
try:
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        held.append(s)
        port = s.getsockname()[1]
        if port not in avoid:
            print(port)
            break
finally:
    for s in held:
        s.close()
EOF
  }

  redis_ready() {
    "$py" - "$1" <<'EOF'
import socket, sys
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1) as s:
        s.sendall(b"PING\r\n")
        sys.exit(0 if s.recv(64).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
EOF
  }

  moto_ready() {
    "$py" - "$1" <<'EOF'
import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
  }

  # wait_ready NAME PID LOG CHECK PORT -> 0 when CHECK PORT succeeds, 1 if the
  # process died (e.g. lost a race for the port); dies on timeout.
  wait_ready() {
    local name="$1" pid="$2" log="$3" check="$4" port="$5" deadline
    deadline=$((SECONDS + service_timeout))
    while ((SECONDS < deadline)); do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "$name exited during startup; log:" >&2
        tail -n 20 "$log" >&2 || true
        return 1
      fi
      if "$check" "$port"; then
        return 0
      fi
      sleep 0.2
    done
    echo "$name did not answer on 127.0.0.1:$port within ${service_timeout}s; log:" >&2
    tail -n 20 "$log" >&2 || true
    exit 1
  }

  section "starting redis-server and moto_server"
  redis_port=""
  for _ in 1 2 3; do
    port="$(free_port)"
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$tmpdir" >"$tmpdir/redis.log" 2>&1 &
    redis_pid=$!
    if wait_ready redis-server "$redis_pid" "$tmpdir/redis.log" redis_ready "$port"; then
      redis_port="$port"
      break
    fi
    wait "$redis_pid" 2>/dev/null || true
    redis_pid=""
  done
  [[ -n "$redis_port" ]] || die "could not start redis-server"
  echo "redis-server pid $redis_pid on 127.0.0.1:$redis_port"

  moto_port=""
  for _ in 1 2 3; do
    port="$(free_port "$redis_port")"
    # One request at a time, so moto isolates transactions as DynamoDB does (see the script).
    "$py" "$repo/scripts/moto_serial.py" 127.0.0.1 "$port" >"$tmpdir/moto.log" 2>&1 &
    moto_pid=$!
    if wait_ready moto_server "$moto_pid" "$tmpdir/moto.log" moto_ready "$port"; then
      moto_port="$port"
      break
    fi
    wait "$moto_pid" 2>/dev/null || true
    moto_pid=""
  done
  [[ -n "$moto_port" ]] || die "could not start moto_server"
  echo "moto_server pid $moto_pid on 127.0.0.1:$moto_port"

  export REDIS_URL="redis://127.0.0.1:$redis_port/"
  export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
  export AWS_ACCESS_KEY_ID=testing
  export AWS_SECRET_ACCESS_KEY=testing
  export AWS_REGION=ap-northeast-2
  export AWS_DEFAULT_REGION=ap-northeast-2
  export FESTA_REQUIRE_REAL=1
  # The outage test (functions/local/tests/outage.rs) starts, kills and restarts its own moto
  # with the python beside this moto_server.
  export FESTA_MOTO_SERVER="$venv/bin/moto_server"
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN
}
