import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunOutput } from '../../src/execute/output.js';
import { executeRun, type RunContext } from '../../src/execute/run.js';
import type { FailurePolicy, PlanStage, PlanStep, RunPlan } from '../../src/plan/plan.js';
import { PLAIN_STYLE } from '../../src/shared/style.js';

function script(name: string, text: string, extra: Partial<PlanStep> = {}): PlanStep {
  return { name, kind: 'script', command: ['sh', '-c', text], env: {}, problems: [], ...extra };
}

function plan(stages: PlanStage[], extra: Partial<RunPlan> = {}): RunPlan {
  return { inputs: {}, env: {}, stages, problems: [], secrets: [], secretVariables: [], ...extra };
}

function context(extra: Partial<RunContext> = {}): RunContext & { text(): string } {
  let text = '';
  const output = new RunOutput({ write: (s) => (text += s), style: PLAIN_STYLE, mask: (s) => s, quiet: false }, 'def', 0);
  return {
    id: 'run-1',
    definition: 'def',
    event: 'deploy',
    trigger: { event: 'deploy', environment: 'staging' },
    payload: { environment: 'staging' },
    workdir: mkdtempSync(path.join(tmpdir(), 'trig-run-unit-')),
    env: { PATH: process.env.PATH },
    output,
    graceMs: 200,
    ...extra,
    text: () => text,
  };
}

const ignore: FailurePolicy = { errors: ['all'], action: 'ignore' };

describe('executeRun', () => {
  it('leaves no run folder behind when the payload cannot be written for TRIG_PAYLOAD', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'trig-run-unit-tmp-'));
    // A BigInt has no JSON form: serialising the payload throws before any step starts.
    const ctx = context({ payload: { n: 1n } });
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      await expect(executeRun(plan([{ name: 's', steps: [script('x', 'true')] }]), ctx)).rejects.toThrow(/BigInt/);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('lets a stage ignore a failure of one of its steps: the rest of the stage is skipped, the next stage runs', async () => {
    const run = await executeRun(
      plan([
        { name: 'a', onFailure: ignore, steps: [script('bad', 'exit 5'), script('rest', 'true')] },
        { name: 'b', steps: [script('next', 'true')] },
      ]),
      context(),
    );
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s) => [s.name, s.status, s.reason])).toEqual([
      ['bad', 'failed', 'exited with code 5; ignored by the stage (on-failure action: ignore)'],
      ['rest', 'skipped', 'not run: an earlier step failed'],
      ['next', 'succeeded', undefined],
    ]);
  });

  it.each<[string, FailurePolicy, string]>([
    ['an exit code it does not list', { ...ignore, exitCodes: ['5'] }, 'failed'],
    ['an exit code it lists', { ...ignore, exitCodes: ['4'] }, 'succeeded'],
    ['an action trig does not carry out', { errors: ['all'], action: 'abort' }, 'failed'],
    ['other error types', { errors: ['authentication'], action: 'ignore' }, 'failed'],
    ['action success', { errors: ['unknown'], action: 'success' }, 'succeeded'],
  ])('applies a step on-failure policy only to what it covers: %s', async (_, policy, status) => {
    const run = await executeRun(plan([{ name: 's', steps: [script('x', 'exit 4', { onFailure: policy })] }]), context());
    expect(run.status).toBe(status);
  });

  it('skips the whole run when the definition-level if: is false, and fails it when the condition cannot be evaluated', async () => {
    const skipped = await executeRun(
      plan([{ name: 's', steps: [script('x', 'true')] }], { if: '<+trigger.environment> == "production"' }),
      context(),
    );
    expect(skipped).toMatchObject({ status: 'skipped', exitCode: null, steps: [] });
    const broken = await executeRun(plan([{ name: 's', steps: [script('x', 'true')] }], { if: '<+trigger.environment> ==' }), context());
    expect(broken.status).toBe('failed');
    expect(broken.reason).toMatch(/^if: /);
  });

  it('reads inputs in conditions', async () => {
    const run = await executeRun(
      plan([{ name: 's', steps: [script('x', 'true', { if: '<+inputs.n> > 2' })] }], { inputs: { n: 3 } }),
      context(),
    );
    expect(run.steps[0]!.status).toBe('succeeded');
  });

  it("bounds the run by the definition's own timeout when it is shorter", async () => {
    const run = await executeRun(
      plan(
        [
          { name: 's', steps: [script('x', 'sleep 300')] },
          { name: 't', steps: [] },
        ],
        { timeout: '300ms' },
      ),
      context({ timeoutMs: 60_000 }),
    );
    expect(run).toMatchObject({ status: 'timed_out', reason: 'the run timed out after 300ms' });
    expect(run.steps[1]).toMatchObject({ stage: 't', name: null, status: 'skipped', reason: 'not run: the run timed out after 300ms' });
  });

  it('stops when trig is stopped: the running step fails, the rest is not run', async () => {
    const stop = new AbortController();
    const ctx = context({ stop: stop.signal });
    const run = await executeRun(
      plan([
        { name: 's', steps: [script('waits', 'echo go; sleep 300'), script('later', 'true')] },
        { name: 't', steps: [script('never', 'true')] },
      ]),
      {
        ...ctx,
        output: new RunOutput(
          {
            write: (s) => s.includes('go') && stop.abort({ kind: 'signal', signal: 'SIGTERM' }),
            style: PLAIN_STYLE,
            mask: (s) => s,
            quiet: false,
          },
          'def',
          0,
        ),
      },
    );
    expect(run.status).toBe('failed');
    expect(run.reason).toBe('stopped: trig received SIGTERM');
    expect(run.steps.map((s) => [s.name, s.status, s.reason])).toEqual([
      ['waits', 'failed', 'stopped: trig received SIGTERM'],
      ['later', 'skipped', 'not run: trig received SIGTERM'],
      [null, 'skipped', 'not run: trig received SIGTERM'],
    ]);
  });

  it('writes the payload to a private file for TRIG_PAYLOAD and removes it afterwards', async () => {
    const ctx = context({ payload: { a: [1, 2] } });
    const run = await executeRun(
      plan([{ name: 's', steps: [script('x', 'cat "$TRIG_PAYLOAD"; echo; stat -c %a "$TRIG_PAYLOAD"; echo "$TRIG_PAYLOAD"')] }]),
      ctx,
    );
    expect(run.status).toBe('succeeded');
    const [content, mode, file] = ctx
      .text()
      .trimEnd()
      .split('\n')
      .map((l) => l.replace('[def/x] ', ''));
    expect(JSON.parse(content!)).toEqual({ a: [1, 2] });
    expect(mode).toBe('600');
    expect(existsSync(file!)).toBe(false);
  });

  it("lets trig's own variables win over a definition's env of the same name", async () => {
    const ctx = context();
    await executeRun(plan([{ name: 's', steps: [script('x', 'echo "$TRIG_DEFINITION"', { env: { TRIG_DEFINITION: 'spoofed' } })] }]), ctx);
    expect(ctx.text()).toContain('[def/x] def\n');
  });

  it('fails a step whose timeout is not a duration, without running it', async () => {
    const ctx = context();
    const run = await executeRun(plan([{ name: 's', steps: [script('x', 'touch ran', { timeout: 'soon' })] }]), ctx);
    expect(run.steps[0]).toMatchObject({ status: 'failed', reason: 'timeout "soon" is not a duration such as 90s or 10m' });
    expect(existsSync(path.join(ctx.workdir, 'ran'))).toBe(false);
  });
});
