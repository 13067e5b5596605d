/**
 * The one notifier: knows the newest stream position and wakes the long-polling requests a
 * change concerns. Writers publish with `pg_notify` inside their transaction, so the news is
 * delivered only on commit, to every server process sharing the database. A waiting request holds
 * no database connection.
 *
 * News without a stream position (typing notifications, which are never written to a table) wakes
 * waiters too: a waiter may bring an `ephemeral` check, asked when it starts waiting and again
 * whenever `wakeEphemeral` names one of its rooms; it ends the wait when the check says the user
 * has something new to see. The code that holds such news (`Typing`) calls `wakeEphemeral` after
 * each change it applies, so waking stays here.
 */
import type { Logger } from '../log.js';
import type { Database, Executor } from '../storage/database.js';
import { getStreamPosition } from '../storage/events.js';
import { notify } from '../storage/notify.js';

export const STREAM_CHANNEL = 'machi_stream';

/** What changed at a stream position, and for whom. */
export interface StreamChange {
  position: number;
  /** Rooms whose members should look (room events, receipts, typing). */
  rooms?: string[];
  /** Users who should look (their account data, invites, to-device messages). */
  users?: string[];
}

interface Waiter {
  userId: string;
  rooms: ReadonlySet<string>;
  after: number;
  /** Whether news without a stream position (typing) concerns the waiter now. */
  ephemeral: (() => boolean) | undefined;
  wake: () => void;
}

/** How many recent changes are remembered, for requests that start waiting a little late. */
const RECENT = 2048;

/** Publishes a change; call inside the transaction that wrote it. */
export async function publishChange(trx: Executor, change: StreamChange): Promise<void> {
  const payload = JSON.stringify({ p: change.position, r: change.rooms, u: change.users });
  await notify(trx, STREAM_CHANNEL, payload);
}

export class Notifier {
  #position = 0;
  readonly #recent: StreamChange[] = [];
  readonly #waiters = new Set<Waiter>();
  #stop: (() => Promise<void>) | undefined;

  constructor(private readonly log: Logger) {}

  /** The newest stream position this process has heard of. */
  get position(): number {
    return this.#position;
  }

  /** How many requests are waiting right now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  async start(database: Database): Promise<void> {
    this.#stop = await database.listen(
      STREAM_CHANNEL,
      (payload) => this.#onPayload(payload),
      () => void this.#resync(database),
    );
    this.#advance(await getStreamPosition(database.db));
  }

  async stop(): Promise<void> {
    await this.#stop?.();
    for (const waiter of this.#waiters) waiter.wake();
    this.#waiters.clear();
  }

  /**
   * Waits until a change after position `after` concerns the user (one of `rooms`, or the user
   * directly), or `timeoutMs` passes. Resolves true when woken by a change.
   *
   * `ephemeral`, when given, tells whether news without a stream position (typing in one of
   * `rooms`) is waiting for the user: it is asked now and after each `wakeEphemeral` that names
   * one of `rooms` (or no rooms at all), and the wait ends as soon as it returns true.
   */
  wait(
    userId: string,
    rooms: ReadonlySet<string>,
    after: number,
    timeoutMs: number,
    signal?: AbortSignal,
    ephemeral?: () => boolean,
  ): Promise<boolean> {
    if (this.#recent.some((c) => c.position > after && concerns(c, userId, rooms))) {
      return Promise.resolve(true);
    }
    if (ephemeral?.()) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
        resolve(woken);
      };
      const onAbort = () => finish(false);
      const waiter: Waiter = { userId, rooms, after, ephemeral, wake: () => finish(true) };
      this.#waiters.add(waiter);
      timer = setTimeout(() => finish(false), timeoutMs);
      signal?.addEventListener('abort', onAbort);
    });
  }

  /**
   * Every room and user that changes in (`after`, `upto`] concerned, when this process heard of
   * every position in that range (positions have no gaps: each one is announced); otherwise
   * undefined, and the caller must ask the database.
   */
  changesBetween(
    after: number,
    upto: number,
  ): { rooms: Set<string>; users: Set<string> } | undefined {
    if (upto <= after) return { rooms: new Set(), users: new Set() };
    const inRange = this.#recent.filter((c) => c.position > after && c.position <= upto);
    if (inRange.length !== upto - after) return undefined;
    const rooms = new Set<string>();
    const users = new Set<string>();
    for (const change of inRange) {
      for (const r of change.rooms ?? []) rooms.add(r);
      for (const u of change.users ?? []) users.add(u);
    }
    return { rooms, users };
  }

  /**
   * Wakes the waiters of these rooms (of every room when `roomIds` is absent) whose `ephemeral`
   * check now reports news. Called after a change that has no stream position, such as a user
   * starting or stopping to type.
   */
  wakeEphemeral(roomIds?: readonly string[]): void {
    for (const waiter of [...this.#waiters]) {
      if (!waiter.ephemeral) continue;
      if (roomIds && !roomIds.some((r) => waiter.rooms.has(r))) continue;
      if (waiter.ephemeral()) waiter.wake();
    }
  }

  #onPayload(payload: string): void {
    let change: StreamChange;
    try {
      const raw = JSON.parse(payload) as { p: number; r?: string[]; u?: string[] };
      change = {
        position: raw.p,
        ...(raw.r ? { rooms: raw.r } : {}),
        ...(raw.u ? { users: raw.u } : {}),
      };
    } catch {
      this.log.warn('unparseable stream notification ignored');
      return;
    }
    this.#advance(change.position);
    this.#recent.push(change);
    if (this.#recent.length > RECENT) this.#recent.splice(0, this.#recent.length - RECENT);
    for (const waiter of [...this.#waiters]) {
      if (change.position > waiter.after && concerns(change, waiter.userId, waiter.rooms)) {
        waiter.wake();
      }
    }
  }

  #advance(position: number): void {
    if (position > this.#position) this.#position = position;
  }

  /** After a lost connection: catch up on the position and let every waiter look again. */
  async #resync(database: Database): Promise<void> {
    // Notifications may have been missed: forget the recent ones so that nobody relies on them.
    this.#recent.length = 0;
    this.#advance(await getStreamPosition(database.db));
    for (const waiter of [...this.#waiters]) waiter.wake();
  }
}

function concerns(change: StreamChange, userId: string, rooms: ReadonlySet<string>): boolean {
  return (
    (change.users?.includes(userId) ?? false) || (change.rooms?.some((r) => rooms.has(r)) ?? false)
  );
}
