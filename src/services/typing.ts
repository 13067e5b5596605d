/**
 * Typing notifications (spec: client-server-api, Typing Notifications): who is typing in which
 * room, delivered in sync as the `m.typing` ephemeral event.
 *
 * Typing is never written to a table. Each server process holds the typing state in memory; a
 * change is broadcast with NOTIFY on `machi_typing`, and every process sharing the database, the
 * sender's own included, applies it from its listener, so they all hold the same state. A change
 * carries its time and, when the user starts typing, the absolute time it expires, so every process
 * expires it at the same moment without further messages. The state is lost when the last process
 * stops, which costs nothing: every entry would have expired within 30 seconds anyway.
 *
 * Serials. Each applied change (and each expiry) gets a serial, a number in milliseconds: the
 * change's time, or one more than the previous serial if that is larger; an expiry's serial is
 * its expiry time on the same terms. The serials depend only on the notifications and the times
 * they carry, which every process receives in the same order, so a client's sync token
 * (`s<position>_t<serial>`) means the same on every process: "has seen every typing change up to
 * this serial". While clocks agree this holds; a process whose clock runs ahead may expire an
 * entry before a change stamped slightly earlier arrives, and give that change a larger serial
 * than the others do. A client switching between such processes may then miss that one change
 * until the room's typing changes again.
 */
import type { Kysely } from 'kysely';
import { randomBytes } from 'node:crypto';
import { forbidden } from '../errors.js';
import type { Logger } from '../log.js';
import type { Database } from '../storage/database.js';
import { notify } from '../storage/notify.js';
import type { DB } from '../storage/schema.js';
import type { Notifier } from './notifier.js';
import type { RoomReader } from './room-reader.js';

export const TYPING_CHANNEL = 'machi_typing';

/** The longest one request may mark a user as typing, and the time when it does not say. */
export const MAX_TYPING_TIMEOUT_MS = 30_000;

/** How long a typing request waits for its own notification before answering anyway. */
const ECHO_WAIT_MS = 2_000;

/** A typing change as broadcast: short keys keep the NOTIFY payload small. */
interface TypingPayload {
  /** Room id. */
  r: string;
  /** User id. */
  u: string;
  /** When the change was made (ms since the epoch, the sender's clock). */
  t: number;
  /** When the typing ends (ms since the epoch); 0 when the user stopped typing. */
  e: number;
  /** The sending process's id for this change, so that it knows when it has been applied. */
  i: string;
}

interface RoomTyping {
  /** Users typing, with the time each stops counting as typing. */
  typers: Map<string, number>;
  /** The serial of the last change to the list of users typing. */
  changed: number;
}

/** The typing lists a sync answer carries, and the serial they reflect. */
export interface TypingForSync {
  rooms: Map<string, string[]>;
  serial: number;
}

