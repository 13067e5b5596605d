/**
 * Account data (global and per room), room tags and filters (spec: client-server-api, Client
 * Config; Room Tagging; Filtering). Every change takes a stream position so that sync delivers it.
 */
import type { Kysely, Transaction } from 'kysely';
import { MatrixError, forbidden, invalidParam, notFound } from '../errors.js';
import { defaultPushRules, mergeUserRules } from '../matrix/push-rules.js';
import type { DB } from '../storage/schema.js';
import {
  getAccountData,
  getFilter,
  getPushRuleRows,
  insertFilter,
  upsertAccountData,
} from '../storage/account-data.js';
import { nextStreamPosition } from '../storage/events.js';
import { publishChange } from './notifier.js';

/**
 * Account data types a client may not write directly: the server owns them, globally and per
 * room (spec v1.16: Client Config, Server Behaviour).
 */
const SERVER_OWNED_TYPES = new Set(['m.fully_read', 'm.push_rules']);

/** A room id as the spec writes it: `!opaque[:server]`. */
const ROOM_ID = /^![^:]+(:.+)?$/;

/** Per-room account data must name a room (spec: 400 M_INVALID_PARAM otherwise). */
function checkRoomId(roomId: string): void {
  if (roomId !== '' && !ROOM_ID.test(roomId)) {
    throw invalidParam(`${roomId} is not a valid room ID`);
  }
}

export class AccountData {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Runs `write` in a transaction holding the next stream position (which also serialises it
   * against every other writer), then announces the change to the user's syncs.
   */
  async change<T>(
    userId: string,
    write: (trx: Transaction<DB>, position: number) => Promise<T>,
  ): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      const position = await nextStreamPosition(trx);
      const result = await write(trx, position);
      await publishChange(trx, { position, users: [userId] });
      return result;
    });
  }

  /** Stores account data; `roomId` is '' for global data. */
  async set(
    requesterId: string,
    userId: string,
    roomId: string,
    type: string,
    content: Record<string, unknown>,
  ): Promise<void> {
    if (requesterId !== userId) throw forbidden('Cannot set account data for other users');
    checkRoomId(roomId);
    if (SERVER_OWNED_TYPES.has(type)) {
      throw new MatrixError('M_BAD_JSON', `Cannot set ${type} through this API`, { status: 405 });
    }
    await this.change(userId, (trx, stream) =>
      upsertAccountData(trx, {
        user_id: userId,
        room_id: roomId,
        type,
        content: JSON.stringify(content),
        stream,
      }),
    );
  }

  /** Stores account data the server owns (such as m.fully_read), on the server's own terms. */
  async setServerOwned(
    userId: string,
    roomId: string,
    type: string,
    content: Record<string, unknown>,
  ): Promise<void> {
    await this.change(userId, (trx, stream) =>
      upsertAccountData(trx, {
        user_id: userId,
        room_id: roomId,
        type,
        content: JSON.stringify(content),
        stream,
      }),
    );
  }

  /**
   * Reads account data; 404 when the user has none of that type. Global `m.push_rules` is the
   * user's whole ruleset (its stored row is only a change marker for sync).
   */
  async get(
    requesterId: string,
    userId: string,
    roomId: string,
    type: string,
  ): Promise<Record<string, unknown>> {
    if (requesterId !== userId) throw forbidden('Cannot read account data of other users');
    checkRoomId(roomId);
    if (roomId === '' && type === 'm.push_rules') {
      const rows = await getPushRuleRows(this.db, userId);
      return { global: mergeUserRules(defaultPushRules(userId), rows) };
    }
    const content = await getAccountData(this.db, userId, roomId, type);
    if (content === undefined) throw notFound('Account data not found');
    return JSON.parse(content) as Record<string, unknown>;
  }

  /** The tags of a room (room account data `m.tag`). */
  async getTags(requesterId: string, userId: string, roomId: string) {
    if (requesterId !== userId) throw forbidden('Cannot read tags of other users');
    const content = await getAccountData(this.db, userId, roomId, 'm.tag');
    const tags = content ? (JSON.parse(content) as { tags?: Record<string, unknown> }).tags : {};
    return { tags: tags ?? {} };
  }

  /** Adds or replaces one tag, or removes it when `tag` content is undefined. */
  async setTag(
    requesterId: string,
    userId: string,
    roomId: string,
    tag: string,
    content: Record<string, unknown> | undefined,
  ): Promise<void> {
    if (requesterId !== userId) throw forbidden('Cannot change tags of other users');
    await this.change(userId, async (trx, stream) => {
      const current = await getAccountData(trx, userId, roomId, 'm.tag');
      const tags = { ...((current ? JSON.parse(current).tags : {}) as Record<string, unknown>) };
      if (content === undefined) delete tags[tag];
      else tags[tag] = content;
      await upsertAccountData(trx, {
        user_id: userId,
        room_id: roomId,
        type: 'm.tag',
        content: JSON.stringify({ tags }),
        stream,
      });
    });
  }

  /** Stores a filter and returns its id. */
  async createFilter(requesterId: string, userId: string, filter: unknown): Promise<string> {
    if (requesterId !== userId) throw forbidden('Cannot create filters for other users');
    return String(await insertFilter(this.db, userId, JSON.stringify(filter)));
  }

  /** A filter the user created; 404 for unknown ids. */
  async getFilter(requesterId: string, userId: string, filterId: string): Promise<unknown> {
    if (requesterId !== userId) throw forbidden('Cannot read filters of other users');
    if (!/^\d{1,15}$/.test(filterId)) throw notFound('No such filter');
    const filter = await getFilter(this.db, userId, Number(filterId));
    if (filter === undefined) throw notFound('No such filter');
    return JSON.parse(filter);
  }
}
