/** Bad arguments or bad input: reported as one line, exit code 2, nothing done. */
export class UsageError extends Error {}

export const EXIT = { ok: 0, problems: 1, usage: 2 } as const;