export class Typing {
  /** The serial of the newest change applied. */
  #serial: number;
  /** Tokens below this serial may have missed changes this process never heard of. */
  #horizon: number;
  /** Every room that had typing since this process started; bounded by the rooms it serves. */
  readonly #rooms = new Map<string, RoomTyping>();
  /** Rooms with someone typing now. */
  readonly #active = new Set<string>();
  readonly #echoes = new Map<string, () => void>();
  readonly #processId = randomBytes(4).toString('hex');
  #sent = 0;
  #timer: NodeJS.Timeout | undefined;
  #stop: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly reader: RoomReader,
    private readonly notifier: Notifier,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.#serial = now();
    this.#horizon = this.#serial;
  }

  /** The serial of the newest typing change this process has applied. */
  get serial(): number {
    return this.#serial;
  }

  /**
   * Starts applying the typing changes of every process (this one's included). Tokens issued
   * before this moment, by any process, get every room's typing list once (see `forSync`).
   */
  async start(database: Database): Promise<void> {
    this.#stop = await database.listen(
      TYPING_CHANNEL,
      (payload) => this.#onPayload(payload),
      () => this.#onReconnect(),
    );
    this.#serial = Math.max(this.now(), this.#serial);
    this.#horizon = this.#serial;
  }

  async stop(): Promise<void> {
    await this.#stop?.();
    clearTimeout(this.#timer);
    for (const done of this.#echoes.values()) done();
    this.#echoes.clear();
  }

  /**
   * `PUT /rooms/{roomId}/typing/{userId}`: the requester starts typing for `timeoutMs` (at most
   * 30 s, 30 s when absent) or stops. Only for oneself, and only in a room one is joined to.
   * Answers once this process has applied the change, so the requester's next sync shows it.
   *
   * TODO: end a member's typing when they leave the room; today it lasts until its timeout.
   */
  async setTyping(
    requesterId: string,
    roomId: string,
    userId: string,
    typing: boolean,
    timeoutMs?: number,
  ): Promise<void> {
    if (userId !== requesterId) throw forbidden('You may only set your own typing state');
    await this.reader.requireJoined(roomId, userId);
    const at = Math.max(this.now(), this.#serial + 1);
    const timeout = Math.min(timeoutMs ?? MAX_TYPING_TIMEOUT_MS, MAX_TYPING_TIMEOUT_MS);
    this.#sent += 1;
    const payload: TypingPayload = {
      r: roomId,
      u: userId,
      t: at,
      e: typing ? at + timeout : 0,
      i: `${this.#processId}:${this.#sent}`,
    };
    const applied = new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), ECHO_WAIT_MS);
      const done = () => {
        clearTimeout(timer);
        this.#echoes.delete(payload.i);
        resolve();
      };
      this.#echoes.set(payload.i, done);
    });
    try {
      await notify(this.db, TYPING_CHANNEL, JSON.stringify(payload));
    } catch (err) {
      this.#echoes.get(payload.i)?.();
      throw err;
    }
    await applied;
  }

  /**
   * The `m.typing` lists a sync answer carries for these joined rooms, given the serial the
   * client has seen (`since`; undefined when it has seen none): on an initial sync, the rooms
   * where someone is typing; on an incremental one, the rooms whose list changed since, and every
   * room when this process cannot know what changed since (the token is older than the process
   * or than its last lost connection). `withCurrent` adds the rooms where someone is typing.
   */
  forSync(
    roomIds: readonly string[],
    since: number | undefined,
    withCurrent = false,
  ): TypingForSync {
    this.#expireUpTo(this.now());
    const everyRoom = since !== undefined && since < this.#horizon;
    const rooms = new Map<string, string[]>();
    for (const roomId of roomIds) {
      const room = this.#rooms.get(roomId);
      const userIds = room ? [...room.typers.keys()] : [];
      const changed = since !== undefined && room !== undefined && room.changed > since;
      const current = (since === undefined || withCurrent) && userIds.length > 0;
      if (everyRoom || changed || current) rooms.set(roomId, userIds);
    }
    return { rooms, serial: Math.max(this.#serial, since ?? 0) };
  }

  /** Whether the typing list of one of these rooms changed after `since` (as `forSync` sees it). */
  changedSince(roomIds: Iterable<string>, since: number): boolean {
    if (since < this.#horizon) return true;
    for (const roomId of roomIds) {
      if ((this.#rooms.get(roomId)?.changed ?? 0) > since) return true;
    }
    return false;
  }

  #onPayload(raw: string): void {
    const change = parsePayload(raw);
    if (!change) {
      this.log.warn('unparseable typing notification ignored');
      return;
    }
    // Expiries that come before this change, in serial order, are applied first.
    this.#expireUpTo(change.t);
    const serial = Math.max(change.t, this.#serial + 1);
    this.#serial = serial;
    let room = this.#rooms.get(change.r);
    if (!room) {
      room = { typers: new Map(), changed: 0 };
      this.#rooms.set(change.r, room);
    }
    const wasTyping = room.typers.has(change.u);
    const typing = change.e > serial;
    if (typing) room.typers.set(change.u, change.e);
    else room.typers.delete(change.u);
    if (room.typers.size > 0) this.#active.add(change.r);
    else this.#active.delete(change.r);
    this.#schedule();
    this.#echoes.get(change.i)?.();
    // A refresh of someone already typing changes no list: nobody needs to look.
    if (typing !== wasTyping) {
      room.changed = serial;
      this.notifier.wakeEphemeral([change.r]);
    }
  }

  /** Ends the typing that expired at or before `upTo`, oldest first, and wakes those rooms. */
  #expireUpTo(upTo: number): void {
    const expired: { roomId: string; userId: string; at: number }[] = [];
    for (const roomId of this.#active) {
      const room = this.#rooms.get(roomId) as RoomTyping;
      for (const [userId, at] of room.typers) {
        if (at <= upTo) expired.push({ roomId, userId, at });
      }
    }
    if (expired.length === 0) return;
    // The same order on every process, so that they give each expiry the same serial.
    expired.sort(
      (a, b) => a.at - b.at || compare(a.roomId, b.roomId) || compare(a.userId, b.userId),
    );
    for (const { roomId, userId, at } of expired) {
      const room = this.#rooms.get(roomId) as RoomTyping;
      this.#serial = Math.max(at, this.#serial + 1);
      room.typers.delete(userId);
      room.changed = this.#serial;
      if (room.typers.size === 0) this.#active.delete(roomId);
    }
    this.#schedule();
    this.notifier.wakeEphemeral([...new Set(expired.map((e) => e.roomId))]);
  }

  /** Sets the timer for the next expiry. */
  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let next = Infinity;
    for (const roomId of this.#active) {
      for (const at of (this.#rooms.get(roomId) as RoomTyping).typers.values()) {
        next = Math.min(next, at);
      }
    }
    if (next === Infinity) return;
    this.#timer = setTimeout(() => this.#expireUpTo(this.now()), Math.max(0, next - this.now()));
    this.#timer.unref();
  }

  /**
   * After the listening connection was lost, changes may have been missed: clients whose tokens
   * are older are sent the typing list of every room once more.
   */
  #onReconnect(): void {
    this.#serial = Math.max(this.now(), this.#serial + 1);
    this.#horizon = this.#serial;
    this.notifier.wakeEphemeral();
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parsePayload(raw: string): TypingPayload | undefined {
  try {
    const value = JSON.parse(raw) as Partial<TypingPayload>;
    if (
      typeof value.r === 'string' &&
      typeof value.u === 'string' &&
      Number.isSafeInteger(value.t) &&
      Number.isSafeInteger(value.e) &&
      typeof value.i === 'string'
    ) {
      return value as TypingPayload;
    }
  } catch {
    // falls through
  }
  return undefined;
}
