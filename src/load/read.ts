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
