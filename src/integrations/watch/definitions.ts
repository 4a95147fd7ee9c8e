// The definitions `trig watch` serves, reloaded when their files change. A file whose new
// version has errors does not take its definitions away: the last version of it that had
// none keeps serving, whole documents included (read when that version was loaded, since
// a file's checked result reads the document from the file again, which now holds the
// broken version), until the file is fixed or removed.

import type { Definition } from '../../load/definition.js';
import { formatText } from '../../report/diagnostics-format.js';
import type { Diagnostic } from '../../shared/diagnostic.js';
import type { Output } from '../../shared/io.js';
import { oneLine } from '../../shared/printable.js';
import type { Style } from '../../shared/style.js';
import type { CheckedDefinition, CheckResult } from '../../validate/check.js';

interface GoodVersion {
  definitions: CheckedDefinition[];
  documents: Map<CheckedDefinition, Definition>;
}

export interface Served {
  /** What fire() is handed: the last good version of each broken file in place of its new one. */
  checked: CheckResult;
  /** The files loaded (expanded from the definition paths). */
  files: string[];
  /** Files whose new version has errors, with those errors; `kept` when a good version keeps serving. */
  broken: { file: string; errors: Diagnostic[]; kept: boolean }[];
}

/** Tells of each broken file: its errors, as validate prints them, and whether a good version keeps serving. */
export function reportBroken(served: Served, io: Output, style: Style, notice: (message: string) => void): void {
  for (const { file, errors, kept } of served.broken) {
    io.stderr.write(
      formatText({ files: 1, definitions: 0, diagnostics: errors, skipped: [], sourceLine: (f, n) => served.checked.line(f, n) }, style),
    );
    notice(
      kept
        ? `${oneLine(file)}: not reloaded: its last good version keeps serving`
        : `${oneLine(file)}: its definitions cannot run until fixed`,
    );
  }
}

function errorsByFile(checked: CheckResult): Map<string, Diagnostic[]> {
  const byFile = new Map<string, Diagnostic[]>();
  for (const d of checked.diagnostics) if (d.severity === 'error') byFile.set(d.file, [...(byFile.get(d.file) ?? []), d]);
  return byFile;
}

export class DefinitionKeeper {
  private readonly good = new Map<string, GoodVersion>();

  /** Takes a fresh load (validate/definitions.ts loadDefinitions) and returns what to serve. */
  async take(files: string[], checked: CheckResult): Promise<Served> {
    const errors = errorsByFile(checked);
    const kept = new Set<string>();
    const broken: Served['broken'] = [];
    for (const file of files) {
      const fileErrors = errors.get(file);
      if (fileErrors) {
        broken.push({ file, errors: fileErrors, kept: this.good.has(file) });
        if (this.good.has(file)) kept.add(file);
        continue;
      }
      const definitions = checked.definitions.filter((d) => d.file === file);
      const documents = new Map<CheckedDefinition, Definition>();
      try {
        for (const d of definitions) documents.set(d, await checked.document(d));
      } catch {
        // Changed again while being read: the watcher has seen that change and reloads.
        if (this.good.has(file)) kept.add(file);
        continue;
      }
      this.good.set(file, { definitions, documents });
    }
    const listed = new Set(files);
    for (const file of [...this.good.keys()]) if (!listed.has(file)) this.good.delete(file);

    const own = <T extends { file: string }>(items: readonly T[]) => items.filter((item) => !kept.has(item.file));
    const definitions = files.flatMap((file) =>
      kept.has(file) ? this.good.get(file)!.definitions : checked.definitions.filter((d) => d.file === file),
    );
    const keptDocuments = new Map<CheckedDefinition, Definition>();
    for (const file of kept) for (const [d, doc] of this.good.get(file)!.documents) keptDocuments.set(d, doc);
    const served: CheckResult = {
      definitions,
      skipped: own(checked.skipped),
      syntaxErrors: own(checked.syntaxErrors),
      readErrors: own(checked.readErrors),
      diagnostics: [
        ...own(checked.diagnostics),
        ...[...kept].flatMap((file) => this.good.get(file)!.definitions.flatMap((d) => d.diagnostics)),
      ],
      line: (file, n) => checked.line(file, n),
      document: async (d) => keptDocuments.get(d) ?? this.good.get(d.file)?.documents.get(d) ?? (await checked.document(d)),
    };
    return { checked: served, files, broken };
  }
}
