/**
 * `GET /sync` (spec: client-server-api, Syncing): what changed for a user between two stream
 * positions, built from a handful of batched queries, and the long-poll that waits for the next
 * change without holding a database connection.
 */
import type { Kysely } from 'kysely';
import { MatrixError } from '../errors.js';
import type { Config } from '../config/config.js';
import { matchesFilter, roomAllowed, type Filter, type RoomEventFilter } from '../matrix/filter.js';
import type { ClientEvent, Pdu } from '../matrix/event.js';
import { canSeeEvent, type VisibilityHistory } from '../matrix/visibility.js';
import type { DB, EventRow } from '../storage/schema.js';
import { getAccountDataSince, type AccountDataRow } from '../storage/account-data.js';
import { getMembershipHistoryOfRooms, getVisibilityHistoryOfRooms } from '../storage/visibility.js';
import {
  countMembers,
  getCurrentStateOfRooms,
  getEvents,
  getForgottenRooms,
  getMembershipChangesOfUser,
  getMembershipsOfUser,
  getRecentEventsOfRooms,
  getRoomsWithEvents,
  getStateChanges,
  getStreamPosition,
} from '../storage/events.js';
import type { AccountData } from './account-data.js';
import type { Notifier } from './notifier.js';
import type { Notifications } from './notifications.js';
import type { PushRules } from './push-rules.js';
import type { Receipts } from './receipts.js';
import type { Reader, RoomReader } from './room-reader.js';
import { formatSyncToken, formatToken } from './stream-token.js';
import type { Typing } from './typing.js';

/** Timeline events per room when the filter does not say. */
const DEFAULT_TIMELINE_LIMIT = 10;
/** The most timeline events per room one sync answer carries, whatever the filter asks. */
const MAX_TIMELINE_LIMIT = 1000;
/** The longest a sync may wait. */
const MAX_TIMEOUT_MS = 5 * 60 * 1000;
/** State events an invited user sees of the room (spec: Stripped state). */
const STRIPPED_STATE_TYPES = [
  'm.room.create',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.join_rules',
  'm.room.canonical_alias',
  'm.room.encryption',
];

export interface SyncRequest {
  since?: number;
  /** The typing serial of the `since` token; absent when the client has seen no typing. */
  sinceTyping?: number;
  timeoutMs: number;
  fullState: boolean;
  filter: Filter;
}

interface JoinedRoom {
  timeline: { events: ClientEvent[]; limited: boolean; prev_batch: string };
  state: { events: ClientEvent[] };
  ephemeral: { events: unknown[] };
  account_data: { events: unknown[] };
  summary: Record<string, unknown>;
  unread_notifications: { notification_count: number; highlight_count: number };
  unread_thread_notifications?: Record<
    string,
    { notification_count: number; highlight_count: number }
  >;
}

export interface SyncResponse {
  next_batch: string;
  rooms: {
    join: Record<string, JoinedRoom>;
    invite: Record<string, { invite_state: { events: unknown[] } }>;
    leave: Record<string, unknown>;
    knock: Record<string, unknown>;
  };
  account_data: { events: unknown[] };
  presence: { events: unknown[] };
  to_device: { events: unknown[] };
  device_lists: { changed: string[]; left: string[] };
  device_one_time_keys_count: Record<string, number>;
  device_unused_fallback_key_types: string[];
}

/** The typing a sync answer reflects: the rooms it covers and the serial it has seen. */
interface TypingSeen {
  rooms: ReadonlySet<string>;
  serial: number;
}

/** One room's part of a sync being built: which events, and which state to send with them. */
interface RoomWindow {
  roomId: string;
  /** Events newer than this are candidates for the timeline. */
  after: number;
  /** Events up to this position are included (the leave event for rooms left). */
  upto: number;
  /** Send the full state at the start of the timeline (initial, newly joined, full_state). */
  fullState: boolean;
  /** Filter events by history visibility (the user was not joined throughout the window). */
  checkVisibility: boolean;
}

function parseContent(row: EventRow): Record<string, unknown> {
  return (JSON.parse(row.pdu) as Pdu).content;
}

