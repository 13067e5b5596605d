/**
 * The one way a room event comes to exist: build it on the room's newest event, authorize it by
 * the room version 11 rules against the room state, persist it with its stream position and its
 * state change in one transaction, and announce it to waiting syncs on commit. Sends,
 * createRoom, membership changes and upgrades all come through here.
 */
import type { Kysely, Transaction } from 'kysely';
import { forbidden, notFound, tooLarge } from '../errors.js';
import { authorizeEvent, selectAuthEventKeys, type AuthState } from '../matrix/auth-rules.js';
import { canonicalJson } from '../matrix/canonical-json.js';
import { stateKey, type Pdu, type UnsignedPdu } from '../matrix/event.js';
import { finalizeEvent } from '../matrix/event-hash.js';
import { redactPdu } from '../matrix/redaction.js';
import type { SigningKey } from '../matrix/signing.js';
import type { DB, Room } from '../storage/schema.js';
import { appendEvent, lockRoomWithState } from '../storage/append.js';
import {
  getCurrentStateEvents,
  getEvent,
  getTxnEvent,
  insertRoom,
  lockRoom,
  markRedacted,
} from '../storage/events.js';
import type { AppendedEvent } from './notifications.js';
import { STREAM_CHANNEL } from './notifier.js';

/** What a caller wants to add to a room. */
export interface EventDraft {
  type: string;
  sender: string;
  content: Record<string, unknown>;
  stateKey?: string;
  /** The sending device and its transaction id, for idempotent retries. */
  txn?: { deviceId: string; txnId: string; scope: string };
}

export interface PersistedEvent {
  eventId: string;
  stream: number;
  pdu: Pdu;
  /** True when a retried transaction id returned the event sent the first time. */
  duplicate?: boolean;
}

/**
 * Extra conditions a use case puts on the event, checked against the room state right before
 * authorization, inside the room's lock (for example: a redaction's target must be the sender's).
 */
export type StateCheck = (state: RoomStateView) => Promise<void> | void;

/** The room state as seen while appending: events by (type, state_key) and their ids. */
export class RoomStateView {
  readonly events = new Map<string, Pdu>();
  readonly ids = new Map<string, string>();

  get(type: string, key = ''): Pdu | undefined {
    return this.events.get(stateKey(type, key));
  }

  getId(type: string, key = ''): string | undefined {
    return this.ids.get(stateKey(type, key));
  }

  set(pdu: Pdu, eventId: string): void {
    const key = stateKey(pdu.type, pdu.state_key ?? '');
    this.events.set(key, pdu);
    this.ids.set(key, eventId);
  }

  get auth(): AuthState {
    return this.events;
  }
}

/** A room being written to inside one transaction: its locked row and the state seen so far. */
interface RoomWriter {
  room: Room;
  state: RoomStateView;
  /** State keys already loaded from the database (all of them for a new room). */
  loaded: Set<string> | 'all';
}

/** The largest event, in bytes of canonical JSON with its signatures. */
const MAX_PDU_BYTES = 65_536;
/** The largest `type` and `state_key`, in bytes. */
const MAX_KEY_BYTES = 255;

/**
 * Refuses an event beyond the spec's size limits: 64 KiB for the whole signed event, 255 bytes
 * for its type and state key.
 * https://spec.matrix.org/v1.16/client-server-api/#size-limits
 */
function checkSize(pdu: Pdu): void {
  if (Buffer.byteLength(pdu.type) > MAX_KEY_BYTES) throw tooLarge('Event type is too long');
  if (pdu.state_key !== undefined && Buffer.byteLength(pdu.state_key) > MAX_KEY_BYTES) {
    throw tooLarge('State key is too long');
  }
  if (Buffer.byteLength(canonicalJson(pdu)) > MAX_PDU_BYTES) throw tooLarge('Event is too large');
}

/** Raised inside a transaction when a concurrent retry already stored the transaction id. */
class DuplicateTxn extends Error {}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e.code === '23505' && e.constraint === constraint;
}

