import { isRecord } from '../shared/records.js';
import { findProgram } from '../shared/programs.js';
import path from 'node:path';
import type { Definition } from '../load/definition.js';
import { resolveDeep, resolveString, type ResolveScope } from '../resolve/expressions.js';
import { planConcurrency, type ConcurrencyGroup } from './concurrency.js';
import { resolveInputs } from './inputs.js';
import { rewriteScript } from './script.js';
import { parseDuration } from '../shared/duration.js';
import {
  actionName,
  INTERVENTION_DEFAULTS,
  RETRY_DEFAULTS,
  retryAttempts,
  timeoutDecision,
  type InterventionPolicy,
  type RetryPolicy,
} from '../shared/retry.js';
import { approvalSettings, type ApprovalSettings } from '../shared/approval.js';

export type StepKind = 'script' | 'container' | 'group' | 'parallel' | 'skipped' | 'approval';

/** `on-failure` of a stage or step: which failures it covers and what to do about them. */
export interface FailurePolicy {
  errors: string[];
  action: string;
  exitCodes?: string[];
  /** With action `retry`: its settings, defaults filled in. */
  retry?: RetryPolicy;
  /** With action `manual-intervention`: its settings, defaults filled in. */
  intervention?: InterventionPolicy;
}

export type { InterventionPolicy, RetryPolicy };

/** An approval gate as planned: its settings, the message resolved (expressions replaced). */
export interface PlannedApproval extends ApprovalSettings {
  timeoutMs: number;
}

export interface PlanStep {
  name: string;
  kind: StepKind;
  /** The `if:` condition as written; evaluated when the run reaches the step. */
  if?: string;
  timeout?: string;
  onFailure?: FailurePolicy;
  shell?: string;
  /** The script as it will run: expressions replaced by variables set in `env`. */
  script?: string;
  image?: string;
  with?: Record<string, unknown>;
  /** The argv trig launches. */
  command?: string[];
  /** Fully resolved: definition, stage and step env, and the variables the script reads. */
  env: Record<string, string>;
  steps?: PlanStep[];
  /** Why a skipped step is not run, or why an approval stops the run. */
  reason?: string;
  /** An approval step's gate. */
  approval?: PlannedApproval;
  problems: string[];
}

export interface PlanStage {
  name: string;
  if?: string;
  onFailure?: FailurePolicy;
  steps: PlanStep[];
  /** Why the stage is not run (a template), or why it stops the run (an approval). */
  reason?: string;
  /** An approval stage: reaching it waits for a decision (trig approve). */
  approval?: boolean;
  /** The approval stage's gate. */
  gate?: PlannedApproval;
}

export interface RunPlan {
  inputs: Record<string, unknown>;
  if?: string;
  timeout?: string;
  clone?: unknown;
  env: Record<string, string>;
  stages: PlanStage[];
  /** `approval:` on the definition: the run waits for a decision before its first stage. */
  approval?: PlannedApproval;
  problems: string[];
  /** Values to mask in every output; never serialised. */
  secrets: string[];
  /**
   * The TRIG_SECRET_* variables this definition declares (its secret inputs): the only
   * ones its steps inherit from trig's environment. Never serialised.
   */
  secretVariables: string[];
  /** The definition's concurrency group, resolved: at most one running and one waiting run per name. */
  concurrency?: ConcurrencyGroup;
}

export interface PlanOptions {
  inputs: Readonly<Record<string, string>>;
  env: NodeJS.ProcessEnv;
  workdir: string;
  containerRuntime: string;
}

export type PlanResult = { plan: RunPlan } | { stop: string; secrets: string[] };

// A number of seconds is a duration too (the schema allows both).
function timeoutOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return `${value}s`;
  return undefined;
}

/** The settings of `retry`; what is missing or unusable takes its default (the retry rule reports it). */
function retryPolicy(value: unknown): RetryPolicy {
  const settings = isRecord(value) ? value : {};
  const intervals = [settings.interval ?? RETRY_DEFAULTS.interval]
    .flat()
    .map((text) => (typeof text === 'number' ? text * 1000 : typeof text === 'string' ? parseDuration(text) : undefined))
    .filter((ms): ms is number => ms !== undefined && ms > 0);
  const named = actionName(settings['failure-action']);
  const failureAction = named && named !== 'retry' ? named : RETRY_DEFAULTS.failureAction;
  return {
    attempts: retryAttempts(settings.attempts) ?? RETRY_DEFAULTS.attempts,
    intervalsMs: intervals.length ? intervals : [parseDuration(RETRY_DEFAULTS.interval)!],
    failureAction,
    ...(failureAction === 'manual-intervention'
      ? { intervention: interventionPolicy(settingsOf(settings['failure-action'], failureAction)) }
      : {}),
  };
}

