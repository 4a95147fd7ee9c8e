import { describe, expect, it } from 'vitest';
import { compilePatternList, patternProblem, patternRegex } from '../../src/lang/glob.js';

// Rows of GitHub's "Filter pattern cheat sheet": the patterns, the example matches it
// gives, and non-matches that follow from each row's description.
const BRANCH_ROWS: [patterns: string[], matches: string[], nonMatches: string[]][] = [
  [['feature/*'], ['feature/my-branch', 'feature/your-branch'], ['feature/beta-a/my-branch', 'feature', 'features/x']],
  [['feature/**'], ['feature/beta-a/my-branch', 'feature/your-branch', 'feature/mona/the/octocat'], ['feature', 'main']],
  [
    ['main', 'releases/mona-the-octocat'],
    ['main', 'releases/mona-the-octocat'],
    ['main2', 'releases/mona', 'xmain'],
  ],
  [['*'], ['main', 'releases'], ['releases/v1', 'feature/x']],
  [['**'], ['all/the/branches', 'every/tag', 'main'], []],
  [['*feature'], ['mona-feature', 'feature', 'ver-10-feature'], ['feature-x', 'a/feature']],
  [['v2*'], ['v2', 'v2.0', 'v2.9'], ['v1.0', 'v2/x', 'xv2']],
  [['v[12].[0-9]+.[0-9]+'], ['v1.10.1', 'v2.0.0'], ['v3.0.0', 'v1.0', 'v1..1', 'v1.a.1', 'v12.0.0']],
];

const PATH_ROWS: [patterns: string[], matches: string[], nonMatches: string[]][] = [
  [['*'], ['README.md', 'server.rb'], ['docs/README.md']],
  [['*.jsx?'], ['page.js', 'page.jsx'], ['page.jsxx', 'page.j', 'src/page.js']],
  [['**'], ['all/the/files.md'], []],
  [['*.js'], ['app.js', 'index.js'], ['js/index.js']],
  [['**.js'], ['index.js', 'js/index.js', 'src/js/app.js'], ['index.jsx']],
  [['docs/*'], ['docs/README.md', 'docs/file.txt'], ['docs/mona/octocat.txt', 'src/docs/a.md']],
  [['docs/**'], ['docs/README.md', 'docs/mona/octocat.txt'], ['src/docs/a.md', 'docsx/a']],
  [['docs/**/*.md'], ['docs/README.md', 'docs/mona/hello-world.md', 'docs/a/markdown/file.md'], ['docs/a.txt', 'README.md']],
  [['**/docs/**'], ['docs/hello.md', 'dir/docs/my-file.txt', 'space/docs/plan/space.doc'], ['mydocs/a.md', 'docs']],
  [['**/README.md'], ['README.md', 'js/README.md'], ['README.mdx', 'js/XREADME.md']],
  [['**/*src/**'], ['a/src/app.js', 'my-src/code/js/app.js'], ['src', 'a/source/app.js']],
  [['**/*-post.md'], ['my-post.md', 'path/their-post.md'], ['post.md', 'path/post.md']],
  [['**/migrate-*.sql'], ['migrate-10909.sql', 'db/migrate-v1.0.sql', 'db/sept/migrate-v1.sql'], ['db/migrate.sql', 'migrate-1.sqlx']],
  [['*.md', '!README.md'], ['hello.md'], ['README.md', 'docs/hello.md']],
  [['*.md', '!README.md', 'README*'], ['hello.md', 'README.md', 'README.doc'], ['docs/hello.md']],
];

describe('cheat sheet: branches and tags', () => {
  for (const [patterns, matches, nonMatches] of BRANCH_ROWS) {
    const list = compilePatternList(patterns);
    it.each(matches)(`${patterns.join(', ')} matches %s`, (value) => expect(list.match(value).included).toBe(true));
    if (nonMatches.length) {
      it.each(nonMatches)(`${patterns.join(', ')} does not match %s`, (value) => expect(list.match(value).included).toBe(false));
    }
  }
});

describe('cheat sheet: paths', () => {
  for (const [patterns, matches, nonMatches] of PATH_ROWS) {
    const list = compilePatternList(patterns);
    it.each(matches)(`${patterns.join(', ')} matches %s`, (value) => expect(list.match(value).included).toBe(true));
    if (nonMatches.length) {
      it.each(nonMatches)(`${patterns.join(', ')} does not match %s`, (value) => expect(list.match(value).included).toBe(false));
    }
  }
});

describe('ordered evaluation', () => {
  it('reports the deciding pattern', () => {
    const list = compilePatternList(['*.md', '!README.md', 'README*']);
    expect(list.match('hello.md')).toEqual({ included: true, by: '*.md' });
    expect(list.match('README.md')).toEqual({ included: true, by: 'README*' });
    expect(list.match('a/b.txt')).toEqual({ included: false });
    expect(compilePatternList(['*.md', '!README.md']).match('README.md')).toEqual({ included: false, by: '!README.md' });
  });

  it('a negation before any positive pattern excludes nothing that a later pattern includes', () => {
    const list = compilePatternList(['!main', '**']);
    expect(list.match('main')).toEqual({ included: true, by: '**' });
  });

  it('a list of negations alone includes nothing', () => {
    expect(compilePatternList(['!main']).match('dev').included).toBe(false);
  });

  it('anyMatch serves ignore lists', () => {
    const ignore = compilePatternList(['docs/**', '*.md']);
    expect(ignore.anyMatch('docs/a/b.txt')).toBe(true);
    expect(ignore.anyMatch('README.md')).toBe(true);
    expect(ignore.anyMatch('src/a.ts')).toBe(false);
  });

  it('an empty list includes nothing', () => {
    expect(compilePatternList([]).match('main')).toEqual({ included: false });
  });
});

