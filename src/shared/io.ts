// Where trig writes. Commands and the fire core are handed writers rather than reaching for
// process.stdout, so that a test (or a server) can capture what they say without spawning
// trig, and a git hook or a run's lines can go where their caller wants them.

import { writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { isatty } from 'node:tty';

export interface Writer {
  write(text: string): void;
  /** Whether the destination is a terminal (colour may be on, see styleFor). */
  readonly isTTY?: boolean;
  /** While the destination is behind: a promise that settles when it has caught up. */
  backlog?(): Promise<void> | undefined;
}

/** A command's two outputs. */
export interface Output {
  stdout: Writer;
  stderr: Writer;
}

/**
 * backlog() for a stream: pending while the stream holds more than its high-water mark.
 * A stream that failed or closed (a reader that went away) is never behind: what is
 * written to it is dropped, and the steps must not wait for it.
 */
export function backlogOf(stream: Writable): () => Promise<void> | undefined {
  let pending: Promise<void> | undefined;
  return () => {
    if (!stream.writableNeedDrain || stream.destroyed || stream.errored) return undefined;
    // One promise for all who wait, so that parallel steps add one listener, not one each.
    pending ??= new Promise<void>((resolve) => {
      const done = () => {
        pending = undefined;
        for (const event of ['drain', 'close', 'error']) stream.off(event, done);
        resolve();
      };
      for (const event of ['drain', 'close', 'error']) stream.on(event, done);
    });
    return pending;
  };
}

function streamWriter(stream: NodeJS.WriteStream): Writer {
  return { write: (text) => void stream.write(text), isTTY: Boolean(stream.isTTY), backlog: backlogOf(stream) };
}

/** A writer of trig's notices: `trig: <line>`, one a line (for loadDefinitions' notices, say). */
export function noticesTo(writer: Writer): (line: string) => void {
  return (line) => writer.write(`trig: ${line}\n`);
}

/** The process's standard output and error, as the CLI hands them to each command. */
export function processOutput(): Output {
  return { stdout: streamWriter(process.stdout), stderr: streamWriter(process.stderr) };
}

/**
 * A writer straight to a file descriptor, each text in one write(2) where the kernel takes
 * it whole (a line under PIPE_BUF on a pipe is never split by another thread's). For a worker
 * thread: its process.stdout and stderr pass every line through the main thread, which has
 * better things to do. A descriptor that is full (a non-blocking pipe) is waited for; one
 * that fails (a reader gone) drops what is written, as streamWriter's do.
 */
export function fdWriter(fd: number): Writer {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return {
    isTTY: isatty(fd),
    write(text) {
      const bytes = Buffer.from(text);
      let written = 0;
      while (written < bytes.length) {
        try {
          written += writeSync(fd, bytes, written);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
          Atomics.wait(pause, 0, 0, 1);
        }
      }
    },
  };
}
