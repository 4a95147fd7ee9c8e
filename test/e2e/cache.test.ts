import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, TRIG, trig } from '../helpers/trig.js';

// The check cache must never change what trig says: only how fast it says it.

const freshCache = () => mkdtempSync(path.join(tmpdir(), 'trig-cache-'));
const cacheFiles = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

describe('the check cache', () => {
  it.each([
    [['validate', 'fixtures/invalid']],
    [['validate', '--format', 'json', 'fixtures/invalid', 'fixtures/seed']],
    [
      [
        'fire',
        '--dry-run',
        '--json',
        '--explain',
        '--defs',
        'fixtures/fire',
        'fixtures/invalid',
        '--event',
        'cost_spike',
        '--payload',
        'fixtures/payloads/cost_spike.json',
        '--at',
        '2026-11-23T09:00:00Z',
      ],
    ],
  ])('gives the same output cold, warm and with --no-cache: %j', (args) => {
    const env = { TRIG_CACHE_DIR: freshCache() };
    const cold = trig(args, { env });
    expect(cacheFiles(env.TRIG_CACHE_DIR)).toBeGreaterThan(0);
    const warm = trig(args, { env });
    const uncached = trig([...args, '--no-cache'], { env });
    expect(warm).toEqual(cold);
    expect(uncached).toEqual(cold);
  });

  it('checks a changed file afresh', () => {
    const env = { TRIG_CACHE_DIR: freshCache() };
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-defs-'));
    const file = path.join(dir, 'def.yaml');
    writeFileSync(file, 'pipeline:\n  on: pipline_failed\n');
    expect(trig(['validate', file], { env }).code).toBe(1);
    writeFileSync(file, 'pipeline:\n  on: pipeline_failed\n');
    expect(trig(['validate', file], { env })).toEqual({ code: 0, stdout: '1 definition in 1 file: no problems\n', stderr: '' });
  });

  it('keeps the results of a whole list of files together, and notices when one of them changes', () => {
    const env = { TRIG_CACHE_DIR: freshCache() };
    const dir = mkdtempSync(path.join(tmpdir(), 'trig-defs-'));
    const hourAgo = new Date(Date.now() - 3_600_000);
    const write = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      // Files modified in the last seconds are not kept together (they could change again unseen).
      utimesSync(path.join(dir, name), hourAgo, hourAgo);
    };
    write('a.yaml', 'pipeline:\n  on: push\n');
    write('b.yaml', 'pipeline:\n  on: pull_request\n');
    const first = trig(['validate', dir], { env });
    expect(first).toEqual({ code: 0, stdout: '2 definitions in 2 files: no problems\n', stderr: '' });
    const sets = () => readdirSync(path.join(env.TRIG_CACHE_DIR, readdirSync(env.TRIG_CACHE_DIR)[0]!, 'sets'));
    expect(sets()).toHaveLength(1);
    expect(trig(['validate', dir], { env })).toEqual(first);
    write('b.yaml', 'pipeline:\n  on: pull_requests\n');
    const changed = trig(['validate', dir], { env });
    expect([changed.code, changed.stdout.split('\n')[0]]).toEqual([
      1,
      `${dir}/b.yaml:2:7: unknown event "pull_requests"; did you mean "pull_request"? [unknown-event]`,
    ]);
    // One entry per list of files, rewritten with the new state of its files.
    expect(sets()).toHaveLength(1);
    expect(trig(['validate', dir], { env })).toEqual(changed);
    expect(trig(['validate', path.join(dir, 'a.yaml')], { env }).code).toBe(0);
    expect(sets()).toHaveLength(2);
  });

  it('keeps nothing with --no-cache, ignores damaged entries, and works when the cache cannot be written', () => {
    const env = { TRIG_CACHE_DIR: freshCache() };
    trig(['validate', '--no-cache', 'fixtures/seed'], { env });
    expect(cacheFiles(env.TRIG_CACHE_DIR)).toBe(0);

    const expected = trig(['validate', 'fixtures/invalid/several-problems.yaml'], { env });
    for (const entry of readdirSync(env.TRIG_CACHE_DIR, { recursive: true, withFileTypes: true })) {
      // Entries only: the marker that says a folder is trig's is not an entry.
      if (entry.isFile() && entry.name !== '.trig-check-cache')
        writeFileSync(path.join(entry.parentPath, entry.name), '{"documents": "not what trig wrote"');
    }
    expect(trig(['validate', 'fixtures/invalid/several-problems.yaml'], { env })).toEqual(expected);

    const unwritable = { TRIG_CACHE_DIR: '/dev/null/trig-cache' };
    expect(trig(['validate', 'fixtures/invalid/several-problems.yaml'], { env: unwritable })).toEqual(expected);
  });
});

