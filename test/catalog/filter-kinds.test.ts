import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { buildEventsSchema } from '../../src/catalog/events-schema.js';
import { EVENTS, eventSpec } from '../../src/catalog/events.js';
import { FILTER_KINDS, type FilterKind } from '../../src/catalog/filter-kinds.js';
import { triggerEntries } from '../../src/load/triggers.js';
import { evaluateEntry } from '../../src/match/filters.js';
import { compilePatternList } from '../../src/lang/glob.js';
import { globPattern } from '../../src/validate/rules/glob-pattern.js';
import { check } from '../validate/rules/check.js';

// Every filter kind, through every layer that reads the kind table: the events schema,
// the matcher and the pattern rule. The samples are a Record over FilterKind too, so a
// new kind does not typecheck until it has a sample here.

interface KindSample {
  event: string;
  /** The filter of this kind, as written under the event. */
  filter: string;
  /** The entry's filters (the filter above among them). */
  filters: Record<string, unknown>;
  /** Trigger fields the filter passes with, and fields it fails with, and why. */
  passes: Record<string, unknown>;
  fails: Record<string, unknown>;
  reason: string;
}

const AT = new Date('2026-11-23T09:00:00Z');

const SAMPLES: Record<FilterKind, KindSample> = {
  globs: {
    event: 'deploy',
    filter: 'services',
    filters: { services: ['pay*', '!payroll'] },
    passes: { service: 'payments' },
    fails: { service: 'payroll' },
    reason: 'services: "payroll" is excluded by !payroll',
  },
  'globs-ignore': {
    event: 'push',
    filter: 'branches-ignore',
    filters: { 'branches-ignore': 'dependabot/**' },
    passes: { branch: 'main' },
    fails: { branch: 'dependabot/npm' },
    reason: 'branches-ignore: "dependabot/npm" is ignored by dependabot/**',
  },
  paths: {
    event: 'push',
    filter: 'paths',
    filters: { paths: ['src/**'] },
    passes: { branch: 'main', changedFiles: ['README.md', 'src/a.ts'] },
    fails: { branch: 'main', changedFiles: ['README.md'] },
    reason: 'paths: the changed file "README.md" matched none of [src/**]',
  },
  'paths-ignore': {
    event: 'push',
    filter: 'paths-ignore',
    filters: { 'paths-ignore': ['docs/**'] },
    passes: { branch: 'main', changedFiles: ['docs/a.md', 'src/a.ts'] },
    fails: { branch: 'main', changedFiles: ['docs/a.md'] },
    reason: 'paths-ignore: the changed file "docs/a.md" is ignored by [docs/**]',
  },
  types: {
    event: 'issues',
    filter: 'types',
    filters: { types: ['opened', 'closed'] },
    passes: { action: 'closed' },
    fails: { action: 'edited' },
    reason: 'types: action "edited" is not one of [opened, closed]',
  },
  'one-of': {
    event: 'vulnerability_found',
    filter: 'severity',
    filters: { severity: ['critical', 'high'] },
    passes: { severity: 'HIGH' },
    fails: { severity: 'low' },
    reason: 'severity: "low" is not one of [critical, high]',
  },
  'at-least': {
    event: 'cost_spike',
    filter: 'threshold-percent',
    filters: { 'threshold-percent': 20 },
    passes: { increasePercent: 20 },
    fails: { increasePercent: 19.5 },
    reason: 'threshold-percent: increasePercent 19.5 is below 20',
  },
  schedule: {
    event: 'schedule',
    filter: 'cron',
    filters: { cron: '0 9 * * 1', timezone: 'UTC' },
    passes: {},
    fails: {},
    reason: '',
  },
  'dispatch-inputs': {
    event: 'workflow_dispatch',
    filter: 'inputs',
    filters: { inputs: { environment: { type: 'string' } } },
    passes: {},
    fails: {},
    reason: '',
  },
};

type WithProperties = { properties: Record<string, unknown> };

const KINDS = Object.keys(FILTER_KINDS) as FilterKind[];
const eventsSchema = buildEventsSchema();
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
ajv.addSchema(eventsSchema);
const filterMapSchema = (event: string) => ajv.getSchema(`events.schema.json#/$defs/filters/${event}`)!;

