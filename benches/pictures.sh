#!/usr/bin/env bash
# Issue 26's picture budgets (BENCHMARKS.md, "Issue 26: picture budgets"). Loopback only:
#
#   bash benches/run.sh --pictures           # release build: the figures (~3 minutes after the build)
#   bash benches/run.sh --pictures --smoke   # debug build, seconds, for CI: every step runs, no figure judged
#   KS_PORT=8391 bash benches/run.sh --pictures --smoke   # beside another benchmark on the default port
#
# A fixture upstream (Bing with thumbnails in its markup, the Brave API with its thumbnails, Simple
# English Wikipedia with the answer card's picture; every picture from the fixture picture host, as
# the sizes those engines really serve) and kidsearch (no enrolment, no supervised window: the
# pictures are measured, not the gate). Then:
#   1. a cold results page with its thumbnails: every byte a first visit transfers — the page, its
#      stylesheet, script, font and icons, and every picture on it — asked as Safari asks (gzip);
#      budget 150 KB in all;
#   2. CPU per thumbnail: in-process, `examples/picture_bench cpu` (the gateway's own check, decode,
#      shrink and encode of each fixture picture, N times each, in thread CPU time): p99, budget
#      30 ms; and through the server, its own CPU (utime + stime) over M distinct pictures fetched
#      once each (upstream fetch, check, re-encode, cache, serve): the mean per picture;
#   3. a cached thumbnail's req/s against the plain (not gzipped) cached results page's, same
#      server, same run, wrk -t2 at 30 and 300 connections: budget 50 %;
#   4. RSS with the image cache full (step 2's M pictures are image_cache_bytes and more), idle and
#      under step 3's load: the limit is the suite's 100 MB under load.
# wrk shares the 2 cores with the server: compare only figures of one run.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
if [ $SMOKE = 1 ]; then
  DURATION=1; CONNS="30"; CPU_N=2; CACHE_BYTES=$((1024 * 1024)); PROFILE=debug
else
  DURATION=${DURATION:-10}; CONNS=${CONNS:-"30 300"}; CPU_N=${CPU_N:-100}; CACHE_BYTES=${CACHE_BYTES:-$((32 * 1024 * 1024))}; PROFILE=release
fi
KS_PORT=${KS_PORT:-8091}
bench_scratch
bench_load_tools
bench_build "$PROFILE" fixture_upstream picture_bench
KIDSEARCH="${KIDSEARCH_BIN:-$BIN/kidsearch}"
JSON="$WORK/pictures.jsonl"
: >"$JSON"
record() { printf '%s\n' "$1" >>"$JSON"; }
to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }'; }
rss() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# The server's own CPU so far, in ms (utime + stime, fields 14 and 15 of its stat, in clock ticks).
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) * 1000 / hz }' "/proc/$1/stat"; }

"$BIN/examples/fixture_upstream" "$WORK/kidsearch.toml" 20 bing brave_api simple_wikipedia 2>"$WORK/fixture.log" &
for _ in $(seq 100); do [ -s "$WORK/kidsearch.toml" ] && break; sleep 0.1; done
PICTURES=$(grep -m1 -o 'image_base_url = "[^"]*"' "$WORK/kidsearch.toml" | sed 's/.*= "//; s/"$//')
{
  printf 'require_enrolment = false\nsupervised_sessions = false\nimage_cache_bytes = %s\n' "$CACHE_BYTES"
  cat "$WORK/kidsearch.toml"
} >"$WORK/kidsearch.toml.new" && mv "$WORK/kidsearch.toml.new" "$WORK/kidsearch.toml"
RUST_LOG=warn "$KIDSEARCH" --config "$WORK/kidsearch.toml" --listen "127.0.0.1:$KS_PORT" --data-dir "$WORK/data" >"$WORK/server.log" 2>&1 &
SERVER=$!
B="http://127.0.0.1:$KS_PORT"
for _ in $(seq 1000); do curl -sf "$B/healthz" >/dev/null && break; sleep 0.01; done
RSS_IDLE=$(rss $SERVER)

# 1. The cold page: what a first visit transfers, body and headers, gzip where the server gives it.
python3 - "$B" "/search?q=volcanoes" >"$WORK/cold.json" <<'PY'
import http.client, json, re, sys, urllib.parse
base, path = sys.argv[1], sys.argv[2]
u = urllib.parse.urlsplit(base)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
def get(p):
    conn.request("GET", p, headers={"Accept-Encoding": "gzip, deflate, br", "User-Agent": "Mozilla/5.0 (iPad; CPU OS 18_0 like Mac OS X)"})
    r = conn.getresponse()
    body = r.read()
    head = len(f"HTTP/1.1 {r.status} {r.reason}\r\n") + sum(len(k) + len(v) + 4 for k, v in r.getheaders()) + 2
    if r.status != 200:
        sys.exit(f"{p}: HTTP {r.status}")
    text = body
    if r.getheader("Content-Encoding") == "gzip":
        import gzip
        text = gzip.decompress(body)
    return head + len(body), text.decode("utf-8", "replace")
