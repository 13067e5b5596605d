/**
 * Reading rooms: events as clients see them (with unsigned data and aggregations), room state,
 * membership, and the history-visibility check every read path goes through.
 */
import type { Kysely } from 'kysely';
import { forbidden, notFound } from '../errors.js';
import type { ClientEvent, Pdu } from '../matrix/event.js';
import { canSeeEvent, type VisibilityHistory } from '../matrix/visibility.js';
import type { DB, EventRow } from '../storage/schema.js';
import {
  getCurrentStateEvents,
  getEvents,
  getMembershipHistory,
  getRelationsOf,
  getRoom,
  getVisibilityHistory,
  isRoomForgotten,
} from '../storage/events.js';

/** Who is reading, for unsigned fields that depend on it (transaction ids, participation). */
export interface Reader {
  userId: string;
  deviceId?: string;
}

/** The current membership of a user in a room, from current state. */
export type MembershipState = 'join' | 'invite' | 'leave' | 'ban' | 'knock';

export class RoomReader {
  constructor(private readonly db: Kysely<DB>) {}

  /** Throws 404 for a room this server does not know. */
  async requireRoom(roomId: string): Promise<{ roomVersion: string; creator: string }> {
    const room = await getRoom(this.db, roomId);
    if (!room) throw notFound('Unknown room');
    return { roomVersion: room.room_version, creator: room.creator };
  }

  /** The user's current membership, or undefined when they never had one. */
  async membershipOf(roomId: string, userId: string): Promise<MembershipState | undefined> {
    const [row] = await getCurrentStateEvents(this.db, roomId, [['m.room.member', userId]]);
    return (row?.membership ?? undefined) as MembershipState | undefined;
  }

  /** Throws 403 unless the user is joined to the room. */
  async requireJoined(roomId: string, userId: string): Promise<void> {
    if ((await this.membershipOf(roomId, userId)) !== 'join') {
      throw forbidden(`${userId} is not in the room`);
    }
  }

  /** The history a visibility decision for this room and user needs (two small queries). */
  async visibilityHistory(roomId: string, userId: string): Promise<VisibilityHistory> {
    const [memberships, visibilities] = await Promise.all([
      getMembershipHistory(this.db, roomId, userId),
      getVisibilityHistory(this.db, roomId),
    ]);
    return {
      memberships,
      visibilities: visibilities.map((v) => ({
        stream: v.stream,
        value: (JSON.parse(v.pdu) as Pdu).content.history_visibility as string,
      })),
    };
  }

  /** The events of one room the user may see, in the given order. */
  async filterVisible(roomId: string, userId: string, rows: EventRow[]): Promise<EventRow[]> {
    if (rows.length === 0) return rows;
    const history = await this.visibilityHistory(roomId, userId);
    return rows.filter((row) => canSeeEvent(history, row, userId));
  }

  /**
   * Whether the user may read the room at all right now: joined, or the room's current history
   * visibility is world_readable, or they were once in it (they keep what they saw) and have
   * not forgotten it: after a forget, the user "will no longer be able to retrieve history for
   * this room".
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidforget
   */
  async requireCanRead(roomId: string, userId: string): Promise<VisibilityHistory> {
    await this.requireRoom(roomId);
    const history = await this.visibilityHistory(roomId, userId);
    const current = history.visibilities.at(-1)?.value;
    const joined = history.memberships.at(-1)?.membership === 'join';
    const everMember =
      history.memberships.some((m) => m.membership === 'join') &&
      (joined || !(await isRoomForgotten(this.db, userId, roomId)));
    if (current !== 'world_readable' && !everMember) {
      const invited = history.memberships.at(-1)?.membership === 'invite';
      if (!(invited && current === 'invited')) throw forbidden(`${userId} is not in the room`);
    }
    return history;
  }

  /** One event by id if the user may see it; 404 otherwise (its existence is not revealed). */
  async getVisibleEvent(roomId: string, eventId: string, userId: string): Promise<EventRow> {
    const history = await this.requireCanRead(roomId, userId);
    const [row] = await getEvents(this.db, [eventId]);
    if (!row || row.room_id !== roomId || !canSeeEvent(history, row, userId)) {
      throw notFound('Event not found');
    }
    return row;
  }

  /**
   * Turns stored events into client events: unsigned data (age, prev_content, the redaction
   * that redacted it, the reader's own transaction id) and aggregations of edits, references
   * and threads in `unsigned["m.relations"]`.
   */
  async toClientEvents(rows: EventRow[], reader?: Reader): Promise<ClientEvent[]> {
    if (rows.length === 0) return [];
    const redactionIds = [...new Set(rows.flatMap((r) => (r.redacted_by ? [r.redacted_by] : [])))];
    const redactions = new Map<string, ClientEvent>();
    if (redactionIds.length > 0) {
      for (const row of await getEvents(this.db, redactionIds)) {
        redactions.set(row.event_id, this.serialize(row, reader));
      }
    }
    const relations = await this.aggregations(rows, reader);
    return rows.map((row) => {
      const event = this.serialize(row, reader);
      const because = row.redacted_by ? redactions.get(row.redacted_by) : undefined;
      const aggregated = relations.get(row.event_id);
      if (because || aggregated) {
        event.unsigned = {
          ...event.unsigned,
          ...(because ? { redacted_because: because } : {}),
          ...(aggregated ? { 'm.relations': aggregated } : {}),
        };
      }
      return event;
    });
  }

