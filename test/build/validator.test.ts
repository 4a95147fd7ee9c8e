import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildEventsSchema } from '../../src/catalog/events-schema.js';
import validate, { SCHEMA_HASH } from '../../src/validate/generated/definition-validator.js';
// @ts-expect-error: a plain .mjs build script, without types
import { AJV_OPTIONS, SCHEMA_FILES, schemaHash } from '../../scripts/build.mjs';
// @ts-expect-error: a plain .mjs helper, without types
import { definition } from '../../scripts/bench/inputs.mjs';
import { ROOT } from '../helpers/trig.js';

describe('generated files are up to date', () => {
  it('the compiled validator was built from the current schemas (run npm run build)', () => {
    expect(SCHEMA_HASH).toBe(schemaHash());
  });

  it('schemas/events.schema.json is what the event catalog produces (run npm run gen)', () => {
    const written = readFileSync(path.join(ROOT, 'schemas/events.schema.json'), 'utf8');
    expect(written).toBe(JSON.stringify(buildEventsSchema(), null, 2) + '\n');
  });
});

// The build hands Ajv a slimmed copy of the schemas (no annotations, repeated parts
// shared, references not inlined) to keep start-up small; that must not change a verdict
// or a message. Ajv compiling the source schemas is the reference.
describe('the compiled validator agrees with the source schemas', () => {
  const ajv = new Ajv2020.default({ ...(AJV_OPTIONS as object) });
  const [events, definitionSchema] = (SCHEMA_FILES as string[]).map((f) => JSON.parse(readFileSync(path.join(ROOT, f), 'utf8')));
  ajv.addSchema(events);
  const reference = ajv.compile(definitionSchema);

  const yamlFiles = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? yamlFiles(full) : /\.ya?ml$/.test(name) ? [full] : [];
    });

  const documents: { label: string; value: unknown }[] = [];
  for (const file of yamlFiles(path.join(ROOT, 'fixtures'))) {
    parseAllDocuments(readFileSync(file, 'utf8')).forEach((doc, i) => {
      if (Array.isArray(doc)) return;
      let value: unknown;
      try {
        value = doc.toJS();
        JSON.stringify(value);
      } catch {
        // Never validated: trig refuses the document first (an alias without its anchor,
        // or one inside its own anchor's node, whose value would contain itself).
        return;
      }
      documents.push({ label: `${path.relative(ROOT, file)}#${i + 1}`, value });
    });
  }
  for (let i = 0; i < 20; i++) documents.push({ label: `bench definition ${i}`, value: parseAllDocuments(definition(i))[0]!.toJS() });
  // Broken on purpose, in the places the slimmed copy changed: event filters (shared
  // subschemas), step kinds, expressions standing for numbers, unknown keys.
  const broken = [
    'pipeline:\n  on:\n    push:\n      branches: 3\n      typo: x\n    schedule:\n      - cron: 1\n    pull_request: {types: []}\n  stages: [{name: a, steps: [{run: {script: 1}}]}]\n',
    'pipeline:\n  on: [{push: {tags: [1]}}, nope, {cost_spike: {threshold-percent: x}}, {schedule: {cron: "* * *"}}]\n  clone: {depth: x, ref: {type: nope}}\n  inputs: {a: {}, b: {type: strin}}\n  permissions: read-some\n',
    'agent: {on: deploy}\npipeline: {stages: 3}\nextra: 1\n',
    'pipeline:\n  on: {workflow_dispatch: {inputs: {x: 3}}, deploy: {environments: {a: 1}}}\n  stages: [{steps: [{background: {image: 1}}, {approval: 2}, {queue: {}}, {template: {uses: 1}}]}]\n',
    'pipeline:\n  on: {vulnerability_found: {severity: [urgent]}, comment_mention: {agents: []}}\n  stages: [{name: s, runtime: {cloud: {size: huge}}, steps: [{name: x, run: {shell: fish, script: [1]}, action: {uses: foo}}]}]\n',
  ];
  broken.forEach((text, i) => documents.push({ label: `broken ${i + 1}`, value: parseAllDocuments(text)[0]!.toJS() }));

  // schemaPath restarts at every $ref target the validator calls, so it is left out.
  const comparable = (errors: ErrorObject[] | null | undefined) =>
    (errors ?? []).map(({ instancePath, keyword, params, message }) => ({ instancePath, keyword, params, message }));

  it('has a corpus with valid and invalid documents', () => {
    const verdicts = documents.map((d) => reference(d.value));
    expect(verdicts).toContain(true);
    expect(verdicts.filter((v) => !v).length).toBeGreaterThanOrEqual(broken.length);
  });

  it.each(documents.map((d) => [d.label, d.value] as const))('%s', (_label, value) => {
    const expected = reference(value);
    const expectedErrors = comparable(reference.errors);
    expect(validate(value)).toBe(expected);
    expect(comparable(validate.errors)).toEqual(expectedErrors);
  });
});
