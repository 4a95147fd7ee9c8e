// The headless browser of the page's tests (test/e2e/serve-page-browser.test.ts) and of
// scripts/screenshot.mjs: Debian's `chromium` (.ci/install-chromium.sh installs it), driven
// by playwright-core, which downloads no browser of its own. TRIG_CHROMIUM names another binary.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The Chromium binary to drive, or undefined when this machine has none. */
export function chromiumPath(env = process.env) {
  if (env.TRIG_CHROMIUM) return existsSync(env.TRIG_CHROMIUM) ? env.TRIG_CHROMIUM : undefined;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (found) return found;
    } catch {
      // not on PATH
    }
  }
  return undefined;
}

/**
 * Flags for CI, where tests run as root in a container: Chromium's sandbox needs user
 * namespaces it may not have there, and /dev/shm may be tiny.
 */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-dev-shm-usage'];
