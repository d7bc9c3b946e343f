#!/usr/bin/env bash
# kidsearch's benchmark suite (issue 8). One command, loopback only, stops by itself:
#
#   bash benches/run.sh            # the full suite (~15 min: 10 s per load point, a 10-minute soak)
#   bash benches/run.sh --smoke    # seconds, for CI: same steps, tiny durations, debug build, no figures claimed
#   bash benches/run.sh --live     # only the live-query overhead (3.), release build, ~1 minute after the build
#   KIDSEARCH_BIN=target/prof/release/kidsearch bash benches/run.sh --live   # the same against another build (perf)
#   bash benches/run.sh --mixed    # the mixed-speed run (benches/mixed.sh): a new search's wait with one slow or stalled engine
#   bash benches/run.sh --reload   # a million-domain block list reloaded while 300 connections search (benches/reload.sh)
#   bash benches/run.sh --pictures [--smoke]   # issue 26's picture budgets (benches/pictures.sh): cold page with
#                                  # its pictures, CPU per picture, a cached picture's req/s, RSS with the image cache full
#   bash benches/run.sh --soak [MINUTES]   # only the soak (default 60 min), release build: RSS every 30 s
#                                  # into target/bench/soak-rss.csv (with the server's thread count), the curve and the slope of its second half
#
# It builds kidsearch and the helpers, starts a fixture upstream on 127.0.0.1 (3 engines answering
# after DELAY_MS, default 100), kidsearch with an enrolled "iPad" in an open class and one approved
# search, and a baseline (a minimal actix-web server returning the same page bytes). wrk (Debian's
# package, installed if missing) drives the load. It writes target/bench/results.md and .json:
#   1. cached live results page, 2. approved (frozen) page, 7. the baseline — requests/s, p50, p99,
#      errors at 30, 300 and 3,000 connections; each twice: plain (as wrk asks by default) and
#      gzip (as an iPad's Safari asks: `Accept-Encoding: gzip`; a second baseline then serves the
#      same gzipped bytes);
#   3. live-query overhead (gateway time minus the slowest engine's own time), p50/p99;
#   4. coalescing: upstream requests per engine for 300 identical concurrent queries;
#   5. RSS idle, after each load, and across a soak at 300 connections mixing cached and new
#      searches (one request in NEW_EVERY, default 10, is a search nobody asked before): first vs
#      last sample, across its second half (after the warm-up) and that half's slope;
#   6. cold start to first answered request.
# The load generator shares the 2 cores with the server: compare figures from the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

[ "${1:-}" = "--mixed" ] && exec bash benches/mixed.sh
[ "${1:-}" = "--reload" ] && exec bash benches/reload.sh "${@:2}"
[ "${1:-}" = "--pictures" ] && exec bash benches/pictures.sh "${@:2}"
SMOKE=0
LIVE_ONLY=0
SOAK_ONLY=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
[ "${1:-}" = "--live" ] && LIVE_ONLY=1
[ "${1:-}" = "--soak" ] && SOAK_ONLY=1
DELAY=${DELAY_MS:-100}
NEW_EVERY=${NEW_EVERY:-10}
if [ $SMOKE = 1 ]; then
  DURATION=1; CONNS="30 300"; SOAK=4; SAMPLE=2; LIVE_N=10; PROFILE=debug
else
  DURATION=${DURATION:-10}; CONNS=${CONNS-"30 300 3000"}; SOAK=${SOAK_SECS:-600}; SAMPLE=${SAMPLE_SECS:-30}; LIVE_N=${LIVE_N:-200}; PROFILE=release
fi
if [ $SOAK_ONLY = 1 ]; then
  SOAK=$(( ${2:-60} * 60 )); CONNS=""
fi
# Overridable, so a second run (another build, beside a long soak) can share the machine.
KS_PORT=${KS_PORT:-8091}
BASE_PORT=${BASE_PORT:-8092}
GZ_PORT=${GZ_PORT:-8093}
bench_scratch
bench_load_tools
bench_build "$PROFILE" fixture_upstream baseline_server

[ $LIVE_ONLY = 1 ] && CONNS=""
KIDSEARCH="${KIDSEARCH_BIN:-$BIN/kidsearch}"

