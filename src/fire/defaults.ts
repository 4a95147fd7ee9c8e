// The fire options every caller gets unless it says otherwise: the CLI shows them in
// `trig fire --help`, the git hooks and the core use them as they are. Kept apart from the
// core so that the CLI's entry can read them without loading the core.

export const FIRE_DEFAULTS = {
  /** The container engine CLI for container steps. */
  containerRuntime: 'docker',
  /** How many runs at most at once. */
  concurrency: 4,
} as const;
