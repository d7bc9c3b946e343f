#!/usr/bin/env bash
# The README's test command: builds and runs every test (unit, integration, property).
# Tests only ever talk to servers on 127.0.0.1 that the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --all-targets --locked --no-fail-fast -- --test-threads=2