total, page = get(path)
parts = {"page": total}
assets = sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+|/img/[^"]+)"', page)))
pictures = [a for a in assets if a.startswith("/img/")]
seen = set()
for a in assets:
    n, text = get(a.replace("&amp;", "&"))
    kind = "pictures" if a.startswith("/img/") else "static"
    parts[kind] = parts.get(kind, 0) + n
    seen.add(a)
    if a.endswith(".css"):
        for f in sorted(set(re.findall(r'url\(["\']?(/static/[^)"\']+)', text)) - seen):
            m, _ = get(f)
            parts["static"] = parts.get("static", 0) + m
            seen.add(f)
print(json.dumps({"metric": "cold_page", "bytes": sum(parts.values()), "parts": parts, "pictures": len(pictures), "card": 'class="answer"' in page}))
PY
record "$(cat "$WORK/cold.json")"
curl -sf "$B/search?q=volcanoes" -o "$WORK/page.html"
PICTURE=$(grep -o 'src="/img/[^"]*"' "$WORK/page.html" | head -1 | sed 's/^src="//; s/"$//')
[ -n "$PICTURE" ] || { echo "the results page has no picture" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$B$PICTURE")" = "200 image/jpeg" ] || { echo "its picture is not served" >&2; exit 1; }

# 2. CPU per thumbnail, in-process.
"$BIN/examples/picture_bench" cpu "$CPU_N" >"$WORK/cpu.json"
record "$(cat "$WORK/cpu.json")"

# 2b and 4. Distinct pictures through the server until the image cache is full: Bing's 192 × 192
# thumbnail each time, at its own address (each one fetched, checked, re-encoded and kept).
ONE=$(curl -s "$B$PICTURE" | wc -c)
M=$(( CACHE_BYTES * 5 / 4 / ONE + 1 ))
"$BIN/examples/picture_bench" sign "$WORK/data" bing "$PICTURES/th?id=OIP.bench&w=192&h=192&c=7" "$M" >"$WORK/paths.txt"
CPU_BEFORE=$(cpu_ms $SERVER)
FILL_START=$(date +%s%N)
python3 - "$B" "$WORK/paths.txt" >"$WORK/fill.txt" <<'PY'
import http.client, sys, threading, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
paths = open(sys.argv[2]).read().split()
out, lock = [], threading.Lock()
def fetch(mine):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    for p in mine:
        conn.request("GET", p)
        r = conn.getresponse()
        n = len(r.read())
        with lock:
            out.append(f"{r.status} {n}")
# Two at a time: the server's two workers, each waiting on one upstream fetch.
threads = [threading.Thread(target=fetch, args=(paths[i::2],)) for i in range(2)]
[t.start() for t in threads]
[t.join() for t in threads]
print("\n".join(out))
PY
FILL_MS=$(( ($(date +%s%N) - FILL_START) / 1000000 ))
CPU_AFTER=$(cpu_ms $SERVER)
FILLED=$(awk '$1 == 200 { n++; b += $2 } END { printf "%d %d", n, b }' "$WORK/fill.txt")
read -r SERVED SERVED_BYTES <<<"$FILLED"
[ "$SERVED" = "$M" ] || { echo "only $SERVED of $M pictures were served" >&2; exit 1; }
RSS_FULL=$(rss $SERVER)
record "{\"metric\":\"server_cpu_per_picture\",\"pictures\":$M,\"picture_bytes\":$ONE,\"served_bytes\":$SERVED_BYTES,\"cache_bytes\":$CACHE_BYTES,\"cpu_ms\":$(awk -v a="$CPU_AFTER" -v b="$CPU_BEFORE" 'BEGIN { print a - b }'),\"per_picture_ms\":$(awk -v a="$CPU_AFTER" -v b="$CPU_BEFORE" -v m="$M" 'BEGIN { printf "%.2f", (a - b) / m }'),\"wall_ms\":$FILL_MS}"
record "{\"metric\":\"rss\",\"idle_mb\":$RSS_IDLE,\"cache_full_idle_mb\":$RSS_FULL}"

# 3. Cached thumbnail against the plain cached results page, and RSS under that load.
load() { # name path conns
  wrk -t2 -c"$3" -d"${DURATION}s" --timeout 5s --latency "$B$2" >"$WORK/wrk.txt" 2>&1 &
  sleep "$(awk -v d="$DURATION" 'BEGIN { print d / 2 }')"
  local under
  under=$(rss $SERVER)
  wait $!
  local out rps p50 p99 errors
  out=$(cat "$WORK/wrk.txt")
  rps=$(echo "$out" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
  p50=$(echo "$out" | awk '$1 == "50%" { print $2 }' | to_ms)
  p99=$(echo "$out" | awk '$1 == "99%" { print $2 }' | to_ms)
  errors=$(echo "$out" | awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }')
  record "{\"metric\":\"load\",\"page\":\"$1\",\"connections\":$3,\"rps\":${rps:-0},\"p50_ms\":${p50:-0},\"p99_ms\":${p99:-0},\"errors\":$errors,\"rss_under_mb\":$under}"
  echo "$1 @ $3: ${rps} req/s, p50 ${p50} ms, p99 ${p99} ms, errors $errors, RSS under load $under MB"
}
for C in $CONNS; do
  load results "/search?q=volcanoes" "$C"
  load thumbnail "$PICTURE" "$C"
done

MACHINE="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
{
  echo "{\"date\":\"$(date -u +%F)\",\"machine\":\"$MACHINE\",\"profile\":\"$PROFILE\",\"smoke\":$SMOKE,\"results\":["
  paste -sd, "$JSON"
  echo "]}"
} >"$OUT/pictures.json"
python3 - "$OUT/pictures.json" >"$OUT/pictures.md" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
get = lambda m: [x for x in r["results"] if x["metric"] == m]
smoke = r["smoke"]
verdict = lambda ok: "–" if smoke else ("✔" if ok else "✘")
print(f"Run {r['date']} on {r['machine']} ({r['profile']} build{', SMOKE: not figures' if smoke else ''}).\n")
cold, cpu, server, rss = get("cold_page")[0], get("thumbnail_cpu")[0], get("server_cpu_per_picture")[0], get("rss")[0]
loads = get("load")
print("| budget | measured | |")
print("|---|---|---|")
p = cold["parts"]
print(f"| cold results page with its thumbnails ≤ 150 KB | {cold['bytes'] / 1000:.1f} KB: page {p.get('page', 0)} B, static {p.get('static', 0)} B, {cold['pictures']} pictures {p.get('pictures', 0)} B{' (with the answer card)' if cold['card'] else ''} | {verdict(cold['bytes'] <= 150_000)} |")
print(f"| one thumbnail checked and re-encoded ≤ 30 ms CPU, p99 | p99 {cpu['p99_ms']} ms, p50 {cpu['p50_ms']} ms, max {cpu['max_ms']} ms ({cpu['samples']} runs over {len(cpu['pictures']) - 1} fixture pictures); through the server, fetched + checked + re-encoded + kept + served: {server['per_picture_ms']} ms CPU per picture (mean of {server['pictures']}) | {verdict(cpu['p99_ms'] <= 30)} |")
for c in sorted({x["connections"] for x in loads}):
    page = next(x for x in loads if x["page"] == "results" and x["connections"] == c)
    pic = next(x for x in loads if x["page"] == "thumbnail" and x["connections"] == c)
    ratio = 100 * pic["rps"] / page["rps"] if page["rps"] else 0
    print(f"| cached thumbnail ≥ 50 % of the plain results page's req/s, {c} connections | {pic['rps']} vs {page['rps']} req/s: {ratio:.0f} % (p99 {pic['p99_ms']} vs {page['p99_ms']} ms; errors {pic['errors']}, {page['errors']}) | {verdict(ratio >= 50)} |")
most = max([x["rss_under_mb"] for x in loads] + [rss["cache_full_idle_mb"]])
print(f"| RSS under the limits (100 MB under load) with the image cache full | idle {rss['idle_mb']} MB before; {rss['cache_full_idle_mb']} MB idle with {server['served_bytes']} bytes of pictures through a {server['cache_bytes']}-byte cache; at most {most} MB under load | {verdict(most < 100)} |")
print()
print("Per picture, in-process (p50 / p99 ms, bytes in → out):")
for x in cpu["pictures"]:
    print(f"- {x['picture']}: {x['p50_ms']} / {x['p99_ms']} ms, {x['in_bytes']} → {x['out_bytes']} B")
PY
cat "$OUT/pictures.md"
