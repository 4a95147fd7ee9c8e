#!/usr/bin/env node
// The webhook receiver benchmark (`npm run bench:serve`; not a test; issue 13): the built
// `trig serve` side by side with adnanh/webhook (Debian's `webhook` package), in one run
// on this machine, both answering signed 8 KiB GitHub push deliveries on loopback with the
// same trivial command (`sh -c 'echo ok >> runs.log'`).
//
//   1. Acknowledgements: autocannon (in this process) sends deliveries for a fixed time
//      over N keep-alive connections, each one answered before the connection sends the
//      next (a closed loop), after a short warm-up. Acks per second and the latency
//      percentiles of the answers. trig answers 202 only once the delivery is committed
//      to its store (synchronous=FULL), and runs what it took in with its pool
//      (--concurrency 4) on another thread; webhook stores nothing, answers at once and
//      runs the command in the background for each request (a goroutine each, unbounded:
//      it waits for the command only with include-command-output-in-response). Both run
//      the command while the load goes on. A third case is trig with a definition that
//      matches nothing: deliveries stored, acknowledged and decided, no run.
//   2. Latency at the target's rate: the same deliveries on a fresh server, each one sent at
//      its own time, --rate a second (2,000), evenly spaced, over up to N keep-alive
//      connections (an open loop: a late answer does not hold the next delivery back), its
//      latency counted from the time it was due, so that waiting for a free connection
//      counts too. At saturation (1.) latency is just the number of connections over the
//      throughput (Little's law); the p99 target is judged here, where the server is offered
//      the load the target names. (autocannon's own rate option is no use for this: it lets
//      each connection send as fast as it is answered until its share of the second is
//      used up, a burst at the start of each second; a server that only parses the JSON
//      showed a p99 of 13 ms that way on this machine, against 2.5 ms evenly paced.)
//   3. End to end: a fresh server of each is sent a fixed number of deliveries as fast as
//      they are answered; the time from the first request until the command has run for
//      every one (for trig: until its log has a `fired` line, written once the run is
//      recorded finished, for each).
//
// Every request carries a distinct X-GitHub-Delivery (trig answers a repeated one 200
// duplicate and stores nothing). Results go to bench/serve-results.json (not with --quick,
// unless --out says where).
//
//   node scripts/bench-serve.mjs [--duration S] [--connections N] [--rate N] [--deliveries N] [--quick] [--no-webhook] [--keep] [--out FILE]
//
// Measures bin/trig and dist/ as built (`npm run build` is run first when dist/ is missing).
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const quick = flag('--quick');
const DURATION_S = Number(option('--duration', quick ? 3 : 10));
const WARMUP_S = quick ? 1 : 2;
const CONNECTIONS = Number(option('--connections', 32));
const DELIVERIES = Number(option('--deliveries', quick ? 300 : 2000));
/** The offered load of the latency phase: the target's rate. */
const RATE = Number(option('--rate', 2000));
const OUT = path.resolve(option('--out', path.join(root, 'bench', 'serve-results.json')));
const BODY_BYTES = 8 * 1024;
/** An end-to-end phase that has not finished by then is reported as it stands. */
const E2E_DEADLINE_MS = 10 * 60_000;
const SECRET = 'bench-serve: a secret shared with the load generator';
const COMMAND = 'echo ok >> runs.log';

if (!existsSync(path.join(root, 'dist', 'cli.cjs'))) {
  process.stderr.write('bench:serve: dist/ is missing; running `npm run build`\n');
  const built = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(2);
}
const TRIG = path.join(root, 'bin', 'trig');

// As in scripts/bench.mjs: nothing of the caller's that would be measured as trig's cost.
const env = { ...process.env, NO_COLOR: '1' };
delete env.NODE_EXTRA_CA_CERTS;
delete env.FORCE_COLOR;
delete env.NODE_OPTIONS;

