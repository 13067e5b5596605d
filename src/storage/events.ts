/**
 * Room events and the global stream: appending events in room order, current state, state at a
 * position, timelines and relations.
 */
import { sql } from 'kysely';
import type { Executor } from './database.js';
import type { EventRow, Room } from './schema.js';

/** Takes the next stream position. Holding it serialises writers until commit, so positions
 * become visible in order; call it as late as possible in a transaction. */
export async function nextStreamPosition(trx: Executor): Promise<number> {
  const row = await trx
    .updateTable('stream_position')
    .set((eb) => ({ position: eb('position', '+', 1) }))
    .returning('position')
    .executeTakeFirstOrThrow();
  return row.position;
}

/** The newest committed stream position. */
export async function getStreamPosition(db: Executor): Promise<number> {
  const row = await db.selectFrom('stream_position').select('position').executeTakeFirstOrThrow();
  return row.position;
}

export async function insertRoom(
  trx: Executor,
  room: { room_id: string; room_version: string; creator: string; created_ts: number },
): Promise<void> {
  await trx
    .insertInto('rooms')
    .values({ ...room, last_event_id: null, last_depth: 0 })
    .execute();
}

export async function getRoom(db: Executor, roomId: string): Promise<Room | undefined> {
  return db.selectFrom('rooms').selectAll().where('room_id', '=', roomId).executeTakeFirst();
}

/** Locks the room's row until the transaction ends: one writer per room at a time. */
export async function lockRoom(trx: Executor, roomId: string): Promise<Room | undefined> {
  return trx
    .selectFrom('rooms')
    .selectAll()
    .where('room_id', '=', roomId)
    .forUpdate()
    .executeTakeFirst();
}

export async function updateRoomHead(
  trx: Executor,
  roomId: string,
  lastEventId: string,
  lastDepth: number,
): Promise<void> {
  await trx
    .updateTable('rooms')
    .set({ last_event_id: lastEventId, last_depth: lastDepth })
    .where('room_id', '=', roomId)
    .execute();
}

export async function setRoomPublic(
  db: Executor,
  roomId: string,
  isPublic: boolean,
): Promise<void> {
  await db
    .updateTable('rooms')
    .set({ is_public: isPublic })
    .where('room_id', '=', roomId)
    .execute();
}

export async function insertEvent(trx: Executor, row: EventRow): Promise<void> {
  await trx.insertInto('events').values(row).execute();
}

/** Makes an event the current value of its state key. */
export async function upsertCurrentState(
  trx: Executor,
  row: {
    room_id: string;
    type: string;
    state_key: string;
    event_id: string;
    stream: number;
    membership: string | null;
  },
): Promise<void> {
  await trx
    .insertInto('current_state')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['room_id', 'type', 'state_key']).doUpdateSet({
        event_id: row.event_id,
        stream: row.stream,
        membership: row.membership,
      }),
    )
    .execute();
}

/** Current state events of a room, all of them or those of the given (type, state_key) pairs. */
export async function getCurrentStateEvents(
  db: Executor,
  roomId: string,
  keys?: readonly (readonly [string, string])[],
): Promise<EventRow[]> {
  if (keys && keys.length === 0) return [];
  let query = db
    .selectFrom('current_state as s')
    .innerJoin('events as e', 'e.event_id', 's.event_id')
    .selectAll('e')
    .where('s.room_id', '=', roomId);
  if (keys) {
    query = query.where((eb) =>
      eb.or(
        keys.map(([type, stateKey]) =>
          eb.and([eb('s.type', '=', type), eb('s.state_key', '=', stateKey)]),
        ),
      ),
    );
  }
  return query.execute();
}

/** Current state events of several rooms at once, optionally of some types only. */
export async function getCurrentStateOfRooms(
  db: Executor,
  roomIds: readonly string[],
  types?: readonly string[],
): Promise<EventRow[]> {
  if (roomIds.length === 0) return [];
  let query = db
    .selectFrom('current_state as s')
    .innerJoin('events as e', 'e.event_id', 's.event_id')
    .selectAll('e')
    .where('s.room_id', 'in', roomIds);
  if (types) query = query.where('s.type', 'in', types);
  return query.execute();
}

