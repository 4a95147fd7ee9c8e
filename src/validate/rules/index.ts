import { activityTypes } from './activity-types.js';
import { approval } from './approval.js';
import { concurrency } from './concurrency.js';
import { condition } from './condition.js';
import { cron } from './cron.js';
import { exclusiveFilters } from './exclusive-filters.js';
import { expression } from './expression.js';
import { globPattern } from './glob-pattern.js';
import { literalSecret } from './literal-secret.js';
import { manualIntervention } from './manual-intervention.js';
import { numericPattern } from './numeric-pattern.js';
import { pullRequestPaths } from './pull-request-paths.js';
import type { DiagnosticKind, Rule } from './rule.js';
import { retry } from './retry.js';
import { scriptComment } from './script-comment.js';
import { topLevelKey } from './top-level-key.js';
import { unknownEvent } from './unknown-event.js';
import { unknownFilter } from './unknown-filter.js';

/** Every semantic rule, in the order their findings are reported at one position. */
export const RULES: readonly Rule[] = [
  topLevelKey,
  unknownEvent,
  unknownFilter,
  exclusiveFilters,
  activityTypes,
  cron,
  globPattern,
  numericPattern,
  pullRequestPaths,
  expression,
  concurrency,
  condition,
  scriptComment,
  literalSecret,
  retry,
  manualIntervention,
  approval,
];

/**
 * The diagnostics no rule reports: a file trig cannot read (check.ts), YAML it cannot
 * parse (load.ts) and documents the schema refuses (validate.ts). With RULES, every
 * value a diagnostic's `rule` can have; the README's rule table lists them all.
 */
export const NON_RULE_DIAGNOSTICS: readonly DiagnosticKind[] = [
  {
    name: 'file',
    description: 'a file that cannot be read (see the paths above)',
  },
  {
    name: 'syntax',
    description:
      'malformed YAML (bad indentation, duplicate keys, tabs), at the offending line; an alias without its ' +
      'anchor (`*defaults` with no `&defaults` before it), an alias inside the node its own anchor names ' +
      '(`a: &a [*a]`), and tags (`!!binary`, `!!set`, `!!timestamp`, `!custom`: one error each, at the tag; ' +
      'definitions hold plain strings, numbers, booleans, lists and maps, read as YAML 1.2 whatever a ' +
      '`%YAML` directive says)',
  },
  {
    name: 'schema',
    description:
      'keys the format does not have (with did-you-mean), wrong types, values not allowed, missing keys, ' +
      'both or neither of `pipeline`/`agent`; a list item that is wrong is reported at the item (`severity: ' +
      '[critical, urgent]` at `urgent`)',
  },
];
