/** Builds, once per test run, the migrated PGlite directory every embedded test database copies. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger } from '../src/log.js';
import { openDatabase } from '../src/storage/database.js';
import { migrate } from '../src/storage/migrate.js';

export default async function setup(): Promise<() => void> {
  const root = resolve(import.meta.dirname, '../.test-tmp');
  mkdirSync(root, { recursive: true });
  // One folder per run, so that runs in parallel (two checkouts, two databases) stay apart.
  const runDir = mkdtempSync(join(root, 'run-'));
  process.env.MACHI_TEST_TMP = runDir;
  if (!process.env.TEST_DATABASE_URL) {
    const database = await openDatabase(
      { url: null, data_dir: join(runDir, 'template'), pool_size: 1 },
      createLogger('silent'),
    );
    await migrate(database.db);
    await database.close();
  }
  return () => rmSync(runDir, { recursive: true, force: true });
}
