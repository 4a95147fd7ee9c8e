// trig's entries live in a crontab between two marker lines naming the repository, so
// that trig can find and replace its own lines and never touch anyone else's. All
// functions here work on the crontab text and keep every line outside the block as it
// was, byte for byte.

export class CrontabBlockError extends Error {}

export function beginMarker(dir: string): string {
  return `# BEGIN trig ${dir}`;
}

export function endMarker(dir: string): string {
  return `# END trig ${dir}`;
}

function checkDir(dir: string): void {
  // A marker is one line; a directory name with a line break could not be found again.
  if (/[\n\r]/.test(dir)) throw new CrontabBlockError(`the directory name ${JSON.stringify(dir)} contains a line break`);
}

/** The block for `dir`: the markers around `lines`, each line ending with a newline. */
export function renderBlock(dir: string, lines: readonly string[]): string {
  checkDir(dir);
  return [beginMarker(dir), ...lines, endMarker(dir)].map((l) => `${l}\n`).join('');
}

interface Span {
  /** Offset of the block's first character. */
  start: number;
  /** Offset just after the block's last newline (or the end of the text). */
  end: number;
}

/** Lines with their offsets; a line's text excludes its newline. */
function lines(text: string): { text: string; start: number; end: number }[] {
  const out: { text: string; start: number; end: number }[] = [];
  let offset = 0;
  while (offset < text.length) {
    const newline = text.indexOf('\n', offset);
    const end = newline === -1 ? text.length : newline + 1;
    out.push({ text: text.slice(offset, newline === -1 ? text.length : newline), start: offset, end });
    offset = end;
  }
  return out;
}

/** Where the blocks for `dir` are; an opened block that is never closed is an error. */
export function findBlocks(crontab: string, dir: string): Span[] {
  checkDir(dir);
  const begin = beginMarker(dir);
  const end = endMarker(dir);
  const spans: Span[] = [];
  let open: number | undefined;
  for (const line of lines(crontab)) {
    // A crontab edited on Windows may end lines with \r; the marker is still the marker.
    const text = line.text.replace(/\r$/, '');
    if (text === begin) {
      if (open !== undefined)
        throw new CrontabBlockError(`the crontab has "${begin}" twice without "${end}" in between; fix it by hand (crontab -e)`);
      open = line.start;
    } else if (text === end && open !== undefined) {
      spans.push({ start: open, end: line.end });
      open = undefined;
    }
  }
  if (open !== undefined) throw new CrontabBlockError(`the crontab has "${begin}" without "${end}"; fix it by hand (crontab -e)`);
  return spans;
}

/**
 * The crontab with `block` in place of the existing block for `dir` (at the same place),
 * or appended at the end when there is none. Extra copies of the block are dropped.
 */
export function mergeBlock(crontab: string, dir: string, block: string): string {
  const spans = findBlocks(crontab, dir);
  if (spans.length === 0) {
    // crontab refuses a file whose last line has no newline: the one change made outside the block.
    const base = crontab === '' || crontab.endsWith('\n') ? crontab : `${crontab}\n`;
    return base + block;
  }
  let out = '';
  let offset = 0;
  spans.forEach((span, i) => {
    out += crontab.slice(offset, span.start) + (i === 0 ? block : '');
    offset = span.end;
  });
  return out + crontab.slice(offset);
}

/** The crontab without the blocks for `dir`; unchanged when there is none. */
export function removeBlock(crontab: string, dir: string): string {
  let out = '';
  let offset = 0;
  for (const span of findBlocks(crontab, dir)) {
    out += crontab.slice(offset, span.start);
    offset = span.end;
  }
  return out + crontab.slice(offset);
}
