/**
 * Sending and reading room events (spec: client-server-api, Sending events to a room; Getting
 * events for a room; Redactions; Relationships; Threading).
 */
import { clientPaths, clientV1Path, route } from '../../http/route.js';
import { ROOM_EVENT_FILTER_SCHEMA, type RoomEventFilter } from '../../matrix/filter.js';
import { parseToken } from '../../services/stream-token.js';
import { bodyValidator, jsonQueryParam } from '../../http/validation.js';

const validateRoomEventFilter = bodyValidator(ROOM_EVENT_FILTER_SCHEMA);

/** Reads the `filter` query parameter: a RoomEventFilter as JSON. */
function parseFilter(raw: string | undefined): RoomEventFilter | undefined {
  if (raw === undefined || raw === '') return undefined;
  return jsonQueryParam<RoomEventFilter>(raw, 'filter', validateRoomEventFilter);
}

const contentSchema = { type: 'object' };
const limitQuery = { type: 'integer', minimum: 0, maximum: 10000 };

export const roomEventRoutes = [
  /**
   * PUT /_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3roomsroomidsendeventtypetxnid
   */
  route<Record<string, unknown>>()({
    method: 'PUT',
    path: clientPaths('/rooms/:roomId/send/:eventType/:txnId'),
    auth: 'accessToken',
    rateLimited: true,
    body: contentSchema,
    handler: async ({ params, body, requester, services }) => ({
      event_id: await services.messages.send(
        requester,
        params.roomId as string,
        params.eventType as string,
        params.txnId as string,
        body,
      ),
    }),
  }),

  /**
   * PUT /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3roomsroomidstateeventtypestatekey
   */
  route<Record<string, unknown>>()({
    method: 'PUT',
    path: clientPaths('/rooms/:roomId/state/:eventType{/:stateKey}'),
    auth: 'accessToken',
    rateLimited: true,
    body: contentSchema,
    handler: async ({ params, body, requester, services }) => ({
      event_id: await services.messages.sendState(
        requester.userId,
        params.roomId as string,
        params.eventType as string,
        params.stateKey ?? '',
        body,
      ),
    }),
  }),

  /**
   * GET /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidstateeventtypestatekey
   */
  route<Record<string, never>, { format?: 'content' | 'event' }>()({
    method: 'GET',
    path: clientPaths('/rooms/:roomId/state/:eventType{/:stateKey}'),
    auth: 'accessToken',
    query: { type: 'object', properties: { format: { enum: ['content', 'event'] } } },
    handler: async ({ params, query, requester, services }) => {
      const event = await services.messages.getStateEvent(
        requester.userId,
        params.roomId as string,
        params.eventType as string,
        params.stateKey ?? '',
      );
      return query.format === 'event' ? event : event.content;
    },
  }),

  /**
   * GET /_matrix/client/v3/rooms/{roomId}/state
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidstate
   */
  route()({
    method: 'GET',
    path: clientPaths('/rooms/:roomId/state'),
    auth: 'accessToken',
    handler: async ({ params, requester, services }) =>
      services.messages.visibleState(requester.userId, params.roomId as string),
  }),

  /**
   * PUT /_matrix/client/v3/rooms/{roomId}/redact/{eventId}/{txnId}
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3roomsroomidredacteventidtxnid
   */
  route<{ reason?: string }>()({
    method: 'PUT',
    path: clientPaths('/rooms/:roomId/redact/:eventId/:txnId'),
    auth: 'accessToken',
    rateLimited: true,
    body: { type: 'object', properties: { reason: { type: 'string' } } },
    handler: async ({ params, body, requester, services }) => ({
      event_id: await services.messages.redact(
        requester,
        params.roomId as string,
        params.eventId as string,
        params.txnId as string,
        body.reason,
      ),
    }),
  }),

  /**
   * GET /_matrix/client/v3/rooms/{roomId}/event/{eventId}
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomideventeventid
   */
  route()({
    method: 'GET',
    path: clientPaths('/rooms/:roomId/event/:eventId'),
    auth: 'accessToken',
    handler: async ({ params, requester, services }) => {
      const row = await services.reader.getVisibleEvent(
        params.roomId as string,
        params.eventId as string,
        requester.userId,
      );
      const [event] = await services.reader.toClientEvents([row], requester);
      return event;
    },
  }),

  /**
   * GET /_matrix/client/v3/rooms/{roomId}/messages
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidmessages
   */
  route<
    Record<string, never>,
    { from?: string; to?: string; dir?: 'b' | 'f'; limit?: number; filter?: string }
  >()({
    method: 'GET',
    path: clientPaths('/rooms/:roomId/messages'),
    auth: 'accessToken',
    query: {
      type: 'object',
      properties: {
        from: { type: 'string' },
        to: { type: 'string' },
        dir: { enum: ['b', 'f'] },
        limit: limitQuery,
        filter: { type: 'string' },
      },
    },
    handler: async ({ params, query, requester, services }) => {
      const filter = parseFilter(query.filter);
      return services.timeline.messages(requester, params.roomId as string, {
        ...(query.from ? { from: parseToken(query.from, 'from') } : {}),
        ...(query.to ? { to: parseToken(query.to, 'to') } : {}),
        dir: query.dir ?? 'b',
        limit: query.limit ?? filter?.limit ?? 10,
        ...(filter ? { filter } : {}),
      });
    },
  }),

  /**
   * GET /_matrix/client/v3/rooms/{roomId}/context/{eventId}
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidcontexteventid
   */
  route<Record<string, never>, { limit?: number; filter?: string }>()({
    method: 'GET',
    path: clientPaths('/rooms/:roomId/context/:eventId'),
    auth: 'accessToken',
    query: { type: 'object', properties: { limit: limitQuery, filter: { type: 'string' } } },
    handler: async ({ params, query, requester, services }) =>
      services.timeline.context(
        requester,
        params.roomId as string,
        params.eventId as string,
        query.limit ?? 10,
        parseFilter(query.filter),
      ),
  }),

  /**
   * GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv1roomsroomidrelationseventid
   *
   * Not implemented: `recurse` (relations of relations are not followed).
   */
  route<
    Record<string, never>,
    { from?: string; to?: string; dir?: 'b' | 'f'; limit?: number; recurse?: boolean }
  >()({
    method: 'GET',
    path: clientV1Path('/rooms/:roomId/relations/:eventId{/:relType}{/:eventType}'),
    auth: 'accessToken',
    query: {
      type: 'object',
      properties: {
        from: { type: 'string' },
        to: { type: 'string' },
        dir: { enum: ['b', 'f'] },
        limit: limitQuery,
        recurse: { type: 'boolean' },
      },
    },
    handler: async ({ params, query, requester, services }) =>
      services.timeline.relations(requester, params.roomId as string, params.eventId as string, {
        ...(params.relType ? { relType: params.relType } : {}),
        ...(params.eventType ? { eventType: params.eventType } : {}),
        ...(query.from ? { from: parseToken(query.from, 'from') } : {}),
        dir: query.dir ?? 'b',
        limit: query.limit ?? 50,
      }),
  }),

  /**
   * GET /_matrix/client/v1/rooms/{roomId}/threads
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv1roomsroomidthreads
   */
  route<
    Record<string, never>,
    { include?: 'all' | 'participated'; from?: string; limit?: number }
  >()({
    method: 'GET',
    path: clientV1Path('/rooms/:roomId/threads'),
    auth: 'accessToken',
    query: {
      type: 'object',
      properties: {
        include: { enum: ['all', 'participated'] },
        from: { type: 'string' },
        limit: limitQuery,
      },
    },
    handler: async ({ params, query, requester, services }) =>
      services.timeline.threads(requester, params.roomId as string, {
        include: query.include ?? 'all',
        ...(query.from ? { from: parseToken(query.from, 'from') } : {}),
        limit: query.limit ?? 50,
      }),
  }),
];
