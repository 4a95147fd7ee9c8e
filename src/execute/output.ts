import type { Masker } from '../report/mask.js';
import type { Style } from '../report/style.js';

// Output of the runs, as it comes: each line prefixed `[definition/step] `, the prefix
// coloured per run on a terminal, and every line masked before it is written. With --quiet
// a step's lines are held back (the last QUIET_KEEP of them) and written only if it fails.

const QUIET_KEEP = 200;

export interface OutputOptions {
  write(text: string): void;
  style: Style;
  mask: Masker;
  quiet: boolean;
}

export interface StepOutput {
  line(text: string): void;
  /** A failed step: its held-back lines (with --quiet), then the message, after `word` if given. */
  failed(message: string, word?: string): void;
  /** A note that is not a failure (a skipped step); not written with --quiet. */
  note(message: string): void;
}

export class RunOutput {
  private readonly paint: (s: string) => string;

  constructor(
    private readonly options: OutputOptions,
    readonly definition: string,
    index: number,
  ) {
    const palette = [options.style.cyan, options.style.green, options.style.yellow, options.style.bold];
    this.paint = palette[index % palette.length]!;
  }

  private emit(prefix: string, text: string): void {
    this.options.write(`${this.paint(prefix)} ${this.options.mask(text)}\n`);
  }

  step(path: string): StepOutput {
    const prefix = `[${this.definition}/${path}]`;
    const held: string[] = [];
    let dropped = 0;
    const { quiet, style } = this.options;
    return {
      line: (text) => {
        if (!quiet) return this.emit(prefix, text);
        held.push(text);
        if (held.length > QUIET_KEEP) {
          held.shift();
          dropped++;
        }
      },
      failed: (message, word = 'failed:') => {
        if (dropped) this.emit(prefix, style.dim(`… ${dropped} earlier line${dropped === 1 ? '' : 's'} not shown`));
        for (const text of held.splice(0)) this.emit(prefix, text);
        this.emit(prefix, word ? `${style.red(word)} ${message}` : style.red(message));
      },
      note: (message) => {
        if (!quiet) this.emit(prefix, style.dim(message));
      },
    };
  }

  /** About the run as a whole (a stage skipped); not written with --quiet. */
  note(message: string): void {
    if (!this.options.quiet) this.emit(`[${this.definition}]`, this.options.style.dim(message));
  }

  failed(message: string, word = 'failed:'): void {
    this.emit(`[${this.definition}]`, `${this.options.style.red(word)} ${message}`);
  }

  /** The run's last line; with --quiet only when it did not succeed. */
  finished(status: string, message: string): void {
    if (this.options.quiet && (status === 'succeeded' || status === 'skipped')) return;
    const { style } = this.options;
    const word = status === 'succeeded' ? style.green(status) : status === 'skipped' ? style.yellow(status) : style.red(status.replace('_', ' '));
    this.emit(`[${this.definition}]`, `${word}${message ? ` ${message}` : ''}`);
  }
}