JSON="$WORK/results.jsonl"
: >"$JSON"
record() { printf '%s\n' "$1" >>"$JSON"; }
to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }'; }

"$BIN/examples/fixture_upstream" "$WORK/kidsearch.toml" "$DELAY" duckduckgo bing simple_wikipedia 2>"$WORK/fixture.log" &
FIXTURE=$!
for _ in $(seq 100); do [ -s "$WORK/kidsearch.toml" ] && break; sleep 0.1; done
# SERVER_TOML: server settings put before the fixture's engine tables, e.g. to compare a soak
# with a smaller cache: SERVER_TOML='cache_capacity = 500' bash benches/run.sh --soak 3
if [ -n "${SERVER_TOML:-}" ]; then
  { printf '%s\n' "$SERVER_TOML"; cat "$WORK/kidsearch.toml"; } >"$WORK/kidsearch.toml.new" && mv "$WORK/kidsearch.toml.new" "$WORK/kidsearch.toml"
fi
START=$(date +%s%N)
RUST_LOG=warn "$KIDSEARCH" --config "$WORK/kidsearch.toml" --listen "127.0.0.1:$KS_PORT" --data-dir "$WORK/data" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1000); do curl -sf "http://127.0.0.1:$KS_PORT/healthz" >/dev/null && break; sleep 0.005; done
COLD=$(( ($(date +%s%N) - START) / 1000000 ))
rss() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
threads() { awk '/^Threads/ { print $2 }' "/proc/$1/status"; }
RSS_IDLE=$(rss $SERVER)
record "{\"metric\":\"cold_start_ms\",\"value\":$COLD}"
record "{\"metric\":\"rss_idle_mb\",\"value\":$RSS_IDLE}"