// Other work on the machine weighs on both servers alike; the load average says how much there was.
const loadAtStart = os.loadavg()[0];
const work = mkdtempSync(path.join(os.tmpdir(), 'trig-bench-serve-'));
env.TRIG_CACHE_DIR = path.join(work, 'cache');

// ---------------------------------------------------------------------------
// The delivery: GitHub's own push example (a branch push with one commit), its commit
// message padded so that the body is exactly 8 KiB, signed once (the signature covers the
// body only; the delivery id is a header).

function pushBody() {
  const { examples } = require('@octokit/webhooks-examples').find((e) => e.name === 'push');
  const payload = structuredClone(examples.find((p) => p.ref.startsWith('refs/heads/') && !p.deleted && p.commits.length > 0));
  const short = BODY_BYTES - Buffer.byteLength(JSON.stringify(payload));
  if (short < 0) throw new Error(`the push example is already ${-short} bytes over ${BODY_BYTES}`);
  payload.commits[0].message += ' ' + 'lorem ipsum dolor sit amet '.repeat(BODY_BYTES).slice(0, short - 1);
  const body = JSON.stringify(payload);
  if (Buffer.byteLength(body) !== BODY_BYTES) throw new Error(`the body is ${Buffer.byteLength(body)} bytes, not ${BODY_BYTES}`);
  return body;
}
const BODY = pushBody();
const HEADERS = {
  'content-type': 'application/json',
  'user-agent': 'GitHub-Hookshot/bench',
  'x-github-event': 'push',
  'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(BODY).digest('hex')}`,
};

/**
 * Sends deliveries with autocannon: for `duration` seconds, or `amount` requests. Each
 * request gets its own X-GitHub-Delivery. Resolves with autocannon's result.
 */
