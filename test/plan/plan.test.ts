import { describe, expect, it } from 'vitest';
import { describeDefinition } from '../../src/load/definition.js';
import { resolveInputs } from '../../src/plan/inputs.js';
import { planRun, pluginVariable, type PlanOptions, type RunPlan } from '../../src/plan/plan.js';
import { rewriteScript } from '../../src/plan/script.js';
import { secretVariable } from '../../src/plan/secrets.js';

const definition = (pipeline: Record<string, unknown>) => describeDefinition('def.yaml', 0, 'def', { pipeline });
const options = (extra: Partial<PlanOptions> = {}): PlanOptions => ({
  inputs: {},
  env: { PATH: '' }, // no bash on this PATH: the default shell is sh
  workdir: '/work',
  containerRuntime: 'docker',
  ...extra,
});
const plan = (pipeline: Record<string, unknown>, trigger: Record<string, unknown> = {}, extra: Partial<PlanOptions> = {}): RunPlan => {
  const result = planRun(definition(pipeline), trigger, options(extra));
  if ('stop' in result) throw new Error(result.stop);
  return result.plan;
};

describe('secretVariable', () => {
  it.each([
    ['autofix_anthropic_api_key', 'TRIG_SECRET_AUTOFIX_ANTHROPIC_API_KEY'],
    ['account.harness_api_key', 'TRIG_SECRET_HARNESS_API_KEY'],
    ['org.team-token', 'TRIG_SECRET_TEAM_TOKEN'],
    ['anthropicKey', 'TRIG_SECRET_ANTHROPIC_KEY'],
  ])('%s → %s', (reference, variable) => expect(secretVariable(reference)).toBe(variable));
});

describe('pluginVariable', () => {
  it.each([
    ['repo', 'PLUGIN_REPO'],
    ['pr_number', 'PLUGIN_PR_NUMBER'],
    ['task-file.path', 'PLUGIN_TASK_FILE_PATH'],
  ])('%s → %s', (key, variable) => expect(pluginVariable(key)).toBe(variable));
});

describe('rewriteScript: payload values reach scripts as variables, never as code', () => {
  const scope = { trigger: { commentBody: '$(touch pwned)', branch: 'main' }, inputs: {} };

  it('replaces each distinct expression by one variable, keeping the quoting the author wrote', () => {
    expect(rewriteScript('echo "<+trigger.commentBody>" <+trigger.branch> <+trigger.commentBody>', 'sh', scope)).toEqual({
      script: 'echo "${TRIG_TRIGGER_COMMENT_BODY}" ${TRIG_TRIGGER_BRANCH} ${TRIG_TRIGGER_COMMENT_BODY}',
      env: { TRIG_TRIGGER_COMMENT_BODY: '$(touch pwned)', TRIG_TRIGGER_BRANCH: 'main' },
      secrets: [],
      problems: [],
    });
  });

  it('uses $env: in PowerShell and refuses to substitute into other languages', () => {
    expect(rewriteScript('Write-Output <+trigger.branch>', 'pwsh', scope).script).toBe('Write-Output $env:TRIG_TRIGGER_BRANCH');
    expect(rewriteScript('print("<+trigger.branch>")', 'python', scope)).toEqual({
      script: 'print("<+trigger.branch>")',
      env: {},
      secrets: [],
      problems: ['<+trigger.branch> is not substituted into a python script: pass it through env and read the variable'],
    });
  });
});

describe('resolveInputs', () => {
  const declared = {
    repo: { type: 'string', default: '<+trigger.repo>' },
    depth: { type: 'number', default: 1 },
    dryRun: { type: 'boolean' },
    token: { type: 'secret', default: 'account.deploy_token' },
    needed: { type: 'string', required: true },
  };

  it('takes --input first, then the default (which may read the trigger); secrets from TRIG_SECRET_*', () => {
    const result = resolveInputs(
      declared,
      { needed: 'x', depth: '5', dryRun: 'true' },
      { repo: 'acme/app' },
      { TRIG_SECRET_DEPLOY_TOKEN: 's3cr3t' },
    );
    expect(result.values).toEqual({ repo: 'acme/app', depth: 5, dryRun: true, token: 's3cr3t', needed: 'x' });
    expect(result.secrets).toEqual(['s3cr3t']);
    expect(result.stop).toBeUndefined();
  });

  it('stops on a required input without a value, and on a value of the wrong type', () => {
    expect(resolveInputs(declared, {}, {}, {}).stop).toBe('input "needed" is required and has no value (give --input needed=…)');
    expect(resolveInputs(declared, { needed: 'x', depth: 'deep' }, {}, {}).stop).toBe('input "depth" is a number; got "deep"');
  });

  it('warns once about a secret without a value, which is then empty', () => {
    const result = resolveInputs(declared, { needed: 'x' }, {}, {});
    expect(result.values.token).toBe('');
    expect(result.problems).toEqual([
      'input "repo": <+trigger.repo> has no value: the event does not carry "repo" and there is no input "repo"',
      'secret input "token" has no value: set TRIG_SECRET_DEPLOY_TOKEN',
    ]);
  });
});

