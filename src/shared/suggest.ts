// Did-you-mean for names the user wrote: events, keys, filters, namespaces.

/**
 * Picks the candidate the user most likely meant: a case-insensitive match, else the
 * closest within edit distance 2 (a transposition counts as one edit, and less than half
 * the shorter word may change), else a candidate that `word` is a prefix of (or that is
 * a prefix of `word`). Ties go to the earlier candidate.
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (word === '') return undefined;
  const lower = word.toLowerCase();
  const exact = candidates.find((c) => c.toLowerCase() === lower);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(lower, candidate.toLowerCase());
    // Two edits turn "fish" into "bash": fewer than half the letters of the shorter word
    // may change, so that short words are only matched to plausible typos.
    if (d < bestDistance && d * 2 < Math.min(word.length, candidate.length)) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best !== undefined) return best;
  if (word.length < 3) return undefined;
  return candidates.find((c) => {
    const lc = c.toLowerCase();
    return lc.startsWith(lower) || (lc.length >= 3 && lower.startsWith(lc));
  });
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions.
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
