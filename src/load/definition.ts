import { isRecord } from '../shared/records.js';
import { triggerEntries, type TriggerEntry } from './triggers.js';

export type DefinitionRoot = 'pipeline' | 'agent';

/**
 * What the stages after loading need of a definition document: plain data, no YAML nodes,
 * so that it can be read back from the check cache as well as from a fresh parse.
 *
 * One definition takes these shapes on its way, each named after it:
 * - `ParsedDefinition` (load/load.ts): this, with its YAML nodes and source text, for positions;
 * - `CheckedFile` (validate/check-text.ts): a file's definitions as data with their
 *   diagnostics, what the check cache keeps; `FileOutline` is its part that matching reads;
 * - `CheckedDefinition` (validate/check.ts): a definition's triggers and diagnostics, what
 *   the fire core decides on; `CheckResult.document()` gives back this whole shape once it matched.
 * "Check" always means load + validate, whether done afresh or read from the check cache.
 */
export interface Definition {
  file: string;
  /** 0-based position of the document in its file. */
  index: number;
  /** Displayed name: the pipeline's `name`, else the file name, with `#n` for the n-th document. */
  name: string;
  /** The whole document as plain data. */
  value: unknown;
  /** `pipeline` or `agent` when exactly one is present. */
  root?: DefinitionRoot;
  /** The pipeline/agent body. */
  body?: Record<string, unknown>;
  entries: TriggerEntry[];
}

function rootAndBody(value: unknown): { root?: DefinitionRoot; body?: Record<string, unknown> } {
  const roots = isRecord(value) ? (['pipeline', 'agent'] as const).filter((k) => k in value) : [];
  const root = roots.length === 1 ? roots[0] : undefined;
  const body = root && isRecord(value) && isRecord(value[root]) ? value[root] : undefined;
  return { root, body };
}

/** The `on:` value of a definition document, as written. */
export function triggersOf(value: unknown): unknown {
  return rootAndBody(value).body?.on;
}

export function describeDefinition(file: string, index: number, name: string, value: unknown): Definition {
  const { root, body } = rootAndBody(value);
  return { file, index, name, value, root, body, entries: triggerEntries(body?.on) };
}
