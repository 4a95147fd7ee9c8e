import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Where a program would be found, or undefined. A name with a slash is taken as a path. */
export function findProgram(program: string, env: Record<string, string | undefined>, cwd: string): string | undefined {
  const candidates = program.includes('/')
    ? [path.resolve(cwd, program)]
    : (env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(path.resolve(cwd, dir), program));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
