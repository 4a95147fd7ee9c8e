import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPrivateFile, whyNotPrivate, writePrivateFile } from '../../src/shared/private-files.js';
import { BUILD_MARKER, openCheckCache } from '../../src/validate/cache.js';

// Unbuilt, the cache's build id is `dev`.

const EMPTY_CHECK = { documents: [], skipped: [], syntaxErrors: [] };
const isRoot = process.getuid?.() === 0;

describe('the check cache folder', () => {
  it('keeps the folders of the two other builds that wrote most recently, removes older ones, and nothing else', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'trig-cache-builds-'));
    const ages = { a: 4, b: 1, c: 3, d: 2, mine: 5, 'mine-too': 6 };
    for (const [name, hoursAgo] of Object.entries(ages)) {
      mkdirSync(path.join(root, name), { mode: 0o700 });
      // a to d are trig's (they carry its marker); the other two are the user's.
      if (name.length === 1) writeFileSync(path.join(root, name, BUILD_MARKER.name), BUILD_MARKER.text, { mode: 0o600 });
      else writeFileSync(path.join(root, name, 'data'), `${name}\n`);
      const at = new Date(Date.now() - hoursAgo * 3_600_000);
      utimesSync(path.join(root, name), at, at);
    }
    // A marker that is not trig's own file: group-writable.
    writeFileSync(path.join(root, 'mine-too', BUILD_MARKER.name), BUILD_MARKER.text, { mode: 0o660 });
    chmodSync(path.join(root, 'mine-too', BUILD_MARKER.name), 0o660);
    const cache = openCheckCache({ TRIG_CACHE_DIR: root });
    expect(readdirSync(root).sort()).toEqual(['a', 'b', 'c', 'd', 'mine', 'mine-too']);
    await cache.set('def.yaml', 'pipeline: {on: push}\n', EMPTY_CHECK);
    expect(readdirSync(root).sort()).toEqual(['b', 'd', 'dev', 'mine', 'mine-too']);
    expect(readFileSync(path.join(root, 'mine', 'data'), 'utf8')).toBe('mine\n');
    expect(await cache.get('def.yaml', 'pipeline: {on: push}\n')).toEqual(EMPTY_CHECK);
    // What trig created there is private: folders 0700, files 0600.
    for (const entry of readdirSync(path.join(root, 'dev'), { recursive: true, withFileTypes: true })) {
      const mode = lstatSync(path.join(entry.parentPath, entry.name)).mode & 0o777;
      expect([entry.name, mode.toString(8)]).toEqual([entry.name, entry.isDirectory() ? '700' : '600']);
    }
    expect((lstatSync(path.join(root, 'dev')).mode & 0o777).toString(8)).toBe('700');
  });

  it('creates a missing cache folder, and every folder in it, readable by the user only', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'trig-cache-new-'));
    const root = path.join(base, 'deep', 'trig');
    await openCheckCache({ TRIG_CACHE_DIR: root }).set('def.yaml', 'x: 1\n', EMPTY_CHECK);
    for (const dir of [path.join(base, 'deep'), root, path.join(root, 'dev'), path.join(root, 'dev', 'sets')]) {
      expect([dir, (lstatSync(dir).mode & 0o777).toString(8)]).toEqual([dir, '700']);
    }
  });

  it('reads no entry that is a link, or that its group can write, and says once why it uses no folder that is not private', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'trig-cache-entries-'));
    const warnings: string[] = [];
    const cache = openCheckCache({ TRIG_CACHE_DIR: root }, { warn: (m) => warnings.push(m) });
    await cache.set('a.yaml', 'a: 1\n', EMPTY_CHECK);
    await cache.set('b.yaml', 'b: 1\n', EMPTY_CHECK);
    const entries = readdirSync(path.join(root, 'dev')).filter((name) => name.endsWith('.json'));
    expect(entries).toHaveLength(2);
    const fresh = () => openCheckCache({ TRIG_CACHE_DIR: root }, { warn: (m) => warnings.push(m) });
    expect(await fresh().get('a.yaml', 'a: 1\n')).toEqual(EMPTY_CHECK);

    // Each entry replaced by a link to a copy, or made group-writable: neither is read.
    const [first, second] = entries.map((name) => path.join(root, 'dev', name));
    const copy = path.join(root, 'copy.json');
    writeFileSync(copy, readFileSync(first!), { mode: 0o600 });
    rmSync(first!);
    symlinkSync(copy, first!);
    chmodSync(second!, 0o620);
    const cache2 = fresh();
    expect([await cache2.get('a.yaml', 'a: 1\n'), await cache2.get('b.yaml', 'b: 1\n')]).toEqual([undefined, undefined]);
    expect(warnings).toEqual([]);

    chmodSync(path.join(root, 'dev'), 0o770);
    const loose = fresh();
    expect(await loose.get('a.yaml', 'a: 1\n')).toBeUndefined();
    await loose.set('c.yaml', 'c: 1\n', EMPTY_CHECK);
    expect(await loose.get('c.yaml', 'c: 1\n')).toBeUndefined();
    expect(warnings).toEqual([
      `not using the check cache ${root}: ${path.join(root, 'dev')} is writable by its group (mode 0770); checking every file afresh`,
    ]);
    expect(readdirSync(path.join(root, 'dev')).filter((name) => name.endsWith('.json'))).toHaveLength(2);
  });
});

