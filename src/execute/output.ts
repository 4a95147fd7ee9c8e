import { StringDecoder } from 'node:string_decoder';
import { isHighSurrogate, type Masker } from '../shared/mask.js';
import type { Style } from '../shared/style.js';
import type { ChunkSink } from './process.js';

// Output of the runs, as it comes: each line prefixed `[definition/step] `, the prefix
// coloured per run on a terminal, and every line masked before it is written. With --quiet
// a step's lines are held back (the last QUIET_KEEP of them) and written only if it fails.
//
// Memory stays bounded whatever a step prints and however slowly trig's own output is read:
// a line longer than MAX_LINE is written in pieces, and when the destination falls behind
// (a pipe whose reader is slow or paused) the step's pipes are not read until it catches
// up (see ChunkSink). Backpressure rather than a bounded buffer that drops lines: nothing
// is lost, and a step that outruns its reader simply blocks in write(2), as it would
// writing to that reader directly.

const QUIET_KEEP = 200;

/** A line longer than this (in UTF-16 code units) is written in pieces rather than held in memory whole. */
export const MAX_LINE = 64 * 1024;

export interface OutputOptions {
  write(text: string): void;
  /** While the destination is behind: a promise that settles when it has caught up. */
  backlog?(): Promise<void> | undefined;
  style: Style;
  mask: Masker;
  quiet: boolean;
}

/**
 * Cuts a stream of output into lines: UTF-8 decoded across chunk boundaries, a trailing
 * `\r` dropped, and a line longer than MAX_LINE passed on in pieces of MAX_LINE
 * (`continued` when more of the same line follows).
 */
export function lineSplitter(onLine: (text: string, continued: boolean) => void): { write(chunk: Buffer): void; end(): void } {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const pieces = () => {
    while (pending.length > MAX_LINE) {
      const cut = isHighSurrogate(pending.charCodeAt(MAX_LINE - 1)) ? MAX_LINE - 1 : MAX_LINE;
      onLine(pending.slice(0, cut), true);
      pending = pending.slice(cut);
    }
  };
  return {
    write(chunk) {
      const text = decoder.write(chunk);
      let start = 0;
      let newline: number;
      while ((newline = text.indexOf('\n', start)) >= 0) {
        pending += text.slice(start, newline);
        pieces();
        onLine(pending.replace(/\r$/, ''), false);
        pending = '';
        start = newline + 1;
      }
      pending += text.slice(start);
      pieces();
    },
    end() {
      pending += decoder.end();
      pieces();
      if (pending) onLine(pending.replace(/\r$/, ''), false);
      pending = '';
    },
  };
}

export interface StepOutput {
  line(text: string): void;
  /** A sink for one of the step's output streams (stdout, stderr), chunk by chunk as read. */
  stream(): ChunkSink;
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
    /** Gets every line, masked and without colour, --quiet or not (the store's log). */
    private readonly record?: (step: string | null, masked: string) => void,
  ) {
    const palette = [options.style.cyan, options.style.green, options.style.yellow, options.style.bold];
    this.paint = palette[index % palette.length]!;
  }

  private emit(prefix: string, text: string): void {
    this.emitMasked(prefix, this.options.mask(text));
  }

  private emitMasked(prefix: string, masked: string): void {
    this.options.write(`${this.paint(prefix)} ${masked}\n`);
  }

  step(path: string): StepOutput {
    const prefix = `[${this.definition}/${path}]`;
    const held: string[] = [];
    let dropped = 0;
    const { quiet, style, mask } = this.options;
    const lineMasked = (masked: string) => {
      this.record?.(path, masked);
      if (!quiet) return this.emitMasked(prefix, masked);
      held.push(masked);
      if (held.length > QUIET_KEEP) {
        held.shift();
        dropped++;
      }
    };
    return {
      line: (text) => lineMasked(mask(text)),
      stream: () => {
        // The tail of a piece that may begin a secret, waiting for the rest of its line.
        let carry = '';
        const splitter = lineSplitter((piece, continued) => {
          const text = carry + piece;
          carry = '';
          if (!continued || !mask.partial) return lineMasked(mask(text));
          const { ready, held: tail } = mask.partial(text);
          carry = tail;
          if (ready) lineMasked(ready);
        });
        return {
          write: (chunk) => {
            splitter.write(chunk);
            return this.options.backlog?.();
          },
          end: () => {
            splitter.end();
            if (carry) lineMasked(mask(carry));
            carry = '';
          },
        };
      },
      failed: (message, word = 'failed:') => {
        this.record?.(path, mask(word ? `${word} ${message}` : message));
        if (dropped) this.emit(prefix, style.dim(`… ${dropped} earlier line${dropped === 1 ? '' : 's'} not shown`));
        for (const masked of held.splice(0)) this.emitMasked(prefix, masked);
        this.emit(prefix, word ? `${style.red(word)} ${message}` : style.red(message));
      },
      note: (message) => {
        this.record?.(path, mask(message));
        if (!quiet) this.emit(prefix, style.dim(message));
      },
    };
  }

  /** About the run as a whole (a stage skipped); not written with --quiet. */
  note(message: string): void {
    this.record?.(null, this.options.mask(message));
    if (!this.options.quiet) this.emit(`[${this.definition}]`, this.options.style.dim(message));
  }

  failed(message: string, word = 'failed:'): void {
    this.record?.(null, this.options.mask(`${word} ${message}`));
    this.emit(`[${this.definition}]`, `${this.options.style.red(word)} ${message}`);
  }

  /** The run's last line; with --quiet only when it did not succeed. */
  finished(status: string, message: string): void {
    this.record?.(null, this.options.mask(`${status}${message ? ` ${message}` : ''}`));
    if (this.options.quiet && (status === 'succeeded' || status === 'skipped' || status === 'retrying')) return;
    const { style } = this.options;
    const word =
      status === 'succeeded'
        ? style.green(status)
        : status === 'skipped' || status === 'retrying' || status === 'awaiting_approval'
          ? style.yellow(status.replace('_', ' '))
          : style.red(status.replace('_', ' '));
    this.emit(`[${this.definition}]`, `${word}${message ? ` ${message}` : ''}`);
  }
}
