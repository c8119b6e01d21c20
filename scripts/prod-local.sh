#!/usr/bin/env bash
# `make prod-local`: the production layout of deploy/ on one machine, to try it out. nginx on
# http://127.0.0.1:$PORT serves static files and proxies to two Daphne processes that share
# PostgreSQL and Redis, with DEBUG off. Plain HTTP, so secure cookies and HSTS are off. Ctrl+C stops it.
# With PLAYGROUND_EXECUTION=workers it also starts one `manage.py runworker playground-runs`, which runs the code.
#   PORT (8080), DAPHNE_PORTS ("8001 8002"), PROD_LOCAL_DIR (data/prod-local),
#   PROD_LOCAL_TLS=1: nginx serves https:// and wss:// with a self-signed certificate made into $PROD_LOCAL_DIR/tls
#     (trust tls/cert.pem in the client; the live URLs on the pages are then wss://),
#   DATABASE_URL / REDIS_URL (else found or started as for the tests; the database is created if missing),
#   PROD_LOCAL_USER (nobody): started by root, the unprivileged user the web processes run as (see "Privileges").
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
PY="$root/.venv/bin/python"
port="${PORT:-8080}"
read -r -a daphne_ports <<<"${DAPHNE_PORTS:-8001 8002}"
dir="$(mkdir -p "${PROD_LOCAL_DIR:-data/prod-local}" && cd "${PROD_LOCAL_DIR:-data/prod-local}" && pwd)"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx is missing: sudo apt-get install nginx-light" >&2; exit 1; }
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  found="$(env -u DATABASE_URL -u REDIS_URL bash scripts/test-services.sh)"
  [ -n "${DATABASE_URL:-}" ] || DATABASE_URL="$(sed -n "s/^export DATABASE_URL='\(.*\)'$/\1/p" <<<"$found")"
  [ -n "${REDIS_URL:-}" ] || REDIS_URL="$(sed -n "s/^export REDIS_URL='\(.*\)'$/\1/p" <<<"$found")"
fi
bash scripts/ensure-database.sh "$DATABASE_URL"

