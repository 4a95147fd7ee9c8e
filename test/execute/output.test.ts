import { describe, expect, it } from 'vitest';
import { RunOutput } from '../../src/execute/output.js';
import { createMasker } from '../../src/report/mask.js';
import { PLAIN_STYLE, type Style } from '../../src/report/style.js';

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