describe('special characters', () => {
  it.each([
    ['[CB]at', 'Cat', true],
    ['[CB]at', 'Bat', true],
    ['[CB]at', 'Rat', false],
    ['[1-2]00', '100', true],
    ['[1-2]00', '200', true],
    ['[1-2]00', '300', false],
    ['[0-9a-z]', 'q', true],
    ['[0-9a-z]', 'Q', false],
    ['Octo*', 'Octocat', true],
    ['re+lease', 'reeelease', true],
    ['re+lease', 'rlease', false],
    ['colou?r', 'color', true],
    ['colou?r', 'colour', true],
    ['colou?r', 'colouur', false],
    ['[0-9]+', '2026', true],
    ['[0-9]+', '', false],
    ['feature\\*', 'feature*', true],
    ['feature\\*', 'featurex', false],
    ['fix\\+1', 'fix+1', true],
    ['fix\\+1', 'fixx1', false],
    ['a.b', 'a.b', true],
    ['a.b', 'axb', false],
    ['release(1)', 'release(1)', true],
    ['a!b', 'a!b', true],
    ['{a,b}', '{a,b}', true],
    ['^main$', '^main$', true],
    ['^main$', 'main', false],
    ['*', '', true],
  ])('%s against %j → %s', (pattern, value, expected) => {
    expect(compilePatternList([pattern]).match(value).included).toBe(expected);
  });

  it('compiles to anchored RegExps', () => {
    expect(patternRegex('docs/**/*.md').source).toBe('^docs\\/(?:.+\\/)?[^/]*\\.md$');
    expect(patternRegex('!v[12]+').source).toBe('^v[12]+$');
  });

  it('takes an unclosed [ and a trailing backslash literally', () => {
    expect(compilePatternList(['a[b']).match('a[b').included).toBe(true);
    expect(compilePatternList(['a\\']).match('a\\').included).toBe(true);
  });

  it('takes a quantifier with nothing to repeat literally', () => {
    expect(compilePatternList(['+x']).match('+x').included).toBe(true);
    expect(compilePatternList(['a*?']).match('abc?').included).toBe(true);
    expect(compilePatternList(['a+?']).match('aa?').included).toBe(true);
  });

  it('an empty class matches nothing', () => {
    expect(compilePatternList(['a[]b']).match('ab').included).toBe(false);
  });
});

describe('patternProblem', () => {
  it.each(['feature/*', 'v[12].[0-9]+.[0-9]+', '**/README.md', '!README.md', '*.jsx?', 'README.*', '.*rc', 'release/v[0-9].[0-9]'])(
    'accepts %s',
    (pattern) => {
      expect(patternProblem(pattern)).toBeUndefined();
    },
  );

  it.each([
    ['^main$', 'warning', 'looks like a regular expression: `^` is a literal character'],
    ['main$', 'warning', 'looks like a regular expression: `$` is a literal character'],
    ['.*', 'warning', 'looks like a regular expression: `.` is a literal dot'],
    ['release/.+', 'warning', 'looks like a regular expression: `.` is a literal dot'],
    ['(main|dev)', 'warning', 'looks like a regular expression: `(`, `|` and `)`'],
    ['main|dev', 'warning', 'looks like a regular expression: `(`, `|` and `)`'],
    ['v\\d+', 'warning', 'looks like a regular expression: escapes such as `\\d`'],
    ['{main,dev}', 'warning', 'looks like a regular expression: `{a,b}` alternatives'],
    ['main\\', 'warning', 'the pattern ends with `\\`, which escapes nothing'],
    // Forms GitHub's documentation does not define are errors: they never mean what was meant.
    ['release/[0-9', 'error', '`[` at position 9 is never closed; escape it as `\\[` for a literal `[`'],
    ['+main', 'error', '`+` at the start repeats nothing; escape it as `\\+` for a literal `+`'],
    ['a**+', 'error', '`+` at position 4 follows no single character to repeat (`*+`)'],
    ['*+', 'error', '`+` at position 2 follows no single character to repeat (`*+`)'],
    ['v*?', 'error', '`?` at position 3 follows no single character to repeat (`*?`)'],
    ['a??', 'error', '`?` at position 3 follows no single character to repeat (`??`)'],
    ['v1++', 'error', '`+` at position 4 follows no single character to repeat (`++`)'],
    ['?x', 'error', '`?` at the start repeats nothing'],
    ['a[]', 'error', '`[]` lists no character'],
    ['[z-a]', 'error', 'range `z-a` in `[z-a]` is reversed'],
    ['[a-Z]', 'error', 'range `a-Z` in `[a-Z]` is reversed and matches nothing'],
    ['[0-z]', 'error', 'range `0-z` in `[0-z]`: ranges can only span a-z, A-Z or 0-9'],
    ['[^a]', 'error', '`[^a]` looks like a negated class'],
    ['v[._]1', 'error', '`.` in `[._]` is not a letter or digit'],
    ['[a-z_]*', 'error', '`_` in `[a-z_]` is not a letter or digit'],
    ['[/]', 'error', '`/` in `[/]` is not a letter or digit'],
    ['[ab-]', 'error', '`-` in `[ab-]` is not a letter or digit'],
    ['^main[', 'error', '`[` at position 6 is never closed'],
    ['', 'error', 'the pattern is empty'],
    ['!', 'error', '`!` alone negates an empty pattern'],
  ])('flags %j (%s)', (pattern, severity, start) => {
    const problem = patternProblem(pattern);
    expect(problem?.severity).toBe(severity);
    expect(problem?.message).toMatch(new RegExp(`^${start.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}`));
  });
});