/**
 * The room's state after the event at `stream` (each state key's newest event at or below it).
 *
 * SELECT DISTINCT ON (type, state_key) ... WHERE room_id = $1 AND stream <= $2
 *   ORDER BY type, state_key, stream DESC
 */
export async function getStateAt(
  db: Executor,
  roomId: string,
  stream: number,
  types?: readonly string[],
): Promise<EventRow[]> {
  let query = db
    .selectFrom('events')
    .selectAll()
    .distinctOn(['type', 'state_key'])
    .where('room_id', '=', roomId)
    .where('state_key', 'is not', null)
    .where('stream', '<=', stream);
  if (types) query = query.where('type', 'in', types);
  return query.orderBy('type').orderBy('state_key').orderBy('stream', 'desc').execute();
}

/** The state events of one (type, state_key) pair in the room, of members for example. */
export async function getStateAtForKeys(
  db: Executor,
  roomId: string,
  stream: number,
  type: string,
  stateKeys: readonly string[],
): Promise<EventRow[]> {
  if (stateKeys.length === 0) return [];
  return db
    .selectFrom('events')
    .selectAll()
    .distinctOn(['state_key'])
    .where('room_id', '=', roomId)
    .where('type', '=', type)
    .where('state_key', 'in', stateKeys)
    .where('stream', '<=', stream)
    .orderBy('state_key')
    .orderBy('stream', 'desc')
    .execute();
}

/** State events that changed in the room within (`after`, `upto`], newest per key. */
export async function getStateChanges(
  db: Executor,
  roomId: string,
  after: number,
  upto: number,
): Promise<EventRow[]> {
  return db
    .selectFrom('events')
    .selectAll()
    .distinctOn(['type', 'state_key'])
    .where('room_id', '=', roomId)
    .where('state_key', 'is not', null)
    .where('stream', '>', after)
    .where('stream', '<=', upto)
    .orderBy('type')
    .orderBy('state_key')
    .orderBy('stream', 'desc')
    .execute();
}

export async function getEvent(db: Executor, eventId: string): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll().where('event_id', '=', eventId).executeTakeFirst();
}

export async function getEvents(db: Executor, eventIds: readonly string[]): Promise<EventRow[]> {
  if (eventIds.length === 0) return [];
  return db.selectFrom('events').selectAll().where('event_id', 'in', eventIds).execute();
}

/**
 * A page of a room's timeline. `dir: 'b'` walks back from `from` (inclusive) to `to`
 * (exclusive); `dir: 'f'` walks forward from after `from` up to `to` (inclusive).
 */
export async function getRoomEvents(
  db: Executor,
  roomId: string,
  page: { from: number; to?: number | undefined; dir: 'b' | 'f'; limit: number; types?: string[] },
): Promise<EventRow[]> {
  let query = db.selectFrom('events').selectAll().where('room_id', '=', roomId);
  if (page.dir === 'b') {
    query = query.where('stream', '<=', page.from);
    if (page.to !== undefined) query = query.where('stream', '>', page.to);
  } else {
    query = query.where('stream', '>', page.from);
    if (page.to !== undefined) query = query.where('stream', '<=', page.to);
  }
  if (page.types) query = query.where('type', 'in', page.types);
  return query
    .orderBy('stream', page.dir === 'b' ? 'desc' : 'asc')
    .limit(page.limit)
    .execute();
}

/** The rooms among `roomIds` with any event in (`after`, `upto`]. */
export async function getRoomsWithEvents(
  db: Executor,
  roomIds: readonly string[],
  after: number,
  upto: number,
): Promise<string[]> {
  if (roomIds.length === 0) return [];
  const rows = await db
    .selectFrom('events')
    .select('room_id')
    .distinct()
    .where('room_id', 'in', roomIds)
    .where('stream', '>', after)
    .where('stream', '<=', upto)
    .execute();
  return rows.map((r) => r.room_id);
}

