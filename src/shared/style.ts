// Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org);
// chalk is imported only when colour is on, so piped and cron runs never load it.

export interface Style {
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const plain: Style = { red: String, yellow: String, green: String, cyan: String, dim: String, bold: String };

export function wantsColor(stream: { readonly isTTY?: boolean }): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

export async function styleFor(stream: { readonly isTTY?: boolean }): Promise<Style> {
  if (!wantsColor(stream)) return plain;
  const { Chalk } = await import('chalk');
  const chalk = new Chalk({ level: 1 });
  return {
    red: (s) => chalk.red(s),
    yellow: (s) => chalk.yellow(s),
    green: (s) => chalk.green(s),
    cyan: (s) => chalk.cyan(s),
    dim: (s) => chalk.dim(s),
    bold: (s) => chalk.bold(s),
  };
}

export const PLAIN_STYLE = plain;
