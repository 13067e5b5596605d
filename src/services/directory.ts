/**
 * The room directory (spec: client-server-api, Room aliases; Published room directory; Spaces):
 * local room aliases, which rooms are published and the list clients browse, and the tree of
 * rooms below a space.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import { MatrixError, forbidden, invalidParam, notFound } from '../errors.js';
import { powerLevelOf, requiredLevelForEvent, type AuthState } from '../matrix/auth-rules.js';
import { stateKey, type Pdu } from '../matrix/event.js';
import type { DB, EventRow } from '../storage/schema.js';
import {
  countMembers,
  getCurrentStateEvents,
  getCurrentStateOfRooms,
  getMembershipsOfUser,
  getRoom,
  setRoomPublic,
} from '../storage/events.js';
import {
  deleteAlias,
  getAlias,
  getRoomsByIds,
  insertAlias,
  listAliases,
  listPublicRoomIds,
} from '../storage/rooms.js';
import type { RoomReader } from './room-reader.js';

/** A published room as the directory shows it (spec schema `PublishedRoomsChunk`). */
export interface PublicRoomsChunk {
  room_id: string;
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  name?: string;
  topic?: string;
  canonical_alias?: string;
  avatar_url?: string;
  join_rule?: string;
  room_type?: string;
}

/** An `m.space.child` event as a space hierarchy carries it (spec: `StrippedChildStateEvent`). */
export interface StrippedChildStateEvent {
  type: string;
  state_key: string;
  content: Record<string, unknown>;
  sender: string;
  origin_server_ts: number;
}

/** One room of a space hierarchy (spec schema `SpaceHierarchyRoomsChunk`). */
export interface SpaceHierarchyRoomsChunk extends PublicRoomsChunk {
  room_version: string;
  encryption?: string;
  allowed_room_ids?: string[];
  children_state: StrippedChildStateEvent[];
}

export interface PublicRoomsRequest {
  limit?: number | undefined;
  since?: string | undefined;
  /** The server whose directory is asked for; ours when absent. */
  server?: string | undefined;
  /** A third-party network published through an application service. */
  thirdPartyInstanceId?: string | undefined;
  filter?: { generic_search_term?: string; room_types?: (string | null)[] } | undefined;
}

export interface PublicRoomsResponse {
  chunk: PublicRoomsChunk[];
  next_batch?: string;
  prev_batch?: string;
  total_room_count_estimate: number;
}

export interface HierarchyRequest {
  limit?: number | undefined;
  max_depth?: number | undefined;
  from?: string | undefined;
  suggested_only?: boolean | undefined;
}

export interface HierarchyResponse {
  rooms: SpaceHierarchyRoomsChunk[];
  next_batch?: string;
}

/** What the directory and the hierarchy need to know of a room, read from its current state. */
interface RoomDescription {
  chunk: PublicRoomsChunk;
  roomVersion: string;
  historyVisibility: string;
  /** Rooms whose members may join a `restricted` or `knock_restricted` room. */
  allowRoomIds: string[];
  encryption: string | undefined;
  /** The space's valid `m.space.child` events; empty for rooms that are not spaces. */
  children: Pdu[];
}

/** Current state types a room's directory entry is made of. */
const SUMMARY_STATE_TYPES = [
  'm.room.create',
  'm.room.name',
  'm.room.topic',
  'm.room.canonical_alias',
  'm.room.avatar',
  'm.room.join_rules',
  'm.room.history_visibility',
  'm.room.guest_access',
  'm.room.encryption',
  'm.space.child',
];

/** Join rules under which anyone may join or ask to join, so the directory may show the room. */
const OPEN_JOIN_RULES = new Set(['public', 'knock', 'knock_restricted']);

const PUBLIC_ROOMS_DEFAULT_LIMIT = 100;
const PUBLIC_ROOMS_MAX_LIMIT = 500;
const HIERARCHY_DEFAULT_LIMIT = 50;
const HIERARCHY_MAX_LIMIT = 100;
const HIERARCHY_DEFAULT_DEPTH = 10;
const HIERARCHY_MAX_DEPTH = 50;

/** The most bytes a room alias may take, sigil and domain included. */
const MAX_ALIAS_BYTES = 255;