/**
 * The newest `limit` events of each room in (`after`, `upto`], oldest first per room, in one
 * query (a lateral join per room).
 */
export async function getRecentEventsOfRooms(
  db: Executor,
  roomIds: readonly string[],
  after: number,
  upto: number,
  limit: number,
): Promise<EventRow[]> {
  if (roomIds.length === 0) return [];
  const result = await sql<EventRow>`
    SELECT e.* FROM unnest(${sql.val([...roomIds])}::text[]) AS r(room_id)
    CROSS JOIN LATERAL (
      SELECT * FROM events
      WHERE events.room_id = r.room_id AND stream > ${after} AND stream <= ${upto}
      ORDER BY stream DESC LIMIT ${limit}
    ) AS e
    ORDER BY e.stream`.execute(db);
  return result.rows;
}

/** Replaces a stored event by its redacted form and records which event redacted it. */
export async function markRedacted(
  trx: Executor,
  eventId: string,
  redactedBy: string,
  redactedPdu: string,
): Promise<void> {
  await trx
    .updateTable('events')
    .set({ redacted_by: redactedBy, pdu: redactedPdu })
    .where('event_id', '=', eventId)
    .execute();
}

/** The event a device already sent with this transaction id, if any. */
export async function getTxnEvent(
  db: Executor,
  userId: string,
  deviceId: string,
  txnId: string,
  scope: string,
): Promise<EventRow | undefined> {
  return db
    .selectFrom('events')
    .selectAll()
    .where('sender', '=', userId)
    .where('txn_device_id', '=', deviceId)
    .where('txn_id', '=', txnId)
    .where('txn_scope', '=', scope)
    .executeTakeFirst();
}

/** The user's current membership in every room they have one in. */
export async function getMembershipsOfUser(
  db: Executor,
  userId: string,
): Promise<{ room_id: string; membership: string; stream: number; event_id: string }[]> {
  const rows = await db
    .selectFrom('current_state')
    .select(['room_id', 'membership', 'stream', 'event_id'])
    .where('type', '=', 'm.room.member')
    .where('state_key', '=', userId)
    .execute();
  return rows.map((r) => ({ ...r, membership: r.membership ?? 'leave' }));
}

/** Member events of the user in (`after`, `upto`] across rooms: membership changes for sync. */
export async function getMembershipChangesOfUser(
  db: Executor,
  userId: string,
  after: number,
  upto: number,
): Promise<EventRow[]> {
  return db
    .selectFrom('events')
    .selectAll()
    .where('type', '=', 'm.room.member')
    .where('state_key', '=', userId)
    .where('stream', '>', after)
    .where('stream', '<=', upto)
    .orderBy('stream')
    .execute();
}

/** Every membership change of one user in one room, oldest first. */
export async function getMembershipHistory(
  db: Executor,
  roomId: string,
  userId: string,
): Promise<{ stream: number; membership: string }[]> {
  const rows = await db
    .selectFrom('events')
    .select(['stream', 'membership'])
    .where('room_id', '=', roomId)
    .where('type', '=', 'm.room.member')
    .where('state_key', '=', userId)
    .orderBy('stream')
    .execute();
  return rows.map((r) => ({ stream: r.stream, membership: r.membership ?? 'leave' }));
}

/** Every history-visibility change of a room, oldest first. */
export async function getVisibilityHistory(
  db: Executor,
  roomId: string,
): Promise<{ stream: number; pdu: string }[]> {
  return db
    .selectFrom('events')
    .select(['stream', 'pdu'])
    .where('room_id', '=', roomId)
    .where('type', '=', 'm.room.history_visibility')
    .where('state_key', '=', '')
    .orderBy('stream')
    .execute();
}

/** Members of a room by current membership. */
export async function getMembers(
  db: Executor,
  roomId: string,
  memberships?: readonly string[],
): Promise<{ user_id: string; membership: string; event_id: string }[]> {
  let query = db
    .selectFrom('current_state')
    .select(['state_key as user_id', 'membership', 'event_id'])
    .where('room_id', '=', roomId)
    .where('type', '=', 'm.room.member');
  if (memberships) query = query.where('membership', 'in', memberships);
  const rows = await query.execute();
  return rows.map((r) => ({ ...r, membership: r.membership ?? 'leave' }));
}