// A second local user who can write to the cache folder must never make trig run their
// code or write through their links: these attacks are played for real with `nobody` when
// the tests run as root and can switch user.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
const AS_NOBODY = SETPRIV ? [SETPRIV, '--reuid=nobody', '--regid=nogroup', '--clear-groups'] : undefined;
const isRoot = process.getuid?.() === 0;
const cannotSwitchUser = !isRoot || !AS_NOBODY;
const SKIPPED = cannotSwitchUser
  ? ` (skipped: ${!isRoot ? 'not running as root' : 'setpriv is missing'}, so no second user can attack)`
  : '';
if (SKIPPED) console.warn(`the check cache's second-user attacks are skipped${SKIPPED}`);

/** Runs a shell command as `nobody`, with positional arguments $1… */
function asNobody(script: string, ...args: string[]): void {
  const result = spawnSync(AS_NOBODY![0]!, [...AS_NOBODY!.slice(1), 'sh', '-c', script, 'sh', ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`as nobody: ${script}: ${result.stderr}`);
}

/** A folder every user can reach, holding a cache folder every user can write (as /tmp is). */
function sharedCache(): { base: string; shared: string } {
  const base = mkdtempSync(path.join(tmpdir(), 'trig-cache-shared-'));
  chmodSync(base, 0o755);
  const shared = path.join(base, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  return { base, shared };
}

const DEFINITION = `pipeline:
  name: attacked
  on: pipeline_failed
  stages:
    - name: respond
      steps:
        - name: show
          run:
            shell: sh
            script: echo original-step
`;

function definitions(base: string): string {
  const defs = path.join(base, 'defs');
  mkdirSync(defs);
  writeFileSync(path.join(defs, 'def.yaml'), DEFINITION);
  // An hour old, so that the whole-list entry is kept and can be planted too.
  const hourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(path.join(defs, 'def.yaml'), hourAgo, hourAgo);
  return defs;
}

const notUsing = (dir: string, why: string) => `trig: not using the check cache ${dir}: ${why}; checking every file afresh\n`;

/** Every file and folder under `dir` with the bytes of each file, for comparing before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const stats = lstatSync(full);
    out[path.relative(dir, full)] =
      `${(stats.mode & 0o7777).toString(8)} ${stats.uid} ${entry.isFile() ? readFileSync(full, 'base64') : entry.isDirectory() ? 'dir' : 'other'}`;
  }
  return out;
}

describe('the check cache is never a way in', () => {
  it.skipIf(cannotSwitchUser)(
    `ignores entries another user planted in a cache folder others can write: the planted script never runs${SKIPPED}`,
    () => {
      const { base, shared } = sharedCache();
      const defs = definitions(base);
      const marker = path.join(base, 'planted-script-ran');
      // The attacker runs the same trig over the same definitions, then swaps the script in
      // what it kept (both the file's entry and the whole list's) for their own.
      const learned = mkdtempSync(path.join(tmpdir(), 'trig-cache-learned-'));
      expect(trig(['validate', defs], { env: { TRIG_CACHE_DIR: learned } }).code).toBe(0);
      let planted = 0;
      for (const entry of readdirSync(learned, { recursive: true, withFileTypes: true })) {
        const file = path.join(entry.parentPath, entry.name);
        if (!entry.isFile() || !readFileSync(file, 'utf8').includes('echo original-step')) continue;
        writeFileSync(file, readFileSync(file, 'utf8').replaceAll('echo original-step', `touch ${marker}`));
        planted++;
      }
      expect(planted).toBe(2);
      const staging = path.join(base, 'staging');
      cpSync(learned, staging, { recursive: true });
      spawnSync('chmod', ['-R', 'a+rX', staging]);
      asNobody('cp -R "$1/." "$2/"', staging, shared);

      const args = ['fire', '--defs', defs, '--event', 'pipeline_failed', '--payload', 'fixtures/payloads/pipeline_failed.json'];
      const fired = trig(args, { env: { TRIG_CACHE_DIR: shared } });
      expect(existsSync(marker)).toBe(false);
      expect(fired.code).toBe(0);
      expect(fired.stdout).toContain('[attacked/show] original-step\n');
      expect(fired.stderr).toBe(notUsing(shared, 'it is writable by others (mode 1777)'));
      expect(trig(['validate', defs], { env: { TRIG_CACHE_DIR: shared } })).toEqual({
        code: 0,
        stdout: '1 definition in 1 file: no problems\n',
        stderr: notUsing(shared, 'it is writable by others (mode 1777)'),
      });
    },
  );

  it.skipIf(cannotSwitchUser)(`never writes through a link another user planted at the name of its temporary file${SKIPPED}`, () => {
    const { base, shared } = sharedCache();
    const defs = definitions(base);
    const target = path.join(base, 'root-only');
    writeFileSync(target, "root's own data\n", { mode: 0o600 });
    const before = snapshot(base);
    // Where trig keeps this file's check, as the same trig run by the attacker shows.
    const learned = mkdtempSync(path.join(tmpdir(), 'trig-cache-learned-'));
    trig(['validate', path.join(defs, 'def.yaml')], { env: { TRIG_CACHE_DIR: learned } });
    const build = readdirSync(learned).find((name) => !name.startsWith('.'))!;
    const entry = readdirSync(path.join(learned, build)).find((name) => /^[0-9a-f]{40}\.json$/.test(name))!;
    // `nobody` plants `<entry>.<pid>.tmp` for the very process that then runs trig (exec keeps $$).
    const script = `${AS_NOBODY!.join(' ')} sh -c 'mkdir -p "$1" && ln -s "$2" "$1/$3.$4.tmp"' - "$1" "$2" "$3" $$ && exec "$4" "$5" validate "$6"`;
    const result = spawnSync(
      'sh',
      ['-c', script, 'sh', path.join(shared, build), target, entry, process.execPath, TRIG, path.join(defs, 'def.yaml')],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', TRIG_CACHE_DIR: shared },
      },
    );
    expect(readFileSync(target, 'utf8')).toBe("root's own data\n");
    expect({ code: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
      code: 0,
      stdout: '1 definition in 1 file: no problems\n',
      stderr: notUsing(shared, 'it is writable by others (mode 1777)'),
    });
    const after = snapshot(base);
    for (const [name, state] of Object.entries(before)) expect([name, after[name]]).toEqual([name, state]);
  });

  it('works without a cache folder its group can write, says so once, and writes nothing there', () => {
    const loose = mkdtempSync(path.join(tmpdir(), 'trig-cache-loose-'));
    chmodSync(loose, 0o775);
    const warning = notUsing(loose, 'it is writable by its group (mode 0775)');
    for (const args of [
      ['validate', 'fixtures/invalid', 'fixtures/seed'],
      [
        'fire',
        '--dry-run',
        '--json',
        '--defs',
        'fixtures/fire',
        '--event',
        'cost_spike',
        '--payload',
        'fixtures/payloads/cost_spike.json',
        '--at',
        '2026-11-23T09:00:00Z',
      ],
    ]) {
      const uncached = trig([...args, '--no-cache'], { env: { TRIG_CACHE_DIR: loose } });
      const result = trig(args, { env: { TRIG_CACHE_DIR: loose } });
      expect(result).toEqual({ ...uncached, stderr: warning + uncached.stderr });
      expect(readdirSync(loose)).toEqual([]);
    }
  });
  it('says so once in a process that checks definitions again, as a git hook does for each pushed ref', () => {
    const loose = mkdtempSync(path.join(tmpdir(), 'trig-cache-loose-'));
    chmodSync(loose, 0o775);
    const repo = mkdtempSync(path.join(tmpdir(), 'trig-cache-repo-'));
    const log = path.join(repo, '..', `${path.basename(repo)}.log`);
    const git = (...args: string[]) =>
      spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo, encoding: 'utf8' }).stdout.trim();
    git('init', '-q', '-b', 'main');
    mkdirSync(path.join(repo, '.harness'));
    writeFileSync(
      path.join(repo, '.harness', 'def.yaml'),
      `pipeline:\n  name: pushed\n  on: push\n  stages:\n    - name: s\n      steps:\n        - name: log\n          run:\n            shell: sh\n            script: echo ran >> ${log}\n`,
    );
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    const sha = git('rev-parse', 'HEAD');
    const zero = '0'.repeat(40);
    const input = `refs/heads/main ${sha} refs/heads/main ${zero}\nrefs/heads/other ${sha} refs/heads/other ${zero}\n`;
    const result = trig(['hooks', 'run', 'pre-push', 'origin', 'https://example.com/repo.git'], {
      cwd: repo,
      input,
      env: { TRIG_CACHE_DIR: loose },
    });
    expect(readFileSync(log, 'utf8')).toBe('ran\nran\n');
    expect(result.stderr).toBe(notUsing(loose, 'it is writable by its group (mode 0775)'));
    expect(readdirSync(loose)).toEqual([]);
  });
});

describe('the check cache never deletes what trig did not create', () => {
  /** This trig as another build: a copy whose build id is `id` (16 hex digits, as the build makes). */
  function otherBuild(currentId: string, id: string): string {
    const copy = mkdtempSync(path.join(tmpdir(), 'trig-build-'));
    for (const part of ['bin', 'dist', 'package.json']) cpSync(path.join(ROOT, part), path.join(copy, part), { recursive: true });
    for (const entry of readdirSync(path.join(copy, 'dist'), { recursive: true, withFileTypes: true })) {
      const file = path.join(entry.parentPath, entry.name);
      if (entry.isFile() && file.endsWith('.cjs')) writeFileSync(file, readFileSync(file, 'utf8').replaceAll(currentId, id));
    }
    return path.join(copy, 'bin', 'trig');
  }

  function runBuild(bin: string, args: string[], cacheDir: string) {
    const result = spawnSync(process.execPath, [bin, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', TRIG_CACHE_DIR: cacheDir },
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it("keeps a user's own files and folders in the cache folder, byte for byte, while it prunes its own builds", () => {
    const mydata = mkdtempSync(path.join(tmpdir(), 'trig-mydata-'));
    const write = (name: string, content: string | Buffer) => {
      mkdirSync(path.dirname(path.join(mydata, name)), { recursive: true });
      writeFileSync(path.join(mydata, name), content);
    };
    write('photos/2025/beach.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]));
    write('thesis/chapter-1.tex', '\\chapter{Introduction}\n');
    write('src/lib/index.ts', 'export const answer = 42;\n');
    write('src/lib/deep/er/util.ts', 'export {};\n');
    write('src/README', 'my project\n');
    write('notes.txt', 'do not lose\n');
    // Looks like one of trig's build folders, but trig did not create it.
    write('0123456789abcdef/sets/0123456789abcdef.json', '{"mine": true}\n');
    mkdirSync(path.join(mydata, 'empty'));
    // All older than anything trig writes, so that they would go first were they trig's.
    const yearAgo = new Date(Date.now() - 365 * 86_400_000);
    for (const name of Object.keys(snapshot(mydata))) utimesSync(path.join(mydata, name), yearAgo, yearAgo);
    const before = snapshot(mydata);

    const scratch = mkdtempSync(path.join(tmpdir(), 'trig-cache-'));
    trig(['validate', 'fixtures/seed'], { env: { TRIG_CACHE_DIR: scratch } });
    const currentId = readdirSync(scratch).find((name) => /^[0-9a-f]{16}$/.test(name))!;
    const builds = ['1111111111111111', '2222222222222222', '3333333333333333'].map((id) => ({ id, bin: otherBuild(currentId, id) }));
    const expected = trig(['validate', 'fixtures/invalid/several-problems.yaml', '--no-cache']);
    for (const { bin } of [...builds, { bin: TRIG }, ...builds]) {
      for (const defs of ['fixtures/seed', 'fixtures/invalid/several-problems.yaml']) runBuild(bin, ['validate', defs], mydata);
      expect(runBuild(bin, ['validate', 'fixtures/invalid/several-problems.yaml'], mydata)).toEqual(expected);
    }

    const after = snapshot(mydata);
    for (const [name, state] of Object.entries(before)) expect([name, after[name]]).toEqual([name, state]);
    // trig's own build folders are still pruned: the three that wrote last are kept (this
    // build's went when the others wrote again, having been pruned by it).
    expect(
      readdirSync(mydata)
        .filter((name) => /^[0-9a-f]{16}$/.test(name) && name !== '0123456789abcdef')
        .sort(),
    ).toEqual(['1111111111111111', '2222222222222222', '3333333333333333']);
  });

  it('leaves alone a folder named like its own that it did not create, and says why it does not use the cache', () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'trig-cache-'));
    trig(['validate', 'fixtures/seed'], { env: { TRIG_CACHE_DIR: scratch } });
    const currentId = readdirSync(scratch).find((name) => /^[0-9a-f]{16}$/.test(name))!;
    const mydata = mkdtempSync(path.join(tmpdir(), 'trig-mydata-'));
    mkdirSync(path.join(mydata, currentId, 'sets'), { recursive: true, mode: 0o700 });
    writeFileSync(path.join(mydata, currentId, 'sets', 'report.json'), '{"mine": true}\n');
    const before = snapshot(mydata);
    const uncached = trig(['validate', 'fixtures/invalid/several-problems.yaml', '--no-cache']);
    expect(trig(['validate', 'fixtures/invalid/several-problems.yaml'], { env: { TRIG_CACHE_DIR: mydata } })).toEqual({
      ...uncached,
      stderr: notUsing(mydata, `${path.join(mydata, currentId)} is not a folder trig created`),
    });
    expect(snapshot(mydata)).toEqual(before);
  });
});
