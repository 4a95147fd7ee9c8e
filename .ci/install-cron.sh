#!/bin/sh
# The trig cron tests run against the real crontab program; install Debian's cron package
# when it is missing. Nothing happens when crontab is already there.
set -eu
if command -v crontab >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-cron: crontab is missing and apt-get is not available; install cron (cronie, dcron) by hand" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
else
  as_root="sudo"
fi
$as_root apt-get update -qq
# The cron daemon is not needed by the tests, only the crontab program; recommends would
# pull in a mail setup.
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cron >/dev/null
command -v crontab >/dev/null