export class Sync {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly config: Config,
    private readonly notifier: Notifier,
    private readonly reader: RoomReader,
    private readonly accountData: AccountData,
    private readonly pushRules: PushRules,
    private readonly receipts: Receipts,
    private readonly notifications: Notifications,
    private readonly typing: Typing,
  ) {}

  /**
   * Answers one /sync request. An incremental sync with nothing new waits up to the timeout
   * for a change that concerns the user, then answers with whatever there is. Typing has no
   * stream position: the wait also ends when the typing of one of the user's joined rooms
   * changes after the serial the answer would carry.
   */
  async sync(reader: Reader, request: SyncRequest, signal?: AbortSignal): Promise<SyncResponse> {
    const deadline = Date.now() + Math.min(Math.max(request.timeoutMs, 0), MAX_TIMEOUT_MS);
    let first = true;
    for (;;) {
      let upto = this.notifier.position;
      // The first look reads the committed position: this process may not yet have heard the
      // notification of a write it just made, and a client syncing right after its own write
      // must see it. After a wake-up the notifier is current by definition.
      if (first || (request.since !== undefined && request.since > upto)) {
        upto = Math.max(upto, await getStreamPosition(this.db));
        if (request.since !== undefined && request.since > upto) {
          throw new MatrixError('M_INVALID_PARAM', 'Unknown since token');
        }
      }
      first = false;
      const { response, rooms, typing } = await this.#build(reader, request, upto);
      const remaining = deadline - Date.now();
      if (
        request.since === undefined ||
        request.fullState ||
        !isEmpty(response) ||
        remaining <= 0
      ) {
        return response;
      }
      const typingNews = typing && (() => this.typing.changedSince(typing.rooms, typing.serial));
      const woken = await this.notifier.wait(
        reader.userId,
        rooms,
        upto,
        remaining,
        signal,
        typingNews,
      );
      if (!woken || signal?.aborted) return response;
    }
  }

  async #build(
    reader: Reader,
    request: SyncRequest,
    upto: number,
  ): Promise<{ response: SyncResponse; rooms: Set<string>; typing: TypingSeen | undefined }> {
    const { userId } = reader;
    const since = request.since;
    const roomFilter = request.filter.room;
    const memberships = await getMembershipsOfUser(this.db, userId);
    const watched = new Set(
      memberships
        .filter((m) => m.membership === 'join' || m.membership === 'invite')
        .map((m) => m.room_id),
    );
    const response = emptyResponse(upto);

    // Which rooms go into which section, and with which window of events.
    const windows: RoomWindow[] = [];
    const leaves: RoomWindow[] = [];
    const invites: string[] = [];
    if (since === undefined) {
      const forgotten = await getForgottenRooms(this.db, userId);
      for (const m of memberships) {
        if (!roomAllowed(roomFilter, m.room_id) || m.stream > upto) continue;
        if (m.membership === 'join') {
          windows.push({
            roomId: m.room_id,
            after: 0,
            upto,
            fullState: true,
            checkVisibility: true,
          });
        } else if (m.membership === 'invite') {
          invites.push(m.room_id);
        } else if (roomFilter?.include_leave && !forgotten.has(m.room_id)) {
          leaves.push({
            roomId: m.room_id,
            after: 0,
            upto: m.stream,
            fullState: true,
            checkVisibility: true,
          });
        }
      }
    } else if (this.#quietForUser(userId, since, upto)) {
      // Only room events in rooms the user stays joined to: the notifier already knows which.
      const changed = this.notifier.changesBetween(since, upto)?.rooms ?? new Set<string>();
      for (const m of memberships) {
        if (m.membership !== 'join' || !roomAllowed(roomFilter, m.room_id)) continue;
        if (changed.has(m.room_id) || request.fullState) {
          windows.push({
            roomId: m.room_id,
            after: since,
            upto,
            fullState: request.fullState,
            checkVisibility: false,
          });
        }
      }
    } else {
      const changes = await getMembershipChangesOfUser(this.db, userId, since, upto);
      const changed = new Map<string, EventRow>();
      for (const row of changes) changed.set(row.room_id, row);
      const joinedIds = memberships.filter((m) => m.membership === 'join').map((m) => m.room_id);
      const active = new Set(await getRoomsWithEvents(this.db, joinedIds, since, upto));
      for (const roomId of joinedIds) {
        if (!roomAllowed(roomFilter, roomId)) continue;
        const change = changed.get(roomId);
        if (change && newlyJoined(changes.filter((c) => c.room_id === roomId))) {
          windows.push({ roomId, after: since, upto, fullState: true, checkVisibility: true });
        } else if (active.has(roomId) || request.fullState) {
          windows.push({
            roomId,
            after: since,
            upto,
            fullState: request.fullState,
            checkVisibility: false,
          });
        }
      }
      for (const [roomId, row] of changed) {
        if (!roomAllowed(roomFilter, roomId)) continue;
        if (row.membership === 'invite') invites.push(roomId);
        else if (row.membership === 'leave' || row.membership === 'ban') {
          const current = memberships.find((m) => m.room_id === roomId)?.membership;
          if (current === 'leave' || current === 'ban') {
            leaves.push({
              roomId,
              after: since,
              upto: row.stream,
              fullState: false,
              checkVisibility: true,
            });
          }
        }
      }
    }

    const timelineFilter = roomFilter?.timeline;
    const joined = await this.#roomSections(
      reader,
      windows,
      timelineFilter,
      roomFilter?.state,
      since,
    );
    for (const [roomId, section] of joined) response.rooms.join[roomId] = section;
    const left = await this.#roomSections(reader, leaves, timelineFilter, roomFilter?.state, since);
    for (const [roomId, section] of left) {
      const { timeline, state, account_data } = section;
      response.rooms.leave[roomId] = { timeline, state, account_data };
    }
    for (const roomId of invites) {
      response.rooms.invite[roomId] = {
        invite_state: { events: await this.#strippedState(roomId, userId) },
      };
    }
    const joinedIds = memberships
      .filter(
        (m) => m.membership === 'join' && m.stream <= upto && roomAllowed(roomFilter, m.room_id),
      )
      .map((m) => m.room_id);
    const typing = await this.#ephemeral(userId, joinedIds, request, upto, response);
    response.next_batch = formatSyncToken(upto, typing?.serial ?? this.typing.serial);
    if (since === undefined || !this.#quietForUser(userId, since, upto)) {
      await this.#accountData(
        reader,
        request,
        since,
        upto,
        response,
        new Set(windows.map((w) => w.roomId)),
      );
    }
    await this.#unreadCounts(userId, request.filter, response);
    if (since !== undefined) dropEmptyRooms(response);
    return { response, rooms: watched, typing };
  }

  /** Timeline, state, summary and account data of each room window, batched across rooms. */
  async #roomSections(
    reader: Reader,
    windows: RoomWindow[],
    timelineFilter: RoomEventFilter | undefined,
    stateFilter: RoomEventFilter | undefined,
    since: number | undefined,
  ): Promise<Map<string, JoinedRoom>> {
    const sections = new Map<string, JoinedRoom>();
    if (windows.length === 0) return sections;
    const limit = Math.min(timelineFilter?.limit ?? DEFAULT_TIMELINE_LIMIT, MAX_TIMELINE_LIMIT);

    // Newest limit+1 events per room within each window, in one query per distinct window.
    const byWindow = new Map<string, RoomWindow[]>();
    for (const w of windows) {
      const key = `${w.after}:${w.upto}`;
      byWindow.set(key, [...(byWindow.get(key) ?? []), w]);
    }
    const recent = new Map<string, EventRow[]>();
    for (const group of byWindow.values()) {
      const first = group[0] as RoomWindow;
      const rows = await getRecentEventsOfRooms(
        this.db,
        group.map((w) => w.roomId),
        first.after,
        first.upto,
        limit + 1,
      );
      for (const row of rows) recent.set(row.room_id, [...(recent.get(row.room_id) ?? []), row]);
    }

    // Timeline rows per room: the newest `limit`, visible to the user, matching the filter.
    const needsVisibility = windows.filter((w) => w.checkVisibility).map((w) => w.roomId);
    const histories = await this.#visibilityHistories(needsVisibility, reader.userId);
    const timelines = new Map<string, { rows: EventRow[]; limited: boolean; start: number }>();
    for (const w of windows) {
      let rows = recent.get(w.roomId) ?? [];
      const limited = rows.length > limit;
      if (limited) rows = rows.slice(rows.length - limit);
      const history = histories.get(w.roomId);
      if (history) rows = rows.filter((row) => canSeeEvent(history, row, reader.userId));
      const start = rows[0]?.stream ?? w.upto + 1;
      rows = rows.filter((r) =>
        matchesFilter(timelineFilter, { type: r.type, sender: r.sender, room_id: r.room_id }),
      );
      timelines.set(w.roomId, { rows, limited, start });
    }

    // Current state only where it is needed: full state, lazy-loaded members, and summaries
    // (sent on an initial sync and when the room's membership changed).
    const summaryRooms = new Set(
      windows
        .filter(
          (w) =>
            since === undefined ||
            w.fullState ||
            timelines.get(w.roomId)?.rows.some((r) => r.type === 'm.room.member'),
        )
        .map((w) => w.roomId),
    );
    const stateRooms = windows
      .filter((w) => w.fullState || stateFilter?.lazy_load_members || summaryRooms.has(w.roomId))
      .map((w) => w.roomId);
    const stateByRoom = new Map<string, EventRow[]>();
    for (const row of await getCurrentStateOfRooms(this.db, stateRooms)) {
      stateByRoom.set(row.room_id, [...(stateByRoom.get(row.room_id) ?? []), row]);
    }
    const counts = await countMembers(this.db, [...summaryRooms]);

    const stateRowsByRoom = new Map<string, EventRow[]>();
    for (const w of windows) {
      const {
        rows: timelineRows,
        limited,
        start,
      } = timelines.get(w.roomId) as {
        rows: EventRow[];
        limited: boolean;
        start: number;
      };
      let stateRows: EventRow[] = [];
      if (w.fullState) {
        stateRows = await this.#stateAt(stateByRoom.get(w.roomId) ?? [], start - 1);
      } else if (limited && since !== undefined) {
        stateRows = await getStateChanges(this.db, w.roomId, since, start - 1);
      }
      stateRows = stateRows.filter((r) =>
        matchesFilter(stateFilter, { type: r.type, sender: r.sender, room_id: r.room_id }),
      );
      if (stateFilter?.lazy_load_members) {
        stateRows = await this.#lazyMembers(
          reader.userId,
          w,
          timelineRows,
          stateRows,
          stateByRoom.get(w.roomId) ?? [],
          start,
        );
      }
      stateRowsByRoom.set(w.roomId, stateRows);
    }

    // Client events for every room at once: one pass of unsigned data and aggregations.
    const allTimeline = [...timelines.values()].flatMap((t) => t.rows);
    const allState = [...stateRowsByRoom.values()].flat();
    const serialized = new Map<string, ClientEvent>();
    for (const event of await this.reader.toClientEvents(allTimeline, reader)) {
      serialized.set(event.event_id, event);
    }
    const serializedState = new Map<string, ClientEvent>();
    for (const event of await this.reader.toClientEvents(allState, reader)) {
      serializedState.set(event.event_id, event);
    }

    for (const w of windows) {
      const timeline = timelines.get(w.roomId) as {
        rows: EventRow[];
        limited: boolean;
        start: number;
      };
      const pick = (rows: EventRow[], from: Map<string, ClientEvent>) =>
        rows.map((r) => from.get(r.event_id)).filter((e): e is ClientEvent => e !== undefined);
      sections.set(w.roomId, {
        timeline: {
          events: pick(timeline.rows, serialized),
          limited: timeline.limited,
          prev_batch: formatToken(timeline.start - 1),
        },
        state: { events: pick(stateRowsByRoom.get(w.roomId) ?? [], serializedState) },
        ephemeral: { events: [] },
        account_data: { events: [] },
        summary: summaryRooms.has(w.roomId)
          ? summaryOf(w.roomId, reader.userId, stateByRoom.get(w.roomId) ?? [], counts)
          : {},
        unread_notifications: { notification_count: 0, highlight_count: 0 },
      });
    }
    return sections;
  }

  /**
   * Receipts and typing of the joined rooms, under each room's `ephemeral`. Returns what the
   * answer reflects of typing, or undefined when the filter leaves `m.typing` out.
   */
  async #ephemeral(
    userId: string,
    roomIds: string[],
    request: SyncRequest,
    upto: number,
    response: SyncResponse,
  ): Promise<TypingSeen | undefined> {
    const { since } = request;
    const ephemeralFilter = request.filter.room?.ephemeral;
    const wanted = (type: string) =>
      ephemeralFilter?.limit !== 0 && matchesFilter(ephemeralFilter, { type, sender: userId });
    const addEvent = (roomId: string, event: unknown) => {
      const section = (response.rooms.join[roomId] ??= emptyJoinedRoom(upto));
      section.ephemeral.events.push(event);
    };
    if (wanted('m.receipt')) {
      const receipts = await this.receipts.ephemeral(userId, roomIds, since ?? 0, upto);
      for (const [roomId, events] of receipts) for (const event of events) addEvent(roomId, event);
    }
    if (!wanted('m.typing')) return undefined;
    // Read in one synchronous step, so that the serial matches the lists exactly.
    const typing = this.typing.forSync(
      roomIds,
      since === undefined ? undefined : request.sinceTyping,
      request.fullState,
    );
    for (const [roomId, userIds] of typing.rooms) {
      addEvent(roomId, { type: 'm.typing', content: { user_ids: userIds } });
    }
    return { rooms: new Set(roomIds), serial: typing.serial };
  }

  /**
   * Unread counts of every joined room in the response, from the notification records and the
   * user's receipts; per thread when the filter asks (`unread_thread_notifications`).
   */
  async #unreadCounts(userId: string, filter: Filter, response: SyncResponse): Promise<void> {
    const roomIds = Object.keys(response.rooms.join);
    if (roomIds.length === 0) return;
    const perThread = filter.room?.timeline?.unread_thread_notifications === true;
    const counts = await this.notifications.unreadCounts(userId, roomIds);
    for (const roomId of roomIds) {
      const section = response.rooms.join[roomId] as JoinedRoom;
      const entry = counts.get(roomId);
      if (!entry) continue;
      section.unread_notifications = perThread ? entry.main : entry.total;
      if (perThread && entry.threads.size > 0) {
        section.unread_thread_notifications = Object.fromEntries(entry.threads);
      }
    }
  }

  /**
   * Whether nothing in (`since`, `upto`] touched the user directly (no membership change, no
   * account data), as far as the notifier knows for certain. Typing takes no stream position and
   * never makes a user unquiet: `#ephemeral` handles it on its own serial.
   */
  #quietForUser(userId: string, since: number, upto: number): boolean {
    const changes = this.notifier.changesBetween(since, upto);
    return changes !== undefined && !changes.users.has(userId);
  }

  /** Visibility histories of several rooms for one user, in two queries. */
  async #visibilityHistories(
    roomIds: string[],
    userId: string,
  ): Promise<Map<string, VisibilityHistory>> {
    const result = new Map<string, VisibilityHistory>();
    if (roomIds.length === 0) return result;
    for (const roomId of roomIds) result.set(roomId, { memberships: [], visibilities: [] });
    for (const row of await getMembershipHistoryOfRooms(this.db, roomIds, userId)) {
      (result.get(row.room_id)?.memberships as { stream: number; membership: string }[]).push(row);
    }
    for (const row of await getVisibilityHistoryOfRooms(this.db, roomIds)) {
      const value = (JSON.parse(row.pdu) as Pdu).content.history_visibility as string;
      (result.get(row.room_id)?.visibilities as { stream: number; value: string }[]).push({
        stream: row.stream,
        value,
      });
    }
    return result;
  }

  /**
   * Lazy-loaded members (spec: Lazy-loading room members): only the member events of the
   * timeline's senders and the user, taken from the state at the start of the timeline.
   *
   * NOTSPEC: include_redundant_members=false is treated like true on incremental syncs: the
   * senders' member events are sent again even if an earlier sync already sent them; clients
   * accept the repetition, and it spares tracking what each device has seen.
   */
  async #lazyMembers(
    userId: string,
    w: RoomWindow,
    timelineRows: EventRow[],
    stateRows: EventRow[],
    currentState: EventRow[],
    start: number,
  ): Promise<EventRow[]> {
    const senders = new Set(timelineRows.map((r) => r.sender));
    senders.add(userId);
    const kept = stateRows.filter(
      (r) => r.type !== 'm.room.member' || senders.has(r.state_key as string),
    );
    if (w.fullState) return kept;
    const have = new Set(kept.filter((r) => r.type === 'm.room.member').map((r) => r.state_key));
    const inTimeline = new Set(
      timelineRows.filter((r) => r.type === 'm.room.member').map((r) => r.state_key),
    );
    const missing = [...senders].filter((s) => !have.has(s) && !inTimeline.has(s));
    const current = currentState.filter(
      (r) => r.type === 'm.room.member' && missing.includes(r.state_key as string),
    );
    return kept.concat(await this.#stateAt(current, start - 1));
  }

  /**
   * The state as of position `at`, starting from current state rows: rows written after `at`
   * are replaced by the events they replaced (recorded at persist time), back to `at`.
   */
  async #stateAt(current: EventRow[], at: number): Promise<EventRow[]> {
    let result = current.filter((r) => r.stream <= at);
    let pending = current.filter((r) => r.stream > at);
    for (let round = 0; pending.length > 0 && round < 50; round++) {
      const previousIds = pending
        .map((r) =>
          r.unsigned
            ? (JSON.parse(r.unsigned) as { replaces_state?: string }).replaces_state
            : undefined,
        )
        .filter((id): id is string => typeof id === 'string');
      const previous = await getEvents(this.db, previousIds);
      result = result.concat(previous.filter((r) => r.stream <= at));
      pending = previous.filter((r) => r.stream > at);
    }
    return result.sort((a, b) => a.stream - b.stream);
  }

  /** The stripped state an invited user is shown, with their invite event. */
  async #strippedState(roomId: string, userId: string): Promise<unknown[]> {
    const rows = await getCurrentStateOfRooms(this.db, [roomId]);
    return rows
      .filter(
        (r) =>
          STRIPPED_STATE_TYPES.includes(r.type) ||
          (r.type === 'm.room.member' && r.state_key === userId),
      )
      .map((r) => {
        const pdu = JSON.parse(r.pdu) as Pdu;
        return {
          type: pdu.type,
          state_key: pdu.state_key,
          content: pdu.content,
          sender: pdu.sender,
          ...(r.type === 'm.room.member'
            ? { event_id: r.event_id, origin_server_ts: pdu.origin_server_ts }
            : {}),
        };
      });
  }

  /** Global and per-room account data changed in the window (all of it for an initial sync). */
  async #accountData(
    reader: Reader,
    request: SyncRequest,
    since: number | undefined,
    upto: number,
    response: SyncResponse,
    roomsInResponse: Set<string>,
  ): Promise<void> {
    const rows: AccountDataRow[] = await getAccountDataSince(
      this.db,
      reader.userId,
      since ?? 0,
      upto,
    );
    const globalFilter = request.filter.account_data;
    const roomFilter = request.filter.room?.account_data;
    let pushRulesSent = false;
    for (const row of rows) {
      if (row.room_id === '') {
        if (!matchesFilter(globalFilter, { type: row.type, sender: reader.userId })) continue;
        if (row.type === 'm.push_rules') {
          response.account_data.events.push({
            type: 'm.push_rules',
            content: await this.pushRules.getRuleset(reader.userId),
          });
          pushRulesSent = true;
          continue;
        }
        response.account_data.events.push({ type: row.type, content: JSON.parse(row.content) });
      } else {
        if (
          !matchesFilter(roomFilter, {
            type: row.type,
            sender: reader.userId,
            room_id: row.room_id,
          })
        ) {
          continue;
        }
        let section = response.rooms.join[row.room_id];
        if (!section && since !== undefined && roomsInResponse.has(row.room_id) === false) {
          const membership = await this.reader.membershipOf(row.room_id, reader.userId);
          if (membership !== 'join') continue;
          section = emptyJoinedRoom(upto);
          response.rooms.join[row.room_id] = section;
        }
        section?.account_data.events.push({ type: row.type, content: JSON.parse(row.content) });
      }
    }
    // Some clients read push rules only from account data: an initial sync always has them.
    if (
      since === undefined &&
      !pushRulesSent &&
      matchesFilter(globalFilter, { type: 'm.push_rules', sender: reader.userId })
    ) {
      response.account_data.events.push({
        type: 'm.push_rules',
        content: await this.pushRules.getRuleset(reader.userId),
      });
    }
  }
}

