#!/usr/bin/env bash
# The mixed-speed run (issue 24): how long a pupil waits for a *new* search when the engines
# answer at different speeds. Loopback only, stops by itself:
#
#   bash benches/mixed.sh            # release build, N=100 new queries per case (~6 min after the build)
#   bash benches/mixed.sh --smoke    # debug build, a few queries per case, no figures claimed (CI)
#
# Four pupil engines from the fixture upstream (DuckDuckGo, Simple Wikipedia, Mojeek, Bing).
# Each case starts a fresh kidsearch (enrolment and supervision off, answer_deadline_ms as
# shipped unless the case says otherwise) and sends N searches one after another, each for a
# word it has not searched before (the child vocabulary's, so no cache helps), timing each with
# curl. Cases:
#   slow_one        Bing at 2.5 s, the others at 50 ms (target: p99 <= deadline + 50 ms)
#   slow_one_wait   the same with answer_deadline_ms = 0: waiting for every engine (as before)
#   all_100ms       every engine at 100 ms (the fast path: compare with --live's overhead)
#   stalled_one     Bing never answering in time (10 s, past its 3 s timeout): after its first
#                   few failures it rests (the circuit breaker); p99 over queries 6..N
#   without_it      Bing switched off, the others at 50 ms: what stalled_one should match
#   coalescing      300 identical new searches at once with Bing at 2.5 s: upstream requests
#                   per engine (target: 1 each, including Bing's, which finishes after the page)
# Writes target/bench/mixed.json and prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
if [ $SMOKE = 1 ]; then N=4; PROFILE=debug; else N=${N:-100}; PROFILE=release; fi
PORT=8095
bench_scratch

bench_build "$PROFILE" fixture_upstream
JSON="$OUT/mixed.json"
: >"$JSON"
pct() { sort -n | awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p); if (i < 1) i = 1; printf "%.1f", a[i] }'; }
# Distinct ordinary words (skipping short ones), so every search is new.
# One awk, no pipe into head: under pipefail a writer that head has stopped reading from dies
# of SIGPIPE, which ended CI's run with exit code 141.
WORDS=$(awk '!/^#/ && length($0) >= 5 && n++ < 1200' allowlist/vocabulary/words.txt)

FIXTURE=""
SERVER=""
start() { # extra-config engine[=delay]...
  local extra="$1"; shift
  rm -rf "$WORK/data" "$WORK/kidsearch.toml" "$WORK/fixture.log"
  "$BIN/examples/fixture_upstream" "$WORK/kidsearch.toml" 50 "$@" 2>"$WORK/fixture.log" &
  FIXTURE=$!
  for _ in $(seq 100); do [ -s "$WORK/kidsearch.toml" ] && break; sleep 0.1; done
  printf 'require_enrolment = false\nsupervised_sessions = false\n%s\n%s' "$extra" "$(cat "$WORK/kidsearch.toml")" >"$WORK/kidsearch.toml"
  RUST_LOG=error "$BIN/kidsearch" --config "$WORK/kidsearch.toml" --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" >"$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1000); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.01; done
}
stop() { kill "$SERVER" "$FIXTURE" 2>/dev/null || true; wait "$SERVER" "$FIXTURE" 2>/dev/null || true; }
# N new searches one after another, from word number $1 on; each pupil wait in ms, one a line.
searches() {
  echo "$WORDS" | sed -n "$1,$(( $1 + N - 1 ))p" | while read -r word; do
    curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/search?q=$word&format=json"
  done | awk '{ printf "%.1f\n", $1 * 1000 }'
}
report() { # name file skip
  local name="$1" file="$2" skip="${3:-0}"
  tail -n +"$(( skip + 1 ))" "$file" >"$file.kept"
  local p50 p99
  p50=$(pct 0.5 <"$file.kept"); p99=$(pct 0.99 <"$file.kept")
  printf '%-15s p50 %8s ms   p99 %8s ms   (%s searches)\n' "$name" "$p50" "$p99" "$(wc -l <"$file.kept")"
  printf '{"case":"%s","p50_ms":%s,"p99_ms":%s,"searches":%s}\n' "$name" "$p50" "$p99" "$(wc -l <"$file.kept")" >>"$JSON"
}
FAST=(duckduckgo=50 simple_wikipedia=50 mojeek=50)

start "" "${FAST[@]}" bing=2500
searches 1 >"$WORK/slow_one"; stop; report slow_one "$WORK/slow_one"
start "answer_deadline_ms = 0" "${FAST[@]}" bing=2500
searches 1 >"$WORK/slow_one_wait"; stop; report slow_one_wait "$WORK/slow_one_wait"
start "" duckduckgo=100 simple_wikipedia=100 mojeek=100 bing=100
searches 1 >"$WORK/all_100ms"; stop; report all_100ms "$WORK/all_100ms"
start "" "${FAST[@]}" bing=10000
SKIP=$(( N > 10 ? 5 : 0 ))
searches 1 >"$WORK/stalled_one"; stop; report stalled_one "$WORK/stalled_one" $SKIP
start "" "${FAST[@]}"
searches 1 >"$WORK/without_it"; stop; report without_it "$WORK/without_it" $SKIP

# Coalescing: 300 identical new searches at once, then every engine's request count.
start "" "${FAST[@]}" bing=2500
CURLS=()
for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$PORT/search?q=lighthouses&format=json" & CURLS+=($!); done
wait "${CURLS[@]}" 2>/dev/null || true
sleep 3
kill -USR1 "$FIXTURE"; sleep 0.3
COUNTS=$(grep '^searches:' "$WORK/fixture.log" | tail -1 | sed 's/^searches: //')
stop
echo "coalescing      300 identical new searches: upstream requests $COUNTS"
printf '{"case":"coalescing","searches":300,"upstream":"%s"}\n' "$COUNTS" >>"$JSON"
echo "$COUNTS" | tr ' ' '\n' | awk -F= '$2 != 1 { bad = 1 } END { exit bad }' || { echo "coalescing: an engine was asked more than once" >&2; exit 1; }