/** The settings of a failure action written as a map (`{retry: {…}}`), if it is one. */
function settingsOf(action: unknown, name: string): unknown {
  return isRecord(action) ? action[name] : undefined;
}

/** The settings of `manual-intervention`; what is missing or unusable takes its default (the manual-intervention rule reports it). */
function interventionPolicy(value: unknown): InterventionPolicy {
  const settings = isRecord(value) ? value : {};
  const written = timeoutOf(settings.timeout);
  const writtenMs = written === undefined ? undefined : parseDuration(written);
  const timeout = writtenMs ? written! : INTERVENTION_DEFAULTS.timeout;
  const action = settings['timeout-action'];
  const timeoutAction = timeoutDecision(actionName(action) ?? INTERVENTION_DEFAULTS.timeoutAction);
  return {
    timeout,
    timeoutMs: writtenMs || parseDuration(INTERVENTION_DEFAULTS.timeout)!,
    timeoutAction,
    ...(timeoutAction === 'retry' ? { timeoutRetry: retryPolicy(settingsOf(action, 'retry')) } : {}),
  };
}

function failurePolicy(value: unknown): FailurePolicy | undefined {
  if (!isRecord(value)) return undefined;
  const errors = value.errors === undefined ? ['all'] : [value.errors].flat().map(String);
  const action = actionName(value.action);
  if (action === undefined) return undefined;
  const policy: FailurePolicy = { errors, action };
  if (value.exitcode !== undefined) policy.exitCodes = [value.exitcode].flat().map(String);
  if (action === 'retry') policy.retry = retryPolicy(settingsOf(value.action, action));
  if (action === 'manual-intervention') policy.intervention = interventionPolicy(settingsOf(value.action, action));
  return policy;
}

const INTERPRETERS: Record<string, (script: string) => string[]> = {
  sh: (s) => ['sh', '-e', '-c', s],
  bash: (s) => ['bash', '-e', '-c', s],
  pwsh: (s) => ['pwsh', '-NoLogo', '-NonInteractive', '-Command', s],
  powershell: (s) => ['pwsh', '-NoLogo', '-NonInteractive', '-Command', s],
  python: (s) => ['python3', '-c', s],
};

/**
 * An approval guards what comes after it: skipping it would run a deploy nobody approved.
 * A recorded run waits there for a decision (trig approve); one that cannot wait (not
 * recorded in the store, or inside a parallel block) stops there (status `blocked`).
 */
export const APPROVAL_REASON = 'the run waits here for a decision (trig approve)';

/** Kinds of steps that only a platform can carry out; shown as skipped, never passed silently. */
const PLATFORM_ONLY: Record<string, string> = {
  barrier: 'barriers synchronise stages on the platform; trig does not run them',
  queue: 'queues are a platform resource; trig does not run them',
  'run-test': "run-test steps need the platform's test intelligence; trig does not run them",
  background: 'background services are not started by trig',
};

/** Variables the execute stage sets for every step that container steps pass on. */
const CONTAINER_RUN_VARIABLES = ['TRIG_EVENT', 'TRIG_DEFINITION', 'TRIG_RUN_ID'];

/** drone-style plugin settings: `with: {repo: x}` becomes PLUGIN_REPO=x. */
export function pluginVariable(key: string): string {
  return 'PLUGIN_' + key.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
}

function settingValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.join(',');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value ?? '');
}

/**
 * Why the engine's command line would not mean what trig means, if it would not: a value
 * placed before the image that begins with `-` is read by the engine as an option (an image
 * `--privileged` from a payload), and `-v` cannot mount a path with `:` in it.
 */
function engineArgvProblem(
  runtime: string,
  mount: string,
  names: readonly string[],
  entrypoint: string | undefined,
  image: string,
): string | undefined {
  if (mount.includes(':')) return `--workdir ${JSON.stringify(mount)} contains ":", which ${runtime}'s -v cannot mount`;
  const values: [string, string][] = [...names.map((name): [string, string] => ['variable name', name]), ['container image', image]];
  if (entrypoint !== undefined) values.push(['shell', entrypoint]);
  for (const [what, value] of values) {
    if (value.startsWith('-')) return `the ${what} ${JSON.stringify(value)} begins with "-" (${runtime} would take it for an option)`;
  }
  return undefined;
}

class Planner {
  readonly secrets = new Set<string>();
  readonly problems: string[] = [];
  /** Why the definition must not run at all (the first reason found). */
  stop: string | undefined;
  private defaultShell: string | undefined;

  constructor(
    private readonly scope: ResolveScope,
    private readonly options: PlanOptions,
  ) {}

  private note(secrets: string[], problems: string[], into: string[]): void {
    secrets.forEach((s) => this.secrets.add(s));
    for (const p of problems) if (!into.includes(p)) into.push(p);
  }

