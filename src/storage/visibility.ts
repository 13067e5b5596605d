/** The history a visibility decision needs, for many rooms at once. */
import type { Executor } from './database.js';

/** The user's membership changes in each of the rooms, oldest first. */
export async function getMembershipHistoryOfRooms(
  db: Executor,
  roomIds: readonly string[],
  userId: string,
): Promise<{ room_id: string; stream: number; membership: string }[]> {
  if (roomIds.length === 0) return [];
  const rows = await db
    .selectFrom('events')
    .select(['room_id', 'stream', 'membership'])
    .where('room_id', 'in', roomIds)
    .where('type', '=', 'm.room.member')
    .where('state_key', '=', userId)
    .orderBy('stream')
    .execute();
  return rows.map((r) => ({ ...r, membership: r.membership ?? 'leave' }));
}

/** The history_visibility changes of each of the rooms, oldest first. */
export async function getVisibilityHistoryOfRooms(
  db: Executor,
  roomIds: readonly string[],
): Promise<{ room_id: string; stream: number; pdu: string }[]> {
  if (roomIds.length === 0) return [];
  return db
    .selectFrom('events')
    .select(['room_id', 'stream', 'pdu'])
    .where('room_id', 'in', roomIds)
    .where('type', '=', 'm.room.history_visibility')
    .where('state_key', '=', '')
    .orderBy('stream')
    .execute();
}
