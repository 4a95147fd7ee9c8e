import { describe, expect, it } from 'vitest';
import { MAX_LINE, RunOutput } from '../../src/execute/output.js';
import { createMasker } from '../../src/shared/mask.js';
import { PLAIN_STYLE, type Style } from '../../src/shared/style.js';

function output(quiet: boolean, style: Style = PLAIN_STYLE, secrets: string[] = []) {
  let text = '';
  const run = new RunOutput({ write: (s) => (text += s), style, mask: createMasker(secrets), quiet }, 'autofix', 0);
  return { run, text: () => text };
}

describe('RunOutput', () => {
  it('prefixes each line with [definition/step] and masks secrets, multi-line ones line by line', () => {
    const { run, text } = output(false, PLAIN_STYLE, ['hunter22', 'first-line\nsecond-line']);
    const step = run.step('coding_agent');
    step.line('token=hunter22');
    step.line('first-line');
    step.line('second-line');
    expect(text()).toBe('[autofix/coding_agent] token=***\n[autofix/coding_agent] ***\n[autofix/coding_agent] ***\n');
  });

  it('colours the prefix, not the text, when the style has colour', () => {
    const marked: Style = { ...PLAIN_STYLE, cyan: (s) => `<c>${s}</c>` };
    const { run, text } = output(false, marked);
    run.step('x').line('hello');
    expect(text()).toBe('<c>[autofix/x]</c> hello\n');
  });

  it('with quiet, holds a step back and writes it only when the step fails', () => {
    const { run, text } = output(true);
    const ok = run.step('ok');
    ok.line('fine');
    ok.note('skipped: nothing');
    run.finished('succeeded', 'in 1s');
    expect(text()).toBe('');
    const bad = run.step('bad');
    bad.line('about to fail');
    bad.failed('exited with code 3');
    run.finished('failed', 'in 1s');
    expect(text()).toBe('[autofix/bad] about to fail\n[autofix/bad] failed: exited with code 3\n[autofix] failed in 1s\n');
  });

  it('with quiet, keeps only the last 200 lines of a failing step and says how many it dropped', () => {
    const { run, text } = output(true);
    const step = run.step('noisy');
    for (let i = 1; i <= 205; i++) step.line(`line ${i}`);
    step.failed('exited with code 1');
    const lines = text().trimEnd().split('\n');
    expect(lines[0]).toBe('[autofix/noisy] … 5 earlier lines not shown');
    expect(lines[1]).toBe('[autofix/noisy] line 6');
    expect(lines).toHaveLength(202);
  });
});

describe('RunOutput streams', () => {
  /** Feeds `chunks` to one output stream of a step and returns the lines written, prefix removed. */
  function streamed(chunks: (string | Buffer)[], secrets: string[] = []): string[] {
    const { run, text } = output(false, PLAIN_STYLE, secrets);
    const sink = run.step('s').stream();
    for (const chunk of chunks) sink.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    sink.end();
    return text()
      .split('\n')
      .slice(0, -1)
      .map((line) => line.replace(/^\[autofix\/s\] /, ''));
  }

  const SECRET = 'hunter2-Sekret';

  it('masks a secret cut in two by a chunk boundary, wherever the cut falls', () => {
    const text = `token=${SECRET};\n`;
    for (let cut = 1; cut < text.length; cut++) {
      expect(streamed([text.slice(0, cut), text.slice(cut)], [SECRET]), `cut at ${cut}`).toEqual(['token=***;']);
    }
  });

  it('writes a line longer than MAX_LINE in pieces, and masks a secret the split falls in, at every offset', () => {
    for (let offset = 1; offset < SECRET.length; offset++) {
      // The secret begins `offset` characters before the MAX_LINE split.
      const before = 'x'.repeat(MAX_LINE - offset);
      const line = `${before}${SECRET}${'y'.repeat(5000)}`;
      for (const chunks of [[`${line}\n`], [line.slice(0, MAX_LINE), line.slice(MAX_LINE), '\n'], [line]]) {
        const lines = streamed(chunks, [SECRET]);
        expect(lines.join('\n'), `offset ${offset}`).not.toContain(SECRET.slice(0, offset));
        expect(lines.join(''), `offset ${offset}`).toBe(`${before}***${'y'.repeat(5000)}`);
        expect(lines.length).toBeGreaterThan(1);
        for (const piece of lines) expect(piece.length).toBeLessThanOrEqual(MAX_LINE + SECRET.length);
      }
    }
  });

  it('masks a secret split by the MAX_LINE cut and again by the chunks that carry it', () => {
    const line = `${'x'.repeat(MAX_LINE - 6)}${SECRET}tail`;
    for (let cut = MAX_LINE - 10; cut < MAX_LINE + SECRET.length; cut++) {
      const lines = streamed([line.slice(0, cut), line.slice(cut), '\n'], [SECRET]);
      expect(lines.join(''), `cut at ${cut}`).toBe(`${'x'.repeat(MAX_LINE - 6)}***tail`);
    }
  });

  it('writes a long line in pieces of MAX_LINE characters, each but the last shorter by what may begin a secret', () => {
    const line = 'z'.repeat(2 * MAX_LINE + 10);
    expect(streamed([`${line}\n`]).map((piece) => piece.length)).toEqual([MAX_LINE, MAX_LINE, 10]);
    const held = SECRET.length - 1;
    expect(streamed([`${line}\n`], [SECRET]).map((piece) => piece.length)).toEqual([MAX_LINE - held, MAX_LINE, 10 + held]);
    expect(streamed(['z'.repeat(MAX_LINE), '\n'], [SECRET])).toEqual(['z'.repeat(MAX_LINE)]);
  });

  it('decodes UTF-8 cut between chunks, and never splits a character at the MAX_LINE cut', () => {
    const bytes = Buffer.from('héllo ✓ 𝄞 done\n');
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(streamed([bytes.subarray(0, cut), bytes.subarray(cut)], [SECRET]), `cut at ${cut}`).toEqual(['héllo ✓ 𝄞 done']);
    }
    // 𝄞 is two UTF-16 code units: wherever it falls around the MAX_LINE cut (and around the
    // tail held back for secrets), both halves go out together, or UTF-8 would get U+FFFD.
    for (const secrets of [[], [SECRET]]) {
      for (let at = MAX_LINE - 2 * SECRET.length; at <= MAX_LINE + 1; at++) {
        const line = `${'x'.repeat(at)}𝄞${'y'.repeat(100)}`;
        const lines = streamed([Buffer.from(`${line}\n`)], secrets);
        expect(lines.join(''), `at ${at}`).toBe(line);
        for (const piece of lines) expect(Buffer.from(piece).toString(), `at ${at}`).toBe(piece);
      }
    }
  });

  it('passes the destination backlog on to the reader of the pipes', async () => {
    let release!: () => void;
    const behind = new Promise<void>((resolve) => (release = resolve));
    let backlog: Promise<void> | undefined = behind;
    const run = new RunOutput(
      { write: () => undefined, backlog: () => backlog, style: PLAIN_STYLE, mask: createMasker([]), quiet: false },
      'd',
      0,
    );
    const sink = run.step('s').stream();
    expect(sink.write(Buffer.from('a\n'))).toBe(behind);
    backlog = undefined;
    release();
    expect(sink.write(Buffer.from('b\n'))).toBeUndefined();
  });
});
