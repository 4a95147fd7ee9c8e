import type { ParsedDefinition } from '../load/load.js';
import { compareDiagnostics, type Diagnostic } from '../shared/diagnostic.js';
import { RULES } from './rules/index.js';
import { problemSpan, runRule, type RuleProblem } from './rules/rule.js';
import { schemaProblems } from './schema.js';

function toDiagnostic(document: ParsedDefinition, problem: RuleProblem, rule: string): Diagnostic {
  const span = problemSpan(document, problem);
  return { file: document.file, ...span, severity: problem.severity ?? 'error', message: problem.message, rule };
}

/**
 * Every problem of one document: the schema's and the rules'. Where a rule reports at
 * the same position as the schema, the rule's message is kept: it knows more (a
 * did-you-mean, the event's own filters) than the schema's generic one.
 */
export function validateDocument(document: ParsedDefinition): Diagnostic[] {
  const fromRules = RULES.flatMap((rule) => runRule(rule, document));
  const taken = new Set(fromRules.map((d) => `${d.line}:${d.col}`));
  const fromSchema = schemaProblems(document.value)
    .map((problem) => toDiagnostic(document, problem, 'schema'))
    .filter((d) => !taken.has(`${d.line}:${d.col}`));
  return [...fromSchema, ...fromRules].sort(compareDiagnostics);
}
