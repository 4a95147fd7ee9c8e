import type { FilterSpec } from './events.js';

// Every kind of event filter, with everything each layer needs to know about it, in one
// table. The table is a `Record<FilterKind, …>` with no optional facet, so a kind added
// to `FilterKind` does not compile until it has all of them; the matcher's own table
// (`src/match/filters.ts`, which this layer cannot import) is a `Record<FilterKind, …>`
// too. Readers: the events schema (`schema`), the README's event reference (`doc`), the
// loader and the pattern rules (`patterns`), the pull-request-paths rule (`reads`).

/** A JSON Schema fragment. */
export type Schema = Record<string, unknown>;

export type FilterKind =
  'globs' | 'globs-ignore' | 'paths' | 'paths-ignore' | 'types' | 'one-of' | 'at-least' | 'schedule' | 'dispatch-inputs';

export interface FilterKindFacets {
  /** When a filter of this kind passes, for the README's event reference ("Passes when …"). */
  doc: string;
  /**
   * Whether the values are filter patterns (`main`, `release/**`, `!docs/**`): the
   * glob-pattern and numeric-pattern rules check them, and the loader keeps a pattern
   * written as a YAML number as the text written.
   */
  patterns: boolean;
  /**
   * What the filter reads of the trigger context: the value of its `field`, the list of
   * changed files in its `field`, or nothing of its own. A filter of a `field` or `files`
   * kind names its field in the catalog.
   */
  reads: 'field' | 'files' | 'nothing';
  /** The JSON Schema of the filter's value in `on:` (schedule's: of one property of a schedule item). */
  schema(spec: FilterSpec): Schema;
}

const stringOrList = (items: Schema = { type: 'string', minLength: 1 }): Schema => ({
  anyOf: [items, { type: 'array', items, minItems: 1 }],
});

const patternList = (spec: FilterSpec): Schema => ({ description: spec.description, ...stringOrList() });

export const FILTER_KINDS: Readonly<Record<FilterKind, FilterKindFacets>> = {
  globs: {
    doc: 'the trigger field matches the patterns: a leading `!` excludes, the last matching pattern wins',
    patterns: true,
    reads: 'field',
    schema: patternList,
  },
  'globs-ignore': {
    doc: 'the trigger field matches none of the patterns',
    patterns: true,
    reads: 'field',
    schema: patternList,
  },
  paths: {
    doc: 'any changed file matches the patterns (a leading `!` excludes, the last matching pattern wins); never without changed files',
    patterns: true,
    reads: 'files',
    schema: patternList,
  },
  'paths-ignore': {
    doc: 'some changed file matches none of the patterns; never without changed files',
    patterns: true,
    reads: 'files',
    schema: patternList,
  },
  types: {
    doc: "the payload's `action` (file_change: any of its `changeTypes`) is one of the activity types (without `types`: one of the event's default types, if it has any)",
    patterns: false,
    reads: 'field',
    schema: (spec) => ({ description: spec.description, ...stringOrList() }),
  },
  'one-of': {
    doc: 'the trigger field is one of the listed values (case-insensitive)',
    patterns: false,
    reads: 'field',
    schema: (spec) => ({ description: spec.description, ...stringOrList({ enum: [...(spec.values ?? [])] }) }),
  },
  'at-least': {
    doc: 'the numeric trigger field is at least the given number',
    patterns: false,
    reads: 'field',
    schema: (spec) => ({ description: spec.description, type: 'number' }),
  },
  schedule: {
    doc: "a cron expression of the schedule item (`cron`, `timezone`, `name` and `catch-up` together) is due at the event's minute",
    patterns: false,
    reads: 'nothing',
    schema: (spec) => ({ description: spec.description, type: 'string', minLength: 1 }),
  },
  'dispatch-inputs': {
    doc: 'always: the inputs describe the form of a manual run',
    patterns: false,
    reads: 'nothing',
    schema: (spec) => ({ description: spec.description, type: 'object', additionalProperties: { type: ['object', 'null'] } }),
  },
};

/** Whether a filter's values are filter patterns (see `FilterKindFacets.patterns`). */
export function isPatternFilter(spec: FilterSpec | undefined): spec is FilterSpec {
  return spec !== undefined && FILTER_KINDS[spec.kind].patterns;
}
