import { isRecord, type Rule } from './rule.js';

// Prefixes that issuers put on credentials precisely so that scanners can recognise them.
const KNOWN_SECRETS: readonly [RegExp, string][] = [
  [/^sk-(?:ant-)?[A-Za-z0-9_-]{16,}/, 'an API key ("sk-…")'],
  [/^(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/, 'a GitHub token'],
  [/^github_pat_[A-Za-z0-9_]{20,}/, 'a GitHub personal access token'],
  [/^glpat-[A-Za-z0-9_-]{16,}/, 'a GitLab token'],
  [/^xox[abpors]-[A-Za-z0-9-]{10,}/, 'a Slack token'],
  [/^(?:AKIA|ASIA)[A-Z0-9]{16}$/, 'an AWS access key id'],
  [/^AIza[A-Za-z0-9_-]{30,}/, 'a Google API key'],
  [/^pat\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'a Harness personal access token'],
  [/^-----BEGIN [A-Z ]*-----/, 'a PEM key or certificate'],
  [/^eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/, 'a JSON Web Token'],
];

function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / text.length) * Math.log2(n / text.length);
  return bits;
}

/**
 * Random-looking tokens without a known prefix. Secret references are identifiers
 * (`autofix_anthropic_api_key`, `account.harness_api_key`): dotted scopes, long runs of
 * lowercase words and no digits, so those shapes are never taken for a value. A
 * heuristic: it answers for a warning, never an error.
 */
function looksRandom(text: string): boolean {
  if (text.length < 20 || !/^[A-Za-z0-9+/=_-]+$/.test(text) || entropy(text) < 3.5) return false;
  if (/^[0-9a-f]{32,}$/i.test(text)) return true;
  const longestLowerRun = Math.max(...(text.match(/[a-z]+/g) ?? ['']).map((run) => run.length));
  return /[a-z]/.test(text) && /[A-Z]/.test(text) && /[0-9]/.test(text) && longestLowerRun < 7;
}

function secretKind(text: string): string | undefined {
  const value = text.trim();
  if (value.includes('<+')) return undefined; // an expression is a reference
  for (const [pattern, kind] of KNOWN_SECRETS) if (pattern.test(value)) return kind;
  return looksRandom(value) ? 'a random token' : undefined;
}

export const literalSecret: Rule = {
  name: 'literal-secret',
  description: 'a `type: secret` input whose `default` looks like a literal secret rather than a reference (warning)',
  check(document, report) {
    const inputs = document.body?.inputs;
    if (!document.root || !isRecord(inputs)) return;
    for (const [name, input] of Object.entries(inputs)) {
      if (!isRecord(input) || input.type !== 'secret' || typeof input.default !== 'string') continue;
      const kind = secretKind(input.default);
      if (!kind) continue;
      report({
        path: [document.root, 'inputs', name, 'default'],
        severity: 'warning',
        message: `secret input "${name}" has a default that looks like ${kind}, not a secret reference; store the value as a secret and give its identifier (e.g. account.${name})`,
      });
    }
  },
};
