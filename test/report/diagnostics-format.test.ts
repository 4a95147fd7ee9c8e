import { describe, expect, it } from 'vitest';
import { excerpt } from '../../src/report/diagnostics-format.js';

describe('excerpt', () => {
  it('shows a short line whole', () => {
    expect(excerpt('    - pipline_failed', 7, 14)).toEqual({ text: '    - pipline_failed', col: 7, width: 14 });
  });

  it('shows a window of a long line around the column, marking the cuts', () => {
    const line = 'x'.repeat(300) + 'TARGET' + 'y'.repeat(300);
    const { text, col, width } = excerpt(line, 301, 6);
    expect(text.startsWith('…') && text.endsWith('…')).toBe(true);
    expect(text.length).toBe(122);
    expect(text.slice(col - 1, col - 1 + width)).toBe('TARGET');
  });

  it('keeps the start or the end of a long line when the column is near it', () => {
    const line = 'a'.repeat(200);
    expect(excerpt(line, 3, 2)).toEqual({ text: 'a'.repeat(120) + '…', col: 3, width: 2 });
    const end = excerpt(line, 199, 2);
    expect([end.text, end.col, end.width]).toEqual(['…' + 'a'.repeat(120), 120, 2]);
  });
});
