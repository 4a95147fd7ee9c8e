#!/bin/sh
# The page's browser test (test/e2e/serve-page-browser.test.ts) drives Debian's chromium
# through playwright-core, which downloads no browser; install it when it is missing.
# Nothing happens when a chromium is already there, or TRIG_CHROMIUM names one.
set -eu
if [ -n "${TRIG_CHROMIUM:-}" ] && [ -x "$TRIG_CHROMIUM" ]; then
  exit 0
fi
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
sh "$(dirname "$0")/apt-install.sh" "chromium (or set TRIG_CHROMIUM; the browser test is skipped without it)" chromium
command -v chromium >/dev/null