describe('private files', () => {
  const stats = (mode: number, uid: number) => ({ mode: 0o40000 | mode, uid }) as import('node:fs').Stats;

  it('are owned by the user and writable by no one else', () => {
    expect(whyNotPrivate(stats(0o700, 1000), 1000)).toBeUndefined();
    expect(whyNotPrivate(stats(0o755, 1000), 1000)).toBeUndefined();
    expect(whyNotPrivate(stats(0o700, 0), 1000)).toBe("is owned by uid 0, not by uid 1000 (trig's user)");
    expect(whyNotPrivate(stats(0o1777, 1000), 1000)).toBe('is writable by others (mode 1777)');
    expect(whyNotPrivate(stats(0o775, 1000), 1000)).toBe('is writable by its group (mode 0775)');
  });

  it('are written with mode 0600 whatever the umask, replacing a link rather than writing through it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-private-'));
    const target = path.join(dir, 'target');
    writeFileSync(target, 'untouched\n');
    const file = path.join(dir, 'entry.json');
    symlinkSync(target, file);
    const umask = process.umask(0);
    try {
      expect(writePrivateFile(file, 'kept\n')).toBe(true);
    } finally {
      process.umask(umask);
    }
    expect(readFileSync(target, 'utf8')).toBe('untouched\n');
    expect(lstatSync(file).isFile()).toBe(true);
    expect((lstatSync(file).mode & 0o777).toString(8)).toBe('600');
    expect(readPrivateFile(file)).toBe('kept\n');
    expect(readdirSync(dir).sort()).toEqual(['entry.json', 'target']);
  });

  it('are read only when they are regular files, not links, FIFOs or files others can write', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-private-'));
    const file = path.join(dir, 'file');
    writeFileSync(file, 'text\n', { mode: 0o600 });
    expect(readPrivateFile(file)).toBe('text\n');
    symlinkSync(file, path.join(dir, 'link'));
    expect(readPrivateFile(path.join(dir, 'link'))).toBeUndefined();
    expect(spawnSync('mkfifo', [path.join(dir, 'fifo')]).status).toBe(0);
    expect(readPrivateFile(path.join(dir, 'fifo'))).toBeUndefined();
    chmodSync(file, 0o602);
    expect(readPrivateFile(file)).toBeUndefined();
    expect(readPrivateFile(path.join(dir, 'missing'))).toBeUndefined();
  });

  it.skipIf(!isRoot)('are not read when another user owns them (root only: it takes chown)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-private-'));
    const file = path.join(dir, 'file');
    writeFileSync(file, 'text\n', { mode: 0o600 });
    chownSync(file, 65534, 65534);
    expect(readPrivateFile(file)).toBeUndefined();
  });
});
