/**
 * Reading a room's history: pagination, context around an event, relations and threads (spec:
 * client-server-api, Syncing (messages), Event context, Relationships, Threading). Every event
 * returned passes the history-visibility check for the reader.
 */
import type { Kysely } from 'kysely';
import { matchesFilter, type RoomEventFilter } from '../matrix/filter.js';
import type { ClientEvent } from '../matrix/event.js';
import type { DB, EventRow } from '../storage/schema.js';
import {
  getEvents,
  getRelations,
  getRoomEvents,
  getStateAt,
  getStateAtForKeys,
  getThreadRoots,
} from '../storage/events.js';
import { canSeeEvent, type VisibilityHistory } from '../matrix/visibility.js';
import type { Reader, RoomReader } from './room-reader.js';
import { formatToken } from './stream-token.js';

/** The most events one page may hold. */
const MAX_LIMIT = 1000;
/** How many batches a page reads at most while skipping invisible or filtered events. */
const MAX_BATCHES = 10;

export interface Page {
  chunk: ClientEvent[];
  start: string;
  end?: string;
  state?: ClientEvent[];
}

export class Timeline {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly reader: RoomReader,
  ) {}

  /**
   * Reads visible, filter-matching events from `from` in direction `dir`, skipping others, until
   * `limit` are found or the history ends. Returns the events and where reading stopped.
   */
  async #collect(
    roomId: string,
    history: VisibilityHistory,
    userId: string,
    page: { from: number; to?: number; dir: 'b' | 'f'; limit: number; filter?: RoomEventFilter },
  ): Promise<{ rows: EventRow[]; next: number | undefined }> {
    const rows: EventRow[] = [];
    let cursor = page.from;
    const batch = Math.max(page.limit * 2, 50);
    for (let i = 0; i < MAX_BATCHES && rows.length < page.limit; i++) {
      const found = await getRoomEvents(this.db, roomId, {
        from: cursor,
        to: page.to,
        dir: page.dir,
        limit: batch,
        ...(page.filter?.types && !page.filter.types.some((t) => t.endsWith('*'))
          ? { types: page.filter.types }
          : {}),
      });
      for (const row of found) {
        cursor = page.dir === 'b' ? row.stream - 1 : row.stream;
        if (!canSeeEvent(history, row, userId)) continue;
        if (!matchesFilter(page.filter, { type: row.type, sender: row.sender })) continue;
        rows.push(row);
        if (rows.length === page.limit) break;
      }
      if (found.length < batch && rows.length < page.limit) return { rows, next: undefined };
    }
    return { rows, next: cursor };
  }

  /** Member events of the given senders at position `at`, for lazy-loading clients. */
  async #membersFor(roomId: string, senders: Set<string>, at: number, reader: Reader) {
    const rows = await getStateAtForKeys(this.db, roomId, at, 'm.room.member', [...senders]);
    return this.reader.toClientEvents(rows, reader);
  }

  /** `GET /rooms/{roomId}/messages`. */
  async messages(
    reader: Reader,
    roomId: string,
    query: { from?: number; to?: number; dir: 'b' | 'f'; limit: number; filter?: RoomEventFilter },
  ): Promise<Page> {
    const history = await this.reader.requireCanRead(roomId, reader.userId);
    const limit = Math.min(Math.max(query.limit, 0), MAX_LIMIT);
    const from = query.from ?? (query.dir === 'b' ? Number.MAX_SAFE_INTEGER : 0);
    const { rows, next } = await this.#collect(roomId, history, reader.userId, {
      from,
      ...(query.to !== undefined ? { to: query.to } : {}),
      dir: query.dir,
      limit,
      ...(query.filter ? { filter: query.filter } : {}),
    });
    const chunk = await this.reader.toClientEvents(rows, reader);
    const result: Page = { chunk, start: formatToken(from === Number.MAX_SAFE_INTEGER ? 0 : from) };
    if (from === Number.MAX_SAFE_INTEGER && rows[0]) result.start = formatToken(rows[0].stream);
    if (next !== undefined && rows.length > 0) result.end = formatToken(next);
    if (query.filter?.lazy_load_members && rows.length > 0) {
      const at = Math.max(...rows.map((r) => r.stream));
      result.state = await this.#membersFor(roomId, new Set(rows.map((r) => r.sender)), at, reader);
    }
    return result;
  }

  /** `GET /rooms/{roomId}/context/{eventId}`. */
  async context(
    reader: Reader,
    roomId: string,
    eventId: string,
    limit: number,
    filter?: RoomEventFilter,
  ) {
    const target = await this.reader.getVisibleEvent(roomId, eventId, reader.userId);
    const history = await this.reader.visibilityHistory(roomId, reader.userId);
    const half = Math.min(Math.max(limit, 0), MAX_LIMIT);
    const before = await this.#collect(roomId, history, reader.userId, {
      from: target.stream - 1,
      dir: 'b',
      limit: Math.floor(half / 2),
      ...(filter ? { filter } : {}),
    });
    const after = await this.#collect(roomId, history, reader.userId, {
      from: target.stream,
      dir: 'f',
      limit: Math.ceil(half / 2),
      ...(filter ? { filter } : {}),
    });
    const [event] = await this.reader.toClientEvents([target], reader);
    // The spec asks for "the state of the room at the last event returned".
    const stateAt = after.rows.at(-1)?.stream ?? target.stream;
    const stateRows = filter?.lazy_load_members
      ? await getStateAtForKeys(this.db, roomId, stateAt, 'm.room.member', [
          ...new Set([target, ...before.rows, ...after.rows].map((r) => r.sender)),
        ])
      : await getStateAt(this.db, roomId, stateAt);
    return {
      event,
      events_before: await this.reader.toClientEvents(before.rows, reader),
      events_after: await this.reader.toClientEvents(after.rows, reader),
      start: formatToken(
        before.rows.at(-1) ? (before.rows.at(-1) as EventRow).stream - 1 : target.stream - 1,
      ),
      end: formatToken(after.rows.at(-1)?.stream ?? target.stream),
      state: await this.reader.toClientEvents(stateRows, reader),
    };
  }

  /** `GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]`. */
  async relations(
    reader: Reader,
    roomId: string,
    eventId: string,
    query: { relType?: string; eventType?: string; from?: number; dir: 'b' | 'f'; limit: number },
  ) {
    await this.reader.getVisibleEvent(roomId, eventId, reader.userId);
    const history = await this.reader.visibilityHistory(roomId, reader.userId);
    const limit = Math.min(Math.max(query.limit, 1), MAX_LIMIT);
    const rows = await getRelations(this.db, eventId, {
      ...(query.relType ? { relType: query.relType } : {}),
      ...(query.eventType ? { eventType: query.eventType } : {}),
      ...(query.from !== undefined ? { from: query.from } : {}),
      dir: query.dir,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit).filter((r) => r.room_id === roomId);
    const visible = page.filter((r) => canSeeEvent(history, r, reader.userId));
    const last = page.at(-1);
    return {
      chunk: await this.reader.toClientEvents(visible, reader),
      ...(rows.length > limit && last
        ? { next_batch: formatToken(query.dir === 'b' ? last.stream - 1 : last.stream) }
        : {}),
    };
  }

  /** `GET /_matrix/client/v1/rooms/{roomId}/threads`. */
  async threads(
    reader: Reader,
    roomId: string,
    query: { include: 'all' | 'participated'; from?: number; limit: number },
  ) {
    const history = await this.reader.requireCanRead(roomId, reader.userId);
    const limit = Math.min(Math.max(query.limit, 1), MAX_LIMIT);
    const roots = await getThreadRoots(this.db, roomId, {
      ...(query.from !== undefined ? { from: query.from } : {}),
      limit: limit + 1,
    });
    const page = roots.slice(0, limit);
    const rows = await getEvents(
      this.db,
      page.map((r) => r.root),
    );
    const byId = new Map(rows.map((r) => [r.event_id, r]));
    const visible = page
      .map((r) => byId.get(r.root))
      .filter((r): r is EventRow => r !== undefined && r.room_id === roomId)
      .filter((r) => canSeeEvent(history, r, reader.userId));
    let chunk = await this.reader.toClientEvents(visible, reader);
    if (query.include === 'participated') {
      chunk = chunk.filter((e) => {
        const thread = (e.unsigned?.['m.relations'] as Record<string, any> | undefined)?.[
          'm.thread'
        ];
        return e.sender === reader.userId || thread?.current_user_participated === true;
      });
    }
    const last = page.at(-1);
    return {
      chunk,
      ...(roots.length > limit && last ? { next_batch: formatToken(last.latest) } : {}),
    };
  }
}
