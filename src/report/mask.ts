/** Replaces secret values with `***`. */
export type Masker = (text: string) => string;

/**
 * A secret spanning several lines is masked whole, and line by line too, because a run's
 * output reaches trig one line at a time.
 */
export function createMasker(secrets: Iterable<string>): Masker {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    needles.add(secret);
    if (/[\r\n]/.test(secret)) {
      for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 3) needles.add(line);
    }
  }
  if (!needles.size) return (text) => text;
  // Longest first, so a secret that contains another is masked whole.
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (text) => text.replace(pattern, '***');
}
