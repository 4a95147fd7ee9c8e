import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The lines of a file the steps append to (none when they never wrote it). */
export function fileLines(dir: string, file: string): string[] {
  const full = path.join(dir, file);
  return existsSync(full) ? readFileSync(full, 'utf8').trim().split('\n') : [];
}
