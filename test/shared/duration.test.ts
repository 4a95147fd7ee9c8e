import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/shared/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2m5s', 125_000],
    ['1.5s', 1500],
    ['1d', 86_400_000],
    ['45', 45_000],
    [' 10s ', 10_000],
  ])('%j is %i ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '0s', '0', 's', '10x', '10 s', '1h-', '-5s', 'soon', '1h 30m', 'ms'])('%j is not a duration', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});

describe('formatDuration', () => {
  it.each([
    [350, '350ms'],
    [4210, '4.2s'],
    [60_000, '1m'],
    [125_000, '2m5s'],
  ])('%i ms reads %j', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
