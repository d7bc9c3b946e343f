#!/usr/bin/env bash
# Alert latency (issue 5's figure): tell-an-adult press → Server-Sent Event on every connected
# staff dashboard, with STREAMS dashboards connected.
#
#   bash benches/alerts.sh [STREAMS=300] [PRESSES=50]
#
# Runs the release kidsearch on 127.0.0.1 with a fresh data dir and one staff account, then
# examples/alert_latency.rs as the dashboards and the pupil. Loopback only; the client shares
# the CPU with the server, so these are figures for this machine under that load.
set -euo pipefail
cd "$(dirname "$0")/.."
STREAMS=${1:-300}
PRESSES=${2:-50}
PORT=8089
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release --quiet --bin kidsearch --example alert_latency
echo "quiet maple lantern" | ./target/release/kidsearch --data-dir "$WORK/data" user add --role teacher bench >/dev/null
# The client names a LAN address per press (X-Forwarded-For), as a school proxy would.
printf 'trusted_proxies = ["127.0.0.1"]\n' >"$WORK/kidsearch.toml"
RUST_LOG=warn ./target/release/kidsearch --config "$WORK/kidsearch.toml" --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" >"$WORK/server.log" 2>&1 &
for _ in $(seq 500); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.01; done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%F)"
./target/release/examples/alert_latency "http://127.0.0.1:$PORT" bench "quiet maple lantern" "$STREAMS" "$PRESSES"