/** A UTF-16 surrogate without its partner: not a Unicode code point, so not allowed in aliases. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Splits `#localpart:domain`, or returns undefined when the alias breaks the grammar: the
 * localpart may hold any code point but `:` and NUL, and the whole alias at most 255 bytes
 * (spec: appendices, Room Aliases).
 */
function parseRoomAlias(alias: string): { localpart: string; domain: string } | undefined {
  if (!alias.startsWith('#')) return undefined;
  const colon = alias.indexOf(':');
  if (colon < 2 || colon === alias.length - 1) return undefined;
  if (alias.includes('\u0000') || LONE_SURROGATE.test(alias)) return undefined;
  if (Buffer.byteLength(alias) > MAX_ALIAS_BYTES) return undefined;
  return { localpart: alias.slice(1, colon), domain: alias.slice(colon + 1) };
}

function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeToken(token: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (value === null || typeof value !== 'object') return undefined;
    return value as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A position in the published room list: just after (`f`) or just before (`b`) a room. */
interface DirectoryPosition {
  dir: 'f' | 'b';
  members: number;
  roomId: string;
}

function parseDirectoryToken(token: string): DirectoryPosition {
  const raw = decodeToken(token);
  if (
    !raw ||
    (raw.d !== 'f' && raw.d !== 'b') ||
    typeof raw.n !== 'number' ||
    typeof raw.r !== 'string'
  ) {
    throw invalidParam('Unknown pagination token');
  }
  return { dir: raw.d, members: raw.n, roomId: raw.r };
}

function directoryToken(dir: 'f' | 'b', chunk: PublicRoomsChunk): string {
  return encodeToken({ d: dir, n: chunk.num_joined_members, r: chunk.room_id });
}

/** Directory order: most joined members first, then by room id. Negative when `a` comes first. */
function compareListed(a: { members: number; roomId: string }, b: typeof a): number {
  if (a.members !== b.members) return b.members - a.members;
  return a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0;
}

function listPosition(chunk: PublicRoomsChunk): { members: number; roomId: string } {
  return { members: chunk.num_joined_members, roomId: chunk.room_id };
}

/**
 * The slice `[start, end)` of the sorted directory a page covers: the first `limit` rooms, the
 * `limit` rooms after a forward position, or the `limit` rooms before a backward one. Positions
 * are compared, not looked up, so a room that left the directory still marks its place.
 */
function pageBounds(
  listed: readonly PublicRoomsChunk[],
  position: DirectoryPosition | undefined,
  limit: number,
): [number, number] {
  if (!position) return [0, Math.min(limit, listed.length)];
  if (position.dir === 'f') {
    const after = listed.findIndex((c) => compareListed(listPosition(c), position) > 0);
    const start = after === -1 ? listed.length : after;
    return [start, Math.min(start + limit, listed.length)];
  }
  // A backward token names the first room of the page after it, which is not repeated.
  const at = listed.findIndex((c) => compareListed(listPosition(c), position) >= 0);
  const end = at === -1 ? listed.length : at;
  return [Math.max(0, end - limit), end];
}

/** Folds text for search: compatibility forms (full-width letters, half-width kana) and case. */
function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** The plain-text topic: `topic`, else the text/plain representation in `m.topic`. */
function plainTopic(content: Record<string, unknown>): string | undefined {
  if (typeof content.topic === 'string' && content.topic !== '') return content.topic;
  const blocks = (content['m.topic'] as { 'm.text'?: unknown } | undefined)?.['m.text'];
  if (!Array.isArray(blocks)) return undefined;
  const plain = blocks.find(
    (b: { mimetype?: unknown; body?: unknown }) =>
      (b.mimetype === undefined || b.mimetype === 'text/plain') && typeof b.body === 'string',
  ) as { body: string } | undefined;
  return plain?.body || undefined;
}

/** Whether an `m.space.child` event links its child: `via` must list at least one server. */
function isValidChild(content: Record<string, unknown>): boolean {
  const via = content.via;
  return Array.isArray(via) && via.length > 0 && via.every((v) => typeof v === 'string');
}

/** The `order` of a space child when it is valid (printable ASCII, at most 50 characters). */
function childOrder(content: Record<string, unknown>): string | undefined {
  const order = content.order;
  return typeof order === 'string' && /^[\x20-\x7E]{1,50}$/.test(order) ? order : undefined;
}

/**
 * Orders a space's children (spec: client-server-api, Ordering of children within a space):
 * those with a valid `order` first, by code point; then by the child event's timestamp; ties by
 * room id.
 */
function orderChildren(children: Pdu[]): Pdu[] {
  return [...children].sort((a, b) => {
    const orderA = childOrder(a.content);
    const orderB = childOrder(b.content);
    if (orderA !== undefined && orderB === undefined) return -1;
    if (orderA === undefined && orderB !== undefined) return 1;
    if (orderA !== undefined && orderB !== undefined && orderA !== orderB) {
      return orderA < orderB ? -1 : 1;
    }
    if (a.origin_server_ts !== b.origin_server_ts) return a.origin_server_ts - b.origin_server_ts;
    const idA = a.state_key ?? '';
    const idB = b.state_key ?? '';
    return idA < idB ? -1 : idA > idB ? 1 : 0;
  });
}

function parsePdu(row: EventRow): Pdu {
  return JSON.parse(row.pdu) as Pdu;
}

/** Builds a room's directory entry from its current state events and joined member count. */
function describeRoom(
  roomId: string,
  roomVersion: string,
  state: Pdu[],
  joinedMembers: number,
): RoomDescription {
  const byType = new Map<string, Record<string, unknown>>();
  const children: Pdu[] = [];
  for (const pdu of state) {
    if (pdu.type === 'm.space.child') {
      if (isValidChild(pdu.content)) children.push(pdu);
    } else if (pdu.state_key === '') {
      byType.set(pdu.type, pdu.content);
    }
  }
  const text = (type: string, key: string): string | undefined => {
    const value = byType.get(type)?.[key];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const historyVisibility = text('m.room.history_visibility', 'history_visibility') ?? 'shared';
  const joinRule = text('m.room.join_rules', 'join_rule');
  const roomType = text('m.room.create', 'type');
  const avatarUrl = text('m.room.avatar', 'url');
  const topicContent = byType.get('m.room.topic');
  const topic = topicContent ? plainTopic(topicContent) : undefined;
  const name = text('m.room.name', 'name');
  const canonicalAlias = text('m.room.canonical_alias', 'alias');
  const allow = byType.get('m.room.join_rules')?.allow;
  const allowRoomIds = Array.isArray(allow)
    ? allow.flatMap((a: { type?: unknown; room_id?: unknown }) =>
        a.type === 'm.room_membership' && typeof a.room_id === 'string' ? [a.room_id] : [],
      )
    : [];
  const chunk: PublicRoomsChunk = {
    room_id: roomId,
    num_joined_members: joinedMembers,
    world_readable: historyVisibility === 'world_readable',
    guest_can_join: text('m.room.guest_access', 'guest_access') === 'can_join',
    ...(name !== undefined ? { name } : {}),
    ...(topic !== undefined ? { topic } : {}),
    ...(canonicalAlias !== undefined ? { canonical_alias: canonicalAlias } : {}),
    ...(avatarUrl?.startsWith('mxc://') ? { avatar_url: avatarUrl } : {}),
    ...(joinRule !== undefined ? { join_rule: joinRule } : {}),
    ...(roomType !== undefined ? { room_type: roomType } : {}),
  };
  return {
    chunk,
    roomVersion,
    historyVisibility,
    allowRoomIds,
    encryption: text('m.room.encryption', 'algorithm'),
    children: roomType === 'm.space' ? children : [],
  };
}

/** Whether a search term is found in the room's name, topic or canonical alias. */
function matchesSearch(chunk: PublicRoomsChunk, term: string): boolean {
  const needle = fold(term.trim());
  if (needle === '') return true;
  return [chunk.name, chunk.topic, chunk.canonical_alias].some(
    (field) => field !== undefined && fold(field).includes(needle),
  );
}

export class Directory {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly config: Config,
    private readonly reader: RoomReader,
  ) {}

  /** Parses an alias this server may answer for; 400 M_INVALID_PARAM otherwise. */
  #requireLocalAlias(alias: string): void {
    const parsed = parseRoomAlias(alias);
    if (!parsed) throw invalidParam('Room alias invalid');
    if (parsed.domain !== this.config.server_name) {
      throw invalidParam(`Room alias must be on ${this.config.server_name}`);
    }
  }

  /**
   * Whether the user may edit the room's directory entries: joined, with the power level to
   * send `m.room.canonical_alias`.
   */
  async #canEditDirectory(roomId: string, userId: string): Promise<boolean> {
    if ((await this.reader.membershipOf(roomId, userId)) !== 'join') return false;
    const rows = await getCurrentStateEvents(this.db, roomId, [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
    ]);
    const state: AuthState = new Map(
      rows.map((row) => {
        const pdu = parsePdu(row);
        return [stateKey(pdu.type, pdu.state_key ?? ''), pdu] as const;
      }),
    );
    const required = requiredLevelForEvent(state, 'm.room.canonical_alias', true);
    return powerLevelOf(state, userId) >= required;
  }

  /**
   * `PUT /directory/room/{roomAlias}`: maps a new local alias to a room the requester is
   * joined to. 409 M_UNKNOWN when the alias is taken.
   */
  async createAlias(requesterId: string, alias: string, roomId: string): Promise<void> {
    this.#requireLocalAlias(alias);
    await this.reader.requireRoom(roomId);
    await this.reader.requireJoined(roomId, requesterId);
    const created = await insertAlias(this.db, {
      alias,
      room_id: roomId,
      creator: requesterId,
      created_ts: Date.now(),
    });
    if (!created) {
      throw new MatrixError('M_UNKNOWN', `Room alias ${alias} already exists`, { status: 409 });
    }
  }

  /**
   * `GET /directory/room/{roomAlias}`: the room an alias points to and the servers that know it.
   *
   * TODO: resolve aliases of other servers over federation; they are reported as not found.
   */
  async resolveAlias(alias: string): Promise<{ room_id: string; servers: string[] }> {
    const parsed = parseRoomAlias(alias);
    if (!parsed) throw invalidParam('Room alias invalid');
    const row =
      parsed.domain === this.config.server_name ? await getAlias(this.db, alias) : undefined;
    if (!row) throw notFound(`Room alias ${alias} not found`);
    return { room_id: row.room_id, servers: [this.config.server_name] };
  }

  /**
   * `DELETE /directory/room/{roomAlias}`: removes an alias. Allowed to its creator, a server
   * admin, or a member with the power to send `m.room.canonical_alias` in its room. The
   * room's canonical alias event is left as it is; the spec makes updating it optional.
   */
  async deleteAlias(requesterId: string, isAdmin: boolean, alias: string): Promise<void> {
    this.#requireLocalAlias(alias);
    const row = await getAlias(this.db, alias);
    if (!row) throw notFound(`Room alias ${alias} not found`);
    const allowed =
      row.creator === requesterId ||
      isAdmin ||
      (await this.#canEditDirectory(row.room_id, requesterId));
    if (!allowed) throw forbidden('You may not delete this alias');
    await deleteAlias(this.db, alias);
  }

  /**
   * `GET /rooms/{roomId}/aliases`: the room's local aliases, for its members, or anyone when
   * the room's history is world readable. An unknown room answers 403 like a room one is not
   * in, as the spec lists no 404 here.
   */
  async listRoomAliases(requesterId: string, roomId: string): Promise<string[]> {
    if ((await this.reader.membershipOf(roomId, requesterId)) !== 'join') {
      const [row] = await getCurrentStateEvents(this.db, roomId, [
        ['m.room.history_visibility', ''],
      ]);
      const visibility = row ? parsePdu(row).content.history_visibility : undefined;
      if (visibility !== 'world_readable') throw forbidden('You are not a member of the room');
    }
    return listAliases(this.db, roomId);
  }

  /** `GET /directory/list/room/{roomId}`: whether the room is published in the directory. */
  async getVisibility(roomId: string): Promise<'public' | 'private'> {
    const room = await getRoom(this.db, roomId);
    if (!room) throw notFound('Room not found');
    return room.is_public ? 'public' : 'private';
  }

  /**
   * `PUT /directory/list/room/{roomId}`: publishes or unpublishes the room. Allowed to server
   * admins and to members with the power to send `m.room.canonical_alias`.
   */
  async setVisibility(
    requesterId: string,
    roomId: string,
    visibility: 'public' | 'private',
    isAdmin = false,
  ): Promise<void> {
    await this.reader.requireRoom(roomId);
    if (!isAdmin && !(await this.#canEditDirectory(roomId, requesterId))) {
      throw forbidden('You may not change whether this room is published');
    }
    await setRoomPublic(this.db, roomId, visibility === 'public');
  }

  /** Directory entries of rooms this server knows, by room id; unknown rooms are left out. */
  async #describeRooms(roomIds: readonly string[]): Promise<Map<string, RoomDescription>> {
    const rooms = await getRoomsByIds(this.db, roomIds);
    const ids = rooms.map((room) => room.room_id);
    const [stateRows, counts] = await Promise.all([
      getCurrentStateOfRooms(this.db, ids, SUMMARY_STATE_TYPES),
      countMembers(this.db, ids),
    ]);
    const stateByRoom = new Map<string, Pdu[]>();
    for (const row of stateRows) {
      const list = stateByRoom.get(row.room_id) ?? [];
      list.push(parsePdu(row));
      stateByRoom.set(row.room_id, list);
    }
    const joined = new Map(
      counts.filter((c) => c.membership === 'join').map((c) => [c.room_id, c.n]),
    );
    return new Map(
      rooms.map((room) => [
        room.room_id,
        describeRoom(
          room.room_id,
          room.room_version,
          stateByRoom.get(room.room_id) ?? [],
          joined.get(room.room_id) ?? 0,
        ),
      ]),
    );
  }

  /**
   * `GET` and `POST /publicRooms`: a page of the published rooms that anyone may join, knock on
   * or read, most joined members first. `since` tokens name the room a page continues after
   * (or before), so pages stay consistent while rooms are published or removed.
   *
   * The whole directory is read and filtered per request, which suits the hundreds of rooms a
   * server of this size publishes.
   *
   * TODO: fetch other servers' directories over federation; naming another server is refused
   * with 400 M_INVALID_PARAM.
   */
  async publicRooms(request: PublicRoomsRequest): Promise<PublicRoomsResponse> {
    if (request.server !== undefined && request.server !== this.config.server_name) {
      throw invalidParam(`Only the room directory of ${this.config.server_name} is available`);
    }
    const limit = Math.min(
      Math.max(request.limit ?? PUBLIC_ROOMS_DEFAULT_LIMIT, 1),
      PUBLIC_ROOMS_MAX_LIMIT,
    );
    const position = request.since !== undefined ? parseDirectoryToken(request.since) : undefined;
    // No application service publishes third-party networks here, so such a list is empty.
    if (request.thirdPartyInstanceId !== undefined) {
      return { chunk: [], total_room_count_estimate: 0 };
    }

    const described = await this.#describeRooms(await listPublicRoomIds(this.db));
    const term = request.filter?.generic_search_term;
    const roomTypes = request.filter?.room_types;
    const listed = [...described.values()]
      .filter((r) => r.chunk.world_readable || OPEN_JOIN_RULES.has(r.chunk.join_rule ?? ''))
      .map((room) => room.chunk)
      .filter((chunk) => term === undefined || matchesSearch(chunk, term))
      .filter(
        (chunk) =>
          !roomTypes || roomTypes.length === 0 || roomTypes.includes(chunk.room_type ?? null),
      )
      .sort((a, b) => compareListed(listPosition(a), listPosition(b)));

    const [start, end] = pageBounds(listed, position, limit);
    const chunk = listed.slice(start, end);
    const first = chunk[0];
    const last = chunk.at(-1);
    return {
      chunk,
      ...(last && end < listed.length ? { next_batch: directoryToken('f', last) } : {}),
      ...(first && start > 0 ? { prev_batch: directoryToken('b', first) } : {}),
      total_room_count_estimate: listed.length,
    };
  }

  /**
   * Whether the user may see a room in a space hierarchy: they are joined or invited, or may
   * join or knock by its join rules, or its history is world readable. Banned users see nothing.
   */
  #canPreview(room: RoomDescription, memberships: ReadonlyMap<string, string>): boolean {
    const membership = memberships.get(room.chunk.room_id);
    if (membership === 'join' || membership === 'invite') return true;
    if (membership === 'ban') return false;
    if (room.historyVisibility === 'world_readable') return true;
    const joinRule = room.chunk.join_rule;
    if (joinRule !== undefined && OPEN_JOIN_RULES.has(joinRule)) return true;
    if (joinRule === 'restricted') {
      return room.allowRoomIds.some((id) => memberships.get(id) === 'join');
    }
    return false;
  }

  /**
   * `GET /rooms/{roomId}/hierarchy`: walks the space's `m.space.child` links depth first and
   * returns the rooms the requester may see, each space with its child events. Rooms the
   * requester may not see are left out together with everything below them. 403 when the root
   * itself cannot be seen (or is unknown).
   *
   * Each page walks the tree again from the root; the `from` token holds how many rooms were
   * returned before, with `max_depth` and `suggested_only`, which may not change.
   *
   * TODO: fill in child rooms this server is not in over federation; they are left out today.
   */
  async hierarchy(
    requesterId: string,
    roomId: string,
    request: HierarchyRequest,
  ): Promise<HierarchyResponse> {
    if (request.limit !== undefined && request.limit < 1) {
      throw invalidParam('limit must be greater than zero');
    }
    if (request.max_depth !== undefined && request.max_depth < 0) {
      throw invalidParam('max_depth must not be negative');
    }
    const limit = Math.min(request.limit ?? HIERARCHY_DEFAULT_LIMIT, HIERARCHY_MAX_LIMIT);
    let maxDepth = Math.min(request.max_depth ?? HIERARCHY_DEFAULT_DEPTH, HIERARCHY_MAX_DEPTH);
    let suggestedOnly = request.suggested_only ?? false;
    let skip = 0;
    if (request.from !== undefined) {
      const token = decodeToken(request.from);
      if (
        !token ||
        token.r !== roomId ||
        typeof token.d !== 'number' ||
        typeof token.s !== 'boolean' ||
        typeof token.o !== 'number'
      ) {
        throw invalidParam('Unknown pagination token');
      }
      const changed =
        (request.max_depth !== undefined && token.d !== maxDepth) ||
        (request.suggested_only !== undefined && token.s !== suggestedOnly);
      if (changed) {
        throw invalidParam('suggested_only and max_depth cannot change on paginated requests');
      }
      maxDepth = token.d;
      suggestedOnly = token.s;
      skip = token.o;
    }

    const memberships = new Map(
      (await getMembershipsOfUser(this.db, requesterId)).map((m) => [m.room_id, m.membership]),
    );
    const root = (await this.#describeRooms([roomId])).get(roomId);
    if (!root || !this.#canPreview(root, memberships)) {
      throw forbidden('You are not allowed to view this room');
    }

    const rooms: SpaceHierarchyRoomsChunk[] = [];
    const seen = new Set<string>();
    const stack: { roomId: string; depth: number }[] = [{ roomId, depth: 0 }];
    let visible = 0;
    while (stack.length > 0 && rooms.length <= limit) {
      const entry = stack.pop() as { roomId: string; depth: number };
      // Loops are not allowed in spaces but can still happen: visit each room once.
      if (seen.has(entry.roomId)) continue;
      seen.add(entry.roomId);
      const room =
        entry.roomId === roomId
          ? root
          : (await this.#describeRooms([entry.roomId])).get(entry.roomId);
      if (!room || !this.#canPreview(room, memberships)) continue;
      const children = orderChildren(room.children).filter(
        (child) => !suggestedOnly || child.content.suggested === true,
      );
      if (visible >= skip) rooms.push(this.#hierarchyChunk(room, children));
      visible += 1;
      if (entry.depth < maxDepth) {
        for (const child of [...children].reverse()) {
          stack.push({ roomId: child.state_key ?? '', depth: entry.depth + 1 });
        }
      }
    }
    const page = rooms.slice(0, limit);
    const more = rooms.length > limit;
    return {
      rooms: page,
      ...(more
        ? { next_batch: encodeToken({ r: roomId, d: maxDepth, s: suggestedOnly, o: skip + limit }) }
        : {}),
    };
  }

  #hierarchyChunk(room: RoomDescription, children: Pdu[]): SpaceHierarchyRoomsChunk {
    return {
      ...room.chunk,
      room_version: room.roomVersion,
      ...(room.encryption !== undefined ? { encryption: room.encryption } : {}),
      ...(room.allowRoomIds.length > 0 ? { allowed_room_ids: room.allowRoomIds } : {}),
      children_state: children.map((child) => ({
        type: child.type,
        state_key: child.state_key ?? '',
        content: child.content,
        sender: child.sender,
        origin_server_ts: child.origin_server_ts,
      })),
    };
  }
}
