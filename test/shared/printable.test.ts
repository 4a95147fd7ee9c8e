import { describe, expect, it } from 'vitest';
import { oneLine, printable, printableDeep } from '../../src/shared/printable.js';

describe('printable', () => {
  it('shows the control characters a terminal acts on as escapes, and keeps tabs and line breaks', () => {
    expect(printable('a\u001b[31mred\u0007\r\tz\n\u009b\u007f')).toBe('a\\u001b[31mred\\u0007\\u000d\tz\n\\u009b\\u007f');
  });

  it('oneLine also shows line breaks as escapes', () => {
    expect(oneLine('a\nb\u001bc\td')).toBe('a\\nb\\u001bc\td');
  });

  it('leaves ordinary text, accents and emoji alone', () => {
    expect(printable('déjà vu 🎉 main')).toBe('déjà vu 🎉 main');
  });

  it('printableDeep reaches every string of a value, keys too', () => {
    expect(printableDeep({ 'k\u001b': ['x\u0007', 1, null, { y: 'z\u0000' }] })).toEqual({
      'k\\u001b': ['x\\u0007', 1, null, { y: 'z\\u0000' }],
    });
  });
});
