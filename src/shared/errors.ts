/** Bad arguments or bad input: reported as one line, exit code 2, nothing done. */
export class UsageError extends Error {}

/**
 * Another process kept the store locked (past the busy timeout, or through a recovery): one
 * line, exit code 75 (EX_TEMPFAIL, "try again later"); the write it was for did not happen.
 */
export class StoreBusyError extends Error {}

export const EXIT = { ok: 0, problems: 1, usage: 2, busy: 75 } as const;

/** Exit codes after a signal, as a shell reports them: 128 + the signal number. */
export const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
