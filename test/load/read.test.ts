import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBounded, readDefinitionFile, TooLargeError, UnreadableFileError } from '../../src/load/read.js';

const dir = mkdtempSync(path.join(tmpdir(), 'trig-test-read-'));
function file(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('readBounded', () => {
  it('reads a file of exactly the limit, and refuses one byte more', () => {
    expect(readBounded(file('ten', '0123456789'), 10).toString()).toBe('0123456789');
    expect(() => readBounded(file('eleven', '0123456789a'), 10)).toThrow(TooLargeError);
  });

  it('stops reading a device that never ends', () => {
    expect(() => readBounded('/dev/zero', 1024 * 1024)).toThrow(TooLargeError);
  });
});

describe('readDefinitionFile', () => {
  const failure = (p: string) => {
    try {
      readDefinitionFile(p);
    } catch (error) {
      if (error instanceof UnreadableFileError) return [error.line, error.col, error.reason];
      throw error;
    }
    return undefined;
  };

  it('points at the first byte that is not UTF-8, counting characters, not bytes', () => {
    // "é" and "€" before it are 2 and 3 bytes but one column each; 0xff is never UTF-8.
    expect(failure(file('bad', Buffer.concat([Buffer.from('a: 1\nb: é€'), Buffer.from([0xff]), Buffer.from('\n')])))).toEqual([
      2,
      6,
      'the file is not UTF-8 text (byte 0xff here); definitions are UTF-8',
    ]);
  });

  it('points at the lead byte of a sequence cut short', () => {
    // 0xe2 0x82 starts a 3-byte character that "x" interrupts.
    expect(failure(file('cut', Buffer.concat([Buffer.from('ab'), Buffer.from([0xe2, 0x82]), Buffer.from('x')])))).toEqual([
      1,
      3,
      'the file is not UTF-8 text (byte 0xe2 here); definitions are UTF-8',
    ]);
  });

  it('keeps a byte order mark, as before', () => {
    expect(readDefinitionFile(file('bom', '\ufeffa: 1\n'))).toBe('\ufeffa: 1\n');
  });

  it('says what is wrong with a path it cannot read', () => {
    expect(failure(dir)).toEqual([1, 1, 'cannot read the file: it is a directory']);
    expect(failure(path.join(dir, 'missing'))).toEqual([
      1,
      1,
      'cannot read the file: it is a symbolic link to nothing (or it was removed)',
    ]);
  });
});