[ -s "$dir/secret-key" ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$dir/secret-key"
# /healthz's details (database, Redis, sandbox) for requests with this token in X-Healthz-Token.
[ -s "$dir/healthz-token" ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(24))' >"$dir/healthz-token"
export DATABASE_URL REDIS_URL
export DJANGO_DEBUG=0 DJANGO_SECRET_KEY="$(cat "$dir/secret-key")" DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost"
export DJANGO_HEALTHZ_TOKEN="$(cat "$dir/healthz-token")"
export DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_SECURE_COOKIES=0 DJANGO_HSTS_SECONDS=0 DJANGO_BEHIND_PROXY=1
export DJANGO_DATA_DIR="$dir" PYTHONUNBUFFERED=1

"$PY" manage.py migrate --noinput -v0
"$PY" manage.py collectstatic --noinput -v0
# DEBUG is off, so seed_demo refuses the published demo password: a random one of this folder's, printed below.
[ -s "$dir/demo-password" ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(12))' >"$dir/demo-password"
# --password=VALUE: a generated password starts with "-" one time in 64, which argparse would take for an option.
"$PY" manage.py seed_demo --password="$(cat "$dir/demo-password")"

# Privileges, as deploy/'s units give them. Started by root, the web processes run as PROD_LOCAL_USER with no
# capability and no_new_privs (academy-daphne@.service), except in page mode, where each Daphne launches its pages'
# sandboxes and so keeps uid 0 bounded to the capabilities of deploy/academy-sandboxing.conf (its drop-in); the
# playground worker keeps the same (academy-runworker@.service). Started by anyone else, everything runs as that user
# (sandboxes then use a user namespace). migrate, collectstatic and seed_demo above are install steps, run as root.
execution="${PLAYGROUND_EXECUTION:-page}"
sandboxing=() web=() web_home=""
if [ "$(id -u)" = 0 ]; then
  command -v setpriv >/dev/null || { echo "setpriv is missing: sudo apt-get install util-linux" >&2; exit 1; }
  bounding="-all"
  for cap in $(sed -n 's/^CapabilityBoundingSet=//p' deploy/academy-sandboxing.conf); do
    bounding+=",+$(tr '[:upper:]' '[:lower:]' <<<"${cap#CAP_}")"
  done
  sandboxing=(setpriv --bounding-set="$bounding" --inh-caps=-all --no-new-privs --)
  if [ "$execution" = workers ]; then
    web_user="${PROD_LOCAL_USER:-nobody}"
    id -u "$web_user" >/dev/null || { echo "PROD_LOCAL_USER $web_user does not exist" >&2; exit 1; }
    # The rendered content, copied where that user can read it (snapshots are private to whoever wrote them).
    web_home="$(mktemp -d -t academy-web.XXXXXX)"
    cp -p "${ACADEMY_CONTENT_CACHE_DIR:-$dir/content-cache}"/*.pickle "$web_home/" 2>/dev/null || true
    chown -R "$web_user:" "$web_home"
    web=(env ACADEMY_CONTENT_CACHE_DIR="$web_home" bash "$root/scripts/as-web-user.sh" "$web_user")
    "${web[@]}" "$PY" -c "import config.settings" || {
      echo "$web_user cannot run the site from $root: the checkout must be world-readable, as deploy/README.md installs it" >&2
      exit 1
    }
  else
    web=("${sandboxing[@]}")
  fi
fi
umask 077  # UMask=0077 of the units

pids=()
stop() {
  trap - EXIT INT TERM
  set +e  # stopping goes on past processes that are already gone
  for pid in "${pids[@]}"; do pkill -TERM -P "$pid" 2>/dev/null; kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  [ -z "$web_home" ] || rm -rf "$web_home"
  echo "prod-local stopped"
}
trap stop EXIT INT TERM

# Like systemd's Restart=always in deploy/: a Daphne that dies is started again a second later.
supervise_daphne() {
  while true; do
    "${web[@]}" "$PY" -m config.serve -b 127.0.0.1 -p "$1" config.asgi:application >>"$dir/daphne-$1.log" 2>&1 || true
    echo "Daphne on port $1 exited; starting it again" >&2
    sleep 1
  done
}

# In workers mode the learners' code runs in a playground worker, supervised the same way.
supervise_runworker() {
  while true; do
    "${sandboxing[@]}" "$PY" manage.py runworker playground-runs >>"$dir/runworker.log" 2>&1 || true
    echo "The playground worker exited; starting it again" >&2
    sleep 1
  done
}
if [ "$execution" = workers ]; then
  supervise_runworker &
  pids+=($!)
fi

upstreams=()
for daphne_port in "${daphne_ports[@]}"; do
  supervise_daphne "$daphne_port" &
  pids+=($!)
  upstreams+=("127.0.0.1:$daphne_port")
done

scheme=http listen="listen 127.0.0.1:$port;"
if [ "${PROD_LOCAL_TLS:-0}" = 1 ]; then
  mkdir -p "$dir/tls"
  [ -s "$dir/tls/cert.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" 2>/dev/null
  scheme=https
  listen="listen 127.0.0.1:$port ssl; ssl_certificate $dir/tls/cert.pem; ssl_certificate_key $dir/tls/key.pem;"
fi

# answers_within TRIES URL: polls URL (https checked against prod-local's own certificate) up to TRIES times, 0.2 s
# apart; fails if it never answered.
answers_within() {
  "$PY" - "$1" "$2" "$dir/tls/cert.pem" <<'PYTHON'
import ssl, sys, time, urllib.request
tries, url, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=cafile) if url.startswith("https") else None
for _ in range(tries):
    try:
        urllib.request.urlopen(url, timeout=2, context=context).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit(1)
PYTHON
}

# nginx starts once every Daphne answers: a process it found refusing at start would stay marked failed for
# fail_timeout, and losing the other one in that time would leave nginx no process to send pages to (502).
for daphne_port in "${daphne_ports[@]}"; do
  answers_within 600 "http://127.0.0.1:$daphne_port/livez" || {
    echo "Daphne on port $daphne_port did not answer /livez within two minutes (see its log in $dir)" >&2
    exit 1
  }
done

mkdir -p "$dir/nginx"
{
  echo "worker_processes 1;"
  echo "pid $dir/nginx/nginx.pid;"
  echo "error_log $dir/nginx/error.log warn;"
  echo "events { worker_connections 1024; }"
  echo "http {"
  echo "  include /etc/nginx/mime.types;"
  echo "  access_log $dir/nginx/access.log;"
  for temp in client_body proxy fastcgi uwsgi scgi; do echo "  ${temp}_temp_path $dir/nginx/$temp;"; done
  deploy/render-nginx.sh "$listen" localhost "$dir/static" "${upstreams[@]}"
  echo "}"
} >"$dir/nginx/nginx.conf"
"$nginx_bin" -t -q -c "$dir/nginx/nginx.conf" -p "$dir/nginx" -g "daemon off; user $(id -un);"
"$nginx_bin" -c "$dir/nginx/nginx.conf" -p "$dir/nginx" -g "daemon off; user $(id -un);" &
pids+=($!)

answers_within 150 "$scheme://127.0.0.1:$port/healthz" || true
echo "Channels Academy (production layout) at $scheme://127.0.0.1:$port/ : nginx -> Daphne on ${daphne_ports[*]}, $DATABASE_URL, $REDIS_URL, playground runs in: $execution; demo-learner and demo-instructor sign in with the password in $dir/demo-password"
echo "Logs in $dir. Ctrl+C stops everything."
wait -n "${pids[@]}" || true
echo "nginx exited; stopping the rest (see $dir/nginx/error.log)" >&2
