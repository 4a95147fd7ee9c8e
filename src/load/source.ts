import { isMap, isScalar, isSeq, LineCounter, type Document, type Node, type Pair } from 'yaml';
import type { DocPath } from './triggers.js';

export interface Span {
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

/** The text of a definition file and what maps offsets to lines. */
export class SourceText {
  readonly lineCounter = new LineCounter();
  private lines: string[] | undefined;

  constructor(
    readonly path: string,
    readonly text: string,
  ) {}

  line(n: number): string {
    this.lines ??= this.text.split(/\r?\n/);
    return this.lines[n - 1] ?? '';
  }

  span(start: number, end: number): Span {
    const a = this.lineCounter.linePos(start);
    const b = this.lineCounter.linePos(Math.max(start, end));
    return { line: a.line, col: a.col, endLine: b.line, endCol: b.col };
  }
}

type Found = { node?: Node | null; pair?: Pair<unknown, unknown> };

function step(found: Found, segment: string | number): Found | undefined {
  const node = found.node;
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
    return pair ? { node: pair.value as Node | null, pair } : undefined;
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment];
    return item === undefined ? undefined : { node: item as Node };
  }
  return undefined;
}

/**
 * The span of the key or value at `path`. Where the path cannot be followed to its end
 * (a missing key), the deepest existing ancestor is used. A collection value is shown
 * by its key (`run:`), as a compiler points at the construct, not its first child.
 */
export function locate(doc: Document, source: SourceText, path: DocPath, at: 'key' | 'value' = 'value'): Span {
  let found: Found = { node: doc.contents as Node | null };
  let complete = true;
  for (const segment of path) {
    const next = step(found, segment);
    if (!next) {
      complete = false;
      break;
    }
    found = next;
  }
  const key = found.pair?.key as Node | undefined;
  const value = found.node;
  const wantKey = (at === 'key' || !complete || isMap(value) || isSeq(value) || value == null) && key?.range;
  const target = wantKey ? key : value;
  const range = target?.range ?? doc.contents?.range ?? ([0, 0, 0] as const);
  const start = range[0];
  let end = range[1];
  // A block collection's range runs over many lines; mark its first line only.
  const newline = source.text.indexOf('\n', start);
  if (newline !== -1 && newline < end) end = newline;
  if (end === start) end = start + 1;
  return source.span(start, end);
}
