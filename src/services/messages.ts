/**
 * Sending into rooms: messages, state events and redactions (spec: client-server-api, Sending
 * events to a room; Redactions), and reading room state.
 */
import type { Kysely } from 'kysely';
import { MatrixError, forbidden, notFound, tooLarge } from '../errors.js';
import { powerLevelOf, redactLevel } from '../matrix/auth-rules.js';
import { canonicalJson } from '../matrix/canonical-json.js';
import type { ClientEvent, Pdu } from '../matrix/event.js';
import type { DB } from '../storage/schema.js';
import { getAlias } from '../storage/rooms.js';
import { getCurrentStateEvents, getEvent, getStateAt } from '../storage/events.js';
import type { EventPipeline } from './event-pipeline.js';
import type { RoomReader } from './room-reader.js';

/** The largest event the spec allows, in bytes of its JSON. */
const MAX_EVENT_BYTES = 65_536;

export interface Sender {
  userId: string;
  deviceId: string;
}

/** Refuses content that cannot be part of a signed event: floats, huge sizes. */
function checkContent(content: Record<string, unknown>): void {
  let json: string;
  try {
    json = canonicalJson(content);
  } catch (err) {
    throw new MatrixError('M_BAD_JSON', `Event content is not valid: ${(err as Error).message}`);
  }
  // Room, sender and hashes add to the content; leave room for them.
  if (Buffer.byteLength(json) > MAX_EVENT_BYTES - 1024) throw tooLarge('Event is too large');
}

export class Messages {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly pipeline: EventPipeline,
    private readonly reader: RoomReader,
  ) {}

  /** `PUT /rooms/{roomId}/send/{eventType}/{txnId}`: idempotent per device and txnId. */
  async send(
    sender: Sender,
    roomId: string,
    type: string,
    txnId: string,
    content: Record<string, unknown>,
  ): Promise<string> {
    checkContent(content);
    if (type === 'm.room.redaction') {
      throw new MatrixError('M_BAD_JSON', 'Use the redact endpoint to redact events');
    }
    const persisted = await this.pipeline.send(roomId, {
      type,
      sender: sender.userId,
      content,
      txn: { deviceId: sender.deviceId, txnId, scope: `send ${roomId} ${type}` },
    });
    return persisted.eventId;
  }

  /**
   * `PUT /rooms/{roomId}/state/{eventType}/{stateKey}`. Sending the content the state already
   * has returns the existing event instead of a new one.
   */
  async sendState(
    userId: string,
    roomId: string,
    type: string,
    stateKey: string,
    content: Record<string, unknown>,
  ): Promise<string> {
    checkContent(content);
    if (type === 'm.room.canonical_alias') await this.#checkCanonicalAlias(roomId, content);
    const [current] = await getCurrentStateEvents(this.db, roomId, [[type, stateKey]]);
    if (current && current.sender === userId && current.redacted_by === null) {
      const pdu = JSON.parse(current.pdu) as Pdu;
      if (canonicalJson(pdu.content) === canonicalJson(content)) {
        await this.reader.requireJoined(roomId, userId);
        return current.event_id;
      }
    }
    const persisted = await this.pipeline.send(roomId, { type, sender: userId, stateKey, content });
    return persisted.eventId;
  }

  async #checkCanonicalAlias(roomId: string, content: Record<string, unknown>): Promise<void> {
    const aliases = [
      ...(typeof content.alias === 'string' ? [content.alias] : []),
      ...(Array.isArray(content.alt_aliases) ? content.alt_aliases : []),
    ];
    for (const alias of aliases) {
      if (typeof alias !== 'string') throw new MatrixError('M_BAD_ALIAS', 'Invalid alias');
      const row = await getAlias(this.db, alias);
      if (!row || row.room_id !== roomId) {
        throw new MatrixError('M_BAD_ALIAS', `${alias} does not point to this room`);
      }
    }
  }

  /**
   * `PUT /rooms/{roomId}/redact/{eventId}/{txnId}`: a user may redact their own events, or any
   * event with the room's redact power level.
   */
  async redact(
    sender: Sender,
    roomId: string,
    eventId: string,
    txnId: string,
    reason?: string,
  ): Promise<string> {
    const target = await getEvent(this.db, eventId);
    if (!target || target.room_id !== roomId) throw notFound('Event not found');
    const persisted = await this.pipeline.send(
      roomId,
      {
        type: 'm.room.redaction',
        sender: sender.userId,
        content: { redacts: eventId, ...(reason !== undefined ? { reason } : {}) },
        txn: { deviceId: sender.deviceId, txnId, scope: `redact ${roomId} ${eventId}` },
      },
      (state) => {
        if (target.sender === sender.userId) return;
        if (powerLevelOf(state.auth, sender.userId) < redactLevel(state.auth)) {
          throw forbidden('You may only redact your own events');
        }
      },
    );
    return persisted.eventId;
  }

  /**
   * The room state a user may see: the current state when joined (or the room is
   * world-readable), the state when they left otherwise.
   */
  async visibleState(
    userId: string,
    roomId: string,
    only?: [string, string],
  ): Promise<ClientEvent[]> {
    const history = await this.reader.requireCanRead(roomId, userId);
    const last = history.memberships.at(-1);
    const worldReadable = history.visibilities.at(-1)?.value === 'world_readable';
    let rows;
    if (last?.membership === 'join' || worldReadable) {
      rows = await getCurrentStateEvents(this.db, roomId, only ? [only] : undefined);
    } else {
      const upto = last?.stream ?? 0;
      rows = await getStateAt(this.db, roomId, upto, only ? [only[0]] : undefined);
      if (only) rows = rows.filter((r) => r.state_key === only[1]);
    }
    rows.sort((a, b) => a.stream - b.stream);
    return this.reader.toClientEvents(rows, { userId });
  }

  /** One state event's content (or the whole event); 404 when the room has no such state. */
  async getStateEvent(
    userId: string,
    roomId: string,
    type: string,
    stateKey: string,
  ): Promise<ClientEvent> {
    const [event] = await this.visibleState(userId, roomId, [type, stateKey]);
    if (!event) throw notFound('Event not found');
    return event;
  }
}
