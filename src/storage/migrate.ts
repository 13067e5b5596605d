/**
 * Applies the plain SQL files in migrations/ in name order. Each file runs in its own transaction
 * together with its record in `schema_migrations`, under a transaction-scoped advisory lock so
 * that several processes starting at once apply each file exactly once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Arbitrary constant naming the migration lock among advisory locks. */
const MIGRATION_LOCK_KEY = 7_300_116;

const FILE_PATTERN = /^(\d{4})_[a-z0-9_]+\.sql$/;

/** The migration files in the order they apply; refuses two files with one number. */
export function listMigrations(dir = MIGRATIONS_DIR): string[] {
  const files = readdirSync(dir)
    .filter((name) => FILE_PATTERN.test(name))
    .sort();
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.slice(0, 4) === files[i - 1]!.slice(0, 4)) {
      throw new Error(`two migrations share the number ${files[i]!.slice(0, 4)}`);
    }
  }
  return files;
}

/** Applies every migration not yet recorded; returns the names applied by this call. */
export async function migrate(db: Kysely<DB>, dir = MIGRATIONS_DIR): Promise<string[]> {
  const applied: string[] = [];
  for (const name of listMigrations(dir)) {
    const text = readFileSync(`${dir}/${name}`, 'utf8');
    const didApply = await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(trx);
      await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY,
        applied_ts bigint NOT NULL
      )`.execute(trx);
      const done = await trx
        .selectFrom('schema_migrations')
        .select('name')
        .where('name', '=', name)
        .executeTakeFirst();
      if (done) return false;
      // A whole file of statements: sent through the simple-query protocol, which pg uses for
      // parameterless SQL.
      await sql.raw(text).execute(trx);
      await trx.insertInto('schema_migrations').values({ name, applied_ts: Date.now() }).execute();
      return true;
    });
    if (didApply) applied.push(name);
  }
  return applied;
}
