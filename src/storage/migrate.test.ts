import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_TMP, type TestDatabase } from '../../test/support/database.js';
import { createLogger } from '../log.js';
import { openDatabase, type Database } from './database.js';
import { listMigrations, migrate } from './migrate.js';

let testDatabase: TestDatabase;
let database: Database;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  // The embedded test databases are copies of an already migrated template; an empty directory
  // next to the copy (removed with it) gives an unmigrated one. A Postgres test database is
  // created empty, and its data_dir is not used.
  const config = {
    ...testDatabase.config,
    data_dir: join(dirname(testDatabase.config.data_dir), 'empty'),
  };
  database = await openDatabase(config, createLogger('silent'));
});
afterAll(async () => {
  await database?.close();
  await testDatabase?.drop();
});

describe('migrate', () => {
  it('applies every migration, 0001 first, on an empty database', async () => {
    const applied = await migrate(database.db);
    expect(applied[0]).toBe('0001_accounts.sql');
    expect(applied).toEqual(listMigrations());
  });

  it('applies nothing the second time', async () => {
    expect(await migrate(database.db)).toEqual([]);
  });

  it('records each applied file in schema_migrations', async () => {
    const rows = await database.db
      .selectFrom('schema_migrations')
      .select('name')
      .orderBy('name')
      .execute();
    expect(rows.map((r) => r.name)).toEqual(listMigrations());
  });

  it('has created the users table', async () => {
    const userId = '@alice:hs1.test';
    await database.db
      .insertInto('users')
      .values({ user_id: userId, localpart: 'alice', password_hash: null, created_ts: 1 })
      .execute();
    const row = await database.db
      .selectFrom('users')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ localpart: 'alice', is_admin: false, deactivated: false });
  });
});

describe('listMigrations', () => {
  let dir: string;
  beforeAll(() => {
    mkdirSync(TEST_TMP, { recursive: true });
    dir = mkdtempSync(join(TEST_TMP, 'migrations-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('orders files by name and ignores what does not look like a migration', () => {
    for (const name of ['0002_b.sql', '0001_a.sql', 'README.md', '3_bad.sql']) {
      writeFileSync(join(dir, name), '');
    }
    expect(listMigrations(dir)).toEqual(['0001_a.sql', '0002_b.sql']);
  });

  it('refuses two migrations with one number', () => {
    writeFileSync(join(dir, '0002_c.sql'), '');
    expect(() => listMigrations(dir)).toThrow(/two migrations share the number 0002/);
  });
});