# A teacher, an enrolled iPad in class Bench with search open, and an approved search.
B="http://127.0.0.1:$KS_PORT"
JAR="$WORK/cookies"
echo "quiet maple lantern" | "$KIDSEARCH" --config "$WORK/kidsearch.toml" --data-dir "$WORK/data" user add --role teacher bench >/dev/null 2>&1
csrf() { grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//'; }
T=$(curl -s -c "$JAR" -b "$JAR" "$B/staff/login" | csrf)
curl -s -c "$JAR" -b "$JAR" -o /dev/null --data-urlencode "csrf=$T" --data-urlencode "name=bench" --data-urlencode "password=quiet maple lantern" "$B/staff/login"
T=$(curl -s -c "$JAR" -b "$JAR" "$B/staff" | csrf)
LINK=$(curl -s -c "$JAR" -b "$JAR" --data-urlencode "csrf=$T" -d "class=Bench&label=wrk" "$B/staff/devices" | grep -o 'id="enrol-link" href="[^"]*"' | sed 's/.*href="//; s/"$//')
DEVICE=$(curl -s -D - -o /dev/null -X POST "$LINK" | grep -io 'kidsearch_device=[^;]*' | head -1)
[ -n "$DEVICE" ] || { echo "enrolling the benchmark iPad failed" >&2; exit 1; }
curl -s -c "$JAR" -b "$JAR" -o /dev/null --data-urlencode "csrf=$T" -d "class=Bench&minutes=480" "$B/staff/classes/open"
curl -s -c "$JAR" -b "$JAR" "$B/staff/prerun?q=dinosaurs&engine=bing&pages=2" >"$WORK/prerun.html"
T=$(csrf <"$WORK/prerun.html")
# The approval freezes exactly the pre-run shown: its signed preview goes back with the form.
field() { grep -o "name=\"$1\" value=\"[^\"]*\"" "$WORK/prerun.html" | head -1 | sed 's/.*value="//; s/"$//; s/&quot;/"/g; s/&#39;/'"'"'/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g'; }
curl -s -c "$JAR" -b "$JAR" -o /dev/null --data-urlencode "csrf=$T" --data-urlencode "preview=$(field preview)" --data-urlencode "preview_sig=$(field preview_sig)" "$B/staff/approvals"
PUPIL=(-H "Cookie: $DEVICE")
CACHED="$B/search?q=volcanoes"
APPROVED="$B/search?q=dinosaurs"
curl -sf "${PUPIL[@]}" "$CACHED" -o "$WORK/page.html"
curl -s "${PUPIL[@]}" "$APPROVED&format=json" | grep -q '"approved":true' || { echo "approving the benchmark search failed" >&2; exit 1; }
curl -sf "${PUPIL[@]}" -H "Accept-Encoding: gzip" "$CACHED" -o "$WORK/page.html.gz"
PAGE_BYTES=$(wc -c <"$WORK/page.html")
GZ_BYTES=$(wc -c <"$WORK/page.html.gz")
[ "$GZ_BYTES" -lt "$PAGE_BYTES" ] || { echo "the results page was not served gzipped" >&2; exit 1; }

"$BIN/examples/baseline_server" "$BASE_PORT" "$WORK/page.html" >"$WORK/baseline.log" 2>&1 &
BASELINE=$!
"$BIN/examples/baseline_server" "$GZ_PORT" "$WORK/page.html.gz" >"$WORK/baseline-gz.log" 2>&1 &
BASELINE_GZ=$!
for port in $BASE_PORT $GZ_PORT; do
  for _ in $(seq 500); do curl -sf "http://127.0.0.1:$port/" -o /dev/null && break; sleep 0.01; done
done

# Pupil requests the server itself took more than 4 s over (its latency histogram's top bucket):
# when wrk reports timeouts, this tells a slow answer from one that never reached the handler.
over_4s() { curl -s "$B/metrics" | awk '/^kidsearch_request_duration_seconds_bucket\{le="4.096",route="\/search"\}/ { a = $2 } /^kidsearch_request_duration_seconds_bucket\{le="\+Inf",route="\/search"\}/ { b = $2 } END { print b - a }'; }

load() { # name url pid conns encoding
  local name=$1 url=$2 pid=$3 c=$4 enc=$5 out under slow_before log_before
  slow_before=$(over_4s)
  log_before=$(wc -l <"$WORK/server.log")
  wrk -t2 -c"$c" -d"${DURATION}s" --timeout 5s --latency "${PUPIL[@]}" -H "Accept-Encoding: $enc" "$url" >"$WORK/wrk.txt" 2>&1 &
  sleep "$(awk -v d="$DURATION" 'BEGIN { print d / 2 }')"
  under=$(rss "$pid")
  wait $!
  out=$(cat "$WORK/wrk.txt")
  local rps p50 p99 errors
  rps=$(echo "$out" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
  p50=$(echo "$out" | awk '$1 == "50%" { print $2 }' | to_ms)
  p99=$(echo "$out" | awk '$1 == "99%" { print $2 }' | to_ms)
  errors=$(echo "$out" | awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }')
  # What kind of errors, when there are any (wrk: "Socket errors: connect 0, read 0, write 0, timeout 0").
  kinds=$(echo "$out" | awk '/Non-2xx/ { printf "non-2xx %s ", $NF } /Socket errors/ { gsub(/,/, ""); printf "connect %s read %s write %s timeout %s", $4, $6, $8, $10 }')
  if [ "$name" != baseline ] && [ "$errors" != 0 ]; then
    kinds="$kinds; answers the server took over 4 s for: $(( $(over_4s) - slow_before ))"
    # The server logs each results page slower than a second with the time of each step.
    slow_log=$(tail -n +"$((log_before + 1))" "$WORK/server.log" | sed 's/\x1b\[[0-9;]*m//g' | grep 'took over a second' || true)
    if [ -n "$slow_log" ]; then
      kinds="$kinds; pages the server logged as slow: $(echo "$slow_log" | wc -l), the first: $(echo "$slow_log" | head -1 | grep -o 'gate_ms.*')"
    fi
  fi
  record "{\"metric\":\"load\",\"page\":\"$name\",\"encoding\":\"$enc\",\"connections\":$c,\"rps\":${rps:-0},\"p50_ms\":${p50:-0},\"p99_ms\":${p99:-0},\"errors\":$errors,\"error_kinds\":\"$kinds\",\"rss_under_mb\":$under,\"rss_mb\":$(rss "$pid")}"
  echo "$name ($enc) @ $c: ${rps} req/s, p50 ${p50} ms, p99 ${p99} ms, errors $errors ${kinds}"
}
for C in $CONNS; do
  load cached "$CACHED" $SERVER "$C" identity
  load approved "$APPROVED" $SERVER "$C" identity
  load baseline "http://127.0.0.1:$BASE_PORT/" $BASELINE "$C" identity
  load cached "$CACHED" $SERVER "$C" gzip
  load approved "$APPROVED" $SERVER "$C" gzip
  load baseline "http://127.0.0.1:$GZ_PORT/" $BASELINE_GZ "$C" gzip
done

if [ $SOAK_ONLY = 0 ]; then
# 3. Live overhead. Per query: the gateway's time from sending the request to the last byte
# (curl's total minus its connect time) minus the slowest of the three engines' own time to answer
# that query (the fixture times each search and prints the times on SIGUSR2). Also, for continuity
# with earlier runs: the gateway's total minus the median time of one engine asked directly.
ENGINE=$(grep -A1 'engines.bing' "$WORK/kidsearch.toml" | grep -o 'http://[^"]*')
pct() { sort -n | awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p); if (i < 1) i = 1; printf "%.2f", a[i] }'; }
for i in $(seq "$LIVE_N"); do curl -s -o /dev/null -w '%{time_total}\n' "$ENGINE/search?q=direct+$i"; done | awk '{ print $1 * 1000 }' >"$WORK/direct.txt"
for i in $(seq "$LIVE_N"); do echo "$i $(curl -s -o /dev/null -w '%{time_pretransfer} %{time_total}' "${PUPIL[@]}" "$B/search?q=lava+flow+$i")"; done >"$WORK/gateway.txt"
kill -USR2 $FIXTURE
for _ in $(seq 100); do grep -q '^timings end' "$WORK/fixture.log" && break; sleep 0.1; done
python3 - "$WORK/gateway.txt" "$WORK/fixture.log" >"$WORK/overhead.txt" <<'PY'
import sys
slowest = {}
for line in open(sys.argv[2]):
    if line.startswith("timing "):
        _, engine, micros, values = line.rstrip("\n").split(" ", 3)
        for v in values.split("|"):
            if v.startswith("lava flow "):
                slowest[v] = max(slowest.get(v, 0), int(micros) / 1000)
for line in open(sys.argv[1]):
    i, pre, total = line.split()
    engines = slowest.get(f"lava flow {i}")
    if engines is None:
        sys.exit(f"no engine timing for query {i}")
    print(f"{(float(total) - float(pre)) * 1000 - engines:.3f}")
PY
DIRECT=$(pct 0.5 <"$WORK/direct.txt")
awk -v b="$DIRECT" '{ print $3 * 1000 - b }' "$WORK/gateway.txt" >"$WORK/vs_direct.txt"
awk '{ print $3 * 1000 }' "$WORK/gateway.txt" >"$WORK/gateway_ms.txt"
echo "live overhead: p50 $(pct 0.5 <"$WORK/overhead.txt") ms, p99 $(pct 0.99 <"$WORK/overhead.txt") ms; vs one engine asked directly: p50 $(pct 0.5 <"$WORK/vs_direct.txt"), p99 $(pct 0.99 <"$WORK/vs_direct.txt") (gateway p50 $(pct 0.5 <"$WORK/gateway_ms.txt"), direct p50 $DIRECT)"
[ $LIVE_ONLY = 1 ] && exit 0
record "{\"metric\":\"live_overhead\",\"engine_delay_ms\":$DELAY,\"engines\":3,\"p50_ms\":$(pct 0.5 <"$WORK/overhead.txt"),\"p99_ms\":$(pct 0.99 <"$WORK/overhead.txt"),\"vs_direct_p50_ms\":$(pct 0.5 <"$WORK/vs_direct.txt"),\"vs_direct_p99_ms\":$(pct 0.99 <"$WORK/vs_direct.txt")}"

# 4. Coalescing: 300 identical concurrent queries nobody asked before.
searches() { kill -USR1 $FIXTURE; sleep 0.3; grep '^searches:' "$WORK/fixture.log" | tail -1; }
BEFORE=$(searches)
seq 300 | xargs -P 300 -I{} curl -s -o /dev/null "${PUPIL[@]}" "$B/search?q=coalescing+check"
AFTER=$(searches)
COALESCE=""
for e in duckduckgo bing simple_wikipedia; do
  n=$(( $(echo "$AFTER" | grep -o "$e=[0-9]*" | cut -d= -f2) - $(echo "$BEFORE" | grep -o "$e=[0-9]*" | cut -d= -f2) ))
  COALESCE="$COALESCE\"$e\":$n,"
done
record "{\"metric\":\"coalescing\",\"identical_queries\":300,\"upstream_requests\":{${COALESCE%,}}}"
fi

# 5. Soak: 300 connections for SOAK seconds, RSS sampled every SAMPLE s. Most requests are the
# cached page; one in NEW_EVERY is a search nobody asked before (it goes to the engines, fills
# the caches and writes an activity row), so caches that keep growing would show here.
kill -HUP $FIXTURE # the fixture stops keeping each request: the soak sends millions
cat >"$WORK/soak.lua" <<LUA
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) n = 0 end
function request()
  n = n + 1
  if n % $NEW_EVERY == 0 then return wrk.format(nil, "/search?q=soak+walk+" .. id .. "+" .. n) end
  return wrk.format(nil, "/search?q=volcanoes")