function evaluate(sample: KindSample, fields: Record<string, unknown>, at = AT) {
  const entry = triggerEntries({ [sample.event]: sample.filters })[0]!;
  return evaluateEntry(entry, { event: sample.event, fields }, { patterns: compilePatternList, at }).checks;
}

describe('the filter kind table', () => {
  it('has samples for exactly its kinds, each sample a filter of its kind', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...KINDS].sort());
    for (const kind of KINDS) {
      const { event, filter } = SAMPLES[kind];
      expect([kind, eventSpec(event)?.filters[filter]?.kind]).toEqual([kind, kind]);
    }
  });

  it('has every kind used by the catalog, and no catalog filter of another kind', () => {
    const used = new Set(EVENTS.flatMap((e) => Object.values(e.filters).map((f) => f.kind)));
    expect([...used].sort()).toEqual([...KINDS].sort());
  });

  it('names the field of every catalog filter whose kind reads one', () => {
    for (const event of EVENTS) {
      for (const [name, spec] of Object.entries(event.filters)) {
        const reads = FILTER_KINDS[spec.kind].reads;
        expect([event.name, name, reads, reads === 'nothing' || typeof spec.field === 'string']).toEqual([event.name, name, reads, true]);
      }
    }
  });

  describe.each(KINDS)('%s', (kind) => {
    const sample = SAMPLES[kind];
    const facets = FILTER_KINDS[kind];

    it('has a schema that takes the sample and refuses a boolean', () => {
      const validate = filterMapSchema(sample.event);
      expect(validate(sample.filters)).toBe(true);
      expect(validate({ ...sample.filters, [sample.filter]: true })).toBe(false);
      // The generated schema holds the kind's fragment for the filter (schedule's, in the schedule item).
      const defs = eventsSchema.$defs as { filters: Record<string, WithProperties>; 'schedule-item': WithProperties };
      const { properties } = sample.event === 'schedule' ? defs['schedule-item'] : defs.filters[sample.event]!;
      expect(properties[sample.filter]).toEqual(facets.schema(eventSpec(sample.event)!.filters[sample.filter]!));
    });

    it('has a matcher that passes and fails on the sample', () => {
      const passed = evaluate(sample, sample.passes);
      expect(passed.filter((c) => !c.pass)).toEqual([]);
      expect(passed.map((c) => c.filter)).toContain(kind === 'schedule' ? 'schedule' : sample.filter);
      if (kind === 'schedule') {
        // Due on Mondays at 09:00 only.
        expect(evaluate(sample, {}, new Date('2026-11-24T09:00:00Z'))).toEqual([
          { filter: 'schedule', pass: false, reason: 'schedule: "0 9 * * 1" is not due at 2026-11-24T09:00Z (UTC)' },
        ]);
      } else if (kind === 'dispatch-inputs') {
        // Inputs never stop a run, whatever the event carries.
        expect(evaluate(sample, { payload: { inputs: { environment: 'x' } } })).toEqual([{ filter: 'inputs', pass: true }]);
      } else {
        expect(evaluate(sample, sample.fails).find((c) => c.filter === sample.filter)).toEqual({
          filter: sample.filter,
          pass: false,
          reason: sample.reason,
        });
      }
    });

    it(`reads ${facets.reads}: an event without the filter's field ${facets.reads === 'nothing' ? 'passes it all the same' : 'fails it, saying so'}`, () => {
      const check = evaluate(sample, {}).find((c) => c.filter === (kind === 'schedule' ? 'schedule' : sample.filter));
      if (facets.reads === 'nothing') {
        expect(check).toEqual({ filter: kind === 'schedule' ? 'schedule' : sample.filter, pass: true });
      } else {
        expect(check?.pass).toBe(false);
        expect(check?.reason).toMatch(new RegExp(`^${sample.filter}: the event carries no `));
      }
    });

    it(`${facets.patterns ? 'has' : 'does not have'} its values checked as filter patterns`, () => {
      const yaml = ['pipeline:', '  on:', `    ${sample.event}:`, `      ${sample.filter}: "[]"`].join('\n');
      const found = check(globPattern, yaml);
      expect(found).toEqual(
        facets.patterns
          ? [
              `4:${sample.filter.length + 9} error: ${sample.filter} pattern "[]": \`[]\` lists no character, so the pattern cannot match @ "[]"`,
            ]
          : [],
      );
    });
  });
});
