#!/usr/bin/env bash
# Stops the Redis and PostgreSQL servers that scripts/test-services.sh started for this run, if any.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
svc="$root/data/services"
if [ -f "$svc/redis.pid" ]; then
  kill "$(cat "$svc/redis.pid")" 2>/dev/null
  rm -f "$svc/redis.pid"
fi
if [ -f "$svc/pg/postmaster.pid" ]; then
  bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$bindir/pg_ctl" -D "$svc/pg" -m fast stop >/dev/null 2>&1
  else "$bindir/pg_ctl" -D "$svc/pg" -m fast stop >/dev/null 2>&1; fi
fi
exit 0