  resolveEnv(value: unknown, into: string[]): Record<string, string> {
    const env: Record<string, string> = {};
    if (!isRecord(value)) return env;
    for (const [key, raw] of Object.entries(value)) {
      const resolved = resolveString(typeof raw === 'string' ? raw : JSON.stringify(raw ?? ''), this.scope);
      this.note(resolved.secrets, resolved.problems, into);
      env[key] = typeof raw === 'string' ? resolved.value : settingValue(raw);
    }
    return env;
  }

  resolveValue(value: unknown, into: string[]): unknown {
    const resolved = resolveDeep(value, this.scope);
    this.note(resolved.secrets, resolved.problems, into);
    return resolved.value;
  }

  private shellFor(requested: unknown): string {
    if (typeof requested === 'string' && requested) return requested;
    this.defaultShell ??= findProgram('bash', this.options.env, this.options.workdir) !== undefined ? 'bash' : 'sh';
    return this.defaultShell;
  }

  private scriptStep(step: PlanStep, script: string, shell: string): void {
    const rewritten = rewriteScript(script, shell, this.scope);
    this.note(rewritten.secrets, rewritten.problems, step.problems);
    step.shell = shell;
    step.script = rewritten.script;
    Object.assign(step.env, rewritten.env);
  }

  private containerStep(step: PlanStep, image: string, settings: unknown): void {
    step.kind = 'container';
    step.image = image;
    if (isRecord(settings)) {
      step.with = this.resolveValue(settings, step.problems) as Record<string, unknown>;
      for (const [key, value] of Object.entries(step.with)) step.env[pluginVariable(key)] = settingValue(value);
    }
    // A relative path would be taken by the engine for the name of a volume.
    const mount = path.resolve(this.options.workdir);
    const names = Object.keys(step.env).sort();
    const entrypoint = step.script !== undefined ? (step.shell ?? 'sh') : undefined;
    const problem = engineArgvProblem(this.options.containerRuntime, mount, names, entrypoint, image);
    if (problem) this.stop ??= `step ${step.name}: ${problem}`;
    // Values travel in the engine's environment (`-e NAME`), never on its command line.
    const command = [this.options.containerRuntime, 'run', '--rm', '-v', `${mount}:/harness`, '-w', '/harness'];
    for (const name of names) command.push('-e', name);
    // The run's identity goes in too; TRIG_PAYLOAD does not, as it is a path on this machine.
    for (const name of CONTAINER_RUN_VARIABLES) command.push('-e', name);
    if (entrypoint !== undefined) command.push('--entrypoint', entrypoint, image, '-c', step.script!);
    else command.push(image);
    step.command = command;
  }

  /** A gate's settings, its message resolved (its secrets masked wherever it is shown). */
  approval(value: unknown, problems: string[]): PlannedApproval {
    const settings = approvalSettings(value);
    const gate: PlannedApproval = { ...settings, timeoutMs: parseDuration(settings.timeout) ?? parseDuration('24h')! };
    if (settings.message !== undefined) gate.message = String(this.resolveValue(settings.message, problems));
    return gate;
  }

  step(raw: unknown, index: number, inherited: Record<string, string>): PlanStep {
    const problems: string[] = [];
    if (typeof raw === 'string') {
      const step: PlanStep = { name: `step-${index + 1}`, kind: 'script', env: { ...inherited }, problems };
      this.scriptStep(step, raw, this.shellFor(undefined));
      step.command = INTERPRETERS[step.shell!]?.(step.script!) ?? [step.shell!, '-c', step.script!];
      return step;
    }
    const body = isRecord(raw) ? raw : {};
    const name = typeof body.name === 'string' ? body.name : typeof body.id === 'string' ? body.id : `step-${index + 1}`;
    const step: PlanStep = { name, kind: 'script', env: { ...inherited, ...this.resolveEnv(body.env, problems) }, problems };
    if (typeof body.if === 'string') step.if = body.if;
    const timeout = timeoutOf(body.timeout);
    if (timeout !== undefined) step.timeout = timeout;
    const onFailure = failurePolicy(body['on-failure']);
    if (onFailure) step.onFailure = onFailure;

    if ('approval' in body) return { ...step, kind: 'approval', reason: APPROVAL_REASON, approval: this.approval(body.approval, problems) };
    for (const [kind, reason] of Object.entries(PLATFORM_ONLY)) {
      if (kind in body) return { ...step, kind: 'skipped', reason };
    }
    for (const kind of ['group', 'parallel'] as const) {
      if (kind in body) {
        const nested = isRecord(body[kind]) ? (body[kind] as Record<string, unknown>).steps : undefined;
        const steps = Array.isArray(nested) ? nested.map((s, i) => this.step(s, i, step.env)) : [];
        return { ...step, kind, steps };
      }
    }
    if ('run' in body) {
      const run = typeof body.run === 'string' ? { script: body.run } : isRecord(body.run) ? body.run : {};
      Object.assign(step.env, this.resolveEnv(run.env, problems));
      const script = Array.isArray(run.script) ? run.script.join('\n') : typeof run.script === 'string' ? run.script : undefined;
      const container = typeof run.container === 'string' ? run.container : isRecord(run.container) ? run.container.image : undefined;
      if (script !== undefined) this.scriptStep(step, script, this.shellFor(run.shell));
      if (typeof container === 'string') {
        const image = this.resolveValue(container, problems);
        this.containerStep(step, String(image), run.with);
        return step;
      }
      if (script === undefined) return { ...step, kind: 'skipped', reason: 'the run step has neither a script nor a container' };
      step.command = INTERPRETERS[step.shell!]?.(step.script!) ?? [step.shell!, '-c', step.script!];
      return step;
    }
    for (const kind of ['agent', 'template', 'action']) {
      const spec = body[kind];
      if (spec === undefined) continue;
      const uses = isRecord(spec) ? spec.uses : undefined;
      if (typeof uses !== 'string') return { ...step, kind: 'skipped', reason: `the ${kind} step names no image in "uses"` };
      if (isRecord(spec)) Object.assign(step.env, this.resolveEnv(spec.env, problems));
      this.containerStep(step, String(this.resolveValue(uses, problems)), isRecord(spec) ? spec.with : undefined);
      return step;
    }
    return { ...step, kind: 'skipped', reason: 'trig does not know how to run this kind of step' };
  }

