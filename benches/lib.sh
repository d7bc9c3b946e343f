# Sourced by the benchmark scripts (run from the repository root): what each of them sets up
# the same way.

# A scratch folder ($WORK) removed at the end together with every background job (servers,
# fixtures, wrk), and the folder the reports go to ($OUT).
bench_scratch() {
  WORK=$(mktemp -d)
  OUT=target/bench
  mkdir -p "$OUT"
  trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
}

# Enough file descriptors for thousands of connections, and wrk (Debian's package) to make them.
bench_load_tools() {
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
}

# bench_build PROFILE [EXAMPLE...]: builds kidsearch and the named examples in the release or
# debug profile; $BIN is the folder they are in.
bench_build() {
  local profile=$1
  shift
  local examples=()
  for example in "$@"; do examples+=(--example "$example"); done
  if [ "$profile" = release ]; then
    cargo build --release --quiet --bin kidsearch "${examples[@]}"
    BIN=${CARGO_TARGET_DIR:-target}/release
  else
    cargo build --quiet --bin kidsearch "${examples[@]}"
    BIN=${CARGO_TARGET_DIR:-target}/debug
  fi
}
