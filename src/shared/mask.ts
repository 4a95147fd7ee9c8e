/** Replaces secret values with `***`. */
export type Masker = ((text: string) => string) & {
  /**
   * For text that more text will follow (a long line passed on in pieces): the part that
   * can be written now, masked, and the raw tail to put before the next piece, so that a
   * secret cut in two by the split is still masked whole. Absent: nothing to hold back.
   */
  readonly partial?: (text: string) => { ready: string; held: string };
};

/**
 * A secret spanning several lines is masked whole, and line by line too, because a run's
 * output reaches trig one line at a time. Each is also masked as it reads inside a JSON
 * string (`pa\"ss`): trig writes nested `with:` settings into PLUGIN_* variables as JSON,
 * and a step may print them.
 */
export function createMasker(secrets: Iterable<string>): Masker {
  const needles = new Set<string>();
  const add = (needle: string) => {
    needles.add(needle);
    needles.add(JSON.stringify(needle).slice(1, -1));
  };
  for (const secret of secrets) {
    if (!secret) continue;
    add(secret);
    if (/[\r\n]/.test(secret)) {
      for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 3) add(line);
    }
  }
  if (!needles.size) return (text) => text;
  // Longest first, so a secret that contains another is masked whole.
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  const mask = (text: string) => text.replace(pattern, '***');
  // Any secret that starts before the last (longest - 1) characters lies whole in the text,
  // so it is masked now; what comes after it may be the start of one and waits.
  const longest = sorted[0]!.length;
  const partial = (text: string) => {
    let ready = '';
    let done = 0;
    const hold = text.length - (longest - 1);
    for (const match of text.matchAll(pattern)) {
      if (match.index >= hold) break;
      ready += `${text.slice(done, match.index)}***`;
      done = match.index + match[0].length;
    }
    let cut = Math.max(done, hold);
    // Never between the two halves of a surrogate pair: a lone half would print as U+FFFD.
    if (cut > done && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
    return { ready: ready + text.slice(done, cut), held: text.slice(cut) };
  };
  return Object.assign(mask, { partial });
}

export function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * Masks every string inside `value`, to be done before the value is formatted or
 * serialised: escaping first (JSON, shell quoting) would hide a secret with `"` or `\`
 * from the masker, and masking serialised JSON can break the document (a secret `true`).
 * Object keys are kept: they are trig's own field names or names written in the
 * definition, never resolved from a secret.
 */
export function maskDeep<T>(value: T, mask: Masker): T {
  const visit = (v: unknown): unknown => {
    if (typeof v === 'string') return mask(v);
    if (Array.isArray(v)) return v.map(visit);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, child]) => [k, visit(child)]));
    return v;
  };
  return visit(value) as T;
}
