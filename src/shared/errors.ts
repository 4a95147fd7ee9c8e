/** Bad arguments or bad input: reported as one line, exit code 2, nothing done. */
export class UsageError extends Error {}

export const EXIT = { ok: 0, problems: 1, usage: 2 } as const;

/** Exit codes after a signal, as a shell reports them: 128 + the signal number. */
export const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
