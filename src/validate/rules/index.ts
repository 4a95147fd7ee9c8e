import { activityTypes } from './activity-types.js';
import { condition } from './condition.js';
import { cron } from './cron.js';
import { exclusiveFilters } from './exclusive-filters.js';
import { expression } from './expression.js';
import { globPattern } from './glob-pattern.js';
import { literalSecret } from './literal-secret.js';
import { numericPattern } from './numeric-pattern.js';
import { pullRequestPaths } from './pull-request-paths.js';
import type { Rule } from './rule.js';
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
  condition,
  scriptComment,
  literalSecret,
];
