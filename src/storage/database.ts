/**
 * Opens the database: an embedded PGlite in a data directory (the default, for trials and tests)
 * or a real Postgres server named by a `postgres://` URL. Both are driven through the same `pg`
 * Pool and Kysely's ordinary PostgresDialect, so every query runs the same code on both.
 */
import { join, resolve } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  Kysely,
  PostgresDialect,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import type { Logger } from '../log.js';
import type { DB } from './schema.js';
import { lockDataDir } from './data-dir-lock.js';
import { countQuery } from './query-count.js';

export type Executor = Kysely<DB> | Transaction<DB>;

export interface DatabaseConfig {
  url: string | null;
  data_dir: string;
  pool_size: number;
}

export interface Database {
  readonly db: Kysely<DB>;
  readonly kind: 'embedded' | 'postgres';
  /** A description of where the data lives, for the startup log (never contains a password). */
  readonly location: string;
  /**
   * Calls `onPayload` for each NOTIFY on `channel`, from any process sharing the database, and
   * `onReconnect` after the listening connection was lost and restored (notifications may have
   * been missed). Returns a function that stops listening.
   */
  listen(
    channel: string,
    onPayload: (payload: string) => void,
    onReconnect: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Listens on a dedicated connection (never one of the pool's), reconnecting after failures. */
async function listenOnServer(
  url: string,
  log: Logger,
  channel: string,
  onPayload: (payload: string) => void,
  onReconnect: () => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url });
    next.on('notification', (msg) => {
      if (msg.channel === channel && msg.payload !== undefined) onPayload(msg.payload);
    });
    next.on('error', (err) => {
      log.warn({ err }, 'notification connection lost; reconnecting');
      void next.end().catch(() => undefined);
      if (!stopped) setTimeout(() => void reconnect(), 500);
    });
    await next.connect();
    await next.query(`LISTEN ${channel}`);
    client = next;
  };
  const reconnect = async (): Promise<void> => {
    if (stopped) return;
    try {
      await connect();
      onReconnect();
    } catch (err) {
      log.warn({ err }, 'notification connection failed; retrying');
      setTimeout(() => void reconnect(), 1000);
    }
  };
  await connect();
  return async () => {
    stopped = true;
    await client?.end().catch(() => undefined);
  };
}

/**
 * PGlite runs each query synchronously inside this process and resolves through microtasks only,
 * so a chain of queries would starve HTTP and timers. Yielding after every result lets the event
 * loop breathe.
 */
class YieldPlugin implements KyselyPlugin {
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    await yieldToEventLoop();
    return args.result;
  }
}

/** int8 as a JS number: stored int8 values are times in ms and counters, all below 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number.parseInt(value, 10);
    return pg.types.getTypeParser(oid, format);
  },
};

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

/** Opens the configured database. For the embedded one this also locks its data directory. */
export async function openDatabase(config: DatabaseConfig, log: Logger): Promise<Database> {
  if (config.url) {
    const pool = new pg.Pool({ connectionString: config.url, max: config.pool_size, types });
    pool.on('error', (err) => log.error({ err }, 'idle database connection failed'));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), log: countQuery });
    return {
      db,
      kind: 'postgres',
      location: redactUrl(config.url),
      listen: (channel, onPayload, onReconnect) =>
        listenOnServer(config.url as string, log, channel, onPayload, onReconnect),
      close: () => db.destroy(),
    };
  }

  const dataDir = resolve(config.data_dir);
  const release = lockDataDir(dataDir);
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
    const pglite = await PGlite.create(join(dataDir, 'pglite'));
    const pool = new pg.Pool({ ...createPgConfig(pglite), max: 1, types });
    pool.on('error', (err) => log.error({ err }, 'embedded database connection failed'));
    const db = new Kysely<DB>({
      dialect: new PostgresDialect({ pool }),
      plugins: [new YieldPlugin()],
      log: countQuery,
    });
    return {
      db,
      kind: 'embedded',
      location: dataDir,
      listen: async (channel, onPayload) => {
        const unsubscribe = await pglite.listen(channel, onPayload);
        return async () => unsubscribe();
      },
      close: async () => {
        try {
          await db.destroy();
          await pglite.close();
        } finally {
          release();
        }
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}
