#!/usr/bin/env bash
# Restart the Daphne processes one at a time, each answering /healthz before the next goes down, so nginx always
# has one to send requests to:  deploy/rolling-restart.sh 8001 8002
# HEALTH_SECONDS (60) is how long one may take; ACADEMY_RESTART names a command taking the port instead of
# `systemctl restart academy-daphne@PORT` (tests/test_upgrade.py uses one for `make prod-local`).
set -euo pipefail
[ $# -ge 1 ] || { sed -n 2,5p "$0" >&2; exit 2; }
set -a; . "${ACADEMY_ENV:-/etc/channels-academy/academy.env}"; set +a
host="${DAPHNE_BIND:-127.0.0.1}"
for port in "$@"; do
  if [ -n "${ACADEMY_RESTART:-}" ]; then "$ACADEMY_RESTART" "$port"; else systemctl restart "academy-daphne@$port"; fi
  deadline=$((SECONDS + ${HEALTH_SECONDS:-60}))
  until curl -fsS --max-time 10 -o /dev/null "http://$host:$port/healthz"; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "Daphne on port $port is not healthy; stopping the rollout" >&2; exit 1; }
    sleep 0.5
  done
  echo "Daphne on port $port restarted and healthy"
done
