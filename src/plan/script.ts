import { scanExpressions } from '../lang/expressions.js';
import { lookupExpression, stringifyValue, type ResolveScope } from '../resolve/expressions.js';

// Expressions in a script are never pasted into its text: a payload value such as a
// comment body would then be parsed as shell code. Each distinct expression becomes an
// environment variable that trig sets, and the script reads that variable instead.

export interface RewrittenScript {
  script: string;
  env: Record<string, string>;
  secrets: string[];
  problems: string[];
}

const REFERENCE: Record<string, ((name: string) => string) | undefined> = {
  sh: (name) => `\${${name}}`,
  bash: (name) => `\${${name}}`,
  pwsh: (name) => `$env:${name}`,
  powershell: (name) => `$env:${name}`,
};

function variableName(raw: string, taken: Map<string, string>): string {
  const base =
    'TRIG_' +
    raw
      .slice(2, -1)
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/[^A-Za-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .toUpperCase();
  let name = base;
  for (let n = 2; [...taken.values()].includes(name); n++) name = `${base}_${n}`;
  return name;
}

export function rewriteScript(script: string, shell: string, scope: ResolveScope): RewrittenScript {
  const result: RewrittenScript = { script: '', env: {}, secrets: [], problems: [] };
  const expressions = scanExpressions(script);
  if (!expressions.length) return { ...result, script };
  const reference = REFERENCE[shell];
  const names = new Map<string, string>(); // expression text -> variable
  let out = '';
  let last = 0;
  for (const expr of expressions) {
    out += script.slice(last, expr.start);
    last = expr.end;
    const lookup = lookupExpression(expr, scope);
    if (lookup.problem) result.problems.push(lookup.problem);
    if (lookup.verbatim) {
      out += expr.raw;
      continue;
    }
    if (!reference) {
      result.problems.push(`${expr.raw} is not substituted into a ${shell} script: pass it through env and read the variable`);
      out += expr.raw;
      continue;
    }
    let name = names.get(expr.raw);
    if (!name) {
      name = variableName(expr.raw, names);
      names.set(expr.raw, name);
      const value = lookup.found ? stringifyValue(lookup.value) : '';
      result.env[name] = value;
      if (lookup.secret && value) result.secrets.push(value);
    }
    out += reference(name);
  }
  result.script = out + script.slice(last);
  return result;
}
