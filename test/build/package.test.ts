import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/trig.js';

// The package as users get it: `npm pack`, then a global install from the tarball.
// Scripts are not run, so that packing never rebuilds dist/ under the other tests.

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;

function run(cmd: string, args: string[], options: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...options });
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/**
 * The addon must be built for the Node.js running this test. A machine's npm config may
 * name one Node.js's headers (`nodedir=/usr`) for every build, which under another major
 * gives an addon of the wrong ABI; point npm at this Node.js's own headers when it ships them.
 */
function headersOfThisNode(): Record<string, string> {
  const nodedir = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(nodedir, 'include', 'node', 'common.gypi')) ? { npm_config_nodedir: nodedir } : {};
}

/** As run, without blocking the test worker (npm builds the SQLite addon for a minute). */
function runAsync(
  cmd: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('npm pack', () => {
  it('packs only the built files, schemas, bin, README and package.json', () => {
    const r = run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    expect(r.code, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/trig',
        'bin/package.json',
        'dist/cli.cjs',
        'schemas/definition.schema.json',
        'schemas/events.schema.json',
        'README.md',
        'package.json',
      ]),
    );
    for (const file of files) {
      expect(file, file).toMatch(/^(bin\/trig|bin\/package\.json|dist\/.+\.cjs|schemas\/[\w.-]+\.json|README\.md|package\.json|LICENSE)$/);
    }
  });
});

describe('npx from the repository', () => {
  it("runs the repository's own trig, installing nothing", () => {
    const r = run(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['--no', 'trig', 'validate', 'fixtures/seed/ffcleanup.yaml'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('1 definition in 1 file: no problems\n');
  });
});

describe('installed from the tarball', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trig-package-test-'));
  const prefix = path.join(dir, 'prefix');
  const elsewhere = path.join(dir, 'elsewhere');
  const bin = path.join(prefix, process.platform === 'win32' ? '' : 'bin');
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, NO_COLOR: '1' };
  let tarball = '';

  beforeAll(() => {
    const packed = run(npm, ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
    expect(packed.code, packed.stderr).toBe(0);
    tarball = path.join(
      dir,
      readdirSync(dir).find((f) => f.endsWith('.tgz'))!,
    );
    mkdirSync(elsewhere);
    copyFileSync(path.join(ROOT, 'fixtures/seed/ffcleanup.yaml'), path.join(elsewhere, 'ffcleanup.yaml'));
    writeFileSync(
      path.join(elsewhere, 'failed.yaml'),
      'version: 1\npipeline:\n  name: on-failure\n  on: pipeline_failed\n  stages:\n    - name: s\n      steps:\n        - run: echo recorded\n',
    );
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('puts a working trig on PATH, usable from any directory', async () => {
    const installed = await runAsync(npm, ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], {
      cwd: dir,
      env: { ...env, ...headersOfThisNode() },
    });
    expect(installed.code, installed.stderr).toBe(0);
    // The bundle holds everything trig runs but the store's SQLite binding, a native addon
    // that npm builds for the Node.js it installs with.
    const packageDir = path.join(prefix, process.platform === 'win32' ? '' : 'lib', 'node_modules', 'trig');
    expect(readdirSync(packageDir).sort()).toEqual(['README.md', 'bin', 'dist', 'node_modules', 'package.json', 'schemas']);
    expect(readdirSync(path.join(packageDir, 'node_modules'))).toContain('better-sqlite3');
    const shell = { cwd: elsewhere, env, shell: process.platform === 'win32' };
    const v = run('trig', ['--version'], shell);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(version);
    const validated = run('trig', ['validate', 'ffcleanup.yaml'], shell);
    expect(validated.code, validated.stderr).toBe(0);
    expect(validated.stdout).toContain('1 definition in 1 file: no problems');
    // The store works where trig is installed: a run is recorded, and the same delivery again runs nothing.
    const fire = ['fire', '--event', 'pipeline_failed', '--defs', 'failed.yaml', '--delivery-id', 'd-1'];
    const stateEnv = { ...shell, env: { ...env, TRIG_STATE_DIR: path.join(dir, 'state') } };
    const first = run('trig', fire, stateEnv);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('[on-failure/step-1] recorded');
    const second = run('trig', fire, stateEnv);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^duplicate delivery d-1: already handled as event [0-9a-f]{12}\n$/);
  }, 300_000);

  it('runs from the unpacked tarball with no node_modules at all (the bundle is self-contained)', () => {
    const unpacked = path.join(dir, 'unpacked');
    mkdirSync(unpacked);
    expect(run('tar', ['-xzf', tarball, '-C', unpacked]).code).toBe(0);
    const trig = path.join(unpacked, 'package', 'bin', 'trig');
    const validated = run(process.execPath, [trig, 'validate', 'ffcleanup.yaml'], { cwd: elsewhere, env });
    expect(validated.code, validated.stderr).toBe(0);
    // A due schedule: croner, vendored next to the chunks, is loaded.
    const fired = run(
      process.execPath,
      [trig, 'fire', '--dry-run', '--event', 'schedule', '--at', '2026-11-23T09:00:00Z', '--defs', 'ffcleanup.yaml'],
      { cwd: elsewhere, env },
    );
    expect(fired.code, fired.stderr).toBe(0);
    expect(fired.stdout).toContain('ffcleanup: matched schedule');
    // A fire that must be remembered says, in one line, what is missing.
    const remembered = run(process.execPath, [trig, 'fire', '--event', 'pipeline_failed', '--defs', 'failed.yaml'], {
      cwd: elsewhere,
      env: { ...env, TRIG_STATE_DIR: path.join(dir, 'state-unpacked') },
    });
    expect(remembered.stderr).toBe(
      'trig: the store needs the better-sqlite3 package, which is not installed beside trig (run npm install)\n',
    );
    expect(remembered.code).toBe(2);
  });
});
