#!/bin/sh
# The page's browser tests (test/e2e/serve-page-browser.test.ts) drive Debian's chromium
# through playwright-core (which downloads no browser); install it when it is missing.
# Nothing happens when a chromium is already there, or TRIG_CHROMIUM names one.
set -eu
if [ -n "${TRIG_CHROMIUM:-}" ] && [ -x "$TRIG_CHROMIUM" ]; then
  exit 0
fi
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: chromium is missing and apt-get is not available; install it by hand or set TRIG_CHROMIUM (the browser test is skipped without it)" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
else
  as_root="sudo"
fi
$as_root apt-get update -qq
# Recommends would pull in fonts and desktop integration the headless tests do not need.
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