function load(url, { duration, amount, prefix }) {
  let n = 0;
  const { pathname, origin } = new URL(url);
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: origin,
        connections: CONNECTIONS,
        pipelining: 1,
        timeout: 30,
        ...(amount ? { amount } : { duration }),
        requests: [
          {
            method: 'POST',
            path: pathname,
            body: BODY,
            setupRequest: (request) => {
              request.headers = { ...HEADERS, 'x-github-delivery': `${prefix}-${++n}` };
              return request;
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

// ---------------------------------------------------------------------------
// The servers. Each phase gets a fresh one in a folder of its own: its store (trig), the
// file its command appends to, and its output.

const round = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? undefined : Math.round(x * 10 ** d) / 10 ** d);

/** Lines of a growing file, counted incrementally (whole lines only). */
function lineCounter(file, match) {
  let offset = 0;
  let count = 0;
  let rest = '';
  const buffer = Buffer.alloc(1 << 20);
  return () => {
    if (!existsSync(file)) return 0;
    const fd = openSync(file, 'r');
    try {
      for (;;) {
        const read = readSync(fd, buffer, 0, buffer.length, offset);
        if (read === 0) break;
        offset += read;
        const lines = (rest + buffer.toString('utf8', 0, read)).split('\n');
        rest = lines.pop();
        for (const line of lines) if (match(line)) count++;
      }
    } finally {
      closeSync(fd);
    }
    return count;
  };
}

/** Peak resident memory of a process so far, in MiB (Linux), else undefined. */
function peakMiB(pid) {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? round(Number(kib) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

async function until(what, probe, deadlineMs = 30_000) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await delay(20);
  }
}

function spawnServer(command, argv, dir, extraEnv) {
  const out = openSync(path.join(dir, 'stdout.log'), 'w');
  const err = openSync(path.join(dir, 'stderr.log'), 'w');
  const child = spawn(command, argv, { cwd: dir, env: { ...env, ...extraEnv }, stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  let exit;
  child.on('exit', (code, signal) => (exit = signal ?? code));
  child.on('error', (error) => (exit = error.message));
  return { child, exited: () => exit, stderr: () => readFileSync(path.join(dir, 'stderr.log'), 'utf8') };
}

async function stop({ child, exited }) {
  if (exited() !== undefined) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  // trig lets its running runs finish (4 at most, each `echo`); the waiting ones stay in its store.
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await gone;
  clearTimeout(timer);
}

/** The folder of one phase's server, with trig's definition or webhook's hooks file. */
function phaseDir(name) {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

// Beyond 10,000 deliveries waiting (the store's automatic bound on events, TRIG_KEEP_EVENTS),
// the store may prune acknowledged deliveries not yet decided: the fire core then fails on
// them, and the report says how many (fireErrors). None did in the runs of the README.
const TRIG_QUEUE = 1_000_000;

async function startTrig(name, { matching = true } = {}) {
  const dir = phaseDir(name);
  const defs = path.join(dir, 'defs');
  mkdirSync(defs);
  // Without `matching`, the definition listens to a branch the delivery is not on: every
  // delivery is still stored, acknowledged and decided (its decision stored), but runs nothing.
  const on = matching ? 'push' : '\n    - push:\n        branches: [not-this-branch]';
  writeFileSync(
    path.join(defs, 'push.yaml'),
    '# Generated by scripts/bench-serve.mjs: one run of a trivial command per push.\n' +
      `version: 1\npipeline:\n  name: bench-push\n  on: ${on}\n  stages:\n    - name: only\n      steps:\n` +
      `        - name: append\n          run:\n            shell: sh\n            script: ${COMMAND}\n`,
  );
  // --queue holds every delivery the load can send, so that what is measured is taking
  // deliveries in (a full queue answers 503, which the default 1000 would do within a
  // second here); the rest is trig serve's defaults (--concurrency 4).
  const server = spawnServer(
    process.execPath,
    [TRIG, 'serve', '--port', '0', '--defs', defs, '--workdir', dir, '--queue', String(TRIG_QUEUE)],
    dir,
    {
      TRIG_STATE_DIR: path.join(dir, 'state'),
      TRIG_GITHUB_WEBHOOK_SECRET: SECRET,
    },
  );
  const url = await until('trig serve to listen', () => {
    if (server.exited() !== undefined) throw new Error(`trig serve exited (${server.exited()}):\n${server.stderr()}`);
    return /^trig serve: listening on (http:\/\/\S+)$/m.exec(server.stderr())?.[1];
  });
  return {
    ...server,
    dir,
    url: `${url}/github`,
    ran: lineCounter(path.join(dir, 'stderr.log'), (line) => line.startsWith('{') && line.includes('"kind":"fired"')),
    // A delivery the fire core failed on (logged, left undispatched in the store).
    failed: lineCounter(path.join(dir, 'stderr.log'), (line) => line.startsWith('{"') && line.includes('"kind":"fire"')),
    acked: 202,
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const canConnect = (port) =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

async function startWebhook(name) {
  const dir = phaseDir(name);
  const hooks = path.join(dir, 'hooks.json');
  writeFileSync(
    hooks,
    JSON.stringify(
      [
        {
          id: 'github',
          'execute-command': '/bin/sh',
          'command-working-directory': dir,
          'pass-arguments-to-command': [
            { source: 'string', name: '-c' },
            { source: 'string', name: COMMAND },
          ],
          'trigger-rule': {
            match: { type: 'payload-hmac-sha256', secret: SECRET, parameter: { source: 'header', name: 'X-Hub-Signature-256' } },
          },
          // Without it a bad signature is answered 200 ("Hook rules were not satisfied.").
          'trigger-rule-mismatch-http-response-code': 401,
        },
      ],
      null,
      2,
    ),
  );
  const port = await freePort();
  const server = spawnServer('webhook', ['-hooks', hooks, '-port', String(port), '-ip', '127.0.0.1'], dir, {});
  await until('webhook to listen', async () => {
    if (server.exited() !== undefined) throw new Error(`webhook exited (${server.exited()}):\n${server.stderr()}`);
    return canConnect(port);
  });
  return {
    ...server,
    dir,
    url: `http://127.0.0.1:${port}/hooks/github`,
    ran: lineCounter(path.join(dir, 'runs.log'), (line) => line === 'ok'),
    acked: 200,
  };
}

/** Sends one delivery signed with another secret: it must be refused (trig: 401; webhook: 500, a failed rule), or the comparison is void. */
async function checkRefusesForgery(url) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      ...HEADERS,
      'x-github-delivery': 'forged',
      'x-hub-signature-256': `sha256=${createHmac('sha256', 'not the secret').update(BODY).digest('hex')}`,
    },
    body: BODY,
  });
  await response.text();
  if (response.ok) throw new Error(`${url} took a delivery signed with another secret (${response.status})`);
}

// ---------------------------------------------------------------------------
// The phases.

const acks = (result, status) => result.statusCodeStats?.[status]?.count ?? 0;

/** autocannon's latency percentiles, in ms. */
const latencyOf = ({ latency }) => ({
  p50: latency.p50,
  p90: latency.p90,
  p99: latency.p99,
  max: latency.max,
  mean: round(latency.mean, 2),
});

async function measureAcks(server, label) {
  await checkRefusesForgery(server.url);
  process.stderr.write(`bench:serve: ${label}: warm-up ${WARMUP_S}s, then ${DURATION_S}s over ${CONNECTIONS} connections\n`);
  await load(server.url, { duration: WARMUP_S, prefix: 'warmup' });
  const result = await load(server.url, { duration: DURATION_S, prefix: 'acks' });
  const acked = acks(result, server.acked);
  return {
    seconds: result.duration,
    requests: result.requests.total,
    acknowledged: acked,
    ackStatus: server.acked,
    other: result.requests.total - acked,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count])),
    errors: result.errors,
    timeouts: result.timeouts,
    acksPerSecond: round(acked / result.duration),
    latencyMs: latencyOf(result),
    ranDuringLoad: server.ran(),
    ...(server.failed ? { fireErrors: server.failed() } : {}),
    peakMiB: peakMiB(server.child.pid),
  };
}

/**
 * Sends `rate` deliveries a second for `seconds`, delivery i due at start + i/rate, over at
 * most CONNECTIONS keep-alive connections (node:http's agent queues a delivery that finds
 * them all busy). Resolves with each delivery's latency from when it was due, in ms, and the
 * count of each answer's status.
 */
function paced(url, { rate, seconds, prefix }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const { hostname, port, pathname } = new URL(url);
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  const statuses = {};
  let sent = 0;
  let done = 0;
  let errors = 0;
  const start = performance.now();
  return new Promise((resolve) => {
    const settled = (i, status) => {
      latencies[i] = performance.now() - (start + (i * 1000) / rate);
      if (status === undefined) errors++;
      else statuses[status] = (statuses[status] ?? 0) + 1;
      if (++done < total) return;
      agent.destroy();
      resolve({ latencies, statuses, errors, seconds: (performance.now() - start) / 1000 });
    };
    const send = (i) => {
      const headers = { ...HEADERS, 'x-github-delivery': `${prefix}-${i}`, 'content-length': Buffer.byteLength(BODY) };
      const request = http.request({ agent, hostname, port, path: pathname, method: 'POST', headers }, (response) => {
        response.resume();
        response.on('end', () => settled(i, response.statusCode));
      });
      request.on('error', () => settled(i, undefined));
      request.end(BODY);
    };
    // Every millisecond or so, whatever has come due is sent.
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (sent < due) send(sent++);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}

/** Percentiles of latencies in ms (the nearest-rank method). */
function percentiles(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q) => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)], 2);
  return {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: round(sorted[sorted.length - 1], 2),
    mean: round(sorted.reduce((sum, l) => sum + l, 0) / sorted.length, 2),
  };
}

