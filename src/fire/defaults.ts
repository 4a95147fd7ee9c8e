// The fire options every caller gets unless it says otherwise: the CLI shows them in
// `trig fire --help`, the git hooks and the core use them as they are. Kept apart from the
// core so that the CLI's entry can read them without loading the core.

export const FIRE_DEFAULTS = {
  /** The container engine CLI for container steps. */
  containerRuntime: 'docker',
  /** How many runs at most at once. */
  concurrency: 4,
  /** How many chained events deep a chain of runs goes (GitHub's workflow_run: three). */
  chainDepth: 3,
} as const;

/** The largest chain depth a caller may ask for: a chain is never unbounded. */
export const MAX_CHAIN_DEPTH = 10;
