import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, TRIG } from '../helpers/trig.js';

// What each command loads, read from the build's metafile (dist/meta.json): the inputs
// of every output a command reaches through static imports are what it evaluates before
// doing anything. Dynamic imports are followed only where the command takes them.

interface Output {
  entryPoint?: string;
  imports: { path: string; kind: string; external?: boolean }[];
  inputs: Record<string, unknown>;
}
const meta = JSON.parse(readFileSync(path.join(ROOT, 'dist/meta.json'), 'utf8')) as {
  outputs: Record<string, Output>;
  /** The file that holds each chunk the build packed with others (scripts/build.mjs, packChunks). */
  packs: Record<string, string>;
};
// esbuild names a package's files by their real path: through a node_modules that is a
// symbolic link, `../elsewhere/node_modules/x/…`. Named from node_modules on, what the
// tests below look for is found either way.
const outputs = Object.fromEntries(
  Object.entries(meta.outputs).map(([name, output]) => [
    name,
    {
      ...output,
      inputs: Object.fromEntries(
        Object.entries(output.inputs).map(([input, v]) => [input.replace(/^(?!node_modules\/).*?\/node_modules\//, 'node_modules/'), v]),
      ),
    },
  ]),
);

function outputFor(entryPoint: string): string {
  const found = Object.keys(outputs).find((o) => outputs[o]!.entryPoint === entryPoint);
  if (!found) throw new Error(`no output for ${entryPoint}`);
  return found;
}

/** Outputs loaded with `start`, following static imports only. */
function staticClosure(start: string): string[] {
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length) {
    for (const imp of outputs[queue.shift()!]!.imports) {
      if (imp.kind === 'import-statement' && !imp.external && !seen.has(imp.path)) {
        seen.add(imp.path);
        queue.push(imp.path);
      }
    }
  }
  return [...seen];
}

/** The npm packages whose code a set of outputs holds. */
function packages(outs: readonly string[]): string[] {
  const names = new Set<string>();
  for (const o of outs) {
    for (const input of Object.keys(outputs[o]!.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      if (m) names.add(m[1]!);
    }
  }
  return [...names].sort();
}

const cli = 'dist/cli.cjs';

describe('lazy loading', () => {
  it('loads only commander for --version and --help', () => {
    expect(packages(staticClosure(cli))).toEqual(['commander']);
  });

  it('validate loads no package up front: picomatch only for a glob argument, the YAML parser and the schema validator only when a file is not in the check cache', () => {
    const validate = outputFor('src/cli/validate.ts');
    expect(packages(staticClosure(validate))).toEqual([]);
    const lazy = staticClosure(validate).flatMap((o) =>
      outputs[o]!.imports.filter((i) => i.kind === 'dynamic-import' && !i.external).map((i) => i.path),
    );
    // chalk, for colour on a terminal, is the other lazy import.
    expect(packages(lazy.flatMap(staticClosure))).toEqual(['ajv', 'chalk', 'picomatch', 'yaml']);
    const check = outputFor('src/validate/check-text.ts');
    expect(packages(staticClosure(check))).toEqual(['ajv', 'yaml']);
  });

  it('launches runs through node:child_process: the run stage, loaded when fire launches runs, holds no package', () => {
    const fire = outputFor('src/cli/fire.ts');
    // The fire core (a chunk of its own, which the git hooks load too) imports the run stage when it launches runs.
    const runStage = staticClosure(fire)
      .flatMap((o) => outputs[o]!.imports.filter((i) => i.kind === 'dynamic-import' && !i.external))
      .map((i) => i.path)
      .find((o) => 'src/execute/execute.ts' in outputs[o]!.inputs);
    expect(runStage).toBeDefined();
    const loaded = staticClosure(runStage!);
    expect(loaded.flatMap((o) => Object.keys(outputs[o]!.inputs))).toContain('src/execute/process.ts');
    expect(packages(loaded)).toEqual([]);
  });

  it('trig runs, logs and history read the store without loading the fire core', () => {
    for (const command of ['src/cli/runs.ts', 'src/cli/logs.ts', 'src/cli/history.ts']) {
      const loaded = new Set(staticClosure(outputFor(command)).flatMap((o) => Object.keys(outputs[o]!.inputs)));
      expect(loaded, command).toContain('src/fire/record.ts');
      expect(loaded, command).not.toContain('src/fire/fire.ts');
    }
  });

  it('loads neither planning nor running for a fire that matches nothing (the every-minute schedule fire)', () => {
    const loaded = new Set(staticClosure(outputFor('src/cli/fire.ts')).flatMap((o) => Object.keys(outputs[o]!.inputs)));
    expect(loaded).toContain('src/fire/fire.ts');
    expect(loaded).toContain('src/match/decide.ts');
    for (const stage of [
      'src/plan/plan.ts',
      'src/plan/matched.ts',
      'src/resolve/expressions.ts',
      'src/execute/execute.ts',
      'src/execute/run.ts',
    ]) {
      expect(loaded, stage).not.toContain(stage);
    }
  });

  it("loads neither the store nor planning nor running nor resuming for the cron entry's tick until something matched, a gap is found or a run may wait for a retry", () => {
    const fire = staticClosure(outputFor('src/cli/fire.ts'));
    const tick = Object.keys(outputs).filter((o) => 'src/integrations/cron/tick.ts' in outputs[o]!.inputs);
    expect(tick).toHaveLength(1);
    // Reached from trig fire only when --cron is given.
    expect(fire).not.toContain(tick[0]);
    const closure = staticClosure(tick[0]!);
    const loaded = new Set(closure.flatMap((o) => Object.keys(outputs[o]!.inputs)));
    expect(loaded).toContain('src/integrations/cron/tick-stamp.ts');
    for (const module of ['src/store/sqlite.ts', 'src/plan/matched.ts', 'src/execute/execute.ts', 'src/fire/resume.ts'])
      expect(loaded, module).not.toContain(module);
    expect(closure.flatMap((o) => Object.keys(outputs[o]!.inputs))).not.toContain('node_modules/better-sqlite3/lib/database.js');
  });

  it('validate without --against-history loads neither the store, the fire core nor the history comparison', () => {
    const loaded = new Set([cli, outputFor('src/cli/validate.ts')].flatMap(staticClosure).flatMap((o) => Object.keys(outputs[o]!.inputs)));
    for (const module of ['src/cli/against-history.ts', 'src/fire/history-check.ts', 'src/fire/fire.ts', 'src/store/sqlite.ts']) {
      expect(loaded, module).not.toContain(module);
    }
  });

  it('loads chalk only through a dynamic import', () => {
    const withChalk = Object.keys(outputs).filter((o) => packages([o]).includes('chalk'));
    expect(withChalk).toHaveLength(1);
    for (const o of Object.keys(outputs)) {
      expect(outputs[o]!.imports.filter((i) => i.kind === 'import-statement').map((i) => i.path)).not.toContain(withChalk[0]);
    }
  });

  it('bundles croner apart, as a file required when a schedule is first evaluated', () => {
    expect(packages(Object.keys(outputs))).not.toContain('croner');
    expect(existsSync(path.join(ROOT, 'dist/chunks/croner.cjs'))).toBe(true);
    const schedule = Object.keys(outputs).filter((o) => 'src/lang/cron.ts' in outputs[o]!.inputs);
    expect(schedule).toHaveLength(1);
    expect(readFileSync(path.join(ROOT, meta.packs[schedule[0]!] ?? schedule[0]!), 'utf8')).toContain('./croner.cjs');
  });

  it("imports nothing from outside the bundle but Node built-ins, the vendored croner, and better-sqlite3's addon in the store alone", () => {
    const builtins = new Set(builtinModules);
    const native: string[] = [];
    for (const [name, o] of Object.entries(outputs)) {
      for (const imp of o.imports.filter((i) => i.external && i.path !== './croner.cjs')) {
        if (imp.path === 'better-sqlite3/build/Release/better_sqlite3.node') {
          native.push(name);
          continue;
        }
        expect(builtins.has(imp.path.replace(/^node:/, '')), `${name} imports ${imp.path}`).toBe(true);
      }
    }
    // The one file trig needs from node_modules at run time (a native addon cannot be bundled), loaded by one chunk: the
    // SQLite store's, which holds the binding's JavaScript.
    expect(native).toHaveLength(1);
    expect(Object.keys(outputs[native[0]!]!.inputs)).toEqual(
      expect.arrayContaining(['src/store/sqlite.ts', 'node_modules/better-sqlite3/lib/database.js']),
    );
  });
});

describe('built-in modules at run time', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trig-bundle-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Records the built-in modules the process has loaded when it exits.
  const hook = path.join(dir, 'modules.cjs');
  writeFileSync(
    hook,
    'const out = process.env.TRIG_TEST_MODULES_OUT; delete process.env.TRIG_TEST_MODULES_OUT;\n' +
      "process.on('exit', () => require('node:fs').writeFileSync(out, process.moduleLoadList.join('\\n')));\n",
  );

  function loadedBuiltins(args: string[], cache = path.join(dir, 'cache'), env: NodeJS.ProcessEnv = {}): string[] {
    const out = path.join(dir, `modules-${args.join('-').replace(/\W+/g, '_')}.txt`);
    const r = spawnSync(process.execPath, ['-r', hook, TRIG, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', TRIG_TEST_MODULES_OUT: out, TRIG_CACHE_DIR: cache, ...env },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(out, 'utf8').split('\n');
  }

  it('does not load child_process for --version or validate', () => {
    for (const args of [['--version'], ['validate', 'fixtures/seed']]) {
      expect(loadedBuiltins(args)).not.toContain('NativeModule child_process');
    }
  });

  it('loads crypto to check files afresh, not when the whole list comes from the check cache', () => {
    const cache = mkdtempSync(path.join(dir, 'cache-'));
    const args = ['validate', 'fixtures/seed'];
    expect(loadedBuiltins(args, cache)).toContain('NativeModule crypto');
    expect(loadedBuiltins(args, cache)).not.toContain('NativeModule crypto');
  });

  it("does not load crypto for the cron entry's tick that matches nothing, with the definitions in the check cache", () => {
    const cache = mkdtempSync(path.join(dir, 'cache-'));
    const state = mkdtempSync(path.join(dir, 'state-'));
    const args = ['fire', '--event', 'schedule', '--cron', '--at', '2026-11-23T09:01:00Z', '--defs', 'fixtures/seed'];
    loadedBuiltins(args, cache, { TRIG_STATE_DIR: state });
    const modules = loadedBuiltins([...args.slice(0, -3), '2026-11-23T09:02:00Z', '--defs', 'fixtures/seed'], cache, {
      TRIG_STATE_DIR: state,
    });
    expect(modules).not.toContain('NativeModule crypto');
    expect(modules).not.toContain('NativeModule child_process');
  });

  it('sees child_process when a process does load it (the hook works)', () => {
    const r = spawnSync(process.execPath, ['-r', hook, '-e', "require('node:child_process')"], {
      env: { ...process.env, TRIG_TEST_MODULES_OUT: path.join(dir, 'sanity.txt') },
    });
    expect(r.status).toBe(0);
    expect(readFileSync(path.join(dir, 'sanity.txt'), 'utf8').split('\n')).toContain('NativeModule child_process');
  });
});
