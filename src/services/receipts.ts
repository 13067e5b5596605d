/**
 * Read receipts and read markers (spec: client-server-api, Receipts; Read markers), their
 * delivery in sync as `m.receipt`, and the read-status report of one event.
 */
import type { Kysely } from 'kysely';
import { MatrixError, forbidden } from '../errors.js';
import { powerLevelOf, requiredLevelForEvent } from '../matrix/auth-rules.js';
import type { Pdu } from '../matrix/event.js';
import type { DB, EventRow } from '../storage/schema.js';
import {
  getCurrentStateEvents,
  getEvent,
  getMembers,
  nextStreamPosition,
} from '../storage/events.js';
import {
  advanceReceipt,
  getPublicMainReceipts,
  getVisibleReceipts,
  type ReceiptRow,
} from '../storage/receipts.js';
import type { AccountData } from './account-data.js';
import { publishChange } from './notifier.js';
import { RoomStateView } from './event-pipeline.js';
import type { Reader, RoomReader } from './room-reader.js';

export const RECEIPT_TYPES = ['m.read', 'm.read.private', 'm.fully_read'] as const;
export type ReceiptType = (typeof RECEIPT_TYPES)[number];

/** Thrown inside a receipt's transaction when it would not move: the transaction rolls back. */
class Unchanged extends Error {}

/**
 * The thread an event belongs to: the root of its m.thread relation, or the main timeline.
 *
 * TODO: follow relations up to three hops to find the thread (spec: Threaded read receipts), so
 * that a reaction or an edit in a thread belongs to it; today only an event with its own m.thread
 * relation is in a thread, the others count as main timeline, and a thread receipt for them is
 * refused with 400.
 */
export function threadOf(row: Pick<EventRow, 'rel_type' | 'relates_to'>): string {
  return row.rel_type === 'm.thread' && row.relates_to ? row.relates_to : 'main';
}

export interface ReadStatusReport {
  event_id: string;
  room_id: string;
  read: { user_id: string; ts: number }[];
  unread: { user_id: string }[];
  privacy: string;
}

/** Who asks for a read-status report: a user, or the server's operator through the admin CLI. */
export type ReadStatusAsker = { userId: string; isAdmin: boolean } | 'operator';