end
LUA
SOAK_CSV="$OUT/soak-rss.csv"
# With the server's thread count beside it: each thread keeps an allocator heap of its own.
echo "seconds,rss_mb,threads" >"$SOAK_CSV"
wrk -t2 -c300 -d"${SOAK}s" --timeout 5s -s "$WORK/soak.lua" "${PUPIL[@]}" "$B/" >"$WORK/soak.txt" 2>&1 &
SOAKER=$!
SOAK_START=$(date +%s)
SAMPLES=""
while kill -0 $SOAKER 2>/dev/null; do
  now=$(rss $SERVER)
  SAMPLES="$SAMPLES$now,"
  echo "$(( $(date +%s) - SOAK_START )),$now,$(threads $SERVER)" >>"$SOAK_CSV"
  sleep "$SAMPLE"
done
wait $SOAKER || true
SOAK_RPS=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$WORK/soak.txt")
SOAK_ERRORS=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$WORK/soak.txt")
NEW_SEARCHES=$(curl -s "$B/metrics" | awk '/^kidsearch_answer_cache_total\{result="miss"\}/ { print $2 }')
record "{\"metric\":\"soak\",\"seconds\":$SOAK,\"new_every\":$NEW_EVERY,\"rss_samples_mb\":[${SAMPLES%,}],\"rps\":${SOAK_RPS:-0},\"errors\":$SOAK_ERRORS,\"answer_cache_misses\":${NEW_SEARCHES:-0},\"rss_after_mb\":$(rss $SERVER)}"
# The curve (one line a minute, or a sample when shorter) and the slope of its second half.
soak_curve() {
  python3 - "$SOAK_CSV" <<'PY'
import csv, sys
rows = [(int(r["seconds"]), float(r["rss_mb"])) for r in csv.DictReader(open(sys.argv[1]))]
step = 60 if rows and rows[-1][0] >= 120 else 1
shown = [r for r in rows if r[0] % step < 30 or step == 1]
print("soak RSS curve (minute, RSS MB):" if step == 60 else "soak RSS curve (second, RSS MB):")
print("  " + "  ".join(f"{s // step}:{mb:.1f}" for s, mb in shown))
threads = [int(r["threads"]) for r in csv.DictReader(open(sys.argv[1])) if r.get("threads")]
if threads:
    print(f"server threads: first {threads[0]}, most {max(threads)}, last {threads[-1]}")
half = rows[len(rows) // 2:]
if len(half) >= 2:
    n = len(half)
    xs = [s / 60 for s, _ in half]
    ys = [mb for _, mb in half]
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0
    print(f"second half ({half[0][0] // 60}–{half[-1][0] // 60} min): {min(ys):.1f}–{max(ys):.1f} MB, slope {slope:+.3f} MB/min (least squares)")
PY
}
if [ $SOAK_ONLY = 1 ]; then
  {
    echo "Soak $(date -u +%F): $SOAK s at 300 connections, one request in $NEW_EVERY a new search; $PROFILE build; idle RSS $RSS_IDLE MB."
    echo "wrk: ${SOAK_RPS:-0} req/s, errors $SOAK_ERRORS; searches sent to the engines (answer cache misses): ${NEW_SEARCHES:-0}; RSS after $(rss $SERVER) MB"
    # Which errors: a 503 is a search all of whose engines failed or timed out (answered calmly);
    # socket errors are connections the server did not answer in wrk's 5 s.
    grep -E "Non-2xx|Socket errors" "$WORK/soak.txt" | sed 's/^ */wrk: /' || true
    curl -s "$B/metrics" | grep -E '^kidsearch_engine_fetches_total' | sed 's/^/metrics: /' || true
    soak_curve
  } | tee "$OUT/soak.md"
  exit 0
fi

# The report.
MACHINE="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
{
  echo "{\"date\":\"$(date -u +%F)\",\"machine\":\"$MACHINE\",\"profile\":\"$PROFILE\",\"smoke\":$SMOKE,\"page_bytes\":$PAGE_BYTES,\"page_gzip_bytes\":$GZ_BYTES,\"results\":["
  paste -sd, "$JSON"
  echo "]}"
} >"$OUT/results.json"
python3 - "$OUT/results.json" >"$OUT/results.md" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
res = r["results"]
get = lambda m: [x for x in res if x["metric"] == m]
base = {(x["connections"], x["encoding"]): x for x in res if x["metric"] == "load" and x["page"] == "baseline"}
print(f"Run {r['date']} on {r['machine']} ({r['profile']} build{', SMOKE: not figures' if r['smoke'] else ''}); results page {r['page_bytes']} bytes, {r['page_gzip_bytes']} gzipped.\n")
print("| page | encoding | connections | req/s | vs baseline | p50 ms | p99 ms | errors | RSS under load MB | RSS after MB |")
print("|---|---|---|---|---|---|---|---|---|---|")
for x in get("load"):
    b = base.get((x["connections"], x["encoding"]), {}).get("rps") or 0
    ratio = f"{100 * x['rps'] / b:.0f} %" if b else "–"
    print(f"| {x['page']} | {x['encoding']} | {x['connections']} | {x['rps']} | {ratio} | {x['p50_ms']} | {x['p99_ms']} | {x['errors']} | {x['rss_under_mb']} | {x['rss_mb']} |")
for x in get("load"):
    if x["errors"]:
        print(f"\n- errors of {x['page']} ({x['encoding']}) at {x['connections']} connections: {x.get('error_kinds', '')}")
lo = get("live_overhead")[0]
co = get("coalescing")[0]
so = get("soak")[0]
s = so["rss_samples_mb"]
print()
print(f"- live query overhead (3 engines at {lo['engine_delay_ms']} ms; per query, the gateway's time minus that query's slowest engine): p50 {lo['p50_ms']} ms, p99 {lo['p99_ms']} ms; the gateway's time minus one engine's median time asked directly (as in earlier runs): p50 {lo['vs_direct_p50_ms']} ms, p99 {lo['vs_direct_p99_ms']} ms")
print(f"- coalescing, 300 identical concurrent queries: upstream requests " + ", ".join(f"{k} {v}" for k, v in co["upstream_requests"].items()))
# Growth is judged on the second half: the first minutes are the caches and allocator warming up.
half = s[len(s) // 2:]
print(f"- memory: idle {get('rss_idle_mb')[0]['value']} MB; soak {so['seconds']} s at 300 connections, one request in {so['new_every']} a new search ({so['rps']} req/s, errors {so['errors']}, answer cache misses {so['answer_cache_misses']}): RSS first {s[0] if s else '–'} MB, last {s[-1] if s else '–'} MB, after {so['rss_after_mb']} MB; second half of the soak {half[0] if half else '–'} → {half[-1] if half else '–'} MB (min {min(half) if half else '–'}, max {max(half) if half else '–'})")
print(f"- cold start to first answered request: {get('cold_start_ms')[0]['value']} ms")
PY
soak_curve >>"$OUT/results.md"
cat "$OUT/results.md"
