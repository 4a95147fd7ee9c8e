import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChangedFileError, checkFiles } from '../../src/validate/check.js';

// The whole-list cache is read in two steps: the outlines (`on:` and diagnostics) of every
// file, then the body of a definition that matched.

function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'trig-check-'));
  const env = { TRIG_CACHE_DIR: path.join(dir, 'cache') };
  const file = path.join(dir, 'def.yaml');
  const write = (text: string) => {
    writeFileSync(file, text);
    // Older than the racy window, so that the list is kept together.
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(file, hourAgo, hourAgo);
  };
  return { env, file, write };
}

const DEFINITION = 'pipeline:\n  name: deploy\n  on: {push: {branches: [main]}}\n  stages:\n    - steps:\n        - run: make deploy\n';

describe('checkFiles', () => {
  it('gives the same definitions and bodies from the whole-list cache as from a fresh check', async () => {
    const { env, file, write } = setup();
    write(DEFINITION);
    const fresh = await checkFiles([file], { cache: false, env });
    await checkFiles([file], { cache: true, env });
    const kept = await checkFiles([file], { cache: true, env });
    expect(kept.definitions).toEqual(fresh.definitions);
    expect(kept.definitions[0]).toMatchObject({
      name: 'deploy',
      entries: [{ event: 'push', filters: { branches: ['main'] }, label: 'push {branches}' }],
    });
    const document = await kept.document(kept.definitions[0]!);
    expect(document).toEqual(await fresh.document(fresh.definitions[0]!));
    expect(document.body?.stages).toEqual([{ steps: [{ run: 'make deploy' }] }]);
  });

  it('plans from the body the decision was made on, even if the file changed since', async () => {
    const { env, file, write } = setup();
    write(DEFINITION);
    await checkFiles([file], { cache: true, env });
    const kept = await checkFiles([file], { cache: true, env });
    write(DEFINITION.replace('make deploy', 'make something-else'));
    expect((await kept.document(kept.definitions[0]!)).body?.stages).toEqual([{ steps: [{ run: 'make deploy' }] }]);
  });

  it('reads a file again when its part of the kept entry is damaged, and refuses a definition the file no longer holds', async () => {
    const { env, file, write } = setup();
    write(DEFINITION);
    await checkFiles([file], { cache: true, env });
    const sets = path.join(env.TRIG_CACHE_DIR, 'dev', 'sets');
    const [entry] = readdirSync(sets);
    const [head] = readFileSync(path.join(sets, entry!), 'utf8').split('\n');
    writeFileSync(path.join(sets, entry!), `${head}\n{"documents": [damaged\n`);

    const kept = await checkFiles([file], { cache: true, env });
    expect((await kept.document(kept.definitions[0]!)).body?.stages).toEqual([{ steps: [{ run: 'make deploy' }] }]);
    const keptAgain = await checkFiles([file], { cache: true, env });
    write('pipeline:\n  on: pushh\n');
    await expect(keptAgain.document(keptAgain.definitions[0]!)).rejects.toThrow(
      new ChangedFileError(`${file}: changed while trig was reading it; fire again`),
    );
  });
});
