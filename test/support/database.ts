/**
 * Fresh databases for tests: a copy of a migrated PGlite template directory by default, or a new
 * database on the Postgres server named by TEST_DATABASE_URL.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { randomBytes } from 'node:crypto';

/** Where one test run keeps its databases; set by the global setup, one folder per run. */
export const TEST_TMP =
  process.env.MACHI_TEST_TMP ?? resolve(import.meta.dirname, '../../.test-tmp/default');
export const TEMPLATE_DIR = join(TEST_TMP, 'template');

export interface TestDatabase {
  /** The `database` section of a server configuration using this database. */
  config: { url: string | null; data_dir: string; pool_size: number };
  drop(): Promise<void>;
}

/** Creates an empty database for one test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  mkdirSync(TEST_TMP, { recursive: true });
  const dir = mkdtempSync(join(TEST_TMP, 'db-'));
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    cpSync(TEMPLATE_DIR, join(dir, 'data'), { recursive: true });
    return {
      config: { url: null, data_dir: join(dir, 'data'), pool_size: 1 },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `machi_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const testUrl = new URL(url);
  testUrl.pathname = `/${name}`;
  return {
    config: { url: testUrl.toString(), data_dir: join(dir, 'data'), pool_size: 5 },
    drop: async () => {
      rmSync(dir, { recursive: true, force: true });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
