// Quoting for the two places trig writes commands that another program runs later: a
// crontab line (read by cron, then by /bin/sh) and a git hook script (read by /bin/sh).

/** One POSIX sh word: single-quoted, so nothing inside is expanded. */
export function shQuote(word: string): string {
  if (/^[A-Za-z0-9_\/.,:@+-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command field of a crontab line: cron turns an unescaped `%` into a newline (and
 * what follows into standard input), so every `%` is escaped; cron removes the backslash
 * before handing the command to sh. A newline cannot be written in a crontab line at all.
 */
export function cronCommand(command: string): string {
  if (/[\n\r]/.test(command)) throw new Error('a crontab command cannot contain a line break');
  return command.replace(/%/g, '\\%');
}
