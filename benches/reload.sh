#!/usr/bin/env bash
# Reloading the full block lists while pupils search (issue 28). Loopback only, stops by itself:
#
#   bash benches/run.sh --reload     # release build, a million domains, 300 connections (~2 min after the build)
#   bash benches/reload.sh --smoke   # debug build, 20,000 domains, 30 connections: the steps work, no figures claimed
#
# A UT1 stand-in (python3's http.server over a folder of archives made here) serves adult.tar.gz
# with DOMAINS domains (default 1,000,000); `kidsearch lists update` installs it before the
# server starts. Pupils (wrk, CONNS connections, default 300) then ask for a cached results page
# (enrolment and supervision off; the fixture engines answer after DELAY_MS, default 50) for
# DURATION seconds twice: once as they are (the baseline), once while `lists update` (at nice 10,
# as the systemd unit runs it) installs a new copy with one domain more, which the server's file
# poll notices and reloads — the whole policy rebuilt beside the old one, then swapped, then
# every cached answer built again (the caches key by the policy's generation). A probe (curl,
# one request every 20 ms) times single requests through both runs. Reported: the reload's own
# time (the server's log), wrk's p50/p99/max and errors for both runs, the probe's slowest
# request and how many took over 100 ms, RSS before and after. Writes target/bench/reload.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
if [ $SMOKE = 1 ]; then
  DOMAINS=20000; DURATION=6; CONNS=30; PROFILE=debug
else
  DOMAINS=${DOMAINS:-1000000}; DURATION=${DURATION:-30}; CONNS=${CONNS:-300}; PROFILE=release
fi
DELAY=${DELAY_MS:-50}
PORT=8096
LISTS_PORT=8097
bench_scratch
bench_load_tools

bench_build "$PROFILE" fixture_upstream

# The UT1 stand-in and its archive: adult/domains (N lines) and adult/urls, as UT1 packs them.
mkdir -p "$WORK/ut1"
make_archive() { # domains extra-domain
  python3 - "$WORK/ut1/adult.tar.gz" "$1" "$2" <<'PY'
import io, sys, tarfile
out, n, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = [extra] if extra else []
lines += [f"site{i}.adult-list.example" for i in range(n - len(lines))]
domains = ("\n".join(lines) + "\n").encode()
with tarfile.open(out, "w:gz", compresslevel=6) as tar:
    folder = tarfile.TarInfo("adult"); folder.type = tarfile.DIRTYPE; folder.mode = 0o755
    tar.addfile(folder)
    for name, body in (("adult/domains", domains), ("adult/urls", b"adult-list.example/page.html\n")):
        info = tarfile.TarInfo(name); info.size = len(body); info.mode = 0o644
        tar.addfile(info, io.BytesIO(body))
PY
}
make_archive "$DOMAINS" ""
ARCHIVE_BYTES=$(wc -c <"$WORK/ut1/adult.tar.gz")
(cd "$WORK" && exec python3 -m http.server "$LISTS_PORT" --bind 127.0.0.1 >"$WORK/ut1.log" 2>&1) &
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$LISTS_PORT/ut1/adult.tar.gz" && break; sleep 0.05; done

"$BIN/examples/fixture_upstream" "$WORK/kidsearch.toml" "$DELAY" duckduckgo bing simple_wikipedia 2>"$WORK/fixture.log" &
for _ in $(seq 100); do [ -s "$WORK/kidsearch.toml" ] && break; sleep 0.1; done
printf 'require_enrolment = false\nsupervised_sessions = false\nlists_url = "http://127.0.0.1:%s/ut1"\nlists_categories = ["adult"]\n%s' \
  "$LISTS_PORT" "$(cat "$WORK/kidsearch.toml")" >"$WORK/kidsearch.toml"
KS=("$BIN/kidsearch" --config "$WORK/kidsearch.toml" --data-dir "$WORK/data")

T0=$(date +%s%N)
"${KS[@]}" lists update >"$WORK/update1.log" 2>&1 || { cat "$WORK/update1.log" >&2; exit 1; }
FIRST_UPDATE_MS=$(( ($(date +%s%N) - T0) / 1000000 ))
grep -q "installed $DOMAINS domains" "$WORK/update1.log" || { cat "$WORK/update1.log" >&2; exit 1; }

T0=$(date +%s%N)
RUST_LOG="warn,kidsearch::reload=info" "${KS[@]}" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 2000); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.01; done
COLD_MS=$(( ($(date +%s%N) - T0) / 1000000 ))
rss() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
PAGE="http://127.0.0.1:$PORT/search?q=volcanoes"
curl -sf -o /dev/null "$PAGE"
RSS_BEFORE=$(rss $SERVER)

