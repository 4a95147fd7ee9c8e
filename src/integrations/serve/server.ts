// `trig serve`: a webhook receiver on node:http. Each delivery is verified on its raw bytes,
// parsed, and stored (admitted, not yet dispatched) before it is acknowledged with 202: the
// SQLite commit (synchronous=FULL) comes first, so an acknowledged delivery survives a
// crash. Running is another thread's (runner.ts, started by the CLI as a worker): told that
// deliveries were stored, it takes them from the store and fires each through the fire
// core, so that no run's work (spawning its processes, syncing its records) holds an
// acknowledgement up. What a killed receiver acknowledged is found in the store at the next
// start; runs it left queued or running are marked lost by the store's reaper, never run
// again. The page's decisions are made in the run thread too; approval links
// (/approvals/<gate>/approve|reject?token=…) are answered here by approval-links.ts and the
// run they approve is carried on there.
//
//   request -> route -> content type -> body (bounded) -> signature -> delivery -> admit -> 202 -> `admitted` to the run thread

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { definitionPlaces, type FireDeps } from '../../fire/index.js';
import { SIGNAL_EXIT, StoreBusyError, UsageError } from '../../shared/errors.js';
import { noticesTo, type Output } from '../../shared/io.js';
import { oneLine } from '../../shared/printable.js';
import { plural } from '../../shared/records.js';
import type { Admission, NewEvent, Store } from '../../store/store.js';
import { handleApprovalLink, isApprovalPath, type ApprovalLinksContext } from './approval-links.js';
import { readBody } from './body.js';
import { createPage, UI_TOKEN_ENV, type PageAccess } from './page.js';
import { RunnerThread, type RunnerWorker } from './runner-thread.js';
import type { RunnerSettings } from './runner-protocol.js';
import { checkContentType, readDelivery, routeOf, routeSecrets, verifyDelivery, type Answer, type Delivery } from './intake.js';
import { ROUTES, SECRET_ENV, type Route } from './verify.js';

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** What a 503 asks the sender to wait, in seconds. */
const RETRY_AFTER_S = '5';
/** The exit code when the run thread failed (EX_SOFTWARE, as for any internal error). */
const EXIT_INTERNAL = 70;

export interface ServeOptions {
  host: string;
  port: number;
  defs: readonly string[];
  /** How many deliveries the run thread fires at once. */
  concurrency: number;
  /** How many acknowledged deliveries may wait for the pool; beyond, 503. */
  queue: number;
  /** How much lower the run thread's CPU priority is (see runner.ts). */
  nice: number;
  maxBodyBytes: number;
  /** After SIGTERM or SIGINT, how long running runs may take before they are stopped. */
  graceMs: number;
  /** Bounds each request, headers and body (slow clients). */
  requestTimeoutMs: number;
  maxConnections: number;
  allowUnsigned: readonly Route[];
  /** Who may use the page at / (page.ts); undefined with --no-page. */
  page: PageAccess | undefined;
  /** --quiet: what the page's decisions carry on prints its lines only when it fails. */
  quiet: boolean;
  deps: Pick<FireDeps, 'now' | 'env' | 'cwd'>;
  openStore(): Promise<Store>;
  /** Starts the run thread (runner.ts) with these settings. */
  startRunner(settings: RunnerSettings): RunnerWorker;
  io: Output;
}

