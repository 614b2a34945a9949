/**
 * An admin endpoint for `migrate`: start a migration between two named stores, follow it as
 * JSON or Server-Sent Events, and cancel it. One migration runs at a time per process, or, with
 * `jobs`, on worker processes, one of each source and destination across every process.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Sequelize } from 'sequelize';
import type { ImageJobs } from '../jobs/image-jobs.js';
import {
  ForbiddenError,
  type ImageAttachError,
  InvalidBodyError,
  InvalidOptionError,
  MigrationRunningError,
  NoMigrationError,
  UnsupportedMediaTypeError,
} from '../errors.js';
import { migrate } from '../migration/migrate.js';
import {
  MigrationTracker,
  type MigrationStatusJson,
  type TrackerEvent,
} from '../migration/tracker.js';
import type { MigrationOptions } from '../migration/types.js';
import { Store } from '../stores/store.js';
import { DistributedMigrations } from './distributed-migrations.js';
import { isJson, readJsonBody, sendJson } from './json.js';
import type { Middleware } from './middleware.js';

export interface MigrationRouterOptions {
  /** The Sequelize instance whose image models are migrated. */
  sequelize: Sequelize;
  /** The stores a client may name as `from` and `to`. */
  stores: Readonly<Record<string, Store>>;
  /**
   * Whether the request may see and run migrations; required, since a migration reads every
   * image. Runs for every request; a rejection goes to `next(err)`.
   */
  authorize: (req: IncomingMessage) => boolean | Promise<boolean>;
  /**
   * The least time between two progress events of the event stream, in milliseconds.
   * @default 250
   */
  eventInterval?: number;
  /**
   * Runs migrations on worker processes (PostgreSQL with pg-boss): a start splits the
   * migration into key-range jobs (`plan.distribute(jobs, { from, to })`, named by the stores'
   * keys here, so every worker registers the same names with `migrationStores()`), the state
   * is read from the migration's rows (the whole migration across workers, whichever process
   * asks), and a second start of the same `from` and `to` is refused with 409 while it runs.
   * The event stream then polls the rows every `eventInterval`.
   * @default none: the migration runs in this process
   */
  jobs?: ImageJobs;
}

/** What `POST /` takes, as JSON. */
export interface StartMigrationBody {
  from: string;
  to: string;
  verify?: boolean | 'size' | 'checksum';
  skipExisting?: boolean;
  dryRun?: boolean;
  concurrency?: number;
}

const MAX_BODY = 16 * 1024;
const HEARTBEAT_MS = 15_000;

/** The migration of this process, running or last finished; shared by every router. */
let current: MigrationTracker | undefined;
const watchers = new Set<
  (event: TrackerEvent | 'status', status: MigrationStatusJson | null) => void
>();

/**
 * Mounts:
 * - `GET /`: the current or last migration as JSON (`{ stores, migration }`);
 * - `POST /` with a JSON {@link StartMigrationBody}: starts one (202), or 409 when one runs;
 * - `GET /events`: Server-Sent Events: `status` at once, then `start`, `progress` and `end`;
 * - `POST /cancel`: stops the running migration (202), or 409 when none runs.
 *
 * POSTs must be `application/json`, which a cross-site form cannot send.
 *
 * @example
 * app.use('/admin/migrations', migrationRouter({
 *   sequelize, stores: { disk, s3 }, authorize: (req) => isAdmin(req),
 * }));
 */