/**
 * Latency at a fixed offered load (RATE deliveries a second, evenly spaced, the target's
 * rate) rather than at saturation: in a closed loop that saturates the server, the latency
 * is the number of connections over the throughput (Little's law), whatever the server
 * does, so the p99 target is judged here.
 */
async function measureAtRate(server, label) {
  process.stderr.write(
    `bench:serve: ${label}: warm-up ${WARMUP_S}s, then ${DURATION_S}s at ${RATE}/s over up to ${CONNECTIONS} connections\n`,
  );
  await paced(server.url, { rate: RATE, seconds: WARMUP_S, prefix: 'warmup-rate' });
  const result = await paced(server.url, { rate: RATE, seconds: DURATION_S, prefix: 'rate' });
  const requests = result.latencies.length;
  const acked = result.statuses[server.acked] ?? 0;
  return {
    offeredPerSecond: RATE,
    seconds: round(result.seconds, 2),
    requests,
    acknowledged: acked,
    other: requests - acked - result.errors,
    errors: result.errors,
    acksPerSecond: round(acked / result.seconds),
    latencyMs: percentiles(result.latencies),
    ranDuringLoad: server.ran(),
  };
}

async function measureEndToEnd(server, label) {
  process.stderr.write(`bench:serve: ${label}: ${DELIVERIES} deliveries end to end\n`);
  const start = performance.now();
  const result = await load(server.url, { amount: DELIVERIES, prefix: 'e2e' });
  const ackedMs = performance.now() - start;
  const acked = acks(result, server.acked);
  let ran = 0;
  let lastProgress = 0;
  const deadline = start + E2E_DEADLINE_MS;
  while ((ran = server.ran()) < acked && performance.now() < deadline) {
    if (performance.now() - lastProgress > 5000) {
      process.stderr.write(`bench:serve: ${label}: ${ran}/${acked} run\n`);
      lastProgress = performance.now();
    }
    await delay(10);
  }
  const ms = performance.now() - start;
  return {
    deliveries: DELIVERIES,
    acknowledged: acked,
    ran,
    finished: ran >= acked,
    acknowledgedInMs: Math.round(ackedMs),
    ms: Math.round(ms),
    runsPerSecond: round(ran / (ms / 1000)),
    peakMiB: peakMiB(server.child.pid),
  };
}

