import { realpathSync } from 'node:fs';
import path from 'node:path';
import { findBlocks, mergeBlock, removeBlock, CrontabBlockError } from '../integrations/cron/block.js';
import { CrontabError, readCrontab, writeCrontab, type CrontabOptions } from '../integrations/cron/crontab.js';
import { CronEnvironmentError, cronBlock, scheduleTriggers, type CronEntryOptions } from '../integrations/cron/entries.js';
import { EXIT, UsageError } from '../shared/errors.js';
import { noticesTo, type Output } from '../shared/io.js';
import { oneLine } from '../shared/printable.js';
import { loadDefinitions } from '../validate/definitions.js';

export type CronAction = 'print' | 'install' | 'uninstall';

export interface CronOptions {
  defs?: string[];
  dryRun?: boolean;
  user?: string;
}

/** The absolute path of the running bin/trig, symlinks resolved (an npm global install links it). */
export function trigBin(): string {
  const script = process.argv[1];
  if (!script) throw new Error('cannot tell where bin/trig is');
  return realpathSync(script);
}

function entryOptions(options: CronOptions): CronEntryOptions {
  const entry: CronEntryOptions = {
    dir: realpathSync(process.cwd()),
    node: process.execPath,
    trig: trigBin(),
    ...(options.defs?.length ? { defs: options.defs } : {}),
    ...(process.env.PATH !== undefined ? { path: process.env.PATH } : {}),
    ...(process.env.SHELL !== undefined ? { shell: process.env.SHELL } : {}),
  };
  // Refused before anything is read or written: a crontab line ends at a line break, so
  // no quoting can carry one, and the block's markers could not be found again.
  for (const [what, value] of [
    ['directory', entry.dir],
    ['node', entry.node],
    ['trig', entry.trig],
    ...(entry.defs ?? []).map((d) => ['--defs path', d]),
  ]) {
    if (/[\n\r]/.test(value!)) {
      throw new UsageError(`the ${what} ${JSON.stringify(value)} has a line break in its name, which a crontab line cannot hold`);
    }
  }
  return entry;
}

/** Loads the definitions, says which schedules the entry will fire, and fails when there are none. */
async function checkSchedules(options: CronOptions, io: Output): Promise<void> {
  const { checked } = await loadDefinitions(options.defs ?? [], { cache: true, env: process.env, notice: noticesTo(io.stderr) });
  const schedules = scheduleTriggers(checked.definitions);
  const usable = schedules.filter((s) => !s.problem);
  for (const s of schedules) {
    const where = `${path.relative(process.cwd(), s.file) || s.file}: ${s.definition}`;
    if (s.problem) io.stderr.write(`trig: ${where}: never fires: ${s.problem}\n`);
    else {
      const catchUp = s.catchUp === undefined ? '' : `, missed times caught up within ${oneLine(s.catchUp)}`;
      io.stderr.write(`trig: ${where}: "${s.cron}" (${s.timezone ?? 'UTC'}) as ${JSON.stringify(s.scheduleName)}${catchUp}\n`);
    }
  }
  if (usable.length === 0) {
    throw new UsageError(
      'no valid schedule trigger in the definitions: nothing to schedule (to remove an installed entry: trig cron uninstall)',
    );
  }
}

export async function runCron(action: CronAction, options: CronOptions, io: Output): Promise<number> {
  const crontabOptions: CrontabOptions = options.user ? { user: options.user } : {};
  const entry = entryOptions(options);
  try {
    // Refused before the definitions are read or the crontab touched.
    if (action !== 'uninstall') cronBlock(entry);
    if (action === 'print') {
      await checkSchedules(options, io);
      io.stdout.write(cronBlock(entry));
      return EXIT.ok;
    }
    if (action === 'install') await checkSchedules(options, io);
    const before = readCrontab(crontabOptions);
    const after = action === 'install' ? mergeBlock(before, entry.dir, cronBlock(entry)) : removeBlock(before, entry.dir);
    if (options.dryRun) {
      io.stdout.write(after);
      return EXIT.ok;
    }
    if (after === before) {
      io.stderr.write(
        `trig: the crontab already ${action === 'install' ? 'has the entry' : 'has no entry'} for ${entry.dir}; nothing changed\n`,
      );
      return EXIT.ok;
    }
    writeCrontab(after, crontabOptions);
    // Read back: a crontab program that rewrote the text would break later uninstalls.
    if (action === 'install' && findBlocks(readCrontab(crontabOptions), entry.dir).length !== 1) {
      throw new CrontabError('the crontab does not hold the entry after installing it');
    }
    io.stderr.write(`trig: ${action === 'install' ? 'installed the entry' : 'removed the entry'} for ${entry.dir}\n`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CronEnvironmentError) throw new UsageError(error.message);
    if (error instanceof CrontabError || error instanceof CrontabBlockError) {
      io.stderr.write(`trig: ${error.message}\n`);
      return EXIT.problems;
    }
    throw error;
  }
}
