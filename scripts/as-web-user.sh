#!/usr/bin/env bash
# Runs a command as prod-local's unprivileged web user, as academy-daphne@.service runs Daphne (User=, no capability,
# NoNewPrivileges=, ProtectHome=): in a mount namespace of its own where /root and /home are empty, except the Python
# installation the command's interpreter comes from, bound read-only at its own path when it lives there (a pyenv
# Python under /root, which no other user could run).   (as root) scripts/as-web-user.sh USER INTERPRETER ARGS...
set -euo pipefail
[ $# -ge 2 ] && [ "$(id -u)" = 0 ] || { sed -n 2,5p "$0" >&2; exit 2; }
user="$1"
shift
python_home="$(cd "$(dirname "$(readlink -f "$1")")/.." && pwd)"
exec unshare --mount --propagation private -- bash -euo pipefail -c '
  user="$1" python_home="$2"
  shift 2
  stage=""
  case "$python_home" in
    /root/* | /home/*) stage="$(mktemp -d)"; mount --bind "$python_home" "$stage" ;;
  esac
  for hidden in /root /home; do
    [ ! -d "$hidden" ] || mount -t tmpfs -o mode=0755,size=1m,nosuid,nodev academy-web-home "$hidden"
  done
  if [ -n "$stage" ]; then
    (umask 022 && mkdir -p "$python_home")
    mount --move "$stage" "$python_home"
    mount -o remount,bind,ro "$python_home"
    rmdir "$stage"
  fi
  exec setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups --inh-caps=-all --bounding-set=-all \
    --no-new-privs -- "$@"
' as-web-user "$user" "$python_home" "$@"
