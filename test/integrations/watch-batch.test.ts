import { describe, expect, it } from 'vitest';
import { ChangeBatch, fileChangePayload, type FileEvent } from '../../src/integrations/watch/batch.js';

function batchOf(events: [string, FileEvent][]): ChangeBatch {
  const batch = new ChangeBatch();
  for (const [file, event] of events) batch.record(file, event);
  return batch;
}

describe('a batch of file changes', () => {
  it.each([
    [[['a', 'add']], 'created'],
    [
      [
        ['a', 'add'],
        ['a', 'change'],
      ],
      'created',
    ],
    // The watcher may report a new file's write before its add.
    [
      [
        ['a', 'change'],
        ['a', 'add'],
      ],
      'created',
    ],
    [[['a', 'change']], 'modified'],
    [
      [
        ['a', 'unlink'],
        ['a', 'add'],
      ],
      'modified',
    ],
    [
      [
        ['a', 'change'],
        ['a', 'unlink'],
      ],
      'deleted',
    ],
    [[['a', 'unlink']], 'deleted'],
    [
      [
        ['a', 'add'],
        ['a', 'change'],
        ['a', 'unlink'],
      ],
      undefined,
    ],
  ] as [[string, FileEvent][], string | undefined][])('%j is %s on balance', (events, expected) => {
    expect(batchOf(events).netChanges().get('a')).toBe(expected);
  });

  it('becomes the file_change payload: sorted paths, by kind, the kinds present, the root', () => {
    const batch = batchOf([
      ['src/b.ts', 'change'],
      ['src/a.ts', 'add'],
      ['gone.md', 'unlink'],
      ['tmp', 'add'],
      ['tmp', 'unlink'],
    ]);
    expect(fileChangePayload(batch, '/w')).toEqual({
      changedFiles: ['gone.md', 'src/a.ts', 'src/b.ts'],
      created: ['src/a.ts'],
      modified: ['src/b.ts'],
      deleted: ['gone.md'],
      changeTypes: ['created', 'modified', 'deleted'],
      root: '/w',
    });
    expect(fileChangePayload(batch.without(new Set(['gone.md', 'src/a.ts', 'src/b.ts'])), '/w')).toBeUndefined();
  });
});