describe('planRun', () => {
  it('plans script steps of every form with the env of definition, stage and step', () => {
    const result = plan(
      {
        env: { LEVEL: 'pipeline', A: '1' },
        stages: [
          {
            name: 'build',
            env: { LEVEL: 'stage' },
            steps: [
              'echo bare',
              { name: 'short', run: 'echo <+trigger.branch>' },
              { name: 'long', run: { shell: 'bash', script: ['set -x', 'make'], env: { LEVEL: 'step' } } },
            ],
          },
        ],
      },
      { branch: 'main' },
    );
    expect(result.stages[0]!.steps.map((s) => [s.name, s.kind, s.command, s.env])).toEqual([
      ['step-1', 'script', ['sh', '-e', '-c', 'echo bare'], { LEVEL: 'stage', A: '1' }],
      ['short', 'script', ['sh', '-e', '-c', 'echo ${TRIG_TRIGGER_BRANCH}'], { LEVEL: 'stage', A: '1', TRIG_TRIGGER_BRANCH: 'main' }],
      ['long', 'script', ['bash', '-e', '-c', 'set -x\nmake'], { LEVEL: 'step', A: '1' }],
    ]);
  });

  it('runs container steps through the engine, values by name only, settings as PLUGIN_*', () => {
    const result = plan(
      {
        stages: [
          {
            steps: [
              { name: 'scan', action: { uses: 'acme/scanner:1', with: { severity: ['high', 'critical'], target: '<+trigger.repo>' } } },
            ],
          },
        ],
      },
      { repo: 'acme/app' },
      { containerRuntime: 'podman' },
    );
    const step = result.stages[0]!.steps[0]!;
    expect(step.command).toEqual([
      'podman',
      'run',
      '--rm',
      '-v',
      '/work:/harness',
      '-w',
      '/harness',
      '-e',
      'PLUGIN_SEVERITY',
      '-e',
      'PLUGIN_TARGET',
      '-e',
      'TRIG_EVENT',
      '-e',
      'TRIG_DEFINITION',
      '-e',
      'TRIG_RUN_ID',
      'acme/scanner:1',
    ]);
    expect(step.env).toEqual({ PLUGIN_SEVERITY: 'high,critical', PLUGIN_TARGET: 'acme/app' });
  });

  it('reports the steps only a platform runs as skipped, and plans approvals as gates with their settings', () => {
    const result = plan(
      {
        approval: true,
        stages: [
          {
            steps: [
              { name: 'ok', approval: { uses: 'jira', with: { project: 'P', 'min-approvers': 2, message: 'ship <+trigger.branch>?' } } },
              { name: 'wait', barrier: { name: 'b' } },
            ],
          },
          { name: 'gate', approval: { uses: 'harness', with: { timeout: '30m', 'timeout-action': 'approve', approvers: ['ann'] } } },
        ],
      },
      { branch: 'main' },
    );
    const reason = 'the run waits here for a decision (trig approve)';
    expect(result.stages[0]!.steps.map((s) => [s.name, s.kind, s.reason])).toEqual([
      ['ok', 'approval', reason],
      ['wait', 'skipped', 'barriers synchronise stages on the platform; trig does not run them'],
    ]);
    const defaults = { uses: 'cli', timeout: '24h', timeoutMs: 86_400_000, timeoutAction: 'reject', minApprovers: 1, approvers: [] };
    expect(result.approval).toEqual(defaults);
    expect(result.stages[0]!.steps[0]!.approval).toEqual({
      ...defaults,
      uses: 'jira',
      minApprovers: 2,
      message: 'ship main?',
      channel: { project: 'P' },
    });
    expect(result.stages[1]).toEqual({
      name: 'gate',
      steps: [],
      approval: true,
      reason,
      gate: { ...defaults, timeout: '30m', timeoutMs: 1_800_000, timeoutAction: 'approve', approvers: ['ann'] },
    });
  });

  it('stops a definition whose required input has no value', () => {
    expect(planRun(definition({ inputs: { key: { type: 'secret', required: true } } }), {}, options())).toEqual({
      stop: 'secret input "key" has no value: set TRIG_SECRET_KEY',
      secrets: [],
    });
  });
});

describe('on-failure manual-intervention', () => {
  const onFailure = (action: unknown) =>
    plan({ stages: [{ name: 's', steps: [{ name: 't', run: { script: 'make' }, 'on-failure': { errors: 'all', action } }] }] }).stages[0]!
      .steps[0]!.onFailure;

  it('takes the defaults from the short form: 24h, then the run fails (abort)', () => {
    expect(onFailure('manual-intervention')).toEqual({
      errors: ['all'],
      action: 'manual-intervention',
      intervention: { timeout: '24h', timeoutMs: 86_400_000, timeoutAction: 'abort' },
    });
  });

  it('reads the timeout-action as what nobody deciding does: success ignores, a retry map carries its settings', () => {
    expect(onFailure({ 'manual-intervention': { timeout: '30m', 'timeout-action': 'success' } })?.intervention).toEqual({
      timeout: '30m',
      timeoutMs: 1_800_000,
      timeoutAction: 'ignore',
    });
    const retrying = { retry: { attempts: 10, interval: '30s', 'failure-action': 'success' } };
    expect(onFailure({ 'manual-intervention': { timeout: 60, 'timeout-action': retrying } })?.intervention).toEqual({
      timeout: '60s',
      timeoutMs: 60_000,
      timeoutAction: 'retry',
      timeoutRetry: { attempts: 10, intervalsMs: [30_000], failureAction: 'success' },
    });
    // What trig cannot do (a rollback), or a timeout it cannot read, falls back: abort, 24h (the rule says so).
    expect(onFailure({ 'manual-intervention': { timeout: '30 min', 'timeout-action': 'stage-rollback' } })?.intervention).toMatchObject({
      timeout: '24h',
      timeoutAction: 'abort',
    });
  });

  it("is a retry's failure-action with its own settings", () => {
    const action = { retry: { attempts: 2, 'failure-action': { 'manual-intervention': { timeout: '1h', 'timeout-action': 'ignore' } } } };
    expect(onFailure(action)?.retry).toEqual({
      attempts: 2,
      intervalsMs: [10_000],
      failureAction: 'manual-intervention',
      intervention: { timeout: '1h', timeoutMs: 3_600_000, timeoutAction: 'ignore' },
    });
  });
});
