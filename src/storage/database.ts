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
  close(): Promise<void>;
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
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      location: redactUrl(config.url),
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
    });
    return {
      db,
      kind: 'embedded',
      location: dataDir,
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
