import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_SOURCES } from '../../src/store/store.js';
import { ROOT } from '../helpers/trig.js';

/** Every `source: {enum: […]}` in a JSON document. */
function sourceEnums(node: unknown, found: unknown[][] = []): unknown[][] {
  if (Array.isArray(node)) node.forEach((n) => sourceEnums(n, found));
  else if (node && typeof node === 'object') {
    const source = (node as { source?: { enum?: unknown } }).source;
    if (source && Array.isArray(source.enum)) found.push(source.enum as unknown[]);
    Object.values(node).forEach((n) => sourceEnums(n, found));
  }
  return found;
}

// The --json schemas list the sources an event can have; the store's list is the one truth
// (a `trig watch` event once broke both schemas).
describe('event sources in the output schemas', () => {
  for (const schema of ['history-output.schema.json', 'validate-history.schema.json']) {
    it(`${schema} lists every source the store records`, () => {
      const enums = sourceEnums(JSON.parse(readFileSync(path.join(ROOT, 'schemas', schema), 'utf8')));
      expect(enums.length).toBeGreaterThan(0);
      for (const list of enums) expect([...list].sort()).toEqual([...EVENT_SOURCES].sort());
    });
  }
});
