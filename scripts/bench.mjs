#!/usr/bin/env node
// The start-up benchmark (`npm run bench`; not a test). Every case runs as a whole new
// process, many times, after warm-ups; the table gives the median wall time and the
// median peak memory of each case, and both as a ratio to `node -e 0` measured in the same
// run, since absolute numbers drift on shared machines while ratios hold. Results go to
// bench/results.json so that runs can be compared over time. Cases run with a warm check
// cache unless they say --no-cache.
//
//   node scripts/bench.mjs [--runs N] [--quick] [--no-reference] [--before REF | --no-before] [--keep] [--out FILE]
//
// Build first (`npm run build`): the benchmark measures bin/trig as installed.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateInputs } from './bench/inputs.mjs';
import { fillStore } from './bench/store.mjs';
import { loadTs } from './load-ts.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const quick = flag('--quick');
const RUNS = Number(option('--runs', quick ? 7 : 25));
const WARMUPS = 2;
// Peak memory varies far less than time; a few runs give a stable median.
const MEMORY_RUNS = quick ? 3 : 5;
const REFERENCE_ROUNDS = quick ? 1 : 3;
const OUT = path.resolve(option('--out', path.join(root, 'bench', 'results.json')));

if (!existsSync(path.join(root, 'dist', 'cli.cjs'))) {
  console.error('bench: dist/ is missing; run `npm run build` first');
  process.exit(2);
}

// NODE_EXTRA_CA_CERTS makes Node 20 parse a certificate bundle at every start, which
// would be measured as trig's cost; colour is off as under a hook or cron.
const env = { ...process.env, NO_COLOR: '1' };
delete env.NODE_EXTRA_CA_CERTS;
delete env.FORCE_COLOR;
delete env.NODE_OPTIONS;

const work = mkdtempSync(path.join(os.tmpdir(), 'trig-bench-'));
// trig keeps the result of checking each definition file (the check cache): the cases
// measure it warm, as cron and git hooks meet it, and the `--no-cache` cases measure the
// cost of checking every file afresh. The bench's cache lives in its own folder.
env.TRIG_CACHE_DIR = path.join(work, 'cache');
// The store and the cron entry's tick stamps: the bench's own, never the user's.
env.TRIG_STATE_DIR = path.join(work, 'state');
// The cron tick's own, so that it can tell that it never opened the store.
const TICK_STATE_DIR = path.join(work, 'tick-state');
mkdirSync(TICK_STATE_DIR, { mode: 0o700 });
const { writeTickStamp } = await loadTs('src/integrations/cron/tick-stamp.ts');
const inputs = generateInputs(work, { large: !quick });
// The package is measured from a copy of what `npm pack` ships, so that a rebuild in the
// working tree during the run cannot change what is measured.
for (const part of ['bin', 'dist', 'schemas', 'package.json'])
  cpSync(path.join(root, part), path.join(work, 'trig', part), { recursive: true });
// An install has its one run-time dependency (better-sqlite3, for the store) beside it.
symlinkSync(path.join(root, 'node_modules'), path.join(work, 'trig', 'node_modules'));
const TRIG = path.join(work, 'trig', 'bin', 'trig');

