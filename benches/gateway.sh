#!/usr/bin/env bash
# Gateway benchmark (issue 2's figures): cached results page throughput/latency at 30 and 300
# connections, and live-query overhead over the slowest engine.
#
#   bash benches/gateway.sh [DURATION_SECONDS=10] [DELAY_MS=100]
#
# Everything runs on this machine over loopback: a fixture upstream (3 engines answering after
# DELAY_MS), the release kidsearch, and wrk (Debian package, installed if missing). The load
# generator shares the CPU with the server: compare only figures taken in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
DELAY=${2:-100}
PORT=8088
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; cp "$WORK/server.log" /tmp/kidsearch-bench-server.log 2>/dev/null; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin kidsearch --example fixture_upstream

./target/release/examples/fixture_upstream "$WORK/kidsearch.toml" "$DELAY" duckduckgo bing simple_wikipedia 2>"$WORK/fixture.log" &
for _ in $(seq 50); do [ -s "$WORK/kidsearch.toml" ] && break; sleep 0.1; done
START=$(date +%s%N)
RUST_LOG=warn ./target/release/kidsearch --config "$WORK/kidsearch.toml" --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 500); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.01; done
echo "cold start to first answered request: $(( ($(date +%s%N) - START) / 1000000 )) ms"
rss() { awk '/VmRSS/ { printf "%.1f MB", $2 / 1024 }' "/proc/$SERVER/status"; }
echo "RSS idle: $(rss)"

# Pupil pages need an enrolled iPad in a class whose search window is open (the shipped
# defaults): a teacher signs in, makes an enrolment link, "the iPad" opens it, search opens.
echo "quiet maple lantern" | ./target/release/kidsearch --config "$WORK/kidsearch.toml" --data-dir "$WORK/data" user add --role teacher bench >/dev/null 2>&1
JAR="$WORK/cookies"
B="http://127.0.0.1:$PORT"
csrf() { grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//'; }
T=$(curl -s -c "$JAR" -b "$JAR" "$B/staff/login" | csrf)
curl -s -c "$JAR" -b "$JAR" -o /dev/null --data-urlencode "csrf=$T" --data-urlencode "name=bench" --data-urlencode "password=quiet maple lantern" "$B/staff/login"
T=$(curl -s -c "$JAR" -b "$JAR" "$B/staff" | csrf)
LINK=$(curl -s -c "$JAR" -b "$JAR" --data-urlencode "csrf=$T" -d "class=Bench&label=wrk" "$B/staff/devices" | grep -o 'id="enrol-link" href="[^"]*"' | sed 's/.*href="//; s/"$//')
DEVICE=$(curl -s -D - -o /dev/null -X POST "$LINK" | grep -io 'kidsearch_device=[^;]*' | head -1)
[ -n "$DEVICE" ] || { echo "enrolling the benchmark device failed"; exit 1; }
curl -s -c "$JAR" -b "$JAR" -o /dev/null --data-urlencode "csrf=$T" -d "class=Bench&minutes=480" "$B/staff/classes/open"
PUPIL=(-H "Cookie: $DEVICE")

URL="http://127.0.0.1:$PORT/search?q=volcanoes"
curl -sf "${PUPIL[@]}" "$URL" -o "$WORK/page.html"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%F)"
echo "cached results page: $(wc -c <"$WORK/page.html") bytes"
for C in 30 300; do
  echo "--- cached page, $C connections, ${DURATION}s (wrk -t2) ---"
  wrk -t2 -c"$C" -d"${DURATION}s" --latency "${PUPIL[@]}" "$URL" | grep -E 'Requests/sec|Latency  |99%|50%|Non-2xx|Socket errors' || true
  echo "RSS after this load: $(rss)"
done

echo "--- live query overhead: 200 distinct uncached queries, 3 engines answering after ${DELAY} ms ---"
# The slowest engine's own time, measured the same way (curl straight to a fixture), is the
# baseline: overhead = gateway time - slowest engine time.
FIXTURE=$(grep -A1 'engines.bing' "$WORK/kidsearch.toml" | grep -o 'http://[^"]*')
pct() { sort -n | awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p); if (i < 1) i = 1; printf "%.2f", a[i] }'; }
for i in $(seq 200); do curl -s -o /dev/null -w '%{time_total}\n' "$FIXTURE/search?q=direct+$i"; done | awk '{ print $1 * 1000 }' > "$WORK/direct.txt"
for i in $(seq 200); do curl -s -o /dev/null -w '%{time_total}\n' "${PUPIL[@]}" "http://127.0.0.1:$PORT/search?q=lava+flow+$i"; done | awk '{ print $1 * 1000 }' > "$WORK/gateway.txt"
BASE=$(pct 0.5 < "$WORK/direct.txt")
echo "engine alone (direct to fixture): p50 ${BASE} ms, p99 $(pct 0.99 < "$WORK/direct.txt") ms"
echo "through the gateway:              p50 $(pct 0.5 < "$WORK/gateway.txt") ms, p99 $(pct 0.99 < "$WORK/gateway.txt") ms"
awk -v b="$BASE" '{ print $1 - b }' "$WORK/gateway.txt" > "$WORK/overhead.txt"
echo "gateway overhead:                 p50 $(pct 0.5 < "$WORK/overhead.txt") ms, p99 $(pct 0.99 < "$WORK/overhead.txt") ms"

echo "--- approved (frozen) results page: a teacher approves 'dinosaurs' first ---"
T=$(curl -s -c "$JAR" -b "$JAR" "$B/staff/prerun?q=dinosaurs&engine=bing&pages=2" | csrf)
curl -s -c "$JAR" -b "$JAR" -o /dev/null --data-urlencode "csrf=$T" -d "q=dinosaurs&engine=bing&pages=2" "$B/staff/approvals"
APPROVED="$B/search?q=dinosaurs"
curl -s "${PUPIL[@]}" "$APPROVED&format=json" | grep -q '"approved":true' || { echo "approval failed"; exit 1; }
echo "approved page: $(curl -s "${PUPIL[@]}" "$APPROVED" | wc -c) bytes"
for C in 30 300; do
  echo "--- approved page, $C connections, ${DURATION}s (wrk -t2) ---"
  wrk -t2 -c"$C" -d"${DURATION}s" --latency "${PUPIL[@]}" "$APPROVED" | grep -E 'Requests/sec|Latency  |99%|50%|Non-2xx|Socket errors' || true
  echo "RSS after this load: $(rss)"
done
