#!/usr/bin/env bash
# Restart the site's processes one at a time, so nginx always has a Daphne to send requests to and runs always have a
# worker:  deploy/rolling-restart.sh 8001 8002 runworker@1 runworker@2
# A number is a Daphne port (academy-daphne@PORT): the next waits until it answers /healthz. runworker@N is a
# playground worker (academy-runworker@N, workers mode), restarted after the Daphne processes, one at a time.
# HEALTH_SECONDS (60) is how long a Daphne may take. Once it is healthy the next restart waits NGINX_FAIL_TIMEOUT (5,
# the fail_timeout deploy/render-nginx.sh wrote): nginx skips a process for that long after the failed requests its
# restart caused, and stopping the next one sooner would leave nginx no process to send requests to (502s).
# ACADEMY_RESTART names a command taking the argument instead of
# `systemctl restart academy-daphne@PORT` / `academy-runworker@N` (tests/test_upgrade.py uses one for prod-local).
set -euo pipefail
[ $# -ge 1 ] || { sed -n 2,7p "$0" >&2; exit 2; }
set -a; . "${ACADEMY_ENV:-/etc/channels-academy/academy.env}"; set +a
host="${DAPHNE_BIND:-127.0.0.1}"
for process in "$@"; do
  case "$process" in
    runworker@[0-9]*) unit="academy-$process" ;;
    [0-9]*) unit="academy-daphne@$process" ;;
    *) echo "not a Daphne port or runworker@N: $process" >&2; exit 2 ;;
  esac
  if [ -n "${ACADEMY_RESTART:-}" ]; then "$ACADEMY_RESTART" "$process"; else systemctl restart "$unit"; fi
  case "$process" in
    runworker@*) echo "$process restarted"; continue ;;
  esac
  deadline=$((SECONDS + ${HEALTH_SECONDS:-60}))
  until curl -fsS --max-time 10 -o /dev/null "http://$host:$process/healthz"; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "Daphne on port $process is not healthy; stopping the rollout" >&2; exit 1; }
    sleep 0.5
  done
  echo "Daphne on port $process restarted and healthy"
  sleep "${NGINX_FAIL_TIMEOUT:-5}"
done
