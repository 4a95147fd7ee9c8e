// ESLint rule trig/layers: data flows one way through src/, so a module may import only
// from its own folder and from the folders below it in LAYERS. The table is the single
// statement of the architecture (README "Design" shows the same order).
import path from 'node:path';

/** Lowest first. */
export const LAYERS = [
  'shared',
  'catalog',
  'lang',
  'load',
  'validate',
  'match',
  'resolve',
  'plan',
  'execute',
  'report',
  'store',
  'fire',
  'integrations',
  'cli',
];

/** The top folder under src/ that a file belongs to, or undefined outside src/. */
function layerOf(file, srcDir) {
  const rel = path.relative(srcDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep)[0];
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports point down the stage order (load → validate → match → resolve → plan → execute → report)' },
    schema: [],
    messages: {
      up: '{{from}}/ may not import from {{to}}/ ({{to}} comes after {{from}} in the layers: {{order}})',
      unknown: 'src/{{folder}}/ is not in the layer table of scripts/eslint/layers.mjs: add it there',
    },
  },
  create(context) {
    const file = context.filename;
    const srcDir = path.join(context.cwd, 'src');
    const from = layerOf(file, srcDir);
    if (from === undefined || (!from.includes(path.sep) && from.endsWith('.ts'))) return {};
    if (!LAYERS.includes(from)) {
      return { Program: (node) => context.report({ node, messageId: 'unknown', data: { folder: from } }) };
    }
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = layerOf(path.resolve(path.dirname(file), source), srcDir);
      if (to === undefined || to === from || !LAYERS.includes(to)) return;
      if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) {
        context.report({ node, messageId: 'up', data: { from, to, order: LAYERS.join(' < ') } });
      }
    };
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};

export default { rules: { layers: rule } };
