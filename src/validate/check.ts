import { readFileSync, statSync } from 'node:fs';
import { describeDefinition, type Definition } from '../load/definition.js';
import { compareDiagnostics, type Diagnostic, type SkippedDocument } from '../report/diagnostic.js';
import { openCheckCache } from './cache.js';
import type { FileCheck } from './check-text.js';

/** A definition with its problems (errors mean it never fires). */
export interface CheckedDefinition extends Definition {
  diagnostics: Diagnostic[];
}

export interface CheckResult {
  definitions: CheckedDefinition[];
  skipped: SkippedDocument[];
  /** Problems of files that hold no readable document (YAML syntax errors). */
  syntaxErrors: Diagnostic[];
  /** Every diagnostic, in file and line order. */
  diagnostics: Diagnostic[];
  /** Line `n` (1-based) of a file that was read, for excerpts under diagnostics. */
  line(file: string, n: number): string;
}

export interface CheckOptions {
  /** Keep and reuse results (see cache.ts); off with --no-cache. */
  cache: boolean;
  env: NodeJS.ProcessEnv;
}

/**
 * Loads and validates definition files: the load and validate stages, with their result
 * per file kept in the check cache. Unreadable files throw (the CLI reports a usage error).
 */
export async function checkFiles(files: readonly string[], options: CheckOptions): Promise<CheckResult> {
  const cache = options.cache ? openCheckCache(options.env) : undefined;
  const texts = new Map<string, string>();
  const textOf = (file: string): string => {
    let text = texts.get(file);
    if (text === undefined) texts.set(file, (text = readFileSync(file, 'utf8')));
    return text;
  };
  const stats = cache ? files.map((file) => statSync(file, { bigint: true })) : [];
  const kept = cache?.getSet(files, stats);
  const checks = new Map<string, FileCheck>(kept?.map((check, i) => [files[i]!, check]));
  if (!kept) {
    for (const file of files) {
      const cached = cache?.get(file, textOf(file));
      if (cached) checks.set(file, cached);
    }
    const misses = files.filter((f) => !checks.has(f));
    if (misses.length) {
      // The YAML parser, the schema validator and the rules load only when needed.
      const { checkText } = await import('./check-text.js');
      for (const file of misses) {
        const check = checkText(file, textOf(file));
        checks.set(file, check);
        cache?.set(file, textOf(file), check);
      }
    }
    cache?.setSet(files, stats, files.map((f) => checks.get(f)!));
  }

  const result: CheckResult = { definitions: [], skipped: [], syntaxErrors: [], diagnostics: [], line: () => '' };
  for (const file of files) {
    const check = checks.get(file)!;
    for (const d of check.documents) {
      const diagnostics = d.diagnostics.map((x) => ({ file, ...x }));
      result.definitions.push({ ...describeDefinition(file, d.index, d.name, d.value), diagnostics });
      result.diagnostics.push(...diagnostics);
    }
    result.skipped.push(...check.skipped.map((s) => ({ file, ...s })));
    const syntax = check.syntaxErrors.map((x) => ({ file, ...x }));
    result.syntaxErrors.push(...syntax);
    result.diagnostics.push(...syntax);
  }
  result.diagnostics.sort(compareDiagnostics);
  const lines = new Map<string, string[]>();
  result.line = (file, n) => {
    let split = lines.get(file);
    if (!split) {
      let text = '';
      try {
        text = textOf(file);
      } catch {
        // A file gone since it was checked: its diagnostics are shown without excerpt.
      }
      lines.set(file, (split = text.split(/\r?\n/)));
    }
    return split[n - 1] ?? '';
  };
  return result;
}
