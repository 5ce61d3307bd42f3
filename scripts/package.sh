#!/usr/bin/env bash
# Festa: build every Lambda's bootstrap in the release profile for this machine's
# architecture, zip each as Lambda takes it, and print a table of their sizes.
#
#   scripts/package.sh                    # every Lambda binary of the workspace, one build
#   scripts/package.sh authorizer login   # only these binaries
#
# Builds once for the whole workspace with cargo-lambda (from PyPI, installed pinned into
# the repo's virtualenv when missing), excluding the local platform's and the testkit's
# binaries. Writes target/lambda/<binary>/bootstrap and bootstrap.zip (deflate, the file
# named `bootstrap` and executable, as Lambda's provided.al2023 runtime expects).
#
# Environment knobs:
#   FESTA_VENV   Python virtualenv for cargo-lambda (default: <repo>/.venv)
#   PYTHON       interpreter used to create the virtualenv (default: python3)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

venv="${FESTA_VENV:-$repo/.venv}"
# Pinned so every machine builds with the same tools (ziglang is cargo-lambda's linker).
cargo_lambda_version="1.9.2"
ziglang_version="0.17.1"
lambda_dir="$repo/target/lambda"

section() { printf '\n==> %s\n' "$*"; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

section "cargo-lambda $cargo_lambda_version ($venv)"
py="$venv/bin/python"
if [[ ! -x "$py" ]]; then
  "${PYTHON:-python3}" -m venv "$venv" || die "could not create $venv (apt-get install python3-venv)"
fi
if [[ "$("$venv/bin/cargo-lambda" lambda --version 2>/dev/null)" != *"$cargo_lambda_version"* ]]; then
  "$py" -m pip install --quiet --disable-pip-version-check \
    "cargo-lambda==$cargo_lambda_version" "ziglang==$ziglang_version"
fi
"$venv/bin/cargo-lambda" lambda --version
# cargo-lambda finds zig on PATH (the ziglang wheel puts python-zig in the venv).
export PATH="$venv/bin:$PATH"

case "$(uname -m)" in
x86_64) arch_flag="--x86-64" ;;
aarch64 | arm64) arch_flag="--arm64" ;;
*) die "unsupported architecture $(uname -m)" ;;
esac

selection=(--workspace --exclude festa-local --exclude festa-testkit)
if (($# > 0)); then
  for binary in "$@"; do
    selection+=(--bin "$binary")
  done
fi

section "cargo lambda build --release $arch_flag ${selection[*]}"
started=$SECONDS
cargo lambda build --release "$arch_flag" --lambda-dir "$lambda_dir" "${selection[@]}"
echo "built in $((SECONDS - started)) s"

# The binaries built: every target/lambda/<name>/bootstrap, or only the ones asked for.
if (($# > 0)); then
  binaries=("$@")
else
  binaries=()
  for bin in functions/*/src/bin/*.rs; do
    case "$bin" in functions/local/*) continue ;; esac
    name="$(basename "$bin" .rs)"
    binaries+=("$name")
  done
fi

section "zip"
"$py" - "$lambda_dir" "${binaries[@]}" <<'EOF'
import os, sys, zipfile

lambda_dir, names = sys.argv[1], sys.argv[2:]
print("| function | bootstrap bytes | zip bytes |")
print("|---|---|---|")
total = [0, 0]
for name in sorted(names):
    bootstrap = os.path.join(lambda_dir, name, "bootstrap")
    if not os.path.isfile(bootstrap):
        sys.exit(f"{bootstrap} was not built")
    archive = os.path.join(lambda_dir, name, "bootstrap.zip")
    info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16  # a regular, executable file
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(bootstrap, "rb") as f, zipfile.ZipFile(archive, "w") as z:
        z.writestr(info, f.read(), compresslevel=9)
    sizes = os.path.getsize(bootstrap), os.path.getsize(archive)
    total = [total[0] + sizes[0], total[1] + sizes[1]]
    print(f"| {name} | {sizes[0]:,} | {sizes[1]:,} |")
print(f"| **all {len(names)}** | {total[0]:,} | {total[1]:,} |")
EOF
