#!/usr/bin/env bash
# Render nginx-site.conf.in: render-nginx.sh LISTEN_LINES SERVER_NAME STATIC_ROOT UPSTREAM [UPSTREAM...]
#   deploy/render-nginx.sh "listen 443 ssl; ssl_certificate /etc/ssl/academy.pem; ssl_certificate_key /etc/ssl/academy.key;" \
#       academy.example.org /srv/channels-academy/data/static 127.0.0.1:8001 127.0.0.1:8002
set -euo pipefail
[ $# -ge 4 ] || { sed -n 2,4p "$0" >&2; exit 2; }
listen="$1" server_name="$2" static_root="$3"
shift 3
upstreams=""
# A process is skipped for fail_timeout after max_fails failed page requests (each retried on another process);
# a health probe's 503 never counts (their locations retry only on errors and timeouts). deploy/rolling-restart.sh
# waits the same NGINX_FAIL_TIMEOUT after each restart, so nginx has taken a process back before the next one stops.
for server in "$@"; do upstreams+="    server $server max_fails=3 fail_timeout=${NGINX_FAIL_TIMEOUT:-5}s;"$'\n'; done
template="$(dirname "$0")/nginx-site.conf.in"
while IFS= read -r line; do
  case "$line" in
    "@UPSTREAM_SERVERS@") printf '%s' "$upstreams" ;;
    "@LISTEN@") printf '    %s\n' "$listen" ;;
    *) line="${line//@SERVER_NAME@/$server_name}"; printf '%s\n' "${line//@STATIC_ROOT@/$static_root}" ;;
  esac
done <"$template"