export function migrationRouter(options: MigrationRouterOptions): Middleware {
  const { sequelize, stores, authorize } = validate(options);
  const interval = options.eventInterval ?? 250;
  const distributed =
    options.jobs === undefined
      ? undefined
      : new DistributedMigrations(sequelize, options.jobs, stores, interval);
  return function migrationRoutes(req, res, next) {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '') || '/';
    const route = `${req.method ?? 'GET'} ${path}`;
    if (!['GET /', 'POST /', 'GET /events', 'POST /cancel'].includes(route)) {
      next();
      return;
    }
    Promise.resolve()
      .then(() => authorize(req))
      .then(async (allowed) => {
        if (allowed !== true) {
          sendError(res, new ForbiddenError('You may not manage image migrations.'));
          return;
        }
        if (distributed !== undefined) {
          await routeDistributed(route, req, res, distributed, stores);
          return;
        }
        if (route === 'GET /')
          sendJson(res, 200, { stores: Object.keys(stores), migration: current?.status() ?? null });
        else if (route === 'GET /events') streamEvents(req, res, interval);
        else if (!isJson(req))
          sendError(res, new UnsupportedMediaTypeError('Send application/json.'));
        else if (route === 'POST /cancel') cancel(res);
        else
          start(res, await readJsonBody(req, { maxBytes: MAX_BODY, empty: {} }), sequelize, stores);
      })
      .catch(next);
  };
}

function start(
  res: ServerResponse,
  body: unknown,
  sequelize: Sequelize,
  stores: Readonly<Record<string, Store>>,
): void {
  const parsed = parseStart(body, stores);
  if (typeof parsed === 'string') {
    sendError(res, new InvalidBodyError(parsed));
    return;
  }
  if (current?.running === true) {
    sendError(
      res,
      new MigrationRunningError('A migration is running; cancel it or wait for its end.'),
    );
    return;
  }
  const { from, to, ...migrationOptions } = parsed;
  const plan = migrate(sequelize, stores[from]!, stores[to]!, migrationOptions);
  const tracker = new MigrationTracker(plan, {
    from,
    to,
    dryRun: migrationOptions.dryRun ?? false,
  });
  current = tracker;
  tracker.subscribe((event, status) => {
    for (const watcher of watchers) watcher(event, status);
  });
  for (const watcher of watchers) watcher('status', tracker.status());
  sendJson(res, 202, { migration: tracker.status() });
}

async function routeDistributed(
  route: string,
  req: IncomingMessage,
  res: ServerResponse,
  distributed: DistributedMigrations,
  stores: Readonly<Record<string, Store>>,
): Promise<void> {
  if (route === 'GET /') {
    sendJson(res, 200, { stores: Object.keys(stores), migration: await distributed.current() });
  } else if (route === 'GET /events') {
    openStream(req, res, (send) => distributed.watch(send));
  } else if (!isJson(req)) {
    sendError(res, new UnsupportedMediaTypeError('Send application/json.'));
  } else if (route === 'POST /cancel') {
    const status = await distributed.cancel();
    if (status === false) sendError(res, new NoMigrationError('No migration is running.'));
    else sendJson(res, 202, { migration: status });
  } else {
    const parsed = parseStart(await readJsonBody(req, { maxBytes: MAX_BODY, empty: {} }), stores);
    if (typeof parsed === 'string') {
      sendError(res, new InvalidBodyError(parsed));
      return;
    }
    const { from, to, ...migrationOptions } = parsed;
    try {
      sendJson(res, 202, { migration: await distributed.start(from, to, migrationOptions) });
    } catch (error) {
      if (!(error instanceof MigrationRunningError)) throw error;
      sendError(res, error);
    }
  }
}

function cancel(res: ServerResponse): void {
  if (current?.running !== true) {
    sendError(res, new NoMigrationError('No migration is running.'));
    return;
  }
  current.cancel();
  sendJson(res, 202, { migration: current.status() });
}

/** Sends `status` now, then every change, with progress at most once per `interval`. */
function streamEvents(req: IncomingMessage, res: ServerResponse, interval: number): void {
  openStream(req, res, (send) => {
    send('status', current?.status() ?? null);
    return followTracker(send, interval);
  });
}

/**
 * Opens an event stream whose events `follow` sends until the client goes, then calls what
 * `follow` returned.
 */
