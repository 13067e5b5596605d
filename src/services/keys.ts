/** The server's event signing key: generated on first start, then read from the database. */
import type { Kysely } from 'kysely';
import {
  generateSigningKey,
  parseSigningKey,
  serializeSigningKey,
  type SigningKey,
} from '../matrix/signing.js';
import type { DB } from '../storage/schema.js';
import { getSigningKeys, insertSigningKey } from '../storage/rooms.js';

/**
 * Returns the oldest stored signing key, creating one if there is none. Several processes
 * starting at once agree on the same key: each inserts at most one and all read the oldest.
 */
export async function loadSigningKey(db: Kysely<DB>): Promise<SigningKey> {
  let rows = await getSigningKeys(db);
  if (rows.length === 0) {
    const key = generateSigningKey();
    await insertSigningKey(db, {
      key_id: key.keyId,
      secret: serializeSigningKey(key),
      created_ts: Date.now(),
    });
    rows = await getSigningKeys(db);
  }
  return parseSigningKey((rows[0] as { secret: string }).secret);
}
