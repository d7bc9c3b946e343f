#!/usr/bin/env bash
# A trust's deployment on this machine (issue 9): two kidsearch instances sharing one
# PostgreSQL and one secret.
#
#   bash benches/cluster.sh [N=200] [DURATION=10] [CONNS=300]
#
# Measures (release build, loopback only, stops by itself):
#   - the approved (frozen) results page: requests/s, p50, p99 with 1 instance, then with 2
#     (one wrk per instance at the same time, CONNS split between them; requests/s summed);
#   - propagation: approval made on A → served by B, and tell-an-adult press on A → alert on a
#     dashboard connected to B; p50/p99/max over N each (examples/cluster_propagation.rs).
# PostgreSQL is a throwaway cluster from scripts/test-postgres.sh (port 55433, its own folder).
# Everything shares the same 2 cores, load generator included: compare rows of one run.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
DURATION=${2:-10}
CONNS=${3:-300}
A_PORT=8094
B_PORT=8095
WORK=$(mktemp -d)
export PG_TEST_PORT=55433 PG_TEST_DIR=/tmp/kidsearch-postgres-for-bench
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; bash scripts/test-postgres.sh stop; rm -rf "$WORK"' EXIT
ulimit -n 65536 2>/dev/null || true

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin kidsearch --example fixture_upstream --example cluster_propagation
BIN=target/release
eval "$(bash scripts/test-postgres.sh start)"
# One database for the trust (the throwaway server's default one).
URL="$KIDSEARCH_TEST_DATABASE_URL"

"$BIN/examples/fixture_upstream" "$WORK/engines.toml" 100 duckduckgo bing simple_wikipedia 2>"$WORK/fixture.log" &
for _ in $(seq 100); do [ -s "$WORK/engines.toml" ] && break; sleep 0.1; done
head -c 64 /dev/urandom >"$WORK/shared.secret"
chmod 600 "$WORK/shared.secret"
# Top-level settings go before the engines' tables.
{
  echo "database_url = \"$URL\""
  echo "shared_secret_file = \"$WORK/shared.secret\""
  echo "require_enrolment = false"
  echo "supervised_sessions = false"
  cat "$WORK/engines.toml"
} >"$WORK/kidsearch.toml"
echo "quiet maple lantern" | "$BIN/kidsearch" --config "$WORK/kidsearch.toml" --data-dir "$WORK/a" user add --role teacher bench >/dev/null 2>&1
for side in a:$A_PORT b:$B_PORT; do
  name=${side%%:*} port=${side##*:}
  RUST_LOG=warn "$BIN/kidsearch" --config "$WORK/kidsearch.toml" --listen "127.0.0.1:$port" --data-dir "$WORK/$name" >"$WORK/$name.log" 2>&1 &
  for _ in $(seq 500); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.01; done
done
A="http://127.0.0.1:$A_PORT"
B="http://127.0.0.1:$B_PORT"

# One approved search (made on A) for the page load.
JAR="$WORK/cookies"
csrf() { grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//'; }
T=$(curl -s -c "$JAR" -b "$JAR" "$A/staff/login" | csrf)
curl -s -c "$JAR" -b "$JAR" -o /dev/null --data-urlencode "csrf=$T" --data-urlencode "name=bench" --data-urlencode "password=quiet maple lantern" "$A/staff/login"
curl -s -c "$JAR" -b "$JAR" "$A/staff/prerun?q=dinosaurs&engine=bing&pages=2" >"$WORK/prerun.html"
T=$(csrf <"$WORK/prerun.html")
# The approval freezes exactly the pre-run shown: its signed preview goes back with the form.
field() { grep -o "name=\"$1\" value=\"[^\"]*\"" "$WORK/prerun.html" | head -1 | sed 's/.*value="//; s/"$//; s/&quot;/"/g; s/&#39;/'"'"'/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g'; }
curl -s -c "$JAR" -b "$JAR" -o /dev/null --data-urlencode "csrf=$T" --data-urlencode "preview=$(field preview)" --data-urlencode "preview_sig=$(field preview_sig)" "$A/staff/approvals"
for base in "$A" "$B"; do
  curl -s "$base/search?q=dinosaurs&format=json" | grep -q '"approved":true' || { echo "the approval is not served by $base" >&2; exit 1; }
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%F); PostgreSQL $(psql --version | awk '{ print $3 }')"
to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }'; }
summary() { # wrk output file → "rps p50 p99 errors"
  awk '/Requests\/sec/ { r = $2 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 } /Non-2xx/ { e += $NF } /Socket errors/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
       END { print r, p50, p99, e + 0 }' "$1"
}
wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 5s --latency "$A/search?q=dinosaurs" >"$WORK/one.txt" 2>&1
read -r rps p50 p99 errors < <(summary "$WORK/one.txt")
echo "approved page, 1 instance, $CONNS connections: $rps req/s, p50 $(echo "$p50" | to_ms) ms, p99 $(echo "$p99" | to_ms) ms, errors $errors"
HALF=$((CONNS / 2))
wrk -t1 -c"$HALF" -d"${DURATION}s" --timeout 5s --latency "$A/search?q=dinosaurs" >"$WORK/two-a.txt" 2>&1 &
wrk -t1 -c"$HALF" -d"${DURATION}s" --timeout 5s --latency "$B/search?q=dinosaurs" >"$WORK/two-b.txt" 2>&1
wait %% 2>/dev/null || true
sleep 0.5
read -r rps_a p50_a p99_a errors_a < <(summary "$WORK/two-a.txt")
read -r rps_b p50_b p99_b errors_b < <(summary "$WORK/two-b.txt")
echo "approved page, 2 instances, $HALF + $HALF connections: $(awk -v a="$rps_a" -v b="$rps_b" 'BEGIN { printf "%.0f", a + b }') req/s" \
  "(A $rps_a, p99 $(echo "$p99_a" | to_ms) ms; B $rps_b, p99 $(echo "$p99_b" | to_ms) ms), errors $((errors_a + errors_b))"

"$BIN/examples/cluster_propagation" "$A" "$B" bench "quiet maple lantern" "$N"
