import { closeSync, openSync, readSync } from 'node:fs';

/** What was read went past the limit; nothing beyond `limit + 1` bytes was read. */
export class TooLargeError extends Error {
  constructor(
    readonly file: string,
    readonly limit: number,
  ) {
    super(`${file}: larger than ${formatBytes(limit)}`);
  }
}

export function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024} MiB` : `${bytes} bytes`;
}

/**
 * Reads a whole file, but never more than `limit` bytes: at most `limit + 1` bytes are
 * read, so a device (`/dev/zero`), a pipe or a file that grows cannot make trig buffer
 * without end. `stat` cannot tell beforehand: a pipe's or a device's size is 0.
 */
export function readBounded(file: string, limit: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // Asking for one byte more than the room left tells a file of exactly `limit`
      // bytes from a longer one.
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limit + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > limit) throw new TooLargeError(file, limit);
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** Definition files are text a person writes; anything near this size is not one. */
export const MAX_DEFINITION_BYTES = 16 * 1024 * 1024;

/** A definition file that cannot be read as text: where (when known) and why. */
export class UnreadableFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly line = 1,
    readonly col = 1,
    /** For a file that was read but is not UTF-8: its text with U+FFFD for bad bytes, to show where. */
    readonly lenientText?: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

// What the system's error codes mean for a file someone asked trig to read.
const READ_FAILURES: Record<string, string> = {
  ENOENT: 'cannot read the file: it is a symbolic link to nothing (or it was removed)',
  ELOOP: 'cannot read the file: its symbolic links form a loop',
  EACCES: 'cannot read the file: permission denied',
  EPERM: 'cannot read the file: permission denied',
  EISDIR: 'cannot read the file: it is a directory',
  ENOTDIR: 'cannot read the file: a part of its path is not a directory',
};

/** The 1-based line and column of the first byte of `buffer` that is not UTF-8. */
function invalidUtf8At(buffer: Buffer): { line: number; col: number; byte: number } {
  // In streaming mode a prefix is accepted as long as it has no invalid sequence (one
  // cut short at its end may still complete), so validity only shrinks as the prefix
  // grows: binary search for the longest valid prefix.
  const validPrefix = (n: number) => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, n), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  let lo = 0;
  let hi = buffer.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (validPrefix(mid)) lo = mid;
    else hi = mid - 1;
  }
  // When the valid prefix ends inside a character, the bad sequence starts at its lead byte.
  let start = lo;
  let complete = true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, lo));
  } catch {
    complete = false;
  }
  if (!complete) {
    while (start > 0 && (buffer[start - 1]! & 0xc0) === 0x80) start--; // continuation bytes
    if (start > 0 && buffer[start - 1]! >= 0xc0) start--; // and the lead byte before them
  }
  const before = buffer.subarray(0, start).toString('utf8');
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, col: before.length - lineStart + 1, byte: buffer[start]! };
}

/**
 * The text of a definition file: read with a bound and decoded as UTF-8, strictly, so
 * that a binary or mis-encoded file is reported rather than read as replacement characters.
 */
export function readDefinitionFile(file: string): string {
  let buffer: Buffer;
  try {
    buffer = readBounded(file, MAX_DEFINITION_BYTES);
  } catch (error) {
    if (error instanceof TooLargeError) throw new UnreadableFileError(file, `the file is larger than ${formatBytes(MAX_DEFINITION_BYTES)}`);
    const code = (error as NodeJS.ErrnoException).code;
    throw new UnreadableFileError(file, (code && READ_FAILURES[code]) ?? `cannot read the file (${code ?? (error as Error).message})`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buffer);
  } catch {
    const at = invalidUtf8At(buffer);
    const hex = at.byte.toString(16).padStart(2, '0');
    throw new UnreadableFileError(
      file,
      `the file is not UTF-8 text (byte 0x${hex} here); definitions are UTF-8`,
      at.line,
      at.col,
      buffer.toString('utf8'),
    );
  }
}
