import type { Rule } from './rule.js';
import { unknownEvent } from './unknown-event.js';

/** Every semantic rule, in the order their findings are reported at one position. */
export const RULES: readonly Rule[] = [unknownEvent];
