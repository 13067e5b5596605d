/**
 * Event filters (spec: client-server-api, Filtering): the filter shapes, their ajv schema, and
 * the pure matching of one event against a filter.
 */

export interface EventFilter {
  limit?: number;
  types?: string[];
  not_types?: string[];
  senders?: string[];
  not_senders?: string[];
}

export interface RoomEventFilter extends EventFilter {
  rooms?: string[];
  not_rooms?: string[];
  contains_url?: boolean;
  lazy_load_members?: boolean;
  include_redundant_members?: boolean;
  unread_thread_notifications?: boolean;
}

export interface RoomFilter {
  rooms?: string[];
  not_rooms?: string[];
  include_leave?: boolean;
  ephemeral?: RoomEventFilter;
  state?: RoomEventFilter;
  timeline?: RoomEventFilter;
  account_data?: RoomEventFilter;
}

export interface Filter {
  event_fields?: string[];
  event_format?: 'client' | 'federation';
  presence?: EventFilter;
  account_data?: EventFilter;
  room?: RoomFilter;
}

const stringList = { type: 'array', items: { type: 'string' } };
const eventFilterProps = {
  limit: { type: 'integer', minimum: 0 },
  types: stringList,
  not_types: stringList,
  senders: stringList,
  not_senders: stringList,
};
const roomEventFilterSchema = {
  type: 'object',
  properties: {
    ...eventFilterProps,
    rooms: stringList,
    not_rooms: stringList,
    contains_url: { type: 'boolean' },
    lazy_load_members: { type: 'boolean' },
    include_redundant_members: { type: 'boolean' },
    unread_thread_notifications: { type: 'boolean' },
  },
};

/** The JSON schema of a RoomEventFilter (the /messages `filter` parameter). */
export const ROOM_EVENT_FILTER_SCHEMA = roomEventFilterSchema;

/** The JSON schema of a whole Filter (POST /user/{userId}/filter, /sync's inline filter). */
export const FILTER_SCHEMA = {
  type: 'object',
  properties: {
    event_fields: stringList,
    event_format: { enum: ['client', 'federation'] },
    presence: { type: 'object', properties: eventFilterProps },
    account_data: { type: 'object', properties: eventFilterProps },
    room: {
      type: 'object',
      properties: {
        rooms: stringList,
        not_rooms: stringList,
        include_leave: { type: 'boolean' },
        ephemeral: roomEventFilterSchema,
        state: roomEventFilterSchema,
        timeline: roomEventFilterSchema,
        account_data: roomEventFilterSchema,
      },
    },
  },
};

/** Whether `value` matches a filter entry, where a trailing `*` matches any rest. */
function matchesPattern(pattern: string, value: string): boolean {
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
}

function matchesAny(patterns: readonly string[], value: string): boolean {
  return patterns.some((p) => matchesPattern(p, value));
}

/** Whether an event passes a filter; an absent filter passes everything. */
export function matchesFilter(
  filter: RoomEventFilter | undefined,
  event: { type: string; sender: string; room_id?: string; content?: Record<string, unknown> },
): boolean {
  if (!filter) return true;
  if (filter.not_types && matchesAny(filter.not_types, event.type)) return false;
  if (filter.types && !matchesAny(filter.types, event.type)) return false;
  if (filter.not_senders?.includes(event.sender)) return false;
  if (filter.senders && !filter.senders.includes(event.sender)) return false;
  if (event.room_id !== undefined) {
    if (filter.not_rooms?.includes(event.room_id)) return false;
    if (filter.rooms && !filter.rooms.includes(event.room_id)) return false;
  }
  if (filter.contains_url !== undefined) {
    const hasUrl = typeof event.content?.url === 'string';
    if (hasUrl !== filter.contains_url) return false;
  }
  return true;
}

/** Whether a room passes a room filter's rooms / not_rooms lists. */
export function roomAllowed(filter: RoomFilter | undefined, roomId: string): boolean {
  if (!filter) return true;
  if (filter.not_rooms?.includes(roomId)) return false;
  return !filter.rooms || filter.rooms.includes(roomId);
}