export class EventPipeline {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly serverName: string,
    private readonly key: SigningKey,
    /** Runs inside the event's transaction once it is stored (notifications, receipts). */
    private readonly onAppend?: (trx: Transaction<DB>, event: AppendedEvent) => Promise<void>,
  ) {}

  /**
   * Adds one event to an existing room. A retry with the same device and transaction id returns
   * the first event. Throws 404 for an unknown room and 403 when the rules refuse the event.
   */
  async send(roomId: string, draft: EventDraft, check?: StateCheck): Promise<PersistedEvent> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        const keys = this.#stateKeysFor(draft);
        const locked = await lockRoomWithState(
          trx,
          roomId,
          keys.map((k) => k.split('\u0000') as [string, string]),
        );
        if (!locked) throw notFound('Unknown room');
        const writer: RoomWriter = {
          room: locked.room,
          state: new RoomStateView(),
          loaded: new Set(keys),
        };
        for (const entry of locked.state) {
          writer.state.set(JSON.parse(entry.pdu) as Pdu, entry.event_id);
        }
        return this.append(trx, writer, draft, check);
      });
    } catch (err) {
      // A retried transaction id: the first send's event is the answer. The unique index
      // decides, so two concurrent retries cannot both create an event.
      if (draft.txn && (err instanceof DuplicateTxn || isUniqueViolation(err, 'events_txn'))) {
        const earlier = await this.#txnEvent(draft);
        if (earlier) return earlier;
      }
      throw err;
    }
  }

  /** The state entries an event's authorization and unsigned data need. */
  #stateKeysFor(draft: EventDraft): string[] {
    const keys = selectAuthEventKeys({
      type: draft.type,
      sender: draft.sender,
      content: draft.content,
      ...(draft.stateKey !== undefined ? { state_key: draft.stateKey } : {}),
    });
    keys.push(stateKey('m.room.join_rules', ''));
    if (draft.stateKey !== undefined) keys.push(stateKey(draft.type, draft.stateKey));
    return [...new Set(keys)];
  }

  /**
   * Creates a room and its first events in one transaction: either the whole room exists
   * afterwards or nothing of it does. `after` runs inside the transaction (aliases, directory).
   */
  async createRoom(
    room: { roomId: string; roomVersion: string; creator: string },
    drafts: EventDraft[],
    after?: (trx: Transaction<DB>) => Promise<void>,
  ): Promise<PersistedEvent[]> {
    return this.db.transaction().execute(async (trx) => {
      await insertRoom(trx, {
        room_id: room.roomId,
        room_version: room.roomVersion,
        creator: room.creator,
        created_ts: Date.now(),
      });
      const row = await lockRoom(trx, room.roomId);
      if (!row) throw new Error('room vanished inside its own transaction');
      const writer: RoomWriter = { room: row, state: new RoomStateView(), loaded: 'all' };
      const persisted: PersistedEvent[] = [];
      for (const draft of drafts) persisted.push(await this.append(trx, writer, draft));
      await after?.(trx);
      return persisted;
    });
  }

  /** Adds several events to one existing room in a single transaction, in order. */
  async sendMany(roomId: string, drafts: EventDraft[]): Promise<PersistedEvent[]> {
    return this.db.transaction().execute(async (trx) => {
      const room = await lockRoom(trx, roomId);
      if (!room) throw notFound('Unknown room');
      const writer: RoomWriter = { room, state: new RoomStateView(), loaded: new Set() };
      const persisted: PersistedEvent[] = [];
      for (const draft of drafts) persisted.push(await this.append(trx, writer, draft));
      return persisted;
    });
  }

  /** The room's full current state, for callers that need more than the auth events. */
  async loadState(trx: Transaction<DB> | Kysely<DB>, roomId: string): Promise<RoomStateView> {
    const view = new RoomStateView();
    for (const row of await getCurrentStateEvents(trx, roomId)) {
      view.set(JSON.parse(row.pdu) as Pdu, row.event_id);
    }
    return view;
  }

  async #txnEvent(draft: EventDraft): Promise<PersistedEvent | undefined> {
    const txn = draft.txn as { deviceId: string; txnId: string; scope: string };
    const row = await getTxnEvent(this.db, draft.sender, txn.deviceId, txn.txnId, txn.scope);
    if (!row) return undefined;
    return { eventId: row.event_id, stream: row.stream, pdu: JSON.parse(row.pdu), duplicate: true };
  }

  /** Loads the state entries the event's authorization needs that the writer lacks. */
  async #loadAuthState(trx: Transaction<DB>, writer: RoomWriter, keys: string[]): Promise<void> {
    if (writer.loaded === 'all') return;
    const loaded = writer.loaded;
    const missing = keys.filter((k) => !loaded.has(k));
    if (missing.length === 0) return;
    const pairs = missing.map((k) => k.split('\u0000') as [string, string]);
    for (const row of await getCurrentStateEvents(trx, writer.room.room_id, pairs)) {
      writer.state.set(JSON.parse(row.pdu) as Pdu, row.event_id);
    }
    for (const k of missing) loaded.add(k);
  }

  /** Builds, authorizes and stores one event on top of the writer's room. */
  private async append(
    trx: Transaction<DB>,
    writer: RoomWriter,
    draft: EventDraft,
    check?: StateCheck,
  ): Promise<PersistedEvent> {
    const { room, state } = writer;
    const selector = {
      type: draft.type,
      sender: draft.sender,
      content: draft.content,
      ...(draft.stateKey !== undefined ? { state_key: draft.stateKey } : {}),
    };
    const authKeys = selectAuthEventKeys(selector);
    await this.#loadAuthState(trx, writer, this.#stateKeysFor(draft));
    if (check) await check(state);

    const unsigned: UnsignedPdu = {
      room_id: room.room_id,
      sender: draft.sender,
      type: draft.type,
      ...(draft.stateKey !== undefined ? { state_key: draft.stateKey } : {}),
      content: draft.content,
      origin_server_ts: Date.now(),
      depth: room.last_depth + 1,
      prev_events: room.last_event_id ? [room.last_event_id] : [],
      auth_events: authKeys
        .map((k) => state.ids.get(k))
        .filter((id): id is string => id !== undefined),
    };
    const { pdu, eventId } = finalizeEvent(
      unsigned,
      this.serverName,
      this.key.keyId,
      this.key.privateKey,
    );
    checkSize(pdu);
    const verdict = authorizeEvent(pdu, state.auth);
    if (!verdict.allowed) throw forbidden(verdict.reason);

    const previous =
      draft.stateKey !== undefined
        ? {
            pdu: state.get(draft.type, draft.stateKey),
            id: state.getId(draft.type, draft.stateKey),
          }
        : undefined;
    const unsignedData =
      previous?.pdu && previous.id
        ? {
            replaces_state: previous.id,
            prev_content: previous.pdu.content,
            prev_sender: previous.pdu.sender,
          }
        : undefined;

    const relation = relationOf(draft.content);
    const membership =
      draft.type === 'm.room.member' && typeof draft.content.membership === 'string'
        ? draft.content.membership
        : null;
    const users =
      membership !== null && draft.stateKey !== undefined ? [draft.stateKey] : undefined;
    const audience = JSON.stringify({ r: [room.room_id], ...(users ? { u: users } : {}) });
    let stream: number;
    try {
      // One statement takes the stream position (last, so that writers serialise only for the
      // commit), stores the event, moves the room's head, updates current state and queues the
      // notification that syncs see on commit.
      stream = await appendEvent(
        trx,
        {
          event_id: eventId,
          room_id: room.room_id,
          type: draft.type,
          state_key: draft.stateKey ?? null,
          sender: draft.sender,
          depth: unsigned.depth,
          origin_server_ts: unsigned.origin_server_ts,
          membership,
          relates_to: relation?.eventId ?? null,
          rel_type: relation?.relType ?? null,
          redacted_by: null,
          txn_device_id: draft.txn?.deviceId ?? null,
          txn_id: draft.txn?.txnId ?? null,
          txn_scope: draft.txn?.scope ?? null,
          pdu: JSON.stringify(pdu),
          unsigned: unsignedData ? JSON.stringify(unsignedData) : null,
        },
        { channel: STREAM_CHANNEL, payloadSuffix: `,${audience.slice(1)}` },
      );
    } catch (err) {
      if (isUniqueViolation(err, 'events_txn')) throw new DuplicateTxn();
      throw err;
    }
    if (draft.stateKey !== undefined) state.set(pdu, eventId);
    if (draft.type === 'm.room.redaction') await this.#applyRedaction(trx, pdu, eventId);
    await this.onAppend?.(trx, {
      pdu,
      eventId,
      stream,
      relType: relation?.relType ?? null,
      relatesTo: relation?.eventId ?? null,
      state,
    });
    room.last_event_id = eventId;
    room.last_depth = unsigned.depth;

    return { eventId, stream, pdu };
  }

  /** Replaces the redacted event's stored form by what the redaction algorithm leaves of it. */
  async #applyRedaction(trx: Transaction<DB>, redaction: Pdu, redactionId: string): Promise<void> {
    const targetId = redaction.content.redacts;
    if (typeof targetId !== 'string') return;
    const target = await getEvent(trx, targetId);
    if (!target || target.room_id !== redaction.room_id || target.redacted_by !== null) return;
    const redacted = redactPdu(JSON.parse(target.pdu) as Pdu);
    await markRedacted(trx, targetId, redactionId, JSON.stringify(redacted));
  }
}

/** The relation an event declares in `content["m.relates_to"]`, if any. */
export function relationOf(
  content: Record<string, unknown>,
): { relType: string; eventId: string } | undefined {
  const rel = content['m.relates_to'];
  if (!rel || typeof rel !== 'object') return undefined;
  const { rel_type: relType, event_id: eventId } = rel as Record<string, unknown>;
  if (typeof eventId !== 'string') return undefined;
  if (typeof relType === 'string') return { relType, eventId };
  return undefined;
}
