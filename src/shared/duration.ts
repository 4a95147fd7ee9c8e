// Durations as definitions and --timeout write them: `500ms`, `90s`, `30m`, `1h`, `2d`,
// and combinations such as `1h30m`. Definitions may also give a number of seconds.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** Milliseconds, or undefined when the text is not a positive duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) {
    const seconds = Number(trimmed);
    return seconds > 0 ? Math.round(seconds * 1000) : undefined;
  }
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const match = PART.exec(trimmed);
    if (!match) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  const ms = Math.round(total);
  return ms > 0 ? ms : undefined;
}

/** For messages: `4.2s`, `350ms`, `2m5s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds ? `${minutes}m${seconds}s` : `${minutes}m`;
}

/** Unit words people write for the units durations take (`10 sec` → `10s`). */
const UNIT_WORDS: Record<string, string> = {
  millisecond: 'ms',
  milliseconds: 'ms',
  msec: 'ms',
  msecs: 'ms',
  sec: 's',
  secs: 's',
  second: 's',
  seconds: 's',
  min: 'm',
  mins: 'm',
  minute: 'm',
  minutes: 'm',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  hours: 'h',
  day: 'd',
  days: 'd',
};

/** `10s` for `10 sec`, `1m` for `1 minute`; undefined when no unit word is recognised. */
export function durationGuess(text: string): string | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text);
  const unit =
    match &&
    (UNIT_WORDS[match[2]!.toLowerCase()] ??
      (['ms', 's', 'm', 'h', 'd'].includes(match[2]!.toLowerCase()) ? match[2]!.toLowerCase() : undefined));
  return match && unit ? `${match[1]}${unit}` : undefined;
}
