import { suggest } from '../../shared/suggest.js';
import { isRecord, type Rule } from './rule.js';

const ROOTS = ['pipeline', 'agent'];

export const topLevelKey: Rule = {
  name: 'top-level-key',
  description: '`agents:` / `pipelines:` at the top level (did you mean `agent`?)',
  check(document, report) {
    const value = document.value;
    if (!isRecord(value)) return;
    const keys = Object.keys(value);
    for (const key of keys) {
      if (ROOTS.includes(key)) continue;
      // Only keys that can only have meant a root: a guess for `version` or `kind` is the schema's to make.
      const guess = suggest(key, ROOTS);
      if (!guess) continue;
      report({ path: [key], at: 'key', message: `unknown top-level key "${key}"; did you mean "${guess}"?` });
    }
    if (keys.includes('pipeline') && keys.includes('agent')) {
      const second = keys.indexOf('pipeline') < keys.indexOf('agent') ? 'agent' : 'pipeline';
      report({
        path: [second],
        at: 'key',
        message: `a definition has either "pipeline" or "agent", not both ("agent" is an alias of "pipeline"); put the second one in its own document`,
      });
    }
  },
};
