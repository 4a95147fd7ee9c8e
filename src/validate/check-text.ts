import { loadText } from '../load/load.js';
import type { Diagnostic, SkippedDocument } from '../shared/diagnostic.js';
import { validateDocument } from './validate.js';

// The expensive half of checking a file: parsing YAML with positions, the schema and the
// rules. Imported only when a file's result is not in the check cache.

type WithoutFile<T> = Omit<T, 'file'>;

/** Everything `trig` needs to know about one file, as plain data (what the cache keeps). */
export interface CheckedFile {
  documents: { index: number; name: string; value: unknown; diagnostics: WithoutFile<Diagnostic>[] }[];
  skipped: WithoutFile<SkippedDocument>[];
  syntaxErrors: WithoutFile<Diagnostic>[];
}

function withoutFile<T extends { file: string }>({ file: _file, ...rest }: T): WithoutFile<T> {
  return rest;
}

/** What the cache keeps of a file for matching: each definition's `on:` and diagnostics, no bodies. */
export interface FileOutline {
  documents: (Omit<CheckedFile['documents'][number], 'value'> & { on: unknown })[];
  skipped: CheckedFile['skipped'];
  syntaxErrors: CheckedFile['syntaxErrors'];
}

export function checkText(file: string, text: string): CheckedFile {
  const loaded = loadText(file, text);
  return {
    documents: loaded.documents.map((d) => ({
      index: d.index,
      name: d.name,
      value: d.value,
      diagnostics: validateDocument(d).map(withoutFile),
    })),
    skipped: loaded.skipped.map(withoutFile),
    syntaxErrors: loaded.diagnostics.map(withoutFile),
  };
}