/** Serves until a signal; resolves with the exit code. */
export async function serve(options: ServeOptions): Promise<number> {
  const { io, deps } = options;
  const notice = noticesTo(io.stderr);
  const log = (fields: Record<string, unknown>) => io.stderr.write(`${JSON.stringify({ time: deps.now().toISOString(), ...fields })}\n`);
  const secrets = routeSecrets(deps.env, options.allowUnsigned);
  const places = definitionPlaces(options.defs, deps.cwd());

  // The run thread loads the definitions and reports broken ones; it says ready once it
  // could, or why it could not (definitions that do not load: exit 2 as before listening).
  const runner = new RunnerThread(
    options.startRunner({ defs: options.defs, concurrency: options.concurrency, graceMs: options.graceMs, nice: options.nice }),
  );
  const ready = await runner.ready;
  const store = await options.openStore();
  let stopping: NodeJS.Signals | undefined;
  /** Slots taken by deliveries being stored: they count against --queue before they wait. */
  let reserved = 0;

  // A run approved through a link is carried on by the run thread, never inside the request.
  const approvalLinks: ApprovalLinksContext = {
    store,
    now: deps.now,
    log,
    stopping: () => stopping !== undefined,
    carryOn: (claimed) => runner.carry(claimed),
  };

  const page =
    options.page &&
    createPage({
      store,
      now: deps.now,
      env: deps.env,
      access: options.page,
      quiet: options.quiet,
      stopping: () => stopping !== undefined,
      decide: (request) => runner.decide(request),
    });
  if (ready.waiting) notice(`resuming ${deliveries(ready.waiting, 'acknowledged ')} not run before`);

  const send = (res: ServerResponse, answer: Answer) => {
    const text = `${JSON.stringify(answer.body)}\n`;
    res.writeHead(answer.status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      ...answer.headers,
    });
    res.end(res.req.method === 'HEAD' ? undefined : text);
  };

  // Group commit: the deliveries that reach the store in one turn of the event loop (those
  // read while the previous commit was being synced) are admitted in one transaction,
  // synced to disk once; each one's 202 waits for that commit. When it fails, none of them
  // is stored, and each is answered 500.
  let batch: { event: NewEvent; settle: (admission: Promise<Admission>) => void }[] = [];
  const commitBatch = () => {
    const taken = batch;
    batch = [];
    let committed: Promise<Admission[]>;
    try {
      // Durable once it resolves (the SQLite store: once it returns).
      committed = store.admitEvents(taken.map((t) => t.event));
    } catch (error) {
      committed = Promise.reject(error);
    }
    taken.forEach((t, i) => t.settle(committed.then((all) => all[i]!)));
  };
  const admitDurably = (event: NewEvent): Promise<Admission> =>
    new Promise((resolve) => {
      if (!batch.length) setImmediate(commitBatch);
      batch.push({ event, settle: resolve });
    });

  const admit = async (delivery: Delivery): Promise<Answer> => {
    const receivedAt = deps.now();
    const event = {
      name: delivery.name,
      source: 'http' as const,
      at: receivedAt,
      deliveryKey: delivery.deliveryKey,
      places,
      payload: delivery.payload,
      ...(delivery.payloadJson !== undefined ? { payloadJson: delivery.payloadJson } : {}),
      headers: delivery.headers,
      details: { route: delivery.route },
    };
    if (delivery.event === undefined) {
      // A Linear event no catalog event stands for: recorded, decided at once (nothing listens).
      const { thisProcess } = await import('../../fire/index.js');
      const admission = await store.admitEvent(event, { decisions: [], runs: [], owner: thisProcess() });
      return admission.duplicate
        ? { status: 200, body: { duplicate: true, event: admission.eventId }, reason: 'duplicate' }
        : { status: 202, body: { event: admission.eventId, delivery: delivery.deliveryKey, status: 'recorded' }, reason: 'recorded' };
    }
    if (runner.waiting + reserved >= options.queue) {
      return {
        status: 503,
        body: { error: 'the queue is full; retry later' },
        headers: { 'Retry-After': RETRY_AFTER_S },
        reason: 'queue full',
      };
    }
    reserved++;
    try {
      const admission = await admitDurably(event);
      if (admission.duplicate) return { status: 200, body: { duplicate: true, event: admission.eventId }, reason: 'duplicate' };
      runner.admitted();
      return { status: 202, body: { event: admission.eventId, delivery: delivery.deliveryKey, status: 'queued' }, reason: 'queued' };
    } finally {
      reserved--;
    }
  };

  const health = async (): Promise<Answer> => {
    let storeStatus = 'ok';
    try {
      await store.listUndispatched({ source: 'http', limit: 1 });
    } catch (error) {
      storeStatus = `error: ${oneLine((error as Error).message)}`;
    }
    const ok = !stopping && storeStatus === 'ok';
    return {
      status: ok ? 200 : 503,
      body: {
        status: stopping ? 'stopping' : storeStatus === 'ok' ? 'ok' : 'error',
        queue: { waiting: runner.waiting, running: runner.running, limit: options.queue },
        store: storeStatus,
      },
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const remote = req.socket.remoteAddress ?? '';
    let pathname = '/';
    let url: URL | undefined;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
      pathname = url.pathname;
    } catch {
      // a request line node:http took but URL does not: no route
    }
    if (url && isApprovalPath(pathname)) return handleApprovalLink(req, res, url, approvalLinks);
    if (url && page?.owns(pathname)) {
      const result = await page.handle(req, res, url);
      log({ kind: 'page', method: req.method, path: pathname, remote, ...result, durationMs: Math.round(performance.now() - started) });
      return;
    }
    const routing = routeOf(req.method ?? '', pathname);
    const entry: Record<string, unknown> = { kind: 'delivery', route: 'route' in routing ? routing.route : pathname, remote };
    const answer = async (a: Answer) => {
      if (!('route' in routing && routing.route === 'healthz')) {
        log({ ...entry, status: a.status, ...(a.reason ? { result: a.reason } : {}), durationMs: Math.round(performance.now() - started) });
      }
      send(res, a);
    };
    if ('answer' in routing) return answer(routing.answer);
    if (routing.route === 'healthz') return answer(await health());
    if (stopping) {
      req.resume();
      return answer({
        status: 503,
        body: { error: 'trig serve is stopping' },
        headers: { 'Retry-After': RETRY_AFTER_S, Connection: 'close' },
        reason: 'stopping',
      });
    }
    const route = routing.route;
    const badType = checkContentType(route, req.headers);
    if (badType) {
      req.resume();
      return answer(badType);
    }
    const body = await readBody(req, options.maxBodyBytes);
    if (body === 'too large') {
      // Nothing more is read: the connection is closed once the answer is out.
      res.on('finish', () => req.socket.destroy());
      return answer({
        status: 413,
        body: { error: `the body is larger than ${options.maxBodyBytes} bytes` },
        headers: { Connection: 'close' },
        reason: 'body too large',
      });
    }
    if (body === 'aborted') return;
    const now = deps.now();
    const verdict = verifyDelivery(route, body, req.headers, secrets, now);
    if (!verdict.ok) return answer({ status: 401, body: { error: 'bad or missing signature' }, reason: verdict.reason });
    const delivery = readDelivery(route, routing.event, body, req.headers, now, options.maxBodyBytes);
    if ('status' in delivery) return answer(delivery);
    Object.assign(entry, { delivery: delivery.deliveryKey, event: delivery.name });
    const stored = await admit(delivery);
    if (typeof stored.body.event === 'string') entry.eventId = stored.body.event;
    return answer(stored);
  };

  const server = createServer(
    {
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: Math.min(options.requestTimeoutMs, 10_000),
      connectionsCheckingInterval: Math.min(1000, options.requestTimeoutMs),
      keepAliveTimeout: 5000,
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        // The store failed (locked too long by another process, a full disk): nothing was
        // acknowledged; the sender retries.
        const message = error instanceof Error ? error.message : String(error);
        const busy = error instanceof StoreBusyError;
        log({ kind: 'delivery', status: busy ? 503 : 500, error: oneLine(message) });
        if (res.headersSent) res.destroy();
        else if (busy)
          send(res, { status: 503, body: { error: 'the store is busy; retry later' }, headers: { 'Retry-After': RETRY_AFTER_S } });
        else send(res, { status: 500, body: { error: 'internal error; retry later' } });
      });
    },
  );
  server.maxConnections = options.maxConnections;
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    socket.end(
      `HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new UsageError(`cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`)),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  io.stderr.write(`trig serve: listening on http://${host}:${address.port}\n`);
  if (options.page)
    notice(`the page: http://${host}:${address.port}/ (${options.page.token ? `${UI_TOKEN_ENV} needed` : 'loopback names only'})`);
  for (const route of ROUTES) {
    if (secrets.unsigned(route))
      notice(`warning: /${routeName(route)} takes UNSIGNED requests (--allow-unsigned ${route}): anyone who can reach it can start runs`);
    else if (!secrets.secret(route)) notice(`warning: ${SECRET_ENV[route]} is not set: /${routeName(route)} refuses every request (401)`);
  }
  notice(`serving ${plural(ready.definitions, 'definition')}; ${options.concurrency} deliveries at once, up to ${options.queue} waiting`);

  return new Promise<number>((resolve) => {
    let exitCode: number | undefined;
    const finish = async (stoppedRuns: boolean) => {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      server.close();
      server.closeAllConnections();
      const left = await store.countUndispatched('http');
      store.close();
      if (left) notice(`${deliveries(left, 'acknowledged ')} left in the store for the next trig serve`);
      await runner.exited;
      resolve(exitCode ?? (stoppedRuns ? (SIGNAL_EXIT[stopping!] ?? 128) : 0));
    };
    const beginStop = (signal: NodeJS.Signals) => {
      stopping = signal;
      server.closeIdleConnections();
      runner.stop(signal);
      void runner.stopped.then(finish);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second signal: the runs are stopped now.
        runner.abort(signal);
        return;
      }
      notice(
        `${signal}: no more deliveries; ${deliveries(runner.running)} running, ${runner.waiting} waiting (kept in the store); running runs have ${Math.round(options.graceMs / 1000)}s to finish`,
      );
      beginStop(signal);
    };
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
    // The run thread failed (a bug): nothing would run what is taken in, so nothing more is.
    void runner.broken.then((message) => {
      notice(`internal error in the run thread: ${oneLine(message)}; stopping (what was acknowledged stays in the store)`);
      exitCode = EXIT_INTERNAL;
      if (!stopping) beginStop('SIGTERM');
    });
  });
}

function deliveries(n: number, adjective = ''): string {
  return `${n} ${adjective}${n === 1 ? 'delivery' : 'deliveries'}`;
}

function routeName(route: Route): string {
  return route === 'standard' ? 'events/<event>' : route;
}
