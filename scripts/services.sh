#!/usr/bin/env bash
# Starts (installing first when missing) the backing services casefile needs on
# one Debian machine: PostgreSQL, Redis and an S3-compatible server with Object
# Lock (Versity's versitygw by default, MinIO with CASEFILE_S3_SERVER=minio).
# Idempotent: what is already running is left alone.
#
#   scripts/services.sh up|down|status
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/.data"
cache="${CASEFILE_CACHE:-$HOME/.cache/casefile}"
s3_endpoint="${CASEFILE_S3_ENDPOINT:-127.0.0.1:9000}"
s3_access="${CASEFILE_S3_ACCESS_KEY:-casefile}"
s3_secret="${CASEFILE_S3_SECRET_KEY:-casefile-dev-secret}"
s3_server="${CASEFILE_S3_SERVER:-versitygw}"
versitygw_version="v1.8.0"

say() { echo "services: $*" >&2; }
die() { say "$*"; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root (or sudo) to run: $*"; fi
}

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    say "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  say "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# port_open HOST:PORT: true when something accepts TCP connections there.
port_open() {
  local host=${1%:*} port=${1##*:}
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

wait_for() { # what, seconds, command...
  local what=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  return 1
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

postgres_up() {
  if command -v pg_isready >/dev/null && pg_ready; then return 0; fi
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql postgresql-client
  fi
  local ver
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$ver" ] || die "PostgreSQL is installed but has no cluster in /etc/postgresql"
  local hba="/etc/postgresql/$ver/main/pg_hba.conf"
  # casefile's default URL connects as postgres over TCP without a password.
  if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    say "allowing trust authentication from 127.0.0.1 in $hba (a development machine)"
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null ||
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload 2>/dev/null || true
  wait_for postgres 30 pg_ready || die "PostgreSQL did not start; see /var/log/postgresql/"
}

redis_up() {
  if port_open 127.0.0.1:6379; then return 0; fi
  command -v redis-server >/dev/null || apt_install redis-server
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  wait_for redis 15 port_open 127.0.0.1:6379 || die "Redis did not start"
}

# The S3 server is built from source once and cached outside the clone.
versitygw_bin() {
  local bin="$cache/bin/versitygw"
  if [ ! -x "$bin" ]; then
    command -v go >/dev/null || die "Go is needed to build the S3 server"
    say "building versitygw $versitygw_version into $cache/bin (once; about 4 minutes)"
    mkdir -p "$cache/bin"
    (cd /tmp && GOBIN="$cache/bin" GOFLAGS= go install "github.com/versity/versitygw/cmd/versitygw@$versitygw_version") >&2
  fi
  echo "$bin"
}

minio_bin() {
  local bin="$cache/bin/minio"
  if [ ! -x "$bin" ]; then
    say "building MinIO into $cache/bin (once; about 6 minutes)"
    mkdir -p "$cache/bin"
    (cd /tmp && GOBIN="$cache/bin" go install github.com/minio/minio@latest) >&2
  fi
  echo "$bin"
}

s3_up() {
  if port_open "$s3_endpoint"; then return 0; fi
  case "$s3_endpoint" in
    127.0.0.1:*|localhost:*) ;;
    *) die "the S3 server at $s3_endpoint does not answer, and it is not local, so it was not started" ;;
  esac
  mkdir -p "$data"
  local log="$data/s3.log" bin
  case "$s3_server" in
    versitygw)
      bin=$(versitygw_bin)
      mkdir -p "$data/s3/data" "$data/s3/versions"
      # --versioning-dir turns on versioning, which Object Lock needs.
      nohup "$bin" --access "$s3_access" --secret "$s3_secret" --port "$s3_endpoint" \
        posix --versioning-dir "$data/s3/versions" "$data/s3/data" >"$log" 2>&1 &
      ;;
    minio)
      bin=$(minio_bin)
      mkdir -p "$data/minio"
      MINIO_ROOT_USER="$s3_access" MINIO_ROOT_PASSWORD="$s3_secret" \
        nohup "$bin" server "$data/minio" --address "$s3_endpoint" >"$log" 2>&1 &
      ;;
    *) die "CASEFILE_S3_SERVER must be versitygw or minio, not $s3_server" ;;
  esac
  echo $! >"$data/s3.pid"
  if ! wait_for s3 30 port_open "$s3_endpoint"; then
    tail -n 20 "$log" >&2 || true
    die "the S3 server did not start on $s3_endpoint; its log is $log"
  fi
}

s3_down() {
  if [ -f "$data/s3.pid" ]; then
    kill "$(cat "$data/s3.pid")" 2>/dev/null || true
    rm -f "$data/s3.pid"
  fi
}

status() {
  local rc=0
  if pg_ready; then echo "postgres: up (127.0.0.1:5432)"; else echo "postgres: down"; rc=1; fi
  if port_open 127.0.0.1:6379; then echo "redis: up (127.0.0.1:6379)"; else echo "redis: down"; rc=1; fi
  if port_open "$s3_endpoint"; then echo "s3: up ($s3_endpoint)"; else echo "s3: down"; rc=1; fi
  return $rc
}

case "${1:-up}" in
  up) postgres_up; redis_up; s3_up ;;
  down) s3_down ;;
  status) status ;;
  *) die "usage: scripts/services.sh up|down|status" ;;
esac
