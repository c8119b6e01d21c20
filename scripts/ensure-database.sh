#!/usr/bin/env bash
# ensure-database.sh postgres://user@host:port/NAME: creates database NAME on that server unless it exists.
set -euo pipefail
url="$1"
name="${url##*/}"
admin="${url%/*}/postgres"
psql "$admin" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1 \
  || psql "$admin" -qc "CREATE DATABASE \"$name\"" >&2
