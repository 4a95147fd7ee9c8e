import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { schemaProblems } from '../helpers/schema.js';
import { ROOT, trig } from '../helpers/trig.js';

// Conformance with the upstream pipeline spec (bradrydzewski/spec): its samples sit beside
// the clone in ../shared/corpus/spec-samples, which a fresh clone does not have. So these
// tests are not part of `npm test`; `npm run conformance` runs them, and .ci/run does
// whenever ../shared is there.

const SPEC_SAMPLES = '../shared/corpus/spec-samples';
const CORPUS = join(ROOT, SPEC_SAMPLES);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return yamlFiles(path);
      return /\.ya?ml$/.test(name) ? [path] : [];
    })
    .sort();
}

describe('the upstream spec samples', () => {
  beforeAll(() => {
    if (!existsSync(CORPUS)) throw new Error(`${CORPUS} is missing: conformance needs the spec samples beside the clone`);
  });

  it('every pipeline document passes the definition schema', () => {
    const failures: string[] = [];
    const skipped: Record<string, number> = {};
    let checked = 0;
    for (const file of yamlFiles(CORPUS)) {
      parseAllDocuments(readFileSync(file, 'utf8')).forEach((doc, index) => {
        const data = doc.toJS() as unknown;
        const isMapping = typeof data === 'object' && data !== null && !Array.isArray(data);
        if (!isMapping || !('pipeline' in data || 'agent' in data)) {
          const kind = isMapping ? Object.keys(data)[0]! : Array.isArray(data) ? 'list' : String(data);
          skipped[kind] = (skipped[kind] ?? 0) + 1;
          return;
        }
        checked++;
        for (const p of schemaProblems(data)) {
          failures.push(`${relative(CORPUS, file)} doc ${index}: ${p.path.join('.')}: ${p.message}`);
        }
      });
    }
    expect(failures).toEqual([]);
    // Guards against the corpus silently going missing or the filter skipping pipelines.
    expect(checked).toBe(124);
    expect(skipped).toEqual({ template: 8, environment: 1, jobs: 3, list: 1 });
  });

  it('trig validate accepts every pipeline and skips the other kinds with a note', () => {
    const text = trig(['validate', SPEC_SAMPLES]);
    expect(text.code).toBe(0);
    const notes = text.stdout.split('\n').filter((line) => / note: skipped a/.test(line));
    expect(notes).toHaveLength(13);
    expect(text.stdout).toContain(`${SPEC_SAMPLES}/samples/environment.yaml:1:1: note: skipped an environment document`);

    const json = JSON.parse(trig(['validate', '--format', 'json', SPEC_SAMPLES]).stdout);
    expect(json.errors).toBe(0);
    expect(json.files).toBe(44);
    expect(json.definitions).toBe(124);
    expect(json.skipped).toHaveLength(13);
    // Harness namespaces trig does not know are only warnings (one sample misspells one as "sterraform"),
    // and so are the samples' `if: ${{ … }}` conditions, which trig cannot evaluate.
    for (const d of json.diagnostics)
      expect(d).toMatchObject({ severity: 'warning', rule: expect.stringMatching(/^(expression|condition)$/) });
    expect(json.diagnostics.filter((d: { rule: string }) => d.rule === 'condition')).toHaveLength(7);
  });

  it('gives the same output cold, warm and with --no-cache', () => {
    const env = { TRIG_CACHE_DIR: mkdtempSync(join(tmpdir(), 'trig-cache-')) };
    const args = ['validate', SPEC_SAMPLES];
    const cold = trig(args, { env });
    const warm = trig(args, { env });
    const uncached = trig([...args, '--no-cache'], { env });
    expect(warm).toEqual(cold);
    expect(uncached).toEqual(cold);
  });
});
