import type { LoadedDocument } from '../../load/load.js';
import type { DocPath } from '../../load/triggers.js';
import type { Severity } from '../../report/diagnostic.js';

export interface RuleProblem {
  /** Path from the document root, e.g. ['pipeline', 'on', 0, 'push', 'branches', 1]. */
  path: DocPath;
  /** Point at the map key at `path` rather than its value. */
  at?: 'key' | 'value';
  message: string;
  /** Default: error. */
  severity?: Severity;
}

/**
 * A semantic check beyond the schema. Rules run on every parsed document, valid against
 * the schema or not, so they must read the document defensively (any value may have any
 * shape).
 */
export interface Rule {
  name: string;
  description: string;
  check(document: LoadedDocument, report: (problem: RuleProblem) => void): void;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A filter value written as one string or a list of strings, as a list. */
export function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}