/** The room summary (spec: Syncing, summary): heroes when the room has no name, and counts. */
function summaryOf(
  roomId: string,
  userId: string,
  state: EventRow[],
  counts: { room_id: string; membership: string; n: number }[],
): Record<string, unknown> {
  const joined = counts.find((c) => c.room_id === roomId && c.membership === 'join')?.n ?? 0;
  const invited = counts.find((c) => c.room_id === roomId && c.membership === 'invite')?.n ?? 0;
  const named = state.some(
    (r) =>
      (r.type === 'm.room.name' &&
        typeof parseContent(r).name === 'string' &&
        parseContent(r).name !== '') ||
      (r.type === 'm.room.canonical_alias' && typeof parseContent(r).alias === 'string'),
  );
  const summary: Record<string, unknown> = {
    'm.joined_member_count': joined,
    'm.invited_member_count': invited,
  };
  if (!named) {
    summary['m.heroes'] = state
      .filter(
        (r) =>
          r.type === 'm.room.member' &&
          r.state_key !== userId &&
          (r.membership === 'join' || r.membership === 'invite'),
      )
      .sort((a, b) => a.stream - b.stream)
      .slice(0, 5)
      .map((r) => r.state_key);
  }
  return summary;
}

/**
 * Whether the user's membership changes in a window made them join (rather than, say, change
 * their display name while staying joined): the first change started from another membership.
 */