  stages(raw: unknown, inherited: Record<string, string>, prefix = ''): PlanStage[] {
    if (!Array.isArray(raw)) return [];
    return raw.flatMap((value, index): PlanStage[] => {
      const body = isRecord(value) ? value : {};
      const name = prefix + (typeof body.name === 'string' ? body.name : typeof body.id === 'string' ? body.id : `stage-${index + 1}`);
      for (const kind of ['group', 'parallel']) {
        const nested = isRecord(body[kind]) ? (body[kind] as Record<string, unknown>).stages : undefined;
        if (Array.isArray(nested)) return this.stages(nested, inherited, `${name}/`);
      }
      const stage: PlanStage = { name, steps: [] };
      if (typeof body.if === 'string') stage.if = body.if;
      const onFailure = failurePolicy(body['on-failure']);
      if (onFailure) stage.onFailure = onFailure;
      if ('approval' in body) {
        stage.approval = true;
        stage.reason = APPROVAL_REASON;
        stage.gate = this.approval(body.approval, this.problems);
        return [stage];
      }
      if ('template' in body) {
        stage.reason = 'template stages run on the platform; trig does not run them';
        return [stage];
      }
      const env = { ...inherited, ...this.resolveEnv(body.env, this.problems) };
      stage.steps = Array.isArray(body.steps) ? body.steps.map((s, i) => this.step(s, i, env)) : [];
      return [stage];
    });
  }
}

/** The run plan of one matched definition for one trigger context, or why it cannot run. */
export function planRun(document: Definition, trigger: Record<string, unknown>, options: PlanOptions): PlanResult {
  const body = document.body ?? {};
  const inputs = resolveInputs(body.inputs, options.inputs, trigger, options.env);
  if (inputs.stop) return { stop: inputs.stop, secrets: inputs.secrets };
  const scope: ResolveScope = { trigger, inputs: inputs.values, secretInputs: inputs.secretInputs };
  const planner = new Planner(scope, options);
  inputs.secrets.forEach((s) => planner.secrets.add(s));
  planner.problems.push(...inputs.problems);
  const env = planner.resolveEnv(body.env, planner.problems);
  const plan: RunPlan = {
    inputs: inputs.values,
    env,
    stages: planner.stages(body.stages, env),
    problems: planner.problems,
    secrets: [],
    secretVariables: inputs.secretVariables,
  };
  if (typeof body.if === 'string') plan.if = body.if;
  if (body.approval !== undefined && body.approval !== false) plan.approval = planner.approval(body.approval, plan.problems);
  const timeout = timeoutOf(body.timeout);
  if (timeout !== undefined) plan.timeout = timeout;
  if (body.clone !== undefined) plan.clone = planner.resolveValue(body.clone, plan.problems);
  if (planner.stop) return { stop: planner.stop, secrets: [...planner.secrets] };
  const concurrency = planConcurrency(body.concurrency, scope);
  if (concurrency.stop !== undefined)
    return { stop: concurrency.stop, secrets: [...new Set([...planner.secrets, ...concurrency.secrets])] };
  if (concurrency.group) plan.concurrency = concurrency.group;
  plan.problems.push(...concurrency.problems);
  plan.secrets = [...planner.secrets];
  return { plan };
}