/** Counts of joined and invited members of several rooms. */
export async function countMembers(
  db: Executor,
  roomIds: readonly string[],
): Promise<{ room_id: string; membership: string; n: number }[]> {
  if (roomIds.length === 0) return [];
  const rows = await db
    .selectFrom('current_state')
    .select(['room_id', 'membership', (eb) => eb.fn.countAll<string>().as('n')])
    .where('room_id', 'in', roomIds)
    .where('type', '=', 'm.room.member')
    .where('membership', 'in', ['join', 'invite'])
    .groupBy(['room_id', 'membership'])
    .execute();
  return rows.map((r) => ({ room_id: r.room_id, membership: r.membership ?? '', n: Number(r.n) }));
}

/** Events relating to `eventId`, newest first, optionally of one relation and event type. */
export async function getRelations(
  db: Executor,
  eventId: string,
  filter: { relType?: string; eventType?: string; from?: number; dir: 'b' | 'f'; limit: number },
): Promise<EventRow[]> {
  let query = db.selectFrom('events').selectAll().where('relates_to', '=', eventId);
  if (filter.relType) query = query.where('rel_type', '=', filter.relType);
  if (filter.eventType) query = query.where('type', '=', filter.eventType);
  if (filter.from !== undefined) {
    query = query.where('stream', filter.dir === 'b' ? '<=' : '>', filter.from);
  }
  return query
    .orderBy('stream', filter.dir === 'b' ? 'desc' : 'asc')
    .limit(filter.limit)
    .execute();
}

/** Relation rows of several events at once, for aggregations (edits, annotations, threads). */
export async function getRelationsOf(
  db: Executor,
  eventIds: readonly string[],
  relTypes: readonly string[],
): Promise<EventRow[]> {
  if (eventIds.length === 0) return [];
  return db
    .selectFrom('events')
    .selectAll()
    .where('relates_to', 'in', eventIds)
    .where('rel_type', 'in', relTypes)
    .where('redacted_by', 'is', null)
    .orderBy('stream')
    .execute();
}

/** Thread roots of a room (events that have m.thread relations), newest activity first. */
export async function getThreadRoots(
  db: Executor,
  roomId: string,
  page: { from?: number; limit: number },
): Promise<{ root: string; latest: number }[]> {
  let query = db
    .selectFrom('events')
    .select(['relates_to as root', (eb) => eb.fn.max('stream').as('latest')])
    .where('room_id', '=', roomId)
    .where('rel_type', '=', 'm.thread')
    .groupBy('relates_to');
  if (page.from !== undefined) {
    const from = page.from;
    query = query.having((eb) => eb.fn.max('stream'), '<', from);
  }
  const rows = await query.orderBy('latest', 'desc').limit(page.limit).execute();
  return rows.map((r) => ({ root: r.root as string, latest: Number(r.latest) }));
}

export async function insertForgotten(db: Executor, userId: string, roomId: string): Promise<void> {
  await db
    .insertInto('forgotten_rooms')
    .values({ user_id: userId, room_id: roomId })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** Clears a forget when the user comes back to the room. */
export async function deleteForgotten(db: Executor, userId: string, roomId: string): Promise<void> {
  await db
    .deleteFrom('forgotten_rooms')
    .where('user_id', '=', userId)
    .where('room_id', '=', roomId)
    .execute();
}

/** Whether the user has forgotten the room (and not joined it since). */
export async function isRoomForgotten(
  db: Executor,
  userId: string,
  roomId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('forgotten_rooms')
    .select('room_id')
    .where('user_id', '=', userId)
    .where('room_id', '=', roomId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function getForgottenRooms(db: Executor, userId: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('forgotten_rooms')
    .select('room_id')
    .where('user_id', '=', userId)
    .execute();
  return new Set(rows.map((r) => r.room_id));
}
