// GitHub Actions filter patterns (branches, tags, paths and the platform list filters).
// picomatch and minimatch give `?` and `+` shell meanings ("any one character",
// extglob), whereas GitHub's cheat sheet makes them quantifiers of the preceding
// character, so the patterns are translated to RegExps here.

export interface PatternMatch {
  /** Whether the value is in the list after every pattern has had its say. */
  included: boolean;
  /** The pattern that decided, as written (with its `!`); absent when none matched. */
  by?: string;
}

export interface PatternList {
  readonly patterns: readonly string[];
  /** Evaluates the list in order; the last pattern that matches decides. */
  match(value: string): PatternMatch;
  /**
   * For the *-ignore lists: whether the list catches the value. Same ordered evaluation
   * as `match`, which for a list without `!` patterns is "any pattern matches".
   */
  anyMatch(value: string): boolean;
}

interface CompiledPattern {
  source: string;
  negated: boolean;
  regex: RegExp;
}

/**
 * What is wrong with a pattern. An error for a pattern that matches nothing, or uses a
 * form GitHub's documentation does not define (so it can never mean what was meant);
 * a warning for one that matches, but likely not as meant.
 */
export interface PatternProblem {
  message: string;
  severity: 'error' | 'warning';
}

interface Translation {
  regex: string;
  problems: PatternProblem[];
}

const error = (message: string): PatternProblem => ({ message, severity: 'error' });
const warning = (message: string): PatternProblem => ({ message, severity: 'warning' });

// The characters a `u`-flag RegExp lets (and needs) to be escaped outside a class.
const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/;

function literal(ch: string): string {
  return REGEX_SPECIAL.test(ch) ? `\\${ch}` : ch;
}

function rangeGroup(ch: string): 'digit' | 'lower' | 'upper' | undefined {
  if (ch >= '0' && ch <= '9') return 'digit';
  if (ch >= 'a' && ch <= 'z') return 'lower';
  if (ch >= 'A' && ch <= 'Z') return 'upper';
  return undefined;
}

/**
 * Reads a `[...]` class starting at `start` (the `[`). Returns undefined when the class
 * is never closed, so the caller can take the `[` literally.
 */
function readClass(pattern: string, start: number, problems: PatternProblem[]): { regex: string; end: number } | undefined {
  const chars: string[] = [];
  let i = start + 1;
  let closed = false;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === ']') {
      closed = true;
      break;
    }
    if (ch === '\\' && i + 1 < pattern.length) {
      chars.push(pattern[i + 1]!);
      i += 2;
      continue;
    }
    chars.push(ch);
    i++;
  }
  if (!closed) return undefined;

  const body = pattern.slice(start, i + 1);
  if (chars.length === 0) {
    problems.push(error(`\`[]\` lists no character, so the pattern cannot match`));
    return { regex: '(?!)', end: i + 1 };
  }
  if (chars[0] === '^' || chars[0] === '!') {
    problems.push(
      error(`\`${body}\` looks like a negated class; filter patterns have none (a class lists letters, digits and their ranges)`),
    );
  }
  // GitHub documents classes of letters and digits (`[0-9a-z]`) only; what `[_.]` means
  // there is undefined, so no guess is made.
  const other = chars.find((ch, k) => !rangeGroup(ch) && !(ch === '-' && k > 0 && k < chars.length - 1));
  if (other !== undefined && other !== '^' && other !== '!') {
    problems.push(
      error(`\`${other}\` in \`${body}\` is not a letter or digit; a class lists only letters, digits and their ranges (a-z, A-Z, 0-9)`),
    );
  }
  let out = '';
  for (let k = 0; k < chars.length; k++) {
    const a = chars[k]!;
    // A `-` between two characters makes a range; at either end it is a listed `-`.
    if (chars[k + 1] === '-' && k + 2 < chars.length) {
      const b = chars[k + 2]!;
      const ga = rangeGroup(a);
      if (a > b) {
        problems.push(error(`range \`${a}-${b}\` in \`${body}\` is reversed and matches nothing`));
      } else if (!ga || ga !== rangeGroup(b)) {
        problems.push(error(`range \`${a}-${b}\` in \`${body}\`: ranges can only span a-z, A-Z or 0-9`));
      }
      if (a <= b) out += `${classLiteral(a)}-${classLiteral(b)}`;
      k += 2;
      continue;
    }
    out += classLiteral(a);
  }
  return { regex: out ? `[${out}]` : '(?!)', end: i + 1 };
}

function classLiteral(ch: string): string {
  return /[\\\]^[-]/.test(ch) ? `\\${ch}` : ch;
}

