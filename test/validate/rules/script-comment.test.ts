import { describe, expect, it } from 'vitest';
import { scriptComment } from '../../../src/validate/rules/script-comment.js';
import { check } from './check.js';

const steps = (...lines: string[]) => ['pipeline:', '  on: push', '  stages:', '    - name: s', '      steps:', ...lines].join('\n');

describe('script-comment', () => {
  it('warns when YAML took " #…" after a plain script for a comment: run, bare steps, run.script and its lines', () => {
    const yaml = steps(
      '        - run: echo "a # b"',
      '        - make all # and test',
      '        - run:',
      '            script: curl https://example.com/#top # anchor',
      '        - run:',
      '            script:',
      '              - ls # list',
    );
    expect(check(scriptComment, yaml)).toEqual([
      '6:16 warning: YAML reads "# b\\"" after this script as a comment, so the script ends at "echo \\"a"; quote the script or write it as a block scalar (run: |) to keep it @ echo "a',
      '7:11 warning: YAML reads "# and test" after this script as a comment, so the script ends at "make all"; quote the script or write it as a block scalar (run: |) to keep it @ make all',
      '9:21 warning: YAML reads "# anchor" after this script as a comment, so the script ends at "curl https://example.com/#top"; quote the script or write it as a block scalar (run: |) to keep it @ curl https://example.com/#top',
      '12:17 warning: YAML reads "# list" after this script as a comment, so the script ends at "ls"; quote the script or write it as a block scalar (run: |) to keep it @ ls',
    ]);
  });

  it('finds scripts in nested group steps', () => {
    const yaml = steps('        - group:', '            steps:', '              - run: echo one # two');
    expect(check(scriptComment, yaml)).toEqual([
      '8:22 warning: YAML reads "# two" after this script as a comment, so the script ends at "echo one"; quote the script or write it as a block scalar (run: |) to keep it @ echo one',
    ]);
  });

  it('leaves quoted and block scripts, a # inside a word, comments on their own line, and env values alone', () => {
    const yaml = steps(
      '        - run: "echo a # b"',
      "        - run: 'echo a # b' # a comment on a quoted script is plainly one",
      '        - run: |',
      '            echo a # b',
      '        - run: echo a#b',
      '        # a comment line',
      '        - run: echo fine',
      '          env:',
      '            A: x # y',
    );
    expect(check(scriptComment, yaml)).toEqual([]);
  });
});
