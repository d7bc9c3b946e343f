#!/usr/bin/env bash
# The README's test command: builds and runs every test (unit, integration, property).
# Tests only ever talk to servers on 127.0.0.1 that the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
# The deploy tests verify the systemd unit with systemd-analyze (Debian's systemd package).
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "installing systemd (for systemd-analyze verify)..."
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null; else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null; fi
fi
cargo test --all-targets --locked --no-fail-fast -- --test-threads=2
