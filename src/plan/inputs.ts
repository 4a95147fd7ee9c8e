import { isRecord } from '../shared/records.js';
import { scanExpressions } from '../lang/expressions.js';
import { resolveDeep, type ResolveScope } from '../resolve/expressions.js';
import { secretVariable } from './secrets.js';

export interface ResolvedInputs {
  values: Record<string, unknown>;
  secretInputs: Set<string>;
  /** Secret values, to be masked in every output. */
  secrets: string[];
  /** The TRIG_SECRET_* variables the secret inputs read, set or not. */
  secretVariables: string[];
  problems: string[];
  /** Why the definition cannot run (a required input without a value), if it cannot. */
  stop?: string;
}

function coerce(name: string, type: unknown, raw: string): { value: unknown } | { error: string } {
  if (type === 'number') {
    const n = Number(raw);
    return raw.trim() !== '' && Number.isFinite(n) ? { value: n } : { error: `input "${name}" is a number; got "${raw}"` };
  }
  if (type === 'boolean') {
    if (raw === 'true' || raw === 'false') return { value: raw === 'true' };
    return { error: `input "${name}" is a boolean (true or false); got "${raw}"` };
  }
  return { value: raw };
}

/**
 * Values of a definition's inputs: `--input` first, then the input's `default` (which may
 * itself read the trigger: `default: <+trigger.repo>`). Secret inputs are read from the
 * environment (see secrets.ts).
 */
export function resolveInputs(
  declared: unknown,
  given: Readonly<Record<string, string>>,
  trigger: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): ResolvedInputs {
  // Input names are the user's words: `constructor` or `toString` must not find what
  // every object inherits, so values live in an object without a prototype, and names
  // are looked up among own keys only.
  const result: ResolvedInputs = {
    values: Object.create(null) as Record<string, unknown>,
    secretInputs: new Set(),
    secrets: [],
    secretVariables: [],
    problems: [],
  };
  const inputs = isRecord(declared) ? declared : {};
  // Inputs not declared may still be read by <+inputs.x>: keep them as strings.
  for (const [name, raw] of Object.entries(given)) if (!Object.hasOwn(inputs, name)) result.values[name] = raw;

  const scope: ResolveScope = { trigger, inputs: {} };
  for (const [name, spec] of Object.entries(inputs)) {
    const input = isRecord(spec) ? spec : {};
    const required = input.required === true;
    if (input.type === 'secret') {
      result.secretInputs.add(name);
      const reference =
        (Object.hasOwn(given, name) ? given[name] : undefined) ?? (typeof input.default === 'string' ? input.default : name);
      const variable = secretVariable(reference);
      result.secretVariables.push(variable);
      const value = env[variable];
      if (value === undefined) {
        const message = `secret input "${name}" has no value: set ${variable}`;
        if (required) {
          result.stop ??= message;
        } else {
          // Said once here; the expressions that read it then resolve to "" without a word each.
          result.problems.push(message);
          result.values[name] = '';
        }
        continue;
      }
      result.values[name] = value;
      if (value !== '') result.secrets.push(value);
      continue;
    }
    if (Object.hasOwn(given, name)) {
      const coerced = coerce(name, input.type, given[name]!);
      if ('error' in coerced) {
        result.stop ??= coerced.error;
        continue;
      }
      result.values[name] = coerced.value;
      continue;
    }
    if (input.default !== undefined) {
      const resolved = resolveDeep(input.default, scope);
      result.values[name] = resolved.value;
      result.problems.push(...resolved.problems.map((p) => `input "${name}": ${p}`));
      continue;
    }
    if (required) result.stop ??= `input "${name}" is required and has no value (give --input ${name}=…)`;
  }
  return result;
}

export interface InputNames {
  /** The inputs the definition declares. */
  declared: string[];
  /** Names read as `<+trigger.x>`, which an input x backs when the event does not carry x. */
  fallbacks: string[];
}

/** The names a definition gives `--input` a use for. */
export function inputNames(body: Record<string, unknown> | undefined): InputNames {
  const declared = isRecord(body?.inputs) ? Object.keys(body.inputs) : [];
  const fallbacks = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const { ref } of scanExpressions(value)) {
        const field = ref?.namespace === 'trigger' ? ref.path[0] : undefined;
        if (field !== undefined && field !== 'payload') fallbacks.add(field);
      }
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (isRecord(value)) Object.values(value).forEach(visit);
  };
  visit(body);
  return { declared, fallbacks: [...fallbacks] };
}
