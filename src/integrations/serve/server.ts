// `trig serve`: a webhook receiver on node:http. Each delivery is verified on its raw bytes,
// parsed, and stored (admitted, not yet dispatched) before it is acknowledged with 202: the
// SQLite commit (synchronous=FULL) comes first, so an acknowledged delivery survives a
// crash. A bounded pool then fires each admitted event through the fire core, which
// records its decisions and runs on the stored event (FireRequest.admitted). At start the
// events admitted but never dispatched (a receiver killed, or stopped with deliveries
// waiting) are queued again; runs a killed receiver left queued or running are marked lost
// by the store's reaper, never run again. Runs waiting for a retry whose trig is gone are
// carried on here too once due (fire/resume.ts), as the cron tick does. Approval links
// (/approvals/<gate>/approve|reject?token=…) are answered by approval-links.ts.
//
//   request -> route -> content type -> body (bounded) -> signature -> delivery -> admit -> 202
//   queue (bounded) -> pool (--concurrency) -> fire core (dispatch, plan, execute, record)

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { watch as chokidarWatch, type FSWatcher } from 'chokidar';
import { definitionPlaces, fire, type FireDeps, type FireOptions, type FireOutcome } from '../../fire/index.js';
import type { ResumeDeps, ResumeOutcome } from '../../fire/resume.js';
import { SIGNAL_EXIT, UsageError } from '../../shared/errors.js';
import { noticesTo, type Output } from '../../shared/io.js';
import { oneLine } from '../../shared/printable.js';
import { plural } from '../../shared/records.js';
import type { Style } from '../../shared/style.js';
import { resumeHinted, stateDir } from '../../store/place.js';
import type { Admission, NewEvent, Store } from '../../store/store.js';
import type { CheckResult } from '../../validate/check.js';
import { DefinitionKeeper, reportBroken, type Served } from '../watch/definitions.js';
import { definitionRoots } from '../watch/watch.js';
import { handleApprovalLink, isApprovalPath, type ApprovalLinksContext } from './approval-links.js';
import { readBody } from './body.js';
import { createPage, UI_TOKEN_ENV, type PageAccess } from './page.js';
import { checkContentType, readDelivery, routeOf, routeSecrets, verifyDelivery, type Answer, type Delivery } from './intake.js';
import { ROUTES, SECRET_ENV, type Route } from './verify.js';

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** What a 503 asks the sender to wait, in seconds. */
const RETRY_AFTER_S = '5';
/** Definition files are reloaded this long after their last change. */
const RELOAD_DEBOUNCE_MS = 300;
/** How often the receiver looks for runs whose retry is due (the hint file first: one lstat). */
const RESUME_POLL_MS = 1000;

export interface ServeOptions {
  host: string;
  port: number;
  defs: readonly string[];
  /** How many deliveries are fired at once. */
  concurrency: number;
  /** How many acknowledged deliveries may wait for the pool; beyond, 503. */
  queue: number;
  maxBodyBytes: number;
  /** After SIGTERM or SIGINT, how long running runs may take before they are stopped. */
  graceMs: number;
  /** Bounds each request, headers and body (slow clients). */
  requestTimeoutMs: number;
  maxConnections: number;
  allowUnsigned: readonly Route[];
  /** Who may use the page at / (page.ts); undefined with --no-page. */
  page: PageAccess | undefined;
  fireOptions: Partial<FireOptions>;
  deps: Pick<FireDeps, 'now' | 'env' | 'cwd'>;
  openStore(): Promise<Store>;
  loadDefinitions(paths: readonly string[]): Promise<{ files: string[]; checked: CheckResult }>;
  io: Output;
  style: Style;
}

/** An acknowledged delivery waiting for the pool (or resumed from the store). */
interface Admitted {
  eventId: string;
  route: Route | 'resumed';
  name: string;
  deliveryKey: string;
  payload: Record<string, unknown>;
  headers?: Record<string, string>;
  receivedAt: Date;
}

