// A batch of file changes, as `trig watch` gathers them until the debounce settles, and
// the file_change payload it becomes. A path changed several times in a batch counts
// once, by its net change: whether it existed before the batch and after it (the
// catalog's file_change describes the fields).

import { FILE_CHANGE_TYPES } from '../../catalog/events.js';

/** What the watcher reports of one file. */
export type FileEvent = 'add' | 'change' | 'unlink';

export type ChangeType = (typeof FILE_CHANGE_TYPES)[number];

/**
 * A path's events in a batch, as far as they tell whether the file exists: its first and
 * last `add` or `unlink`. A `change` says only that the file is there, so a `change`
 * reported before the `add` of a new file (the watcher stats and reports files in the
 * order it gets to them) does not make it look older than the batch.
 */
interface PathHistory {
  firstPresence?: 'add' | 'unlink';
  lastPresence?: 'add' | 'unlink';
}

/** The file_change payload (the catalog's file_change fields). */
export interface FileChangePayload {
  [field: string]: unknown;
  changedFiles: string[];
  created: string[];
  modified: string[];
  deleted: string[];
  changeTypes: ChangeType[];
  root: string;
}

export class ChangeBatch {
  /** Path (relative to the root, `/`-separated) → its first and last event in the batch. */
  private readonly paths = new Map<string, PathHistory>();

  get size(): number {
    return this.paths.size;
  }

  record(file: string, event: FileEvent): void {
    let seen = this.paths.get(file);
    if (!seen) this.paths.set(file, (seen = {}));
    if (event === 'change') return;
    seen.firstPresence ??= event;
    seen.lastPresence = event;
  }

  files(): string[] {
    return [...this.paths.keys()];
  }

  /** Leaves out the paths `drop` names. */
  without(drop: ReadonlySet<string>): ChangeBatch {
    const kept = new ChangeBatch();
    for (const [file, history] of this.paths) if (!drop.has(file)) kept.paths.set(file, { ...history });
    return kept;
  }

  /** The batch's net change of each path; none for a path created and removed within it. */
  netChanges(): Map<string, ChangeType> {
    const net = new Map<string, ChangeType>();
    for (const [file, { firstPresence, lastPresence }] of this.paths) {
      // A first `add` says the file was not there before; a last `unlink` that it is gone now.
      const before = firstPresence !== 'add';
      const after = lastPresence !== 'unlink';
      if (before && after) net.set(file, 'modified');
      else if (after) net.set(file, 'created');
      else if (before) net.set(file, 'deleted');
    }
    return net;
  }
}

/** The payload of the batch's file_change event; undefined when nothing changed on balance. */
export function fileChangePayload(batch: ChangeBatch, root: string): FileChangePayload | undefined {
  const net = batch.netChanges();
  if (net.size === 0) return undefined;
  const changedFiles = [...net.keys()].sort();
  const of = (type: ChangeType) => changedFiles.filter((file) => net.get(file) === type);
  const [created, modified, deleted] = FILE_CHANGE_TYPES.map(of) as [string[], string[], string[]];
  const byType: Record<ChangeType, string[]> = { created, modified, deleted };
  return {
    changedFiles,
    created,
    modified,
    deleted,
    changeTypes: FILE_CHANGE_TYPES.filter((type) => byType[type].length > 0),
    root,
  };
}
