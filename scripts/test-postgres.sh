#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the test suite's second pass and prints its URL:
#   eval "$(bash scripts/test-postgres.sh start)"   # exports KIDSEARCH_TEST_DATABASE_URL
#   bash scripts/test-postgres.sh stop
# Debian's `postgresql` package is installed if no server binaries are found. The cluster
# lives in a temporary folder, listens on 127.0.0.1 only (port PG_TEST_PORT, default 55432),
# accepts TCP connections over TLS only (a throwaway CA made here with openssl; the URL names
# it as sslrootcert, so every test verifies the server's certificate) and asks them for a
# password (a fresh random one in the URL: password authentication as a trust's server would
# do it; `kidsearch backup` hands it to pg_dump), and runs without fsync: it holds only test
# data, and is deleted by `stop`.
set -euo pipefail

PORT="${PG_TEST_PORT:-55432}"
DIR="${PG_TEST_DIR:-/tmp/kidsearch-postgres-for-tests}"
USER_NAME=kidsearch

find_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

as_owner() {
  # initdb and postgres refuse to run as root: run them as the package's postgres user.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    BIN=$(find_bin || true)
    if [ -z "$BIN" ]; then
      echo "installing Debian's postgresql for the PostgreSQL test pass..." >&2
      sudo_cmd=""
      [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
      $sudo_cmd apt-get update -qq >&2
      # The package's own cluster is not used (and not started: policy-rc.d may forbid it).
      DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends postgresql >/dev/null
      BIN=$(find_bin)
    fi
    if [ -f "$DIR/postmaster.pid" ]; then
      as_owner "$BIN/pg_ctl" -D "$DIR" stop -m immediate >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    PASSWORD=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    printf '%s\n' "$PASSWORD" >"$DIR.pw"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR.pw"
    as_owner "$BIN/initdb" -D "$DIR" -U "$USER_NAME" --auth-local=trust --auth-host=scram-sha-256 --pwfile="$DIR.pw" --no-sync -E UTF8 \
      >"$DIR.initdb.log" 2>&1 || { cat "$DIR.initdb.log" >&2; exit 1; }
    rm -f "$DIR.pw"
    # TCP connections must use TLS (hostssl), with a certificate for 127.0.0.1 from a test CA.
    sed -i 's/^host /hostssl /' "$DIR/pg_hba.conf"
    command -v openssl >/dev/null 2>&1 || {
      sudo_cmd=""
      [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
      DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends openssl >/dev/null
    }
    TLS="$DIR.tls"
    rm -rf "$TLS"
    mkdir -p "$TLS"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TLS/ca.key" -out "$TLS/ca.pem" -days 2 -subj "/CN=kidsearch test CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$TLS/server.key" -out "$TLS/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$TLS/server.ext"
    openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial -out "$TLS/server.pem" -days 2 \
      -extfile "$TLS/server.ext" 2>/dev/null
    chmod 600 "$TLS/server.key"
    [ "$(id -u)" = 0 ] && chown postgres "$TLS/server.key" "$TLS/server.pem"
    as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 30 start \
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c ssl=on -c ssl_cert_file=$TLS/server.pem -c ssl_key_file=$TLS/server.key" >/dev/null \
      || { cat "$DIR/server.log" >&2; exit 1; }
    echo "export KIDSEARCH_TEST_DATABASE_URL='postgres://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/postgres?sslmode=require&sslrootcert=$TLS/ca.pem'"
    ;;
  stop)
    BIN=$(find_bin || true)
    if [ -n "$BIN" ] && [ -f "$DIR/postmaster.pid" ]; then
      as_owner "$BIN/pg_ctl" -D "$DIR" stop -m fast >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR" "$DIR.initdb.log" "$DIR.pw" "$DIR.tls"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
