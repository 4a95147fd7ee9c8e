// `trig watch`: a working tree watched with chokidar, its changes gathered until the
// debounce settles, each batch one file_change event through the fire core, fired as it
// settles. A definition runs one batch at a time: its runs share a concurrency group (its
// own, else one per definition), so a run that arrives while another goes on waits, the
// newest superseding an older waiting one. The definitions are reloaded when their files
// change, the last good version of a broken file serving meanwhile (definitions.ts). A
// signal stops watching and stops the runs as `trig fire` stops them.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { watch as chokidarWatch, type FSWatcher } from 'chokidar';
import { fire, presentFire, type FireDeps, type FireOptions } from '../../fire/index.js';
import { compilePatternList } from '../../lang/glob.js';
import { DEFAULT_DEFINITIONS_DIR } from '../../load/paths.js';
import { filterValues } from '../../match/filters.js';
import { SIGNAL_EXIT, UsageError } from '../../shared/errors.js';
import { noticesTo, type Output } from '../../shared/io.js';
import { oneLine } from '../../shared/printable.js';
import { plural } from '../../shared/records.js';
import type { Style } from '../../shared/style.js';
import { stateDir } from '../../store/place.js';
import { cacheRoot } from '../../validate/cache.js';
import type { CheckResult } from '../../validate/check.js';
import { ChangeBatch, fileChangePayload, type FileEvent } from './batch.js';
import { DefinitionKeeper, reportBroken, type Served } from './definitions.js';
import { alwaysIgnored, isWithin, relativePath, watchIgnore } from './ignore.js';

/** A file changed without pause still fires: a batch waits at most this many debounces after its first change. */
export const MAX_WAIT_DEBOUNCES = 10;

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface WatchOptions {
  /** The directory watched, absolute. */
  root: string;
  /** Definition paths as given (none: `.harness/`). */
  defs: readonly string[];
  debounceMs: number;
  /** Options of each fire (workdir, timeout, …). */
  fireOptions: Partial<FireOptions>;
  deps: Pick<FireDeps, 'now' | 'env' | 'cwd' | 'openStore'>;
  loadDefinitions(paths: readonly string[]): Promise<{ files: string[]; checked: CheckResult }>;
  io: Output;
  style: Style;
}

/** What a definition path argument covers on disk: the file or folder itself, or a glob's static base. */
export async function definitionRoots(defs: readonly string[], cwd: string): Promise<string[]> {
  const roots: string[] = [];
  for (const arg of defs.length ? defs : [DEFAULT_DEFINITIONS_DIR]) {
    if (existsSync(arg)) roots.push(path.resolve(cwd, arg));
    else {
      const { default: picomatch } = await import('picomatch');
      roots.push(path.resolve(cwd, picomatch.scan(arg).base || '.'));
    }
  }
  return roots;
}

function ready(watcher: FSWatcher): Promise<void> {
  return new Promise((resolve, reject) => {
    watcher.once('ready', resolve);
    watcher.once('error', reject);
  });
}

/** Whether some file_change entry's `paths` filter takes the path: only then does a definition file's change count. */
function wantedByPaths(checked: CheckResult, relative: string): boolean {
  return checked.definitions.some((d) =>
    d.entries.some(
      (entry) =>
        entry.event === 'file_change' &&
        entry.filters.paths !== undefined &&
        compilePatternList(filterValues(entry.filters.paths)).match(relative).included,
    ),
  );
}

function listening(checked: CheckResult): number {
  return checked.definitions.filter((d) => d.entries.some((e) => e.event === 'file_change')).length;
}

