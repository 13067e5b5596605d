/**
 * NOTIFY: a message to every process listening on a channel of this database (see
 * `Database.listen`). Inside a transaction it is delivered on commit; outside one, at once.
 * Nothing is written to a table.
 */
import { sql } from 'kysely';
import type { Executor } from './database.js';

/**
 * Sends `payload` (under 8000 bytes) on `channel`.
 *
 * ```sql
 * SELECT pg_notify('machi_typing', '{"r":"!room:hs","u":"@alice:hs",...}')
 * ```
 */
export async function notify(executor: Executor, channel: string, payload: string): Promise<void> {
  await sql`SELECT pg_notify(${channel}, ${payload})`.execute(executor);
}