// What the store costs a fire that runs something is measured against trig as it was just
// before the store: that commit is built from git beside the package and runs the same case
// in the same rounds (`--before REF` names another commit, `--no-before` skips it).
const BEFORE_STORE = '75482ac';
const beforeRef = flag('--no-before') ? undefined : option('--before', BEFORE_STORE);
let before = { skipped: 'not run (--no-before)' };
let TRIG_BEFORE;
if (beforeRef) {
  const dir = path.join(work, 'before');
  mkdirSync(dir);
  const archive = spawnSync('git', ['-C', root, 'archive', '--format=tar', beforeRef], { maxBuffer: 512 * 1024 * 1024 });
  const unpacked = archive.status === 0 && spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout }).status === 0;
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  const build = () => spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let built = unpacked && build();
  if (built && built.status !== 0) {
    // Built with today's packages first (quick); a commit that bundled a package trig has
    // since dropped (execa) gets its own, from its lockfile (the npm cache, else the registry).
    process.stderr.write(`bench: installing ${beforeRef}'s own packages to build it\n`);
    rmSync(path.join(dir, 'node_modules'));
    const installed = spawnSync('npm', ['ci', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    built = installed.status === 0 ? build() : installed;
  }
  if (!unpacked) before = { skipped: `git archive ${beforeRef} failed: ${archive.stderr.toString().trim().split('\n').at(-1)}` };
  else if (built.status !== 0) before = { skipped: `building ${beforeRef} failed: ${built.stderr.toString().trim().split('\n').at(-1)}` };
  else {
    before = { ref: beforeRef };
    TRIG_BEFORE = path.join(dir, 'bin', 'trig');
  }
}

// `trig runs` over a store of 10,000 finished runs (the automatic bound on events), filled
// through the store's own interface before anything is measured.
const RUNS_STATE_DIR = path.join(work, 'runs-state');
const STORED_RUNS = quick ? 1000 : 10_000;
process.stderr.write(`bench: filling a store with ${STORED_RUNS} runs\n`);
await fillStore(RUNS_STATE_DIR, path.resolve(inputs.runDir), STORED_RUNS);

// Peak memory is read inside the measured process as it exits, by a preloaded CommonJS
// file, in separate runs so that the preload never weighs on the timings. It is VmHWM, the
// high-water mark of the process's own memory since its exec: ru_maxrss keeps across exec
// the size of the process that forked it (this script, which grows to some 80 MB once it
// has filled a store), and would give every case that figure.
const PEAK_HOOK = path.join(work, 'peak.cjs');
writeFileSync(
  PEAK_HOOK,
  'const out = process.env.TRIG_BENCH_PEAK_OUT; delete process.env.TRIG_BENCH_PEAK_OUT;\n' +
    "const fs = require('node:fs');\n" +
    "const peak = () => { try { return Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]); } catch { return process.resourceUsage().maxRSS; } };\n" +
    "process.on('exit', () => fs.writeFileSync(out, String(peak())));\n",
);

/** Runs `node <argv>` once; returns wall milliseconds (or KiB of peak RSS with `peak`). */
function runOnce(c, { peak = false } = {}) {
  const peakFile = path.join(work, 'peak.out');
  const argv = peak ? ['-r', PEAK_HOOK, ...c.argv] : c.argv;
  c.prepare?.();
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, argv, {
    cwd: c.cwd ?? work,
    env: { ...env, ...c.env, ...(peak ? { TRIG_BENCH_PEAK_OUT: peakFile } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const expected = c.exitCode ?? 0;
  if (result.status !== expected) {
    throw new Error(`${c.label}: exit ${result.status} (expected ${expected})\n${result.stderr.toString().slice(0, 2000)}`);
  }
  if (c.check) c.check(result.stdout.toString());
  return peak ? Number(readFileSync(peakFile, 'utf8')) : ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const trig = (...a) => [TRIG, ...a];
const matched = (min, max) => (out) => {
  const n = JSON.parse(out).definitions.filter((d) => d.matched).length;
  if (n < min || n > max) throw new Error(`expected ${min}..${max} matched definitions, got ${n}`);
};
const ranTrue = (out) => {
  if (!/succeeded/.test(out)) throw new Error(`the run did not succeed:\n${out}`);
};
// A full hour: every generated schedule fires at a minute other than 0.
const NOT_DUE = '2026-11-23T09:00:00Z';

const cases = [
  { id: 'node', label: 'node -e 0 (baseline)', argv: ['-e', '0'] },
  { id: 'version', label: 'trig --version', argv: trig('--version'), target: 1.5 },
  { id: 'help', label: 'trig --help', argv: trig('--help') },
  { id: 'validate-1', label: 'trig validate, 1 definition', argv: trig('validate', inputs.typical), target: 2.5 },
  { id: 'validate-200', label: 'trig validate, 200 definitions', argv: trig('validate', inputs.defs200), target: 8, memoryTargetMiB: 80 },
  {
    id: 'validate-200-nocache',
    label: 'trig validate --no-cache, 200 definitions',
    argv: trig('validate', '--no-cache', inputs.defs200),
  },
  {
    id: 'fire-none-200',
    label: 'trig fire --dry-run, 200 defs, none matched',
    argv: trig('fire', '--dry-run', '--json', '--event', 'schedule', '--at', NOT_DUE, '--defs', inputs.defs200),
    check: matched(0, 0),
    target: 3,
  },
  {
    id: 'fire-none-200-nocache',
    label: 'trig fire --dry-run --no-cache, 200 defs, none matched',
    argv: trig('fire', '--dry-run', '--json', '--no-cache', '--event', 'schedule', '--at', NOT_DUE, '--defs', inputs.defs200),
    check: matched(0, 0),
  },
  {
    // What cron runs every minute (trig cron install): not a dry run, so it reads and moves
    // the tick stamp, and opens the store only when something matched or ticks were missed.
    id: 'fire-tick-200',
    label: 'trig fire --cron (the cron tick), 200 defs, none matched',
    argv: trig('fire', '--event', 'schedule', '--cron', '--quiet', '--at', NOT_DUE, '--defs', inputs.defs200),
    // Each tick finds the previous minute's stamp and writes its own, as under cron.
    env: { TRIG_STATE_DIR: TICK_STATE_DIR },
    prepare: () => writeTickStamp(TICK_STATE_DIR, [path.resolve(work, inputs.defs200)], new Date(Date.parse(NOT_DUE) - 60_000)),
    check: (out) => {
      if (out !== '') throw new Error(`the tick printed something:\n${out}`);
      if (existsSync(path.join(TICK_STATE_DIR, 'trig.db'))) throw new Error('the tick that matched nothing opened the store');
    },
    target: 3,
  },
  {
    id: 'fire-some-200',
    label: 'trig fire --dry-run, 200 defs, push, several matched',
    argv: trig('fire', '--dry-run', '--json', '--event', 'push', '--payload', inputs.smallPayload, '--defs', inputs.defs200),
    check: matched(2, 199),
  },
  {
    // The run is recorded: its event, run, log and end go to the store.
    id: 'fire-run-1',
    label: 'trig fire, 1 definition run (step `true`), recorded',
    argv: trig('fire', '--event', 'repo_created', '--defs', inputs.runDir),
    check: ranTrue,
  },
  ...(TRIG_BEFORE
    ? [
        {
          id: 'fire-run-1-before',
          label: `trig fire, 1 definition run (step \`true\`), before the store (${beforeRef})`,
          argv: [TRIG_BEFORE, 'fire', '--event', 'repo_created', '--defs', inputs.runDir],
          check: ranTrue,
        },
      ]
    : []),
  {
    id: 'runs-stored',
    label: `trig runs, ${STORED_RUNS} runs stored`,
    argv: trig('runs', '--defs', inputs.runDir),
    env: { TRIG_STATE_DIR: RUNS_STATE_DIR },
    check: (out) => {
      const lines = out.trimEnd().split('\n');
      if (lines.length !== 21 || !lines[0].startsWith('RUN ')) throw new Error(`expected a header and 20 runs:\n${out.slice(0, 2000)}`);
    },
    target: 2.5,
  },
];
if (!quick) {
  cases.push(
    {
      id: 'fire-none-1',
      label: 'trig fire --dry-run, 1 def, none matched',
      argv: trig('fire', '--dry-run', '--json', '--event', 'schedule', '--at', NOT_DUE, '--defs', inputs.typical),
      check: matched(0, 0),
    },
    {
      id: 'fire-none-1000',
      label: 'trig fire --dry-run, 1000 defs, none matched',
      argv: trig('fire', '--dry-run', '--json', '--event', 'schedule', '--at', NOT_DUE, '--defs', inputs.defs1000),
      check: matched(0, 0),
    },
    {
      id: 'parse-5mb',
      label: 'node: read and JSON.parse the 5 MB payload',
      argv: ['-e', `JSON.parse(require('node:fs').readFileSync(${JSON.stringify(inputs.largePayload)}, 'utf8'))`],
    },
    {
      id: 'fire-some-200-5mb',
      label: 'trig fire --dry-run, 200 defs, push, 5 MB payload',
      argv: trig('fire', '--dry-run', '--json', '--event', 'push', '--payload', inputs.largePayload, '--defs', inputs.defs200),
      check: matched(2, 199),
    },
  );
}

function measure(list) {
  for (const c of list) for (let i = 0; i < WARMUPS; i++) runOnce(c);
  const times = new Map(list.map((c) => [c, []]));
  // Rounds visit every case in turn, so a burst of load elsewhere on the machine is
  // shared by all cases instead of landing on one.
  for (let r = 0; r < RUNS; r++) {
    for (const c of list) times.get(c).push(runOnce(c));
    process.stderr.write(`\rbench: round ${r + 1}/${RUNS}`);
  }
  process.stderr.write('\n');
  for (const c of list) {
    c.medianMs = median(times.get(c));
    c.peakKiB = median(Array.from({ length: MEMORY_RUNS }, () => runOnce(c, { peak: true })));
  }
}

// ---------------------------------------------------------------------------
// The reference: @action-validator/cli validates one workflow per process.

function installReference() {
  const prefix = path.join(os.tmpdir(), 'trig-bench-action-validator');
  const cli = path.join(prefix, 'node_modules', '@action-validator', 'cli', 'cli.mjs');
  if (!existsSync(cli)) {
    mkdirSync(prefix, { recursive: true });
    process.stderr.write('bench: installing @action-validator/cli into ' + prefix + '\n');
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save', '@action-validator/cli'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (r.status !== 0 || !existsSync(cli))
      return { error: `npm install failed: ${(r.stderr ?? '').toString().trim().split('\n').at(-1)}` };
  }
  const pkg = JSON.parse(readFileSync(path.join(prefix, 'node_modules', '@action-validator', 'cli', 'package.json'), 'utf8'));
  return { cli, version: pkg.version };
}

let reference = { skipped: 'not run (--no-reference)' };
const refCases = [];
if (!flag('--no-reference')) {
  const installed = installReference();
  if (installed.error) {
    reference = { skipped: installed.error };
  } else {
    reference = { package: '@action-validator/cli', version: installed.version };
    refCases.push({
      id: 'reference-1',
      label: `action-validator ${installed.version}, 1 workflow`,
      argv: [installed.cli, inputs.typicalWorkflow],
    });
  }
}

const all = [...cases, ...refCases];
measure(all);

const base = cases[0];
const ratio = (c) => c.medianMs / base.medianMs;
const peakMiB = (c) => c.peakKiB / 1024;

// Many workflows: one process per file, as the tool takes one file.
const byId = Object.fromEntries(all.map((c) => [c.id, c]));
if (refCases.length) {
  const files = readdirSync(inputs.workflows)
    .sort()
    .map((f) => path.join(inputs.workflows, f));
  const cli = refCases[0].argv[0];
  const totals = [];
  for (let r = 0; r < REFERENCE_ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (const file of files) runOnce({ label: `action-validator ${file}`, argv: [cli, file] });
    totals.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  byId['reference-200'] = {
    id: 'reference-200',
    label: `action-validator, 200 workflows (200 processes)`,
    medianMs: median(totals),
    peakKiB: byId['reference-1'].peakKiB,
    runs: REFERENCE_ROUNDS,
  };
}

// ---------------------------------------------------------------------------
// Report.

const checks = [];
const check = (name, value, limit, pass, unit = '') => checks.push({ name, value: round(value), limit, unit, pass });
const round = (x, d = 2) => (x === undefined ? undefined : Math.round(x * 10 ** d) / 10 ** d);

for (const c of cases) if (c.target) check(`${c.label} ≤ ${c.target}× node`, ratio(c), c.target, ratio(c) <= c.target, '×');
const v200 = byId['validate-200'];
check('peak memory, validate 200 ≤ 80 MiB', peakMiB(v200), 80, peakMiB(v200) <= 80, ' MiB');
if (byId['reference-1']) {
  const one = byId['validate-1'].medianMs;
  const ref1 = byId['reference-1'].medianMs;
  check('validate 1: faster than action-validator (ratio of times)', one / ref1, 1, one < ref1, '×');
  const perTrig = v200.medianMs / 200;
  const perRef = byId['reference-200'].medianMs / 200;
  check('validate 200: ≥ 5× faster per file than action-validator', perRef / perTrig, 5, perRef / perTrig >= 5, '×');
}
if (byId['fire-run-1-before']) {
  const added = byId['fire-run-1'].medianMs - byId['fire-run-1-before'].medianMs;
  check(`a recorded fire that runs something takes ≤ 15 ms more than at ${beforeRef}, before the store`, added, 15, added <= 15, ' ms');
}
let linearity;
if (byId['fire-none-1000']) {
  // Cost per definition between 1 and 200 definitions, and between 200 and 1000: equal
  // when matching is linear (a quadratic matcher would make the second five times the first).
  const t1 = byId['fire-none-1'].medianMs;
  const t200 = byId['fire-none-200'].medianMs;
  const t1000 = byId['fire-none-1000'].medianMs;
  const perDefLow = (t200 - t1) / 199;
  const perDefHigh = (t1000 - t200) / 800;
  linearity = {
    perDefinitionMs_1to200: round(perDefLow, 3),
    perDefinitionMs_200to1000: round(perDefHigh, 3),
    ratio: round(perDefHigh / perDefLow),
  };
  check('matching is linear: per-definition cost 200→1000 vs 1→200', perDefHigh / perDefLow, 1.5, perDefHigh / perDefLow <= 1.5, '×');
}
let payload;
if (byId['fire-some-200-5mb']) {
  // What a 5 MB payload may add is reading and parsing it, measured the same way: as a
  // cold process, against the baseline.
  const parse = byId['parse-5mb'].medianMs - base.medianMs;
  const extra = byId['fire-some-200-5mb'].medianMs - byId['fire-some-200'].medianMs;
  payload = {
    bytes: statSync(inputs.largePayload).size,
    extraMs: round(extra, 1),
    readAndParseMs: round(parse, 1),
    beyondParsingMs: round(extra - parse, 1),
  };
  // Twice the parse cost, as the larger heap also makes every later collection slower,
  // plus 10 ms of noise.
  check('5 MB payload costs about what reading and parsing it costs', extra, round(2 * parse + 10, 1), extra <= 2 * parse + 10, ' ms');
}

const rows = [...all.map((c) => byId[c.id]), ...(byId['reference-200'] ? [byId['reference-200']] : [])];
const table = [
  ['case', 'median ms', '× node', 'peak MiB', '× node'],
  ...rows.map((c) => [
    c.label,
    c.medianMs.toFixed(1),
    c.id === 'reference-200' ? '' : ratio(c).toFixed(2),
    c.peakKiB ? peakMiB(c).toFixed(1) : '',
    c.peakKiB && c.id !== 'reference-200' ? (c.peakKiB / base.peakKiB).toFixed(2) : '',
  ]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
const line = (r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
console.log(
  `\ntrig start-up benchmark: node ${process.version}, ${os.cpus().length} cores, ${RUNS} runs per case (median), ${os.platform()}\n`,
);
console.log(line(table[0]));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of table.slice(1)) console.log(line(r));
if (byId['reference-200']) {
  console.log(
    `\nper file: trig ${(v200.medianMs / 200).toFixed(2)} ms (200 in one call), action-validator ${(byId['reference-200'].medianMs / 200).toFixed(1)} ms (one process each)`,
  );
} else {
  console.log(`\nreference skipped: ${reference.skipped}`);
}
if (linearity)
  console.log(
    `matching: ${linearity.perDefinitionMs_1to200} ms per definition up to 200, ${linearity.perDefinitionMs_200to1000} ms from 200 to 1000`,
  );
if (payload) console.log(`payload: 5 MB adds ${payload.extraMs} ms; reading and parsing it alone takes ${payload.readAndParseMs} ms`);
console.log('\ntargets:');
for (const c of checks) console.log(`  ${c.pass ? 'ok  ' : 'MISS'} ${c.name}: ${c.value}${c.unit}`);

const results = {
  date: new Date().toISOString(),
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
  cpus: { cores: os.cpus().length, model: os.cpus()[0]?.model?.trim() },
  runs: RUNS,
  warmups: WARMUPS,
  memoryRuns: MEMORY_RUNS,
  baseline: { medianMs: round(base.medianMs), peakMiB: round(peakMiB(base)) },
  cases: rows.map((c) => ({
    id: c.id,
    label: c.label,
    medianMs: round(c.medianMs),
    ratio: c.id === 'reference-200' ? undefined : round(ratio(c)),
    peakMiB: c.peakKiB ? round(peakMiB(c)) : undefined,
    peakRatio: c.peakKiB && c.id !== 'reference-200' ? round(c.peakKiB / base.peakKiB) : undefined,
    target: c.target,
    runs: c.runs ?? RUNS,
  })),
  reference,
  before,
  linearity,
  payload,
  checks,
};
if (!quick || flag('--out')) {
  mkdirSync(path.dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), OUT) || OUT}`);
}
if (flag('--keep')) console.log(`inputs kept in ${work}`);
else rmSync(work, { recursive: true, force: true });