function newlyJoined(changes: EventRow[]): boolean {
  const first = changes[0];
  if (!first) return false;
  const before = first.unsigned
    ? (JSON.parse(first.unsigned) as { prev_content?: { membership?: unknown } }).prev_content
    : undefined;
  return before?.membership !== 'join' || changes.some((c) => c.membership !== 'join');
}

function emptyJoinedRoom(upto: number): JoinedRoom {
  return {
    timeline: { events: [], limited: false, prev_batch: formatToken(upto) },
    state: { events: [] },
    ephemeral: { events: [] },
    account_data: { events: [] },
    summary: {},
    unread_notifications: { notification_count: 0, highlight_count: 0 },
  };
}

function emptyResponse(upto: number): SyncResponse {
  return {
    next_batch: formatToken(upto),
    rooms: { join: {}, invite: {}, leave: {}, knock: {} },
    account_data: { events: [] },
    presence: { events: [] },
    to_device: { events: [] },
    device_lists: { changed: [], left: [] },
    device_one_time_keys_count: { signed_curve25519: 0 },
    device_unused_fallback_key_types: [],
  };
}

/** Leaves out of an incremental sync the joined rooms in which nothing changed. */
function dropEmptyRooms(response: SyncResponse): void {
  for (const [roomId, room] of Object.entries(response.rooms.join)) {
    if (
      room.timeline.events.length === 0 &&
      room.state.events.length === 0 &&
      room.ephemeral.events.length === 0 &&
      room.account_data.events.length === 0 &&
      Object.keys(room.summary).length === 0
    ) {
      delete response.rooms.join[roomId];
    }
  }
}

function isEmpty(response: SyncResponse): boolean {
  const { rooms } = response;
  return (
    Object.keys(rooms.join).length === 0 &&
    Object.keys(rooms.invite).length === 0 &&
    Object.keys(rooms.leave).length === 0 &&
    response.account_data.events.length === 0 &&
    response.to_device.events.length === 0
  );
}
