// Flag values of `trig serve` that `trig sign` and `trig fire --verify` take too: kept apart
// from serve.ts so that those commands do not load the server.

import { ROUTES, type Route } from '../integrations/serve/verify.js';
import { UsageError } from '../shared/errors.js';
import { oneLine } from '../shared/printable.js';
import { suggest } from '../shared/suggest.js';

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

/** `25MiB`, `512KiB`, `1048576`: bytes (K, M and G are binary, as GitHub's 25 MB cap is). */
export function parseSize(flag: string, text: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1)
    throw new UsageError(`${flag} "${oneLine(text)}": expected a size such as 25MiB, 512KiB or 1048576`);
  return bytes;
}

export function parseRoute(flag: string, text: string): Route {
  if ((ROUTES as readonly string[]).includes(text)) return text as Route;
  const guess = suggest(text, [...ROUTES]);
  throw new UsageError(`${flag} "${oneLine(text)}": expected one of ${ROUTES.join(', ')}${guess ? `; did you mean "${guess}"?` : ''}`);
}