/** What trig's store says of the end-to-end runs: how many there are in each status. */
function trigRunStatuses(dir) {
  const r = spawnSync(process.execPath, [TRIG, 'runs', '--all', '--json', '--limit', String(DELIVERIES + 10)], {
    cwd: dir,
    env: { ...env, TRIG_STATE_DIR: path.join(dir, 'state') },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) return { error: r.stderr.trim().split('\n').at(-1) };
  const counts = {};
  for (const run of JSON.parse(r.stdout).runs) counts[run.status] = (counts[run.status] ?? 0) + 1;
  return counts;
}

function webhookVersion() {
  const r = spawnSync('webhook', ['-version'], { encoding: 'utf8' });
  if (r.error) return undefined;
  return /version\s+(\S+)/.exec(r.stdout + r.stderr)?.[1] ?? 'unknown';
}

const trigVersion = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const version = flag('--no-webhook') ? undefined : webhookVersion();
let webhook = { skipped: 'not run (--no-webhook)' };
if (!flag('--no-webhook') && version === undefined) {
  webhook = { skipped: 'the `webhook` program is not installed (Debian: apt-get install webhook)' };
  process.stderr.write(`bench:serve: ${webhook.skipped}; benchmarking trig serve alone\n`);
}
const servers = [{ id: 'trig', label: `trig serve ${trigVersion}`, start: startTrig }];
if (version !== undefined) {
  webhook = { version };
  servers.push({ id: 'webhook', label: `adnanh/webhook ${version}`, start: startWebhook });
}
// What taking deliveries in costs trig without the runs that share its two cores: the
// same deliveries, stored, acknowledged and decided, none matched (acknowledgements only).
const intakeOnly = { id: 'trigNoMatch', label: 'trig serve, nothing matched', start: (name) => startTrig(name, { matching: false }) };

const results = {};
try {
  for (const s of [...servers, intakeOnly]) {
    const server = await s.start(`${s.id}-acks`);
    try {
      results[s.id] = { label: s.label, acks: await measureAcks(server, s.label) };
    } finally {
      await stop(server);
    }
    await delay(1000);
    const atRate = await s.start(`${s.id}-rate`);
    try {
      results[s.id].atRate = await measureAtRate(atRate, s.label);
    } finally {
      await stop(atRate);
    }
    await delay(1000);
    if (s === intakeOnly) continue;
    const again = await s.start(`${s.id}-e2e`);
    try {
      results[s.id].endToEnd = await measureEndToEnd(again, s.label);
    } finally {
      await stop(again);
    }
    if (s.id === 'trig') results.trig.endToEnd.runStatuses = trigRunStatuses(again.dir);
    await delay(1000);
  }
} catch (error) {
  if (!flag('--keep')) rmSync(work, { recursive: true, force: true });
  throw error;
}

// ---------------------------------------------------------------------------
// Report.

const trig = results.trig;
const ref = results.webhook;
const ratio = (a, b) => (a !== undefined && b ? round(a / b, 2) : undefined);
const ratios = ref
  ? {
      acksPerSecond: ratio(trig.acks.acksPerSecond, ref.acks.acksPerSecond),
      p50: ratio(trig.acks.latencyMs.p50, ref.acks.latencyMs.p50),
      p99: ratio(trig.acks.latencyMs.p99, ref.acks.latencyMs.p99),
      p50AtRate: ratio(trig.atRate.latencyMs.p50, ref.atRate.latencyMs.p50),
      p99AtRate: ratio(trig.atRate.latencyMs.p99, ref.atRate.latencyMs.p99),
      runsPerSecond: ratio(trig.endToEnd.runsPerSecond, ref.endToEnd.runsPerSecond),
    }
  : undefined;

const fmtRate = (x) => Number(x).toLocaleString('en-US');
const checks = [
  {
    name: 'trig serve: ≥ 2,000 acknowledged deliveries/s',
    value: trig.acks.acksPerSecond,
    limit: 2000,
    pass: trig.acks.acksPerSecond >= 2000,
  },
  {
    name: `trig serve: p99 ≤ 20 ms at ${fmtRate(RATE)} deliveries/s`,
    value: trig.atRate.latencyMs.p99,
    unit: ' ms',
    limit: 20,
    pass: trig.atRate.latencyMs.p99 <= 20,
  },
  {
    name: `trig serve: the offered ${fmtRate(RATE)}/s acknowledged (at least 98%)`,
    value: trig.atRate.acksPerSecond,
    unit: '/s',
    limit: RATE * 0.98,
    pass: trig.atRate.acksPerSecond >= RATE * 0.98,
  },
  {
    name: 'trig serve: every delivery acknowledged (no 503, no error)',
    value: trig.acks.other + trig.acks.errors + trig.atRate.other + trig.atRate.errors,
    limit: 0,
    pass: trig.acks.other + trig.acks.errors + trig.atRate.other + trig.atRate.errors === 0,
  },
  {
    name: 'trig serve: every acknowledged delivery run end to end, each succeeded',
    value: trig.endToEnd.ran,
    limit: trig.endToEnd.acknowledged,
    pass: trig.endToEnd.finished && trig.endToEnd.runStatuses.succeeded === trig.endToEnd.acknowledged,
  },
];

const fmt = (x, d = 0) =>
  x === undefined ? '' : Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
// Columns: each server, the ratio, then trig with nothing matched.
const noMatch = results.trigNoMatch;
const rowOf = (label, value, ratioValue) => [
  label,
  ...servers.map((s) => value(results[s.id]) ?? ''),
  ...(ratios ? [ratioValue ?? ''] : []),
  value(noMatch, true) ?? '',
];
const rows = [
  rowOf('', (r) => r.label, 'trig / webhook'),
  rowOf('acknowledged deliveries/s', (r) => fmt(r.acks.acksPerSecond), ratios?.acksPerSecond?.toFixed(2)),
  rowOf('latency p50 (ms)', (r) => fmt(r.acks.latencyMs.p50), ratios?.p50?.toFixed(2)),
  rowOf('latency p99 (ms)', (r) => fmt(r.acks.latencyMs.p99), ratios?.p99?.toFixed(2)),
  rowOf(`at ${fmtRate(RATE)}/s offered: acknowledged/s`, (r) => fmt(r.atRate.acksPerSecond)),
  rowOf(`at ${fmtRate(RATE)}/s offered: latency p50 (ms)`, (r) => fmt(r.atRate.latencyMs.p50), ratios?.p50AtRate?.toFixed(2)),
  rowOf(`at ${fmtRate(RATE)}/s offered: latency p99 (ms)`, (r) => fmt(r.atRate.latencyMs.p99), ratios?.p99AtRate?.toFixed(2)),
  rowOf('answers other than the ack', (r) => fmt(r.acks.other + r.acks.errors + r.atRate.other + r.atRate.errors)),
  rowOf('peak memory (MiB)', (r) => fmt(r.acks.peakMiB)),
  rowOf(
    `deliveries run end to end/s (${DELIVERIES})`,
    (r, none) => (none ? '' : fmt(r.endToEnd.runsPerSecond)),
    ratios?.runsPerSecond?.toFixed(2),
  ),
];
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
const line = (r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
console.log(
  `\ntrig serve benchmark: node ${process.version}, ${os.cpus().length} cores, ${os.platform()}; ${DURATION_S}s of signed ${BODY_BYTES}-byte GitHub pushes over ${CONNECTIONS} connections, from the bench's own process (autocannon; at a fixed rate, evenly paced with node:http)\n`,
);
console.log(line(rows[0]));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows.slice(1)) console.log(line(r));
if (!ref) console.log(`\nwebhook skipped: ${webhook.skipped}`);
for (const s of [...servers, intakeOnly]) {
  const { acks: a, endToEnd: e } = results[s.id];
  console.log(
    `\n${results[s.id].label}: ${fmt(a.requests)} requests in ${a.seconds}s (answers ${JSON.stringify(a.statusCodes)}, ${a.errors} errors, ${a.timeouts} timeouts), ` +
      `${fmt(a.ranDuringLoad)} ${s === intakeOnly ? 'decided' : 'run'} by the end of the load` +
      (a.fireErrors ? `, ${a.fireErrors} failed in the fire core` : '') +
      (e
        ? `; end to end, ${e.acknowledged} acknowledged in ${fmt(e.acknowledgedInMs)} ms, ${e.ran} run in ${fmt(e.ms)} ms${e.finished ? '' : ' (NOT all: deadline)'}`
        : '') +
      (e?.runStatuses ? `; the store's runs: ${JSON.stringify(e.runStatuses)}` : ''),
  );
}
console.log(`\nload average (1 min): ${loadAtStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end`);
console.log('\ntargets:');
for (const c of checks) console.log(`  ${c.pass ? 'ok  ' : 'MISS'} ${c.name}: ${fmt(c.value)}${c.unit ?? ''}`);

const output = {
  date: new Date().toISOString(),
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
  cpus: { cores: os.cpus().length, model: os.cpus()[0]?.model?.trim() },
  loadAverage1m: { start: round(loadAtStart, 2), end: round(os.loadavg()[0], 2) },
  loadGenerator: { tool: 'autocannon', version: require('autocannon/package.json').version, inProcess: true },
  durationSeconds: DURATION_S,
  warmupSeconds: WARMUP_S,
  connections: CONNECTIONS,
  bodyBytes: BODY_BYTES,
  command: COMMAND,
  endToEndDeliveries: DELIVERIES,
  offeredPerSecond: RATE,
  trigServe: { version: trigVersion, concurrency: 4, queue: TRIG_QUEUE },
  webhook,
  results,
  ratios,
  checks,
};
if (!quick || flag('--out')) {
  mkdirSync(path.dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(output, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), OUT) || OUT}`);
}
if (flag('--keep')) console.log(`servers' folders kept in ${work}`);
else rmSync(work, { recursive: true, force: true });