function translate(body: string): Translation {
  const problems: PatternProblem[] = [];
  let regex = '';
  // Whether the last emitted piece is one character (or class) that `?`/`+` may repeat.
  let repeatable = false;
  let i = 0;
  while (i < body.length) {
    const ch = body[i]!;
    if (ch === '*') {
      if (body[i + 1] === '*') {
        // `**/` also matches no directory at all: `**/README.md` matches `README.md`.
        if (body[i + 2] === '/') {
          regex += '(?:.+/)?';
          i += 3;
        } else {
          regex += '.*';
          i += 2;
        }
      } else {
        regex += '[^/]*';
        i++;
      }
      repeatable = false;
      continue;
    }
    if (ch === '?' || ch === '+') {
      if (repeatable) {
        regex += ch;
      } else {
        // GitHub defines `?` and `+` only after one character (`*+`, `++`, `a??` are undefined).
        problems.push(
          error(
            i === 0
              ? `\`${ch}\` at the start repeats nothing; escape it as \`\\${ch}\` for a literal \`${ch}\``
              : `\`${ch}\` at position ${i + 1} follows no single character to repeat (\`${body.slice(i - 1, i + 1)}\`); escape it as \`\\${ch}\` for a literal \`${ch}\``,
          ),
        );
        regex += `\\${ch}`;
      }
      // JS rejects `a++`, and GitHub gives a second quantifier no meaning either.
      repeatable = false;
      i++;
      continue;
    }
    if (ch === '[') {
      const cls = readClass(body, i, problems);
      if (cls) {
        regex += cls.regex;
        i = cls.end;
      } else {
        problems.push(error(`\`[\` at position ${i + 1} is never closed; escape it as \`\\[\` for a literal \`[\``));
        regex += '\\[';
        i++;
      }
      repeatable = true;
      continue;
    }
    if (ch === '\\') {
      if (i + 1 < body.length) {
        regex += literal(body[i + 1]!);
        i += 2;
      } else {
        problems.push(warning('the pattern ends with `\\`, which escapes nothing'));
        regex += '\\\\';
        i++;
      }
      repeatable = true;
      continue;
    }
    regex += literal(ch);
    repeatable = true;
    i++;
  }
  return { regex: `^${regex}$`, problems };
}

function split(pattern: string): { negated: boolean; body: string } {
  // Only a leading `!` negates; anywhere else it is an ordinary character.
  return pattern.startsWith('!') ? { negated: true, body: pattern.slice(1) } : { negated: false, body: pattern };
}

export function compilePattern(pattern: string): CompiledPattern {
  const { negated, body } = split(pattern);
  return { source: pattern, negated, regex: new RegExp(translate(body).regex, 'u') };
}

/** The RegExp source a pattern compiles to (without the `!`); exposed for diagnostics and tests. */
export function patternRegex(pattern: string): RegExp {
  return compilePattern(pattern).regex;
}

export function compilePatternList(patterns: readonly string[]): PatternList {
  const compiled = patterns.map(compilePattern);
  const match = (value: string): PatternMatch => {
    // Scanning backwards finds the last matching pattern first, which is the one that decides.
    for (let i = compiled.length - 1; i >= 0; i--) {
      const p = compiled[i]!;
      if (p.regex.test(value)) return { included: !p.negated, by: p.source };
    }
    return { included: false };
  };
  return { patterns: [...patterns], match, anyMatch: (value) => match(value).included };
}

/** Characters a regular-expression writer reaches for that are literal in filter patterns. */
function regexLookalike(body: string): string | undefined {
  if (body.startsWith('^')) {
    return '`^` is a literal character in filter patterns (a pattern always matches the whole name); drop it';
  }
  if (/(^|[^\\])\$$/.test(body)) {
    return '`$` is a literal character in filter patterns (a pattern always matches the whole name); drop it';
  }
  if (/(^|[^\\])[()|]/.test(body)) {
    return '`(`, `|` and `)` are literal characters in filter patterns; list alternatives as separate patterns';
  }
  if (/(^|[^\\])\.\+/.test(body) || /(^|\/)\.\*($|\/)/.test(body)) {
    return '`.` is a literal dot in filter patterns; use `*` (not across `/`) or `**` for any characters';
  }
  if (/\\[dwsbDWSB]/.test(body)) {
    return 'escapes such as `\\d` and `\\w` are not character classes in filter patterns; use `[0-9]` or `[a-z]`';
  }
  if (/\{[^}]*,[^}]*\}/.test(body)) {
    return '`{a,b}` alternatives are not supported in filter patterns; list alternatives as separate patterns';
  }
  return undefined;
}

/**
 * Why a pattern cannot match what its author meant, or undefined when it looks fine:
 * empty patterns, forms GitHub does not define (unclosed `[`, a class member that is no
 * letter or digit, quantifiers with nothing to repeat, bad ranges) and regular-expression
 * syntax or a trailing `\` (warnings). Used by validation; matching never needs it.
 */
export function patternProblem(pattern: string): PatternProblem | undefined {
  const { negated, body } = split(pattern);
  if (body === '')
    return error(negated ? '`!` alone negates an empty pattern, which matches nothing' : 'the pattern is empty and matches nothing');
  const { problems } = translate(body);
  const first = problems.find((p) => p.severity === 'error');
  if (first) return first;
  const lookalike = regexLookalike(body);
  if (lookalike) return warning(`looks like a regular expression: ${lookalike}`);
  return problems[0];
}
