#!/usr/bin/env bash
# Nightly database backup: a custom-format pg_dump, kept for KEEP_DAYS days. Redis holds nothing
# durable (channel messages and cache only), so the database is the whole state of the site.
# The dumps hold password hashes and e-mail addresses: files 0600 in a folder 0700, owned by root.
#   /etc/cron.d/channels-academy:  15 3 * * * root /srv/channels-academy/deploy/backup.sh
# Restore: deploy/restore.sh FILE
set -euo pipefail
umask 077
set -a; . "${ACADEMY_ENV:-/etc/channels-academy/academy.env}"; set +a
dir="${BACKUP_DIR:-/var/backups/channels-academy}"
keep_days="${KEEP_DAYS:-14}"
mkdir -p "$dir"
chmod 0700 "$dir"  # also a folder made before backups were private
file="$dir/academy-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --no-owner --file="$file.partial" "$DATABASE_URL"
mv "$file.partial" "$file"  # a backup that exists is a complete one
find "$dir" -name 'academy-*.dump' -mtime +"$keep_days" -delete
echo "backup written: $file ($(du -h "$file" | cut -f1))"
