import { describe, expect, it } from 'vitest';
import { createMasker, maskDeep } from '../../src/shared/mask.js';

describe('createMasker', () => {
  it('masks a secret as written and as it reads inside a JSON string', () => {
    const mask = createMasker(['pa"ss\\word']);
    expect(mask('TOK=pa"ss\\word')).toBe('TOK=***');
    expect(mask(JSON.stringify({ token: 'pa"ss\\word' }))).toBe('{"token":"***"}');
  });

  it('masks a multi-line secret whole, line by line, and escaped with \\n', () => {
    const mask = createMasker(['first line\nsecond line']);
    expect(mask('a first line\nsecond line b')).toBe('a *** b');
    expect(mask('second line')).toBe('***');
    expect(mask(JSON.stringify('first line\nsecond line'))).toBe('"***"');
  });
});

describe('maskDeep', () => {
  it('masks every string value, at any depth, and keeps keys, numbers and booleans', () => {
    const mask = createMasker(['true', 'key']);
    const value = { key: 'key', valid: true, n: 1, list: ['true', { nested: 'a true key' }], none: null };
    expect(maskDeep(value, mask)).toEqual({ key: '***', valid: true, n: 1, list: ['***', { nested: 'a *** ***' }], none: null });
    expect(JSON.parse(JSON.stringify(maskDeep(value, mask)))).toEqual(maskDeep(value, mask));
  });
});
