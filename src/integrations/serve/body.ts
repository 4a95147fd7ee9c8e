// Reading a request's body with a bound: the webhook routes (--max-body) and the page's
// form posts (a few KiB) read no further than their bound, whatever the sender declares.

import type { IncomingMessage } from 'node:http';

/** The body, at most `max` bytes: 'too large' as soon as it is over (a declared length over it is refused before reading). */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too large' | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.resolve('too large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      total += chunk.length;
      if (total > max) {
        done = true;
        req.pause();
        resolve('too large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, total));
    });
    req.on('error', () => {
      if (done) return;
      done = true;
      resolve('aborted');
    });
    req.on('close', () => {
      if (done) return;
      done = true;
      resolve('aborted');
    });
  });
}
