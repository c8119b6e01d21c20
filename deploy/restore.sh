#!/usr/bin/env bash
# Restore a dump of deploy/backup.sh into the database of academy.env, replacing what is there:
#   deploy/restore.sh /var/backups/channels-academy/academy-YYYYMMDDTHHMMSSZ.dump
# Stop the academy-daphne@ and academy-runworker@ units first; one transaction, so a failed restore changes nothing.
set -euo pipefail
[ $# -eq 1 ] || { sed -n 2,4p "$0" >&2; exit 2; }
set -a; . "${ACADEMY_ENV:-/etc/channels-academy/academy.env}"; set +a
pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error -d "$DATABASE_URL" "$1"
echo "restored: $1"
