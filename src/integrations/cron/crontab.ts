// Reads and writes a user's crontab through the system's `crontab` program, the only
// supported way to change it (cron notices the change; editing the spool file does not
// tell it).

import { spawnSync } from 'node:child_process';

export class CrontabError extends Error {}

export interface CrontabOptions {
  /** Another user's crontab (`crontab -u`, needs root); the current user's when absent. */
  user?: string;
  /** The crontab program; `crontab` on the PATH when absent. */
  program?: string;
}

function run(args: string[], options: CrontabOptions, input?: string) {
  const program = options.program ?? 'crontab';
  const result = spawnSync(program, [...(options.user ? ['-u', options.user] : []), ...args], {
    input: input ?? '',
    encoding: 'utf8',
    // `crontab -e` would open an editor; `-l`, `-` and `-r` never do, but make sure
    // nothing interactive can wait on a terminal.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CrontabError(`${program} not found: install cron (on Debian and Ubuntu: apt-get install cron)`);
    }
    throw new CrontabError(`${program}: ${result.error.message}`);
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.trim() };
}

// Vixie cron, cronie and busybox all say "no crontab for <user>" when there is none.
const NO_CRONTAB = /no crontab for/i;

/** The crontab's text as `crontab -l` prints it; a user without a crontab has an empty one. */
export function readCrontab(options: CrontabOptions = {}): string {
  const result = run(['-l'], options);
  if (result.status === 0) return result.stdout;
  if (NO_CRONTAB.test(result.stderr)) return '';
  throw new CrontabError(`crontab -l failed: ${result.stderr || `exit status ${result.status}`}`);
}

/**
 * Replaces the crontab with `text`. An empty text removes the crontab, so that a user
 * who had none before `install` has none again after `uninstall`.
 */
export function writeCrontab(text: string, options: CrontabOptions = {}): void {
  if (text === '') {
    const result = run(['-r'], options);
    if (result.status !== 0 && !NO_CRONTAB.test(result.stderr)) {
      throw new CrontabError(`crontab -r failed: ${result.stderr || `exit status ${result.status}`}`);
    }
    return;
  }
  const result = run(['-'], options, text);
  if (result.status !== 0) throw new CrontabError(`crontab refused the new crontab: ${result.stderr || `exit status ${result.status}`}`);
}
