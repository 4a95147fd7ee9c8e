#!/bin/sh
# Installs Debian packages for the tests that drive real programs (install-cron.sh,
# install-chromium.sh), quietly, as root or through sudo. Usage: apt-install.sh WHAT PACKAGE...
# (WHAT names the missing program in the error on a machine without apt-get).
set -eu
what="$1"
shift
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-install: $what is missing and apt-get is not available; install $* by hand" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
else
  as_root="sudo"
fi
$as_root apt-get update -qq
# Recommends would pull in a mail setup (cron), fonts and desktop services (chromium) the
# tests do not need.
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