function openStream(
  req: IncomingMessage,
  res: ServerResponse,
  follow: (send: (event: string, data: unknown) => void) => () => void,
): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  const send = (event: string, data: unknown) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const stop = follow(send);
  // A comment now and then keeps proxies from closing a quiet stream.
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  req.on('close', () => {
    clearInterval(heartbeat);
    stop();
  });
}

/** Follows this process's migration: changes at once, progress at most once per `interval`. */
function followTracker(send: (event: string, data: unknown) => void, interval: number): () => void {
  let lastProgress = 0;
  let pending: MigrationStatusJson | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (pending !== undefined) send('progress', pending);
    pending = undefined;
    lastProgress = Date.now();
  };
  const watcher = (event: TrackerEvent | 'status', status: MigrationStatusJson | null) => {
    if (event !== 'progress') {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      pending = undefined;
      send(event, status);
      return;
    }
    pending = status ?? undefined;
    const wait = lastProgress + interval - Date.now();
    if (wait <= 0) flush();
    else timer ??= setTimeout(flush, wait);
  };
  watchers.add(watcher);
  return () => {
    watchers.delete(watcher);
    if (timer !== undefined) clearTimeout(timer);
  };
}

function parseStart(
  body: unknown,
  stores: Readonly<Record<string, Store>>,
): (StartMigrationBody & MigrationOptions) | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'The body must be a JSON object.';
  const { from, to, verify, skipExisting, dryRun, concurrency, ...rest } = body as Record<
    string,
    unknown
  >;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return `Unknown field ${unknown[0]}.`;
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (typeof value !== 'string' || !Object.hasOwn(stores, value)) {
      return `${name} must name a store: ${Object.keys(stores).join(', ')}.`;
    }
  }
  if (from === to) return 'from and to must be different stores.';
  if (verify !== undefined && ![true, false, 'size', 'checksum'].includes(verify as string)) {
    return "verify must be true, false, 'size' or 'checksum'.";
  }
  for (const [name, value] of [
    ['skipExisting', skipExisting],
    ['dryRun', dryRun],
  ] as const) {
    if (value !== undefined && typeof value !== 'boolean') return `${name} must be a boolean.`;
  }
  if (
    concurrency !== undefined &&
    !(
      Number.isInteger(concurrency) &&
      (concurrency as number) >= 1 &&
      (concurrency as number) <= 64
    )
  ) {
    return 'concurrency must be an integer from 1 to 64.';
  }
  return {
    from: from as string,
    to: to as string,
    verify: verify as StartMigrationBody['verify'],
    skipExisting: skipExisting as boolean | undefined,
    dryRun: dryRun as boolean | undefined,
    concurrency: concurrency as number | undefined,
  };
}

function validate(options: MigrationRouterOptions): MigrationRouterOptions {
  if (typeof options?.authorize !== 'function') {
    throw new InvalidOptionError(
      'authorize',
      'is required: a function (req) => boolean saying whether the request may run migrations',
    );
  }
  if (typeof options.sequelize?.define !== 'function') {
    throw new InvalidOptionError('sequelize', 'must be the Sequelize instance of the image models');
  }
  const stores: unknown = options.stores;
  if (
    typeof stores !== 'object' ||
    stores === null ||
    Object.values(stores).some((s) => !(s instanceof Store)) ||
    Object.keys(stores).length < 2
  ) {
    throw new InvalidOptionError('stores', 'must map at least two names to Stores');
  }
  if (
    options.jobs !== undefined &&
    (typeof options.jobs?.send !== 'function' || options.jobs.sequelize !== options.sequelize)
  ) {
    throw new InvalidOptionError('jobs', 'must be the imageJobs() of this Sequelize');
  }
  if (
    options.eventInterval !== undefined &&
    !(Number.isFinite(options.eventInterval) && options.eventInterval >= 0)
  ) {
    throw new InvalidOptionError('eventInterval', 'must be a number of milliseconds');
  }
  return options;
}

function sendError(res: ServerResponse, error: ImageAttachError): void {
  sendJson(res, error.status, { error: { code: error.code, message: error.message } });
}
