import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { ROOT, trig } from '../helpers/trig.js';

// An approval guards what comes after it. trig cannot ask a person yet, so reaching one
// stops the run as `blocked`: the steps and stages after it never run, whatever their
// on-failure says, and the fire fails (exit 1). The steps touch files in the work
// directory, so what ran is read from the disk, not from trig's report.

const STEP_REASON = 'approval steps wait for a person, and trig cannot ask for approval yet: the run stops here';
const STAGE_REASON = 'approval stages wait for a person, and trig cannot ask for approval yet: the run stops here';

function workdir(): string {
  return mkdtempSync(path.join(tmpdir(), 'trig-e2e-approval-'));
}

const fire = (args: string[]) => trig(['fire', '--defs', 'fixtures/runs/approval.yaml', '--event', 'deploy', ...args]);

describe('trig fire: an approval stops the run', () => {
  it('runs nothing after an approval step or stage, reports blocked and exits 1', () => {
    const dir = workdir();
    const result = fire(['--workdir', dir]);
    expect(result.code, result.stderr).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['built.txt', 'stage-built.txt']);
    const lines = result.stdout.split('\n');
    expect(lines).toContain(`[gated/wait] blocked: ${STEP_REASON}`);
    expect(lines).toContain(`[gated-stage] blocked: stage sign-off: ${STAGE_REASON}`);
    expect(result.stdout).not.toContain('deploying payments to prod');
    expect(lines.some((l) => /^\[gated\] blocked in \S+ \(step wait: approval steps wait/.test(l))).toBe(true);
    expect(lines.at(-2)).toMatch(/^2 matched, 0 succeeded, 0 failed, 2 blocked in \S+$/);
  });

  it('says so in --json, which follows schemas/fire-output.schema.json', () => {
    const dir = workdir();
    const result = fire(['--workdir', dir, '--json']);
    expect(result.code, result.stderr).toBe(1);
    const json = JSON.parse(result.stdout);
    const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
    const validate = ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'schemas/fire-output.schema.json'), 'utf8')));
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    const runs = Object.fromEntries(json.definitions.map((d: { name: string; run: unknown }) => [d.name, d.run]));
    expect(runs.gated).toMatchObject({ status: 'blocked', exitCode: null, reason: `step wait: ${STEP_REASON}` });
    expect(
      runs.gated.steps.map((s: { stage: string; name: string | null; status: string; reason?: string }) => [
        s.stage,
        s.name,
        s.status,
        s.reason,
      ]),
    ).toEqual([
      ['release', 'build', 'succeeded', undefined],
      ['release', 'wait', 'blocked', STEP_REASON],
      ['release', 'go', 'skipped', 'not run: the run is blocked at an approval'],
      ['after', null, 'skipped', 'not run: the run is blocked at an approval'],
    ]);
    expect(runs['gated-stage']).toMatchObject({ status: 'blocked', reason: `stage sign-off: ${STAGE_REASON}` });
    expect(runs['gated-stage'].steps.map((s: { stage: string; status: string }) => [s.stage, s.status])).toEqual([
      ['build', 'succeeded'],
      ['sign-off', 'blocked'],
      ['prod', 'skipped'],
    ]);
    expect(json.summary).toMatchObject({ matched: 2, succeeded: 0, failed: 0, blocked: 2 });
    expect(readdirSync(dir).sort()).toEqual(['built.txt', 'stage-built.txt']);
  });

  it('shows in the --dry-run plan where the run would stop', () => {
    const result = fire(['--dry-run']);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines).toContain(`    step wait: blocked: ${STEP_REASON}`);
    expect(lines).toContain(`  stage sign-off: blocked: ${STAGE_REASON}`);
  });
});
