/** Syncing (spec: client-server-api, Syncing) and the older event-stream endpoints. */
import { clientPaths, route } from '../../http/route.js';
import { bodyValidator, jsonQueryParam } from '../../http/validation.js';
import { FILTER_SCHEMA, type Filter } from '../../matrix/filter.js';
import type { Services } from '../../services/services.js';
import { parseSyncToken, parseToken } from '../../services/stream-token.js';

const validateFilter = bodyValidator(FILTER_SCHEMA);

/** The /sync `filter` parameter: a filter id, or a whole filter as JSON (clients send both). */
async function resolveFilter(services: Services, userId: string, raw?: string): Promise<Filter> {
  if (raw === undefined || raw === '') return {};
  if (raw.trimStart().startsWith('{')) return jsonQueryParam<Filter>(raw, 'filter', validateFilter);
  return (await services.accountData.getFilter(userId, userId, raw)) as Filter;
}

interface SyncQuery {
  since?: string;
  timeout?: number;
  full_state?: boolean;
  set_presence?: string;
  filter?: string;
}

export const syncRoutes = [
  /**
   * GET /_matrix/client/v3/sync
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3sync
   *
   * Not implemented: presence (set_presence is accepted and ignored), event_fields,
   * to-device messages and device lists (always empty).
   */
  route<Record<string, never>, SyncQuery>()({
    method: 'GET',
    path: clientPaths('/sync'),
    auth: 'accessToken',
    query: {
      type: 'object',
      properties: {
        since: { type: 'string' },
        timeout: { type: 'integer', minimum: 0 },
        full_state: { type: 'boolean' },
        set_presence: { enum: ['offline', 'online', 'unavailable'] },
        filter: { type: 'string' },
      },
    },
    handler: async ({ query, requester, services, signal }) => {
      const filter = await resolveFilter(services, requester.userId, query.filter);
      const since = query.since ? parseSyncToken(query.since, 'since') : undefined;
      return services.sync.sync(
        requester,
        {
          ...(since ? { since: since.position } : {}),
          ...(since?.typing !== undefined ? { sinceTyping: since.typing } : {}),
          timeoutMs: query.timeout ?? 0,
          fullState: query.full_state ?? false,
          filter,
        },
        signal,
      );
    },
  }),
];

/** The deprecated event-stream endpoints (spec: old_sync.yaml, room_initial_sync.yaml). */
export const legacySyncRoutes = [
  /**
   * GET /_matrix/client/v3/events
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3events
   */
  route<Record<string, never>, { from?: string; timeout?: number; room_id?: string }>()({
    method: 'GET',
    path: clientPaths('/events'),
    auth: 'accessToken',
    query: {
      type: 'object',
      properties: {
        from: { type: 'string' },
        timeout: { type: 'integer', minimum: 0 },
        room_id: { type: 'string' },
      },
    },
    handler: async ({ query, requester, services, signal }) =>
      services.legacySync.events(
        requester,
        query.from ? parseToken(query.from, 'from') : undefined,
        query.timeout ?? 0,
        signal,
      ),
  }),

  /**
   * GET /_matrix/client/v3/initialSync
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3initialsync
   */
  route<Record<string, never>, { limit?: number; archived?: boolean }>()({
    method: 'GET',
    path: clientPaths('/initialSync'),
    auth: 'accessToken',
    query: {
      type: 'object',
      properties: {
        limit: { type: 'integer', minimum: 0, maximum: 100 },
        archived: { type: 'boolean' },
      },
    },
    handler: async ({ query, requester, services }) =>
      services.legacySync.initialSync(requester, query.limit ?? 10, query.archived ?? false),
  }),

  /**
   * GET /_matrix/client/v3/rooms/{roomId}/initialSync
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidinitialsync
   */
  route()({
    method: 'GET',
    path: clientPaths('/rooms/:roomId/initialSync'),
    auth: 'accessToken',
    handler: async ({ params, requester, services }) =>
      services.legacySync.roomInitialSync(requester, params.roomId as string),
  }),

  /**
   * GET /_matrix/client/v3/events/{eventId}
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3eventseventid
   */
  route()({
    method: 'GET',
    path: clientPaths('/events/:eventId'),
    auth: 'accessToken',
    handler: async ({ params, requester, services }) =>
      services.legacySync.event(requester, params.eventId as string),
  }),
];