/** Serves until a signal; resolves with the exit code. */
export async function serve(options: ServeOptions): Promise<number> {
  const { io, deps } = options;
  const notice = noticesTo(io.stderr);
  const log = (fields: Record<string, unknown>) => io.stderr.write(`${JSON.stringify({ time: deps.now().toISOString(), ...fields })}\n`);
  const secrets = routeSecrets(deps.env, options.allowUnsigned);
  const places = definitionPlaces(options.defs, deps.cwd());

  // The definitions, reloaded when their files change (the last good version of a broken file keeps serving).
  const keeper = new DefinitionKeeper();
  const report = (served: Served) => reportBroken(served, io, options.style, notice);
  const first = await options.loadDefinitions(options.defs);
  let served = await keeper.take(first.files, first.checked);
  report(served);

  // What the fire core loads on the first match, loaded now: the first deliveries' answers
  // must not wait behind it.
  await Promise.all([import('../../plan/matched.js'), import('../../execute/execute.js'), import('../../fire/record.js')]);
  const store = await options.openStore();
  // The fire core closes the store it opened after each fire; this one is shared.
  const shared: Store = Object.create(store, { close: { value: () => {} } }) as Store;

  const queue: Admitted[] = [];
  /** Slots taken by deliveries being stored: they count against --queue before they are queued. */
  let reserved = 0;
  let running = 0;
  const fires = new Set<Promise<void>>();
  const stop = new AbortController();
  let stopping: NodeJS.Signals | undefined;

  const fireOne = async (item: Admitted) => {
    const started = performance.now();
    try {
      const checked = served.checked;
      const outcome = await fire(
        {
          event: item.name,
          payload: item.payload,
          definitions: checked,
          source: 'http',
          deliveryKey: item.deliveryKey,
          admitted: { eventId: item.eventId },
          places,
          receivedAt: item.receivedAt,
          options: options.fireOptions,
        },
        {
          ...deps,
          openStore: () => Promise.resolve(shared),
          loadDefinitions: () => Promise.resolve(checked),
          runOutput: io.stdout,
          runStyle: options.style,
          stop: stop.signal,
          ignoreSignals: true,
          onPlanned: (planned) => {
            if (!options.fireOptions.quiet) for (const warning of planned.warnings) notice(`warning: ${planned.mask(warning)}`);
          },
        },
      );
      logRuns(item, outcome, performance.now() - started);
    } catch (error) {
      // The event stays undispatched in the store: the next start tries it again.
      const message = error instanceof Error ? error.message : String(error);
      log({
        kind: 'fire',
        route: item.route,
        delivery: item.deliveryKey,
        event: item.name,
        eventId: item.eventId,
        status: 'error',
        error: oneLine(error instanceof UsageError ? message : `internal error: ${message}`),
      });
    }
  };
  const logRuns = (item: Admitted, outcome: FireOutcome, ms: number) => {
    const all = [outcome, ...(outcome.chained ?? [])];
    const runs = all.flatMap((o) => o.definitions.filter((d) => d.run).map((d) => ({ definition: d.decision.name, run: d.run! })));
    for (const { definition, run } of runs) {
      log({
        kind: 'run',
        route: item.route,
        delivery: item.deliveryKey,
        event: item.name,
        eventId: item.eventId,
        run: run.id,
        definition,
        status: run.status,
        durationMs: run.durationMs,
        ...(run.reason ? { reason: outcome.mask(oneLine(run.reason)) } : {}),
      });
    }
    log({
      kind: 'fired',
      route: item.route,
      delivery: item.deliveryKey,
      event: item.name,
      eventId: item.eventId,
      matched: outcome.definitions.filter((d) => d.decision.matched).length,
      runs: runs.map((r) => r.run.id),
      durationMs: Math.round(ms),
    });
  };

  let idle: (() => void) | undefined;
  /** A task a stop waits for, as it waits for the pool's runs. */
  const track = (task: Promise<void>) => {
    const done = task.finally(() => {
      fires.delete(done);
      if (!fires.size) idle?.();
    });
    fires.add(done);
  };
  const logError = (kind: string) => (error: unknown) =>
    log({ kind, status: 'error', error: oneLine(error instanceof Error ? error.message : String(error)) });

  // What carrying suspended runs on needs: the retries due, and the gates decided on the page.
  const resumeDeps = (): ResumeDeps => ({
    ...deps,
    openStore: () => Promise.resolve(shared),
    loadDefinitions: () => Promise.resolve(served.checked),
    runOutput: io.stdout,
    runStyle: options.style,
    stop: stop.signal,
    ignoreSignals: true,
  });
  const logCarried = (outcome: Pick<ResumeOutcome, 'resumed' | 'expired'>) => {
    for (const { gate, action } of outcome.expired) log({ kind: 'gate', gate: gate.id, run: gate.runId, timedOut: action });
    for (const { claimed, run } of outcome.resumed) {
      log({
        kind: 'resumed',
        run: run.id,
        definition: claimed.run.definition,
        eventId: claimed.run.eventId,
        status: run.status,
        durationMs: run.durationMs,
      });
    }
  };

  // Runs waiting for a retry that are due, one look at a time; a look counts as a fire, so
  // a stop waits for what it resumed as it does for the pool's runs.
  let resuming = false;
  const resumeDue = async () => {
    const { resumeRuns } = await import('../../fire/resume.js');
    logCarried(await resumeRuns({ quiet: options.fireOptions.quiet ?? false }, resumeDeps()));
  };
  const resumeTimer = setInterval(() => {
    if (stopping || resuming || !resumeHinted(stateDir(deps.env))) return;
    resuming = true;
    track(
      resumeDue()
        .catch(logError('resume'))
        .finally(() => (resuming = false)),
    );
  }, RESUME_POLL_MS);

  // A run approved through a link is carried on here, never inside the request.
  const approvalLinks: ApprovalLinksContext = {
    store: shared,
    now: deps.now,
    log,
    stopping: () => stopping !== undefined,
    carryOn: (claimed) =>
      track(
        import('../../fire/resume.js')
          .then(async ({ carryOn }) =>
            logCarried({
              resumed: (await carryOn([claimed], shared, { quiet: options.fireOptions.quiet ?? false }, resumeDeps())).resumed,
              expired: [],
            }),
          )
          .catch(logError('decision')),
      ),
  };

  const page =
    options.page &&
    createPage({
      store: shared,
      now: deps.now,
      env: deps.env,
      access: options.page,
      quiet: options.fireOptions.quiet ?? false,
      stopping: () => stopping !== undefined,
      resumeDeps,
      track,
      carried: logCarried,
      failed: logError('decision'),
    });
  const pump = () => {
    while (!stopping && running < options.concurrency && queue.length) {
      const item = queue.shift()!;
      running++;
      const done = fireOne(item).finally(() => {
        running--;
        fires.delete(done);
        if (!fires.size) idle?.();
        pump();
      });
      fires.add(done);
    }
  };

  // Deliveries acknowledged before, never dispatched: queued again, oldest first.
  for (const event of await store.listUndispatched({ source: 'http' })) {
    queue.push({
      eventId: event.id,
      route: 'resumed',
      name: event.name,
      deliveryKey: event.deliveryKey ?? event.id,
      payload: (event.payload ?? {}) as Record<string, unknown>,
      ...(event.headers ? { headers: event.headers } : {}),
      receivedAt: event.at,
    });
  }
  if (queue.length) notice(`resuming ${deliveries(queue.length, 'acknowledged ')} not run before`);

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
    if (queue.length + reserved >= options.queue) {
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
      queue.push({
        eventId: admission.eventId,
        route: delivery.route,
        name: delivery.name,
        deliveryKey: delivery.deliveryKey,
        payload: delivery.payload,
        headers: delivery.headers,
        receivedAt,
      });
      return { status: 202, body: { event: admission.eventId, delivery: delivery.deliveryKey, status: 'queued' }, reason: 'queued' };
    } finally {
      reserved--;
      // After the answer is on its way: the acknowledgement never waits for a run.
      setImmediate(pump);
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
        queue: { waiting: queue.length, running, limit: options.queue },
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
        // The store failed (a full disk): nothing was acknowledged; the sender retries.
        const message = error instanceof Error ? error.message : String(error);
        log({ kind: 'delivery', status: 500, error: oneLine(message) });
        if (!res.headersSent) send(res, { status: 500, body: { error: 'internal error; retry later' } });
        else res.destroy();
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
  const listeningTo = served.checked.definitions.length;
  notice(`serving ${plural(listeningTo, 'definition')}; ${options.concurrency} deliveries at once, up to ${options.queue} waiting`);
  pump();

  // Reloads of the definitions, one after another.
  const roots = await definitionRoots(options.defs, deps.cwd());
  let reloadTimer: NodeJS.Timeout | undefined;
  let reloading: Promise<void> = Promise.resolve();
  const reload = async () => {
    try {
      const { files, checked } = await options.loadDefinitions(options.defs);
      served = await keeper.take(files, checked);
      report(served);
      notice(`definitions reloaded: ${plural(served.checked.definitions.length, 'definition')}`);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      notice(`${oneLine(error.message)}; the definitions loaded before keep serving`);
    }
  };
  const watcher: FSWatcher = chokidarWatch(roots, { ignoreInitial: true });
  watcher.on('all', (event: string) => {
    if (stopping || event === 'addDir' || event === 'unlinkDir') return;
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => {
      reloading = reloading.then(reload).catch((error: unknown) => notice(`reload failed: ${oneLine(String(error))}`));
    }, RELOAD_DEBOUNCE_MS);
  });
  watcher.on('error', (error: unknown) => notice(`watcher: ${oneLine(error instanceof Error ? error.message : String(error))}`));

  return new Promise<number>((resolve) => {
    let graceTimer: NodeJS.Timeout | undefined;
    let stoppedRuns = false;
    const finish = async () => {
      clearTimeout(graceTimer);
      clearTimeout(reloadTimer);
      clearInterval(resumeTimer);
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      await watcher.close();
      await reloading;
      server.close();
      server.closeAllConnections();
      store.close();
      const left = queue.length;
      if (left) notice(`${deliveries(left, 'acknowledged ')} left in the store for the next trig serve`);
      resolve(stoppedRuns ? (SIGNAL_EXIT[stopping!] ?? 128) : 0);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second signal: the runs are stopped now.
        stoppedRuns = true;
        stop.abort(signal);
        return;
      }
      stopping = signal;
      server.closeIdleConnections();
      notice(
        `${signal}: no more deliveries; ${deliveries(running)} running, ${queue.length} waiting (kept in the store); running runs have ${Math.round(options.graceMs / 1000)}s to finish`,
      );
      graceTimer = setTimeout(() => {
        if (!fires.size) return;
        notice(`the grace period is over: stopping the runs`);
        stoppedRuns = true;
        stop.abort(signal);
      }, options.graceMs);
      if (!fires.size) void finish();
      else idle = () => void finish();
    };
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  });
}

function deliveries(n: number, adjective = ''): string {
  return `${n} ${adjective}${n === 1 ? 'delivery' : 'deliveries'}`;
}

function routeName(route: Route): string {
  return route === 'standard' ? 'events/<event>' : route;
}