  /** One stored event as a client event, without aggregations. */
  serialize(row: EventRow, reader?: Reader): ClientEvent {
    const pdu = JSON.parse(row.pdu) as Pdu;
    const unsigned: Record<string, unknown> = {
      age: Math.max(0, Date.now() - pdu.origin_server_ts),
      ...(row.unsigned ? (JSON.parse(row.unsigned) as Record<string, unknown>) : {}),
    };
    if (
      reader &&
      row.txn_id !== null &&
      row.sender === reader.userId &&
      row.txn_device_id === reader.deviceId
    ) {
      unsigned.transaction_id = row.txn_id;
    }
    const event: ClientEvent = {
      event_id: row.event_id,
      room_id: pdu.room_id,
      sender: pdu.sender,
      type: pdu.type,
      content: pdu.content,
      origin_server_ts: pdu.origin_server_ts,
      unsigned,
    };
    if (pdu.state_key !== undefined) event.state_key = pdu.state_key;
    // Room version 11 keeps `redacts` in content; older clients still read it at the top level.
    if (pdu.type === 'm.room.redaction' && typeof pdu.content.redacts === 'string') {
      event.redacts = pdu.content.redacts;
    }
    return event;
  }

  /**
   * Server-side aggregations (spec: client-server-api, Aggregations of child events): the
   * newest edit by the original sender (m.replace), the ids of referencing events
   * (m.reference), and for thread roots the latest event, count and whether the reader took
   * part (m.thread). Annotations (reactions) are not aggregated, as the spec says.
   */
  async aggregations(
    rows: EventRow[],
    reader?: Reader,
  ): Promise<Map<string, Record<string, unknown>>> {
    const result = new Map<string, Record<string, unknown>>();
    const ids = rows.filter((r) => r.redacted_by === null).map((r) => r.event_id);
    if (ids.length === 0) return result;
    const children = await getRelationsOf(this.db, ids, ['m.replace', 'm.reference', 'm.thread']);
    if (children.length === 0) return result;
    const senders = new Map(rows.map((r) => [r.event_id, r.sender]));
    const parents = new Map(rows.map((r) => [r.event_id, r]));
    const grouped = new Map<string, EventRow[]>();
    for (const child of children) {
      const key = `${child.relates_to}\u0000${child.rel_type}`;
      const list = grouped.get(key) ?? [];
      list.push(child);
      grouped.set(key, list);
    }
    const latestThreadEvents: EventRow[] = [];
    for (const [key, list] of grouped) {
      const [parentId, relType] = key.split('\u0000') as [string, string];
      const entry = result.get(parentId) ?? {};
      if (relType === 'm.replace') {
        const parent = parents.get(parentId);
        const edits = parent ? list.filter((e) => isValidReplacement(parent, e)) : [];
        const newest = edits.at(-1);
        if (newest) entry['m.replace'] = this.serialize(newest, reader);
      } else if (relType === 'm.reference') {
        entry['m.reference'] = { chunk: list.map((e) => ({ event_id: e.event_id })) };
      } else if (relType === 'm.thread') {
        const latest = list.at(-1) as EventRow;
        latestThreadEvents.push(latest);
        entry['m.thread'] = {
          latest_event: latest.event_id,
          count: list.length,
          current_user_participated:
            reader !== undefined &&
            (list.some((e) => e.sender === reader.userId) ||
              senders.get(parentId) === reader.userId),
        };
      }
      if (Object.keys(entry).length > 0) result.set(parentId, entry);
    }
    if (latestThreadEvents.length > 0) {
      const serialized = await this.toClientEvents(latestThreadEvents, reader);
      const byId = new Map(serialized.map((e) => [e.event_id, e]));
      for (const entry of result.values()) {
        const thread = entry['m.thread'] as { latest_event: unknown } | undefined;
        if (thread && typeof thread.latest_event === 'string') {
          thread.latest_event = byId.get(thread.latest_event);
        }
      }
    }
    return result;
  }
}

/**
 * Whether an m.replace event is a valid edit of the original: same sender and type, neither a
 * state event, the original not itself an edit, and the edit carries `m.new_content`. Invalid
 * edits are left out of the aggregation.
 * https://spec.matrix.org/v1.16/client-server-api/#validity-of-replacement-events
 */
function isValidReplacement(original: EventRow, edit: EventRow): boolean {
  if (edit.sender !== original.sender || edit.type !== original.type) return false;
  if (edit.state_key !== null || original.state_key !== null) return false;
  if (original.rel_type === 'm.replace') return false;
  const newContent = (JSON.parse(edit.pdu) as Pdu).content['m.new_content'];
  return typeof newContent === 'object' && newContent !== null && !Array.isArray(newContent);
}
