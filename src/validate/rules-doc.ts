import { NON_RULE_DIAGNOSTICS, RULES } from './rules/index.js';

// The README's rule table, generated from the rules' own descriptions (and those of the
// diagnostics no rule reports) by `npm run gen`, so that it lists exactly the rules trig
// has; a test fails when the README is out of date.

/** A table cell: a `|` would end it. */
const cell = (text: string) => text.replace(/\|/g, '\\|');

export function rulesMarkdown(): string {
  const rows = [...NON_RULE_DIAGNOSTICS, ...RULES].map(({ name, description }) => `| \`${name}\` | ${cell(description)} |`);
  return ['| rule | finds |', '|---|---|', ...rows].join('\n');
}
