// The one way the channels speak HTTP: a JSON POST with a deadline, no redirects followed
// (a redirect could carry an Authorization header to another host), and at most
// RESPONSE_LIMIT bytes of the answer read (a hostile or broken server cannot make trig
// hold a large body).

/** Every request of a channel is given up after this long. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** What is read of an answer's body, at most. */
export const RESPONSE_LIMIT = 16 * 1024;

export class NotifyError extends Error {}

export interface Answer {
  status: number;
  /** The body's first RESPONSE_LIMIT bytes, as text. */
  text: string;
}

/** The first `limit` bytes of a body; the rest is not read (the stream is cancelled). */
async function boundedText(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/**
 * POSTs `body` as JSON (a Buffer is sent as it is: a signed body must be the bytes signed);
 * a network failure or timeout is a NotifyError, without the URL (it may be a secret).
 */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const text = Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'trig', ...headers },
      body: text,
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const name = (error as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') throw new NotifyError(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
    throw new NotifyError(`cannot reach the server${cause ? ` (${cause})` : ''}`);
  }
  return { status: response.status, text: await boundedText(response, RESPONSE_LIMIT) };
}

/** An answer other than 2xx as an error: the status and the start of what the server said. */
export function expectSuccess(answer: Answer, what: string): void {
  if (answer.status >= 200 && answer.status < 300) return;
  const said = answer.text.replace(/\s+/g, ' ').trim().slice(0, 200);
  throw new NotifyError(`${what} answered HTTP ${answer.status}${said ? `: ${said}` : ''}`);
}

/** A URL the channels may send to: http or https, nothing else (no file:, no data:). */
export function httpUrl(value: unknown, setting: string): string {
  if (typeof value !== 'string') throw new NotifyError(`no ${setting}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new NotifyError(`${setting} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new NotifyError(`${setting} must be an http or https URL`);
  return url.toString();
}