export class Receipts {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly reader: RoomReader,
    private readonly accountData: AccountData,
  ) {}

  /**
   * `POST /rooms/{roomId}/receipt/{receiptType}/{eventId}`. A receipt for an event before the
   * user's current one of the same type and thread is accepted and changes nothing.
   */
  async post(
    requester: Reader,
    roomId: string,
    type: string,
    eventId: string,
    threadId?: string,
  ): Promise<void> {
    const event = await this.#target(requester, roomId, type, eventId, threadId);
    await this.#apply(requester.userId, roomId, type, event, threadId);
  }

  /** Checks a receipt or marker before anything is stored; returns the event it points at. */
  async #target(
    requester: Reader,
    roomId: string,
    type: string,
    eventId: string,
    threadId: string | undefined,
  ): Promise<EventRow> {
    if (!(RECEIPT_TYPES as readonly string[]).includes(type)) {
      throw new MatrixError('M_INVALID_PARAM', `Unknown receipt type ${type}`);
    }
    if (threadId !== undefined && threadId === '') {
      throw new MatrixError('M_INVALID_PARAM', 'thread_id field must be a non-empty string');
    }
    // The fully-read marker is room account data, which has no threads (spec: a thread_id
    // "provided for an incompatible receipt type" is a 400).
    if (threadId !== undefined && type === 'm.fully_read') {
      throw new MatrixError('M_INVALID_PARAM', 'm.fully_read takes no thread_id');
    }
    await this.reader.requireJoined(roomId, requester.userId);
    const event = await this.reader.getVisibleEvent(roomId, eventId, requester.userId);
    if (threadId !== undefined) {
      const thread = threadOf(event);
      const isRoot = threadId === eventId;
      if (threadId === 'main' ? thread !== 'main' : thread !== threadId && !isRoot) {
        throw new MatrixError('M_INVALID_PARAM', 'The event is not in the given thread');
      }
    }
    return event;
  }

  async #apply(
    userId: string,
    roomId: string,
    type: string,
    event: EventRow,
    threadId: string | undefined,
  ): Promise<void> {
    if (type === 'm.fully_read') {
      await this.accountData.setServerOwned(userId, roomId, 'm.fully_read', {
        event_id: event.event_id,
      });
      return;
    }
    await this.#advance(userId, roomId, type, event, threadId ?? '');
  }

  async #advance(
    userId: string,
    roomId: string,
    type: string,
    event: EventRow,
    threadId: string,
  ): Promise<void> {
    try {
      await this.db.transaction().execute(async (trx) => {
        const position = await nextStreamPosition(trx);
        const moved = await advanceReceipt(trx, {
          room_id: roomId,
          user_id: userId,
          receipt_type: type,
          thread_id: threadId,
          event_id: event.event_id,
          event_stream: event.stream,
          ts: Date.now(),
          stream: position,
        });
        // A receipt that does not move gives its stream position back.
        if (!moved) throw new Unchanged();
        await publishChange(
          trx,
          type === 'm.read' ? { position, rooms: [roomId] } : { position, users: [userId] },
        );
      });
    } catch (err) {
      if (!(err instanceof Unchanged)) throw err;
    }
  }

  /**
   * `POST /rooms/{roomId}/read_markers`: the fully-read marker and receipts in one call. Every
   * event is checked before any marker moves, so a request with one bad event changes nothing.
   */
  async setReadMarkers(
    requester: Reader,
    roomId: string,
    markers: { 'm.fully_read'?: string; 'm.read'?: string; 'm.read.private'?: string },
  ): Promise<void> {
    const targets: [string, EventRow][] = [];
    for (const type of ['m.fully_read', 'm.read', 'm.read.private'] as const) {
      const eventId = markers[type];
      if (eventId === undefined) continue;
      targets.push([type, await this.#target(requester, roomId, type, eventId, undefined)]);
    }
    for (const [type, event] of targets) {
      await this.#apply(requester.userId, roomId, type, event, undefined);
    }
  }

  /**
   * The `m.receipt` ephemeral event of each room with receipts in (`after`, `upto`]: everyone's
   * public receipts and the user's own private ones (never another user's).
   */
  async ephemeral(
    userId: string,
    roomIds: readonly string[],
    after: number,
    upto: number,
  ): Promise<Map<string, { type: 'm.receipt'; content: Record<string, unknown> }[]>> {
    const rows = await getVisibleReceipts(this.db, roomIds, userId, after, upto);
    const result = new Map<string, { type: 'm.receipt'; content: Record<string, any> }[]>();
    for (const row of rows) {
      const events = result.get(row.room_id) ?? [];
      result.set(row.room_id, events);
      // A user may hold receipts of one type on one event in several threads (unthreaded and
      // `main`, say); one event's content has room for one, so the others go in another event.
      let event = events.find((e) => !e.content[row.event_id]?.[row.receipt_type]?.[row.user_id]);
      if (!event) {
        event = { type: 'm.receipt', content: {} };
        events.push(event);
      }
      const byType = (event.content[row.event_id] ??= {});
      const byUser = (byType[row.receipt_type] ??= {});
      byUser[row.user_id] = {
        ts: row.ts,
        ...(row.thread_id !== '' ? { thread_id: row.thread_id } : {}),
      };
    }
    return result;
  }

  /**
   * Who of the room's joined members has read an event: a public `m.read` receipt in the main
   * timeline (unthreaded or `main`) at or after it. Only moderators (who may change the power
   * levels), server admins and the operator (the admin CLI) may ask. Private receipts count as
   * not read.
   */
  async readStatus(
    asker: ReadStatusAsker,
    roomId: string,
    eventId: string,
  ): Promise<ReadStatusReport> {
    await this.reader.requireRoom(roomId);
    let event: EventRow;
    if (asker === 'operator' || asker.isAdmin) {
      event = await this.#eventInRoom(roomId, eventId);
    } else {
      await this.#requireModerator(asker.userId, roomId);
      event = await this.reader.getVisibleEvent(roomId, eventId, asker.userId);
    }
    const members = (await getMembers(this.db, roomId, ['join'])).map((m) => m.user_id).sort();
    const best = new Map<string, ReceiptRow>();
    for (const receipt of await getPublicMainReceipts(this.db, roomId)) {
      const current = best.get(receipt.user_id);
      if (!current || receipt.event_stream > current.event_stream) {
        best.set(receipt.user_id, receipt);
      }
    }
    const read: { user_id: string; ts: number }[] = [];
    const unread: { user_id: string }[] = [];
    for (const userId of members) {
      const receipt = best.get(userId);
      if (receipt && receipt.event_stream >= event.stream)
        read.push({ user_id: userId, ts: receipt.ts });
      else unread.push({ user_id: userId });
    }
    return {
      event_id: eventId,
      room_id: roomId,
      read,
      unread,
      privacy:
        'Only public read receipts (m.read) count as read. Members who read with private ' +
        'receipts (m.read.private) are listed as unread, so their privacy is kept.',
    };
  }

  async #requireModerator(userId: string, roomId: string): Promise<void> {
    const rows = await getCurrentStateEvents(this.db, roomId, [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
      ['m.room.member', userId],
    ]);
    const state = new RoomStateView();
    for (const row of rows) state.set(JSON.parse(row.pdu) as Pdu, row.event_id);
    if (state.get('m.room.member', userId)?.content.membership !== 'join') {
      throw forbidden('You are not in the room');
    }
    const needed = requiredLevelForEvent(state.auth, 'm.room.power_levels', true);
    if (powerLevelOf(state.auth, userId) < needed) {
      throw forbidden('Only the room moderators may see who has read a message');
    }
  }

  async #eventInRoom(roomId: string, eventId: string): Promise<EventRow> {
    const row = await getEvent(this.db, eventId);
    if (!row || row.room_id !== roomId) throw new MatrixError('M_NOT_FOUND', 'Event not found');
    return row;
  }
}
