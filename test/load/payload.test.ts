import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_DEPTH, parsePayload, PayloadError } from '../../src/load/payload.js';

/** The depth check as first written, one character at a time: the oracle for the faster one. */
function deepAtByCharacter(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length; i++) {
        if (text[i] === '\\') i++;
        else if (text[i] === '"') break;
      }
    } else if (c === '[' || c === '{') {
      if (++depth > MAX_PAYLOAD_DEPTH) return i;
    } else if (c === ']' || c === '}') {
      depth--;
    }
  }
  return undefined;
}

/** parsePayload's verdict on depth: the offset it names (as line:column on one line), or none. */
function deepAt(text: string): number | undefined {
  try {
    parsePayload(text, 'p');
    return undefined;
  } catch (error) {
    if (!(error instanceof PayloadError)) throw error;
    const at = /^p:1:(\d+): the payload nests more than/.exec(error.message);
    return at ? Number(at[1]) - 1 : undefined;
  }
}

const nested = (n: number, inner = '1') => '['.repeat(n) + inner + ']'.repeat(n);

describe('the payload depth check', () => {
  it('refuses one level past the bound at the bracket that opens it, and takes the bound itself', () => {
    expect(deepAt(`{"a":${nested(MAX_PAYLOAD_DEPTH - 1)}}`)).toBeUndefined();
    expect(deepAt(`{"a":${nested(MAX_PAYLOAD_DEPTH)}}`)).toBe(5 + MAX_PAYLOAD_DEPTH - 1);
  });

  it('does not count brackets inside strings, whatever their escapes', () => {
    const deep = nested(MAX_PAYLOAD_DEPTH);
    for (const text of [`{"a":"${deep}"}`, `{"a":"\\"${deep}"}`, `{"a":"\\\\\\"${deep}\\\\"}`, `{"${deep}":1}`]) {
      expect(deepAt(text)).toBeUndefined();
    }
    // A string that ends on an even run of backslashes is over: what follows counts.
    expect(deepAt(`{"a":"x\\\\","b":${deep}}`)).toBe(`{"a":"x\\\\","b":`.length + MAX_PAYLOAD_DEPTH - 1);
  });

  it('agrees with the character-by-character check on random texts of brackets, quotes and backslashes', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = ['[', '{', ']', '}', '"', '\\', 'a', ' '];
    for (let n = 0; n < 2000; n++) {
      let text = '{"k":';
      const length = Math.floor(random() * 400);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * (random() < 0.5 ? 2 : alphabet.length))];
      expect(deepAt(text), text).toBe(deepAtByCharacter(text));
    }
  });
});