/** Watches until a signal; resolves with the exit code (128 + the signal's number). */
export async function watchTree(options: WatchOptions): Promise<number> {
  const { root, io, debounceMs } = options;
  const notice = noticesTo(io.stderr);
  const keeper = new DefinitionKeeper();
  const defs = options.defs;

  const report = (served: Served) => reportBroken(served, io, options.style, notice);
  // A path argument that names nothing is a usage error at the start; later (a folder
  // removed while watching) the definitions loaded before keep serving.
  const first = await options.loadDefinitions(defs);
  let served = await keeper.take(first.files, first.checked);
  report(served);

  const cwd = options.deps.cwd();
  const defRoots = await definitionRoots(defs, cwd);
  const isDefinitionPath = (absolute: string) =>
    defRoots.some((dir) => isWithin(dir, absolute)) || served.files.some((f) => path.resolve(cwd, f) === absolute);
  const ignore = watchIgnore(root, [stateDir(options.deps.env), cacheRoot(options.deps.env)], (line) => notice(oneLine(line)));

  // Reloads one after another; a batch waits for the one under way.
  let reloading: Promise<void> = Promise.resolve();
  let reloadTimer: NodeJS.Timeout | undefined;
  const reload = async () => {
    try {
      const { files, checked } = await options.loadDefinitions(defs);
      served = await keeper.take(files, checked);
      report(served);
      notice(
        `definitions reloaded: ${plural(served.checked.definitions.length, 'definition')}, ${listening(served.checked)} listening to file_change`,
      );
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      notice(`${error.message}; the definitions loaded before keep serving`);
    }
  };
  const scheduleReload = () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => {
      reloading = reloading.then(reload).catch((error: unknown) => notice(`reload failed: ${oneLine(String(error))}`));
    }, debounceMs);
  };

  const stop = new AbortController();
  let stopping: NodeJS.Signals | undefined;
  let pending = new ChangeBatch();
  let pendingSince = 0;
  /** When the watcher last reported anything (raw file system events included) while a batch was pending. */
  let lastActivity = 0;
  let settleTimer: NodeJS.Timeout | undefined;
  /** The fires of batches whose runs are not over: each batch fires as it settles. */
  const inFlight = new Set<Promise<void>>();

  const fireBatch = async (batch: ChangeBatch) => {
    await reloading;
    const { checked } = served;
    // Ignored by git now (.gitignore may have changed since the watch started), or a
    // definition file no paths filter asks for.
    const gitIgnored = ignore.gitIgnored(batch.files());
    const left = new Set(batch.files().filter((f) => isDefinitionPath(path.join(root, f)) && !wantedByPaths(checked, f)));
    const payload = fileChangePayload(batch.without(new Set([...gitIgnored, ...left])), root);
    if (!payload || stopping) return;
    notice(
      `file_change: ${plural(payload.changedFiles.length, 'changed file')} (${payload.changeTypes.map((t) => `${(payload[t] as string[]).length} ${t}`).join(', ')})`,
    );
    const presenter = presentFire(io, { json: false, explain: false, quiet: Boolean(options.fireOptions.quiet), style: options.style });
    try {
      const outcome = await fire(
        {
          event: 'file_change',
          payload,
          definitions: checked,
          source: 'watch',
          places: defRoots,
          options: options.fireOptions,
          // A definition runs one batch at a time unless its own concurrency group says otherwise.
          defaultGroup: `watch ${root}`,
        },
        {
          ...options.deps,
          loadDefinitions: () => Promise.resolve(checked),
          runOutput: io.stdout,
          runStyle: options.style,
          onPlanned: presenter.planned,
          stop: stop.signal,
        },
      );
      presenter.finished(outcome);
    } catch (error) {
      // One batch's trouble (the workdir removed, the store unusable) is said; watching goes on.
      const message = error instanceof Error ? error.message : String(error);
      notice(error instanceof UsageError ? oneLine(message) : `internal error: ${oneLine(message)}`);
    }
  };

  let finished: ((code: number) => void) | undefined;
  const settle = () => {
    const batch = pending;
    pending = new ChangeBatch();
    if (batch.size === 0) return;
    // Fired at once: a run of a definition still busy with an earlier batch waits in its
    // concurrency group (the store decides), and the others need not wait for it.
    const fired: Promise<void> = fireBatch(batch).finally(() => {
      inFlight.delete(fired);
      if (stopping && !inFlight.size) finished?.(SIGNAL_EXIT[stopping] ?? 128);
    });
    inFlight.add(fired);
  };
  // The debounce settles when the watcher has been quiet for debounceMs, or the batch has
  // waited MAX_WAIT_DEBOUNCES of them. An expired timer runs before the file system events
  // that came in meanwhile (a busy machine can hold trig back longer than the debounce), so
  // the timer only looks, after those events (setImmediate), whether all is quiet.
  const arm = () => {
    clearTimeout(settleTimer);
    const now = Date.now();
    const deadline = pendingSince + MAX_WAIT_DEBOUNCES * debounceMs;
    const wait = Math.min(lastActivity + debounceMs, deadline) - now;
    settleTimer = setTimeout(() => setImmediate(look), Math.max(0, wait));
  };
  const look = () => {
    if (stopping || pending.size === 0) return;
    const now = Date.now();
    if (now - lastActivity < debounceMs && now < pendingSince + MAX_WAIT_DEBOUNCES * debounceMs) arm();
    else settle();
  };
  const changed = (event: FileEvent, absolute: string) => {
    if (stopping) return;
    const relative = relativePath(root, absolute);
    if (relative === '' || relative.startsWith('..')) return;
    lastActivity = Date.now();
    if (pending.size === 0) pendingSince = lastActivity;
    pending.record(relative, event);
    arm();
  };

  // Symbolic links are not followed: a planted link must not make trig watch (or report)
  // what lies outside the tree.
  const tree = chokidarWatch(root, { ignored: (p: string) => ignore.skip(p), ignoreInitial: true, followSymlinks: false });
  for (const event of ['add', 'change', 'unlink'] as const) tree.on(event, (p: string) => changed(event, p));
  // A raw event comes before the watcher has looked at the file, a new folder before it
  // has read it: more may be on the way.
  const busy = () => {
    if (pending.size > 0) lastActivity = Date.now();
  };
  tree.on('raw', busy);
  tree.on('addDir', busy);
  const skipInDefinitions = (p: string) => defRoots.some((dir) => isWithin(dir, p) && alwaysIgnored(relativePath(dir, p)));
  const definitions = chokidarWatch(defRoots, { ignoreInitial: true, ignored: skipInDefinitions });
  definitions.on('all', (event: string) => {
    if (!stopping && event !== 'addDir' && event !== 'unlinkDir') scheduleReload();
  });
  const failed = (error: unknown) => notice(`watcher: ${oneLine(error instanceof Error ? error.message : String(error))}`);
  await Promise.all([ready(tree), ready(definitions)]);
  tree.on('error', failed);
  definitions.on('error', failed);

  return new Promise<number>((resolve) => {
    let done = false;
    finished = (code) => {
      if (done) return;
      done = true;
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      resolve(code);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return; // a second one: the runs' own handler kills what is left at once
      stopping = signal;
      clearTimeout(settleTimer);
      clearTimeout(reloadTimer);
      stop.abort(signal);
      void Promise.all([tree.close(), definitions.close()]).then(() => {
        if (!inFlight.size) finished?.(SIGNAL_EXIT[signal] ?? 128);
      });
    };
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
    const git = ignore.git ? ', .gitignore applied by git' : '';
    notice(
      `watching ${oneLine(root)} (${listening(served.checked)} of ${plural(served.checked.definitions.length, 'definition')} listening to file_change${git}); Ctrl-C stops`,
    );
  });
}
