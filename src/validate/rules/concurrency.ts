import type { DocPath } from '../../load/triggers.js';
import { namespaceKind, scanExpressions } from '../../lang/expressions.js';
import { isRecord, type Rule, type RuleProblem } from './rule.js';

// trig resolves a concurrency group when the event fires, before anything runs, and keeps
// the name with each run in the store: only what the event and the inputs carry can be in
// it, and never a secret (malformed and misspelt expressions are the expression rule's).

/** Why an expression cannot be in a concurrency value, if it cannot. */
function unresolvable(namespace: string, path: readonly string[], secretInputs: readonly string[]): string | undefined {
  if (namespace === 'secrets' || (namespace === 'inputs' && secretInputs.includes(path[0] ?? ''))) {
    return 'concurrency must not hold a secret: the group is stored with every run and shown';
  }
  if (namespaceKind(namespace) === 'runtime') {
    return `"${namespace}" has a value only while the pipeline runs on the platform, and trig settles concurrency before the run; use <+trigger.…> or <+inputs.…>`;
  }
  return undefined;
}

function checkExpressions(text: string, path: DocPath, secretInputs: readonly string[], report: (problem: RuleProblem) => void): void {
  for (const found of scanExpressions(text)) {
    if (found.error || !found.ref) continue;
    const why = found.complex
      ? 'trig resolves plain references (<+trigger.branch>, <+inputs.name>), not methods or operators'
      : unresolvable(found.ref.namespace, found.ref.path, secretInputs);
    if (why) report({ path, within: { start: found.start, end: found.end }, message: `${found.raw}: ${why}` });
  }
}

export const concurrency: Rule = {
  name: 'concurrency',
  description:
    'an empty `concurrency` group; in the group or `cancel-in-progress`, expressions trig cannot resolve when the ' +
    'event fires (`<+pipeline.…>` and other platform namespaces, methods) and secrets (`<+secrets.…>`, secret inputs), ' +
    "since the name is stored with every run; a stage's `concurrency`, which trig does not apply (warning)",
  check(document, report) {
    const root = document.root;
    const body = document.body;
    if (!root || !body) return;
    const inputs = isRecord(body.inputs) ? body.inputs : {};
    const secretInputs = Object.keys(inputs).filter((name) => isRecord(inputs[name]) && inputs[name].type === 'secret');
    const value = body.concurrency;
    const short = typeof value === 'string';
    const group = short ? value : isRecord(value) ? value.group : undefined;
    const groupPath: DocPath = short ? [root, 'concurrency'] : [root, 'concurrency', 'group'];
    if (typeof group === 'string') {
      if (group.trim() === '') {
        report({ path: groupPath, message: 'the concurrency group is empty; name it (for example ci-<+trigger.branch>)' });
      }
      checkExpressions(group, groupPath, secretInputs, report);
    }
    const cancel = isRecord(value) ? value['cancel-in-progress'] : undefined;
    if (typeof cancel === 'string') checkExpressions(cancel, [root, 'concurrency', 'cancel-in-progress'], secretInputs, report);

    if (Array.isArray(body.stages)) {
      body.stages.forEach((stage, i) => {
        if (!isRecord(stage) || stage.concurrency === undefined) return;
        report({
          path: [root, 'stages', i, 'concurrency'],
          at: 'key',
          severity: 'warning',
          message:
            "trig does not apply a stage's concurrency (the platform does); a concurrency group for trig's runs goes on the pipeline",
        });
      });
    }
  },
};
