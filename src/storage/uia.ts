/** User-interactive authentication sessions and shared-secret registration nonces. */
import { sql } from 'kysely';
import type { Executor } from './database.js';
import type { UiaSession } from './schema.js';

export async function insertUiaSession(
  db: Executor,
  session: { session_id: string; action: string; user_id: string | null; created_ts: number },
): Promise<void> {
  await db.insertInto('uia_sessions').values(session).execute();
}

export async function getUiaSession(
  db: Executor,
  sessionId: string,
): Promise<UiaSession | undefined> {
  return db
    .selectFrom('uia_sessions')
    .selectAll()
    .where('session_id', '=', sessionId)
    .executeTakeFirst();
}

/** Adds a completed stage to the session and merges `result` into its stored result. */
export async function addCompletedStage(
  db: Executor,
  sessionId: string,
  stage: string,
  result?: Record<string, unknown>,
): Promise<void> {
  await db
    .updateTable('uia_sessions')
    .set({
      completed: sql`(SELECT jsonb_agg(DISTINCT s) FROM jsonb_array_elements_text(
        completed || ${JSON.stringify([stage])}::jsonb) AS s)`,
      result: sql`coalesce(result, '{}'::jsonb) || ${JSON.stringify(result ?? {})}::jsonb`,
    })
    .where('session_id', '=', sessionId)
    .execute();
}

export async function deleteUiaSession(db: Executor, sessionId: string): Promise<void> {
  await db.deleteFrom('uia_sessions').where('session_id', '=', sessionId).execute();
}

/** Deletes sessions created before `olderThanTs`. */
export async function deleteExpiredUiaSessions(db: Executor, olderThanTs: number): Promise<void> {
  await db.deleteFrom('uia_sessions').where('created_ts', '<', olderThanTs).execute();
}

export async function insertNonce(db: Executor, nonce: string, ts: number): Promise<void> {
  await db.insertInto('registration_nonces').values({ nonce, created_ts: ts }).execute();
}

/** Consumes a nonce: true when it existed and was created at or after `notBeforeTs`. */
export async function takeNonce(
  db: Executor,
  nonce: string,
  notBeforeTs: number,
): Promise<boolean> {
  const row = await db
    .deleteFrom('registration_nonces')
    .where('nonce', '=', nonce)
    .returning('created_ts')
    .executeTakeFirst();
  await db.deleteFrom('registration_nonces').where('created_ts', '<', notBeforeTs).execute();
  return row !== undefined && row.created_ts >= notBeforeTs;
}
