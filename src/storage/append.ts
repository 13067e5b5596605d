/**
 * The two statements that add an event to a room: lock the room and read the state entries the
 * event needs, then write everything the event changes in one statement.
 */
import { sql } from 'kysely';
import type { Executor } from './database.js';
import type { EventRow, Room } from './schema.js';

/**
 * Locks the room's row until the transaction ends and returns it with the current state events
 * of the given (type, state_key) pairs.
 *
 * SELECT r.*, (SELECT json_agg(...) FROM current_state s JOIN events e ...
 *   WHERE (s.type, s.state_key) IN (...)) FROM rooms r WHERE room_id = $1 FOR UPDATE OF r
 */
export async function lockRoomWithState(
  trx: Executor,
  roomId: string,
  keys: readonly (readonly [string, string])[],
): Promise<{ room: Room; state: { event_id: string; pdu: string }[] } | undefined> {
  const pairs =
    keys.length > 0
      ? sql.join(keys.map(([type, stateKey]) => sql`(${type}, ${stateKey})`))
      : sql`(NULL, NULL)`;
  const result = await sql<Room & { state: { event_id: string; pdu: string }[] | null }>`
    SELECT r.*, (
      SELECT json_agg(json_build_object('event_id', e.event_id, 'pdu', e.pdu))
      FROM current_state s JOIN events e ON e.event_id = s.event_id
      WHERE s.room_id = r.room_id AND (s.type, s.state_key) IN (${pairs})
    ) AS state
    FROM rooms r WHERE r.room_id = ${roomId}
    FOR UPDATE OF r`.execute(trx);
  const row = result.rows[0];
  if (!row) return undefined;
  const { state, ...room } = row;
  return { room: room as Room, state: state ?? [] };
}

/**
 * Writes a new event in one statement: takes the next stream position (holding the counter
 * until commit, so positions become visible in order), inserts the event, makes it the room's
 * head, updates current state for a state event, and queues the stream notification with the
 * position in it. Returns the position.
 */
export async function appendEvent(
  trx: Executor,
  row: Omit<EventRow, 'stream'>,
  notify: { channel: string; payloadSuffix: string },
): Promise<number> {
  const isState = row.state_key !== null;
  const result = await sql<{ stream: number }>`
    WITH pos AS (
      UPDATE stream_position SET position = position + 1 RETURNING position
    ), ins AS (
      INSERT INTO events (stream, event_id, room_id, type, state_key, sender, depth,
        origin_server_ts, membership, relates_to, rel_type, redacted_by, txn_device_id, txn_id,
        txn_scope, pdu, unsigned)
      SELECT pos.position, ${row.event_id}, ${row.room_id}, ${row.type}, ${row.state_key},
        ${row.sender}, ${row.depth}, ${row.origin_server_ts}, ${row.membership},
        ${row.relates_to}, ${row.rel_type}, ${row.redacted_by}, ${row.txn_device_id},
        ${row.txn_id}, ${row.txn_scope}, ${row.pdu}, ${row.unsigned}
      FROM pos
      RETURNING stream
    ), head AS (
      UPDATE rooms SET last_event_id = ${row.event_id}, last_depth = ${row.depth}
      WHERE room_id = ${row.room_id}
    ), state AS (
      INSERT INTO current_state (room_id, type, state_key, event_id, stream, membership)
      SELECT ${row.room_id}, ${row.type}, ${row.state_key ?? ''}, ${row.event_id}, ins.stream,
        ${row.membership}
      FROM ins WHERE ${isState}::boolean
      ON CONFLICT (room_id, type, state_key) DO UPDATE SET
        event_id = EXCLUDED.event_id, stream = EXCLUDED.stream, membership = EXCLUDED.membership
    )
    SELECT ins.stream,
      pg_notify(${notify.channel}, concat('{"p":', ins.stream, ${notify.payloadSuffix}::text))
    FROM ins`.execute(trx);
  return (result.rows[0] as { stream: number }).stream;
}
