/** Room aliases, the public room directory, and the server's signing keys. */
import type { Executor } from './database.js';
import type { Room } from './schema.js';

/** Creates an alias; false when it is already taken. */
export async function insertAlias(
  db: Executor,
  row: { alias: string; room_id: string; creator: string; created_ts: number },
): Promise<boolean> {
  const result = await db
    .insertInto('room_aliases')
    .values(row)
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export async function getAlias(
  db: Executor,
  alias: string,
): Promise<{ room_id: string; creator: string } | undefined> {
  return db
    .selectFrom('room_aliases')
    .select(['room_id', 'creator'])
    .where('alias', '=', alias)
    .executeTakeFirst();
}

export async function deleteAlias(db: Executor, alias: string): Promise<void> {
  await db.deleteFrom('room_aliases').where('alias', '=', alias).execute();
}

export async function listAliases(db: Executor, roomId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('room_aliases')
    .select('alias')
    .where('room_id', '=', roomId)
    .orderBy('alias')
    .execute();
  return rows.map((r) => r.alias);
}

/** Moves every alias of one room to another (room upgrades). */
export async function moveAliases(
  db: Executor,
  fromRoomId: string,
  toRoomId: string,
): Promise<void> {
  await db
    .updateTable('room_aliases')
    .set({ room_id: toRoomId })
    .where('room_id', '=', fromRoomId)
    .execute();
}

/** Rooms published in the directory, with what the directory shows of them. */
export async function listPublicRoomIds(db: Executor): Promise<string[]> {
  const rows = await db
    .selectFrom('rooms')
    .select('room_id')
    .where('is_public', '=', true)
    .orderBy('room_id')
    .execute();
  return rows.map((r) => r.room_id);
}

/** The rows of the rooms among `roomIds` that this server knows. */
export async function getRoomsByIds(db: Executor, roomIds: readonly string[]): Promise<Room[]> {
  if (roomIds.length === 0) return [];
  return db.selectFrom('rooms').selectAll().where('room_id', 'in', roomIds).execute();
}

export async function getSigningKeys(db: Executor): Promise<{ key_id: string; secret: string }[]> {
  return db
    .selectFrom('server_signing_keys')
    .select(['key_id', 'secret'])
    .orderBy('created_ts')
    .execute();
}

export async function insertSigningKey(
  db: Executor,
  row: { key_id: string; secret: string; created_ts: number },
): Promise<void> {
  await db
    .insertInto('server_signing_keys')
    .values(row)
    .onConflict((oc) => oc.doNothing())
    .execute();
}
