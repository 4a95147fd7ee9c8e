#!/usr/bin/env node
// The README's picture of trig serve's page (docs/page.png), made again with
// `node scripts/screenshot.mjs [--out FILE]`: in a temporary folder with a store of its own,
// the built bin/trig fires a `deploy` event twice at three definitions (tests pass, lint
// fails, release waits for two approvals); the first release is approved by two names, the
// second by one, so it still waits. Then `trig serve` shows the page, and headless
// Chromium (scripts/chromium.mjs finds it) takes its picture. Nothing is left behind.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from './chromium.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const trigBin = path.join(root, 'bin', 'trig');
const args = process.argv.slice(2);
const at = args.indexOf('--out');
const out = path.resolve(at !== -1 && args[at + 1] ? args[at + 1] : path.join(root, 'docs', 'page.png'));

function fail(message) {
  console.error(`screenshot: ${message}`);
  process.exit(1);
}

const executablePath = chromiumPath();
if (!executablePath) fail('no chromium binary (apt-get install chromium, or set TRIG_CHROMIUM)');
if (!existsSync(path.join(root, 'dist'))) spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });

const dir = mkdtempSync(path.join(os.tmpdir(), 'trig-screenshot-'));
const env = { ...process.env, TRIG_STATE_DIR: path.join(dir, 'state'), TRIG_CACHE_DIR: path.join(dir, 'cache'), NO_COLOR: '1' };
mkdirSync(path.join(dir, '.harness'));
const definition = (name, lines) =>
  writeFileSync(path.join(dir, '.harness', `${name}.yaml`), ['pipeline:', `  name: ${name}`, '  on: deploy', ...lines, ''].join('\n'));
const steps = (name, script) => [
  '  stages:',
  '    - name: ci',
  '      steps:',
  `        - name: ${name}`,
  `          run: {shell: sh, script: ${JSON.stringify(script)}}`,
];
definition('tests', steps('unit', 'echo 412 passed; sleep 1.2'));
definition('lint', steps('eslint', 'echo "src/app.ts:3:1 no-unused-vars" >&2; sleep 0.4; exit 1'));
definition('release', [
  '  approval:',
  '    message: "release <+trigger.version> to <+trigger.environment>?"',
  '    min-approvers: 2',
  '    approvers: [ann, bob, cy]',
  ...steps('publish', 'echo published <+trigger.version>; sleep 0.8'),
]);

function trig(argv, input = '') {
  const result = spawnSync(process.execPath, [trigBin, ...argv], { cwd: dir, env, input, encoding: 'utf8' });
  if (result.status !== 0 && argv[0] !== 'fire') fail(`trig ${argv.join(' ')}: ${result.stderr.trim()}`);
  return result;
}
const gates = () => JSON.parse(trig(['approvals', '--json']).stdout).gates;

let server;
try {
  trig(['fire', '--event', 'deploy', '--payload', '-'], JSON.stringify({ environment: 'staging', version: '1.4.0' }));
  const [first] = gates();
  trig(['approve', first.id, '--as', 'ann']);
  trig(['approve', first.id, '--as', 'bob', '--comment', 'staging looks good']);
  trig(['fire', '--event', 'deploy', '--payload', '-'], JSON.stringify({ environment: 'production', version: '1.4.0' }));
  const [second] = gates();
  trig(['approve', second.id, '--as', 'ann']);

  server = spawn(process.execPath, [trigBin, 'serve', '--port', '0'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  server.stderr.on('data', (chunk) => (err += chunk));
  let url;
  for (let i = 0; i < 200 && !url; i++) {
    url = /^trig serve: listening on (http:\/\/\S+)$/m.exec(err)?.[1];
    if (!url) await delay(50);
  }
  if (!url) fail(`trig serve did not start: ${err.trim()}`);

  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 }, deviceScaleFactor: 1 });
    await page.goto(`${url}/`);
    // The name field says who the server runs as; the picture says someone.
    await page.locator('input[name="by"]').first().fill('cy');
    mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });
  } finally {
    await browser.close();
  }
  console.log(`screenshot: ${path.relative(process.cwd(), out)}`);
} finally {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}
