#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (sandbox, browser, Redis, PostgreSQL, nginx,
# LibreOffice Calc to open the CSV exports),
# plus any named as arguments (scripts/bench.sh adds wrk).
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -euo pipefail

packages=(bubblewrap chromium python3-seccomp redis-server redis-tools postgresql postgresql-client nginx-light
  libreoffice-calc-nogui "$@")
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them, then run 'make test' again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Packages do not start their own daemons here (nginx would take port 80): the tests start what they use.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
