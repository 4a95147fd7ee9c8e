import { loadText } from '../../../src/load/load.js';
import type { Rule } from '../../../src/validate/rules/rule.js';
import { runRule } from '../../../src/validate/rules/rule.js';

/**
 * Runs one rule over every document of a YAML text. Each finding reads
 * `line:col severity: message @ marked`, where `marked` is the source text under the
 * span, so that a test shows at a glance which token a finding points at.
 */
export function check(rule: Rule, yaml: string): string[] {
  const loaded = loadText('test.yaml', yaml);
  if (loaded.diagnostics.length) throw new Error(`test YAML does not parse: ${loaded.diagnostics[0]!.message}`);
  const lines = yaml.split('\n');
  return loaded.documents.flatMap((document) =>
    runRule(rule, document).map((d) => {
      const line = lines[d.line - 1]!;
      const marked = d.endLine === d.line ? line.slice(d.col - 1, d.endCol - 1) : `${line.slice(d.col - 1)}…`;
      return `${d.line}:${d.col} ${d.severity}: ${d.message} @ ${marked}`;
    }),
  );
}
