#!/bin/sh
# The trig cron tests run against the real crontab program; install Debian's cron package
# when it is missing (only the crontab program is needed, not the daemon). Nothing happens
# when crontab is already there.
set -eu
if command -v crontab >/dev/null 2>&1; then
  exit 0
fi
sh "$(dirname "$0")/apt-install.sh" "crontab (cronie, dcron)" cron
command -v crontab >/dev/null
