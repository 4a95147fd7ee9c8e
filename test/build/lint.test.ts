import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { LAYERS } from '../../scripts/eslint/layers.mjs';
import { ROOT } from '../helpers/trig.js';

// The architecture is enforced by lint (eslint.config.js): trig/layers keeps imports
// pointing down the stage order, import-x/no-cycle refuses circles. These tests show each
// rule failing on a deliberately broken import, so a config change cannot silently turn
// them off.

const eslint = new ESLint({ cwd: ROOT });

async function messagesFor(file: string, code: string) {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result!.messages.map((m) => ({ rule: m.ruleId, message: m.message, line: m.line, column: m.column }));
}

describe('lint: the layers of src/', () => {
  it('names every folder of src/, lowest first', () => {
    expect(LAYERS).toEqual([
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
    ]);
  });

  it('refuses an import that runs back up the stage order', async () => {
    const messages = await messagesFor(
      'src/load/back-import.ts',
      "import { formatFireText } from '../report/fire-format.js';\nexport const f = formatFireText;\n",
    );
    expect(messages).toEqual([
      {
        rule: 'trig/layers',
        message:
          'load/ may not import from report/ (report comes after load in the layers: shared < catalog < lang < load < validate < match < resolve < plan < execute < report < store < fire < integrations < cli)',
        line: 1,
        column: 32,
      },
    ]);
  });

  it('refuses a dynamic import and a re-export that run back up too', async () => {
    const messages = await messagesFor(
      'src/validate/back.ts',
      "export { isDue } from '../lang/cron.js';\nexport * from '../match/match.js';\nexport const p = () => import('../plan/plan.js');\n",
    );
    expect(messages.map((m) => [m.rule, m.line])).toEqual([
      ['trig/layers', 2],
      ['trig/layers', 3],
    ]);
  });

  it('allows imports from the same folder and from the folders below', async () => {
    const messages = await messagesFor(
      'src/match/down.ts',
      "import { isRecord } from '../shared/records.js';\nimport { isDue } from '../lang/cron.js';\nimport { createMatcher } from './match.js';\nexport const all = [isRecord, isDue, createMatcher];\n",
    );
    expect(messages).toEqual([]);
  });

  it('refuses a folder the layer table does not name', async () => {
    const messages = await messagesFor('src/server/http.ts', 'export const x = 1;\n');
    expect(messages.map((m) => m.message)).toEqual(['src/server/ is not in the layer table of scripts/eslint/layers.mjs: add it there']);
  });

  it('refuses an import cycle', async () => {
    const a = path.join(ROOT, 'src/shared/lint-test-cycle-a.ts');
    const b = path.join(ROOT, 'src/shared/lint-test-cycle-b.ts');
    try {
      writeFileSync(a, "import { b } from './lint-test-cycle-b.js';\nexport const a = () => b;\n");
      writeFileSync(b, "import { a } from './lint-test-cycle-a.js';\nexport const b = () => a;\n");
      const [result] = await new ESLint({ cwd: ROOT, cache: false }).lintFiles([a]);
      expect(result!.messages.map((m) => [m.ruleId, m.line])).toEqual([['import-x/no-cycle', 1]]);
    } finally {
      rmSync(a, { force: true });
      rmSync(b, { force: true });
    }
  });
});
