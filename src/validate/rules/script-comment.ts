import { isScalar, Scalar } from 'yaml';
import type { DocPath } from '../../load/triggers.js';
import { isRecord, type Rule } from './rule.js';

// Maps under these keys are data handed to steps, never scripts.
const DATA_KEYS = new Set(['env', 'with', 'inputs']);

/**
 * The paths of every script string: a bare string step, `run:` as a string, and
 * `run.script` (a string or a list of lines), in steps at any depth (groups, parallel).
 */
function* scripts(value: unknown, path: DocPath): Generator<DocPath> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* scripts(item, [...path, i]);
    return;
  }
  if (!isRecord(value)) return;
  for (const [key, item] of Object.entries(value)) {
    if (DATA_KEYS.has(key)) continue;
    const at = [...path, key];
    if (key === 'steps' && Array.isArray(item)) {
      for (const [i, step] of item.entries()) {
        if (typeof step === 'string') yield [...at, i];
        else yield* scripts(step, [...at, i]);
      }
    } else if (key === 'run' && typeof item === 'string') yield at;
    else if (key === 'script' && typeof item === 'string') yield at;
    else if (key === 'script' && Array.isArray(item)) {
      for (const [i, line] of item.entries()) if (typeof line === 'string') yield [...at, i];
    } else yield* scripts(item, at);
  }
}

export const scriptComment: Rule = {
  name: 'script-comment',
  description:
    'a script written unquoted and followed by ` #…` on its line, which YAML reads as a comment, so the ' +
    'script ends before it (`run: echo "a # b"` runs `echo "a`) (warning; quote the script or use `run: |`)',
  check(document, report) {
    if (!document.root || !document.body) return;
    const text = document.source.text;
    for (const path of scripts(document.body, [document.root])) {
      const node = document.doc.getIn(path, true);
      if (!isScalar(node) || node.type !== Scalar.PLAIN || !node.range) continue;
      const end = node.range[1];
      const lineEnd = text.indexOf('\n', end);
      const rest = text.slice(end, lineEnd === -1 ? text.length : lineEnd).replace(/\r$/, '');
      if (!/^[ \t]+#/.test(rest)) continue;
      const comment = rest.trim();
      report({
        path,
        severity: 'warning',
        message: `YAML reads ${JSON.stringify(comment)} after this script as a comment, so the script ends at ${JSON.stringify(String(node.value).split('\n').at(-1))}; quote the script or write it as a block scalar (run: |) to keep it`,
      });
    }
  },
};