# One request every 20 ms through a run: "seconds-since-start time_total" per line.
probe() { # seconds out
  local until=$(( $(date +%s) + $1 ))
  : >"$2"
  while [ "$(date +%s)" -lt "$until" ]; do
    curl -s -o /dev/null -w "%{time_total}\n" "$PAGE" >>"$2" || echo "error" >>"$2"
    sleep 0.02
  done
}
to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.1f", v }'; }
load() { # name
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -H "Accept-Encoding: gzip" "$PAGE" >"$WORK/wrk-$1.txt" 2>&1 &
  local wrk=$!
  probe "$DURATION" "$WORK/probe-$1.txt" &
  local probe_pid=$!
  if [ "$1" = reload ]; then
    sleep $(( DURATION / 3 ))
    make_archive "$(( DOMAINS + 1 ))" "new.adult-list.example"
    nice -n 10 "${KS[@]}" lists update >"$WORK/update2.log" 2>&1 || { cat "$WORK/update2.log" >&2; exit 1; }
  fi
  wait "$wrk" "$probe_pid"
}
summary() { # name → json fields
  local w="$WORK/wrk-$1.txt" p="$WORK/probe-$1.txt"
  local p50 p99 max reqs errors non2xx slow worst probes perrors
  p50=$(awk '/^ +50%/ { print $2 }' "$w" | to_ms)
  p99=$(awk '/^ +99%/ { print $2 }' "$w" | to_ms)
  max=$(awk '/^ +Latency +[0-9]/ { print $4; exit }' "$w" | to_ms)
  reqs=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$w")
  errors=$(awk '/Socket errors/ { gsub(/,/, ""); s = 0; for (i = 3; i <= NF; i += 2) s += $(i+1); print s }' "$w"); errors=${errors:-0}
  non2xx=$(awk '/Non-2xx/ { print $NF }' "$w"); non2xx=${non2xx:-0}
  probes=$(grep -vc error "$p" || true)
  perrors=$(grep -c error "$p" || true)
  slow=$(grep -v error "$p" | awk '$1 > 0.1' | wc -l)
  worst=$(grep -v error "$p" | sort -n | tail -1 | awk '{ printf "%.1f", $1 * 1000 }')
  printf '"%s": {"rps": %s, "p50_ms": %s, "p99_ms": %s, "max_ms": %s, "socket_errors": %s, "non_2xx": %s, "probe_requests": %s, "probe_errors": %s, "probe_over_100ms": %s, "probe_max_ms": %s}' \
    "$1" "$reqs" "$p50" "$p99" "$max" "$errors" "$non2xx" "$probes" "$perrors" "$slow" "$worst"
}

load baseline
load reload
RSS_AFTER=$(rss $SERVER)
grep -q "installed $(( DOMAINS + 1 )) domains" "$WORK/update2.log" || { cat "$WORK/update2.log" >&2; exit 1; }
# The reload may still be on its way when a short (smoke) run ends: the poll waits for the files
# to settle, and a debug build reads slowly.
for _ in $(seq 600); do grep -q "lists reloaded (files changed)" "$WORK/server.log" && break; sleep 0.1; done
RELOAD_MS=$(grep "lists reloaded (files changed)" "$WORK/server.log" | tail -1 | grep -o 'millis=[0-9]*' | cut -d= -f2 || true)
[ -n "$RELOAD_MS" ] || { echo "the server did not reload the lists:" >&2; cat "$WORK/server.log" >&2; exit 1; }
curl -s "$PAGE&format=json" >/dev/null
BLOCKED=$(grep "lists reloaded" "$WORK/server.log" | tail -1 | grep -o 'blocked_domains=[0-9]*' | cut -d= -f2 || true)

JSON="$OUT/reload.json"
{
  printf '{"domains": %s, "archive_bytes": %s, "connections": %s, "duration_s": %s, "engine_delay_ms": %s, ' "$DOMAINS" "$ARCHIVE_BYTES" "$CONNS" "$DURATION" "$DELAY"
  printf '"first_update_ms": %s, "cold_start_ms": %s, "reload_ms": %s, "blocked_domains_after": %s, "rss_before_mb": %s, "rss_after_mb": %s, ' \
    "$FIRST_UPDATE_MS" "$COLD_MS" "$RELOAD_MS" "${BLOCKED:-0}" "$RSS_BEFORE" "$RSS_AFTER"
  summary baseline; printf ', '; summary reload; printf '}\n'
} >"$JSON"
cat "$JSON"
if [ $SMOKE = 1 ]; then echo "(smoke run: debug build, no figures claimed)"; fi
