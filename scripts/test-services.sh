#!/usr/bin/env bash
# Finds or starts Redis and PostgreSQL for the test run and prints `export` lines for them.
# Order: REDIS_URL / DATABASE_URL if given, else a server already on the default port, else one
# started just for this run in ./data/services (stopped by scripts/test.sh when the run ends).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
svc="$root/data/services"
mkdir -p "$svc"

redis_ok() { redis-cli -u "$1" ping 2>/dev/null | grep -q PONG; }
pg_ok() { psql "$1" -Atqc 'select 1' >/dev/null 2>&1; }

if [ -n "${REDIS_URL:-}" ]; then
  redis_ok "$REDIS_URL" || { echo "REDIS_URL=$REDIS_URL does not answer PING" >&2; exit 1; }
elif redis_ok "redis://127.0.0.1:6379/0"; then
  REDIS_URL="redis://127.0.0.1:6379/0"
else
  port=6391
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$svc" --pidfile "$svc/redis.pid" --logfile "$svc/redis.log" >&2
  REDIS_URL="redis://127.0.0.1:$port/0"
  for _ in $(seq 50); do redis_ok "$REDIS_URL" && break; sleep 0.1; done
  redis_ok "$REDIS_URL" || { echo "could not start redis-server (see $svc/redis.log)" >&2; exit 1; }
fi

if [ -n "${DATABASE_URL:-}" ]; then
  pg_ok "$DATABASE_URL" || { echo "DATABASE_URL=$DATABASE_URL does not answer" >&2; exit 1; }
elif pg_ok "postgres://postgres@127.0.0.1:5432/postgres"; then
  DATABASE_URL="postgres://postgres@127.0.0.1:5432/academy"
  pg_created_url=1
else
  # A private trust-auth cluster owned by the postgres system user, on its own port.
  bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  pgdata="$svc/pg"
  port=54329
  run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    mkdir -p "$pgdata"
    [ "$(id -u)" -eq 0 ] && chown postgres "$svc" "$pgdata"
    run_pg "$bindir/initdb" -D "$pgdata" -A trust -U postgres >"$svc/initdb.log" 2>&1
  fi
  run_pg "$bindir/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w \
    -o "-p $port -k $pgdata -c listen_addresses=127.0.0.1" start >&2
  DATABASE_URL="postgres://postgres@127.0.0.1:$port/academy"
  pg_created_url=1
  pg_ok "postgres://postgres@127.0.0.1:$port/postgres" || { echo "could not start PostgreSQL (see $pgdata/server.log)" >&2; exit 1; }
fi

# The database named in the URL holds nothing the tests use (they make their own), but Django's
# checks connect to it, so it should exist.
[ -z "${pg_created_url:-}" ] || bash "$root/scripts/ensure-database.sh" "$DATABASE_URL"

echo "export REDIS_URL='$REDIS_URL'"
echo "export DATABASE_URL='$DATABASE_URL'"
