import { statSync, type BigIntStats } from 'node:fs';
import { describeDefinition, triggersOf, type Definition } from '../load/definition.js';
import { readDefinitionFile, UnreadableFileError } from '../load/read.js';
import { triggerEntries, type TriggerEntry } from '../load/triggers.js';
import { compareDiagnostics, type Diagnostic, type SkippedDocument } from '../shared/diagnostic.js';
import { openCheckCache, type CheckCache } from './cache.js';
import type { CheckedFile, FileOutline } from './check-text.js';

/**
 * What deciding about a definition needs: its triggers and its problems (errors mean it
 * never fires). The whole document is read with `CheckResult.document` once it matched.
 */
export interface CheckedDefinition {
  file: string;
  /** 0-based position of the document in its file. */
  index: number;
  name: string;
  entries: TriggerEntry[];
  diagnostics: Diagnostic[];
}

/**
 * A file's check without the bodies of its definitions: what the every-minute fire reads
 * of the whole-list cache for every definition, when it usually runs none.
 */
export function outlineOf(check: CheckedFile): FileOutline {
  return {
    documents: check.documents.map(({ value, ...d }) => ({ ...d, on: triggersOf(value) })),
    skipped: check.skipped,
    syntaxErrors: check.syntaxErrors,
  };
}

/** A matched definition's file no longer holds it as it was checked. */
export class ChangedFileError extends Error {}

export interface CheckResult {
  definitions: CheckedDefinition[];
  skipped: SkippedDocument[];
  /** Problems of files that hold no readable document (YAML syntax errors). */
  syntaxErrors: Diagnostic[];
  /** Files that could not be read (missing symlink target, permissions, not UTF-8, too large): one diagnostic each. */
  readErrors: Diagnostic[];
  /** Every diagnostic, in file and line order. */
  diagnostics: Diagnostic[];
  /** Line `n` (1-based) of a file, for excerpts under diagnostics; undefined when the file cannot be read. */
  line(file: string, n: number): string | undefined;
  /** The whole document of a definition, for planning its run. */
  document(definition: CheckedDefinition): Promise<Definition>;
}

export interface CheckOptions {
  /** Keep and reuse results (see cache.ts); off with --no-cache. */
  cache: boolean;
  env: NodeJS.ProcessEnv;
  /** Told, once, why the check cache is not used (its folder is not private, say). */
  warn?: (message: string) => void;
}

function statOrUndefined(file: string): BigIntStats | undefined {
  try {
    return statSync(file, { bigint: true });
  } catch {
    return undefined;
  }
}

/** A file that cannot be read: one error, at the bad byte when it is one. */
function unreadable(error: UnreadableFileError): Diagnostic {
  const { file, line, col, reason } = error;
  return { file, line, col, endLine: line, endCol: col + 1, severity: 'error', message: reason, rule: 'file' };
}

const NOTHING: CheckedFile = { documents: [], skipped: [], syntaxErrors: [] };

/**
 * Loads and validates definition files: the load and validate stages, with their result
 * per file kept in the check cache. A file that cannot be read is one error in
 * `readErrors`; the other files are checked all the same.
 */
export async function checkFiles(files: readonly string[], options: CheckOptions): Promise<CheckResult> {
  const cache = options.cache ? openCheckCache(options.env, { warn: options.warn }) : undefined;
  const texts = new Map<string, string>();
  const textOf = (file: string): string => {
    let text = texts.get(file);
    if (text === undefined) texts.set(file, (text = readDefinitionFile(file)));
    return text;
  };
  const stats = cache ? files.map(statOrUndefined) : [];
  // Only a regular file's stat tells whether its content changed: a pipe's says nothing.
  let listCache = stats.every((s) => s?.isFile()) ? cache : undefined;
  // Whole checks, bodies included: all of them when the list was checked in this run, else
  // those read back for matched definitions.
  const checks = new Map<string, CheckedFile>();
  const readErrors = new Map<string, Diagnostic>();
  const kept = listCache?.getSet(files, stats as BigIntStats[]);
  let outlines = kept?.outlines;
  if (!outlines) {
    for (const file of files) {
      let text: string;
      try {
        text = textOf(file);
      } catch (error) {
        if (!(error instanceof UnreadableFileError)) throw error;
        readErrors.set(file, unreadable(error));
        // Kept out of the whole-list entry: its stat would vouch for a file never read.
        listCache = undefined;
        checks.set(file, NOTHING);
        continue;
      }
      checks.set(file, await checkFile(file, text, cache));
    }
    const all = files.map((f) => checks.get(f)!);
    outlines = all.map(outlineOf);
    listCache?.setSet(files, stats as BigIntStats[], outlines, all);
  }
  const position = new Map(files.map((file, i) => [file, i]));

  const lines = new Map<string, string[]>();
  const result: CheckResult = {
    definitions: [],
    skipped: [],
    syntaxErrors: [],
    readErrors: [...readErrors.values()],
    diagnostics: [],
    line(file, n) {
      let split = lines.get(file);
      if (!split) {
        try {
          split = textOf(file).split(/\r?\n/);
        } catch (error) {
          // A file unreadable, or gone since it was checked: its diagnostics are shown
          // without excerpt; one that is not UTF-8 shows where, bad bytes replaced.
          split = error instanceof UnreadableFileError && error.lenientText !== undefined ? error.lenientText.split(/\r?\n/) : [];
        }
        lines.set(file, split);
      }
      return split.length ? (split[n - 1] ?? '') : undefined;
    },
    async document(definition) {
      const { file, index } = definition;
      // The body kept with the outline is the one the decision was made on; only when
      // that part of the entry cannot be read is the file checked again.
      let check = checks.get(file);
      if (!check) {
        try {
          check = kept?.check(position.get(file)!) ?? (await checkFile(file, textOf(file), cache));
        } catch (error) {
          if (error instanceof UnreadableFileError)
            throw new ChangedFileError(`${file}: ${error.reason}, since trig checked it; fire again`);
          throw error;
        }
        checks.set(file, check);
      }
      const d = check.documents.find((x) => x.index === index);
      if (!d || d.diagnostics.some((x) => x.severity === 'error')) {
        throw new ChangedFileError(`${file}: changed while trig was reading it; fire again`);
      }
      return describeDefinition(file, index, d.name, d.value);
    },
  };
  files.forEach((file, i) => {
    const outline = outlines[i]!;
    for (const d of outline.documents) {
      const diagnostics = d.diagnostics.map((x) => ({ file, ...x }));
      result.definitions.push({ file, index: d.index, name: d.name, entries: triggerEntries(d.on), diagnostics });
      result.diagnostics.push(...diagnostics);
    }
    result.skipped.push(...outline.skipped.map((s) => ({ file, ...s })));
    const syntax = outline.syntaxErrors.map((x) => ({ file, ...x }));
    result.syntaxErrors.push(...syntax);
    result.diagnostics.push(...syntax);
  });
  result.diagnostics.push(...result.readErrors);
  result.diagnostics.sort(compareDiagnostics);
  return result;
}

/** One file's check, from the cache or computed (and then kept). */
async function checkFile(file: string, text: string, cache: CheckCache | undefined): Promise<CheckedFile> {
  const cached = await cache?.get(file, text);
  if (cached) return cached;
  // The YAML parser, the schema validator and the rules load only when needed.
  const { checkText } = await import('./check-text.js');
  const check = checkText(file, text);
  await cache?.set(file, text, check);
  return check;
}
