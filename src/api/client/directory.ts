/**
 * Room aliases, the published room directory, space hierarchies and the user directory (spec:
 * client-server-api, Room aliases; Published room directory; Spaces; User directory).
 */
import { clientPaths, clientV1Path, route } from '../../http/route.js';
import type { PublicRoomsRequest } from '../../services/directory.js';

type Visibility = 'public' | 'private';

interface PublicRoomsBody {
  limit?: number;
  since?: string;
  filter?: { generic_search_term?: string; room_types?: (string | null)[] };
  include_all_networks?: boolean;
  third_party_instance_id?: string;
}

export const directoryRoutes = [
  /**
   * PUT /_matrix/client/v3/directory/room/{roomAlias}
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3directoryroomroomalias
   */
  route<{ room_id: string }>()({
    method: 'PUT',
    path: clientPaths('/directory/room/:roomAlias'),
    auth: 'accessToken',
    body: {
      type: 'object',
      required: ['room_id'],
      properties: { room_id: { type: 'string' } },
    },
    handler: async ({ requester, params, body, services }) => {
      await services.directory.createAlias(
        requester.userId,
        params.roomAlias as string,
        body.room_id,
      );
      return {};
    },
  }),

  /**
   * GET /_matrix/client/v3/directory/room/{roomAlias}
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3directoryroomroomalias
   *
   * Not implemented:
   * - aliases of other servers are not resolved over federation (404).
   */
  route()({
    method: 'GET',
    path: clientPaths('/directory/room/:roomAlias'),
    auth: 'none',
    handler: async ({ params, services }) =>
      services.directory.resolveAlias(params.roomAlias as string),
  }),

  /**
   * DELETE /_matrix/client/v3/directory/room/{roomAlias}
   * https://spec.matrix.org/v1.16/client-server-api/#delete_matrixclientv3directoryroomroomalias
   */
  route()({
    method: 'DELETE',
    path: clientPaths('/directory/room/:roomAlias'),
    auth: 'accessToken',
    handler: async ({ requester, params, services }) => {
      await services.directory.deleteAlias(
        requester.userId,
        requester.isAdmin,
        params.roomAlias as string,
      );
      return {};
    },
  }),

  /**
   * GET /_matrix/client/v3/rooms/{roomId}/aliases
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidaliases
   */
  route()({
    method: 'GET',
    path: clientPaths('/rooms/:roomId/aliases'),
    auth: 'accessToken',
    rateLimited: true,
    handler: async ({ requester, params, services }) => ({
      aliases: await services.directory.listRoomAliases(requester.userId, params.roomId as string),
    }),
  }),

  /**
   * GET /_matrix/client/v3/directory/list/room/{roomId}
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3directorylistroomroomid
   */
  route()({
    method: 'GET',
    path: clientPaths('/directory/list/room/:roomId'),
    auth: 'none',
    handler: async ({ params, services }) => ({
      visibility: await services.directory.getVisibility(params.roomId as string),
    }),
  }),

  /**
   * PUT /_matrix/client/v3/directory/list/room/{roomId}
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3directorylistroomroomid
   */
  route<{ visibility?: Visibility }>()({
    method: 'PUT',
    path: clientPaths('/directory/list/room/:roomId'),
    auth: 'accessToken',
    body: {
      type: 'object',
      properties: { visibility: { type: 'string', enum: ['public', 'private'] } },
    },
    handler: async ({ requester, params, body, services }) => {
      await services.directory.setVisibility(
        requester.userId,
        params.roomId as string,
        body.visibility ?? 'public',
        requester.isAdmin,
      );
      return {};
    },
  }),

  /**
   * GET /_matrix/client/v3/publicRooms
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3publicrooms
   *
   * Not implemented:
   * - other servers' directories (`server`) are not fetched over federation (400).
   */
  route<Record<string, never>, { limit?: number; since?: string; server?: string }>()({
    method: 'GET',
    path: clientPaths('/publicRooms'),
    auth: 'none',
    query: {
      type: 'object',
      properties: {
        limit: { type: 'integer' },
        since: { type: 'string' },
        server: { type: 'string' },
      },
    },
    handler: async ({ query, services }) =>
      services.directory.publicRooms({
        limit: query.limit,
        since: query.since,
        server: query.server,
      }),
  }),

  /**
   * POST /_matrix/client/v3/publicRooms
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3publicrooms
   *
   * Not implemented:
   * - other servers' directories (`server`) are not fetched over federation (400);
   * - no application service publishes third-party networks, so `third_party_instance_id`
   *   lists nothing and `include_all_networks` changes nothing.
   */
  route<PublicRoomsBody, { server?: string }>()({
    method: 'POST',
    path: clientPaths('/publicRooms'),
    auth: 'accessToken',
    query: { type: 'object', properties: { server: { type: 'string' } } },
    body: {
      type: 'object',
      properties: {
        limit: { type: 'integer' },
        since: { type: 'string' },
        filter: {
          type: 'object',
          properties: {
            generic_search_term: { type: 'string' },
            room_types: { type: 'array', items: { type: ['string', 'null'] } },
          },
        },
        include_all_networks: { type: 'boolean' },
        third_party_instance_id: { type: 'string' },
      },
    },
    handler: async ({ query, body, services }) => {
      const request: PublicRoomsRequest = {
        limit: body.limit,
        since: body.since,
        server: query.server,
        thirdPartyInstanceId: body.third_party_instance_id,
        filter: body.filter,
      };
      return services.directory.publicRooms(request);
    },
  }),

  /**
   * GET /_matrix/client/v1/rooms/{roomId}/hierarchy
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv1roomsroomidhierarchy
   *
   * Not implemented:
   * - child rooms this server is not in are not fetched over federation; they are left out.
   */
  route<
    Record<string, never>,
    { limit?: number; max_depth?: number; from?: string; suggested_only?: boolean }
  >()({
    method: 'GET',
    path: clientV1Path('/rooms/:roomId/hierarchy'),
    auth: 'accessToken',
    rateLimited: true,
    query: {
      type: 'object',
      properties: {
        limit: { type: 'integer' },
        max_depth: { type: 'integer' },
        from: { type: 'string' },
        suggested_only: { type: 'boolean' },
      },
    },
    handler: async ({ requester, params, query, services }) =>
      services.directory.hierarchy(requester.userId, params.roomId as string, query),
  }),

  /**
   * POST /_matrix/client/v3/user_directory/search
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3user_directorysearch
   *
   * Not implemented:
   * - remote users are found only through rooms this server is in;
   * - the Accept-Language header does not choose a collation.
   */
  route<{ search_term: string; limit?: number }>()({
    method: 'POST',
    path: clientPaths('/user_directory/search'),
    auth: 'accessToken',
    rateLimited: true,
    body: {
      type: 'object',
      required: ['search_term'],
      properties: {
        search_term: { type: 'string' },
        limit: { type: 'integer', minimum: 0 },
      },
    },
    handler: async ({ requester, body, services }) =>
      services.userDirectory.search(requester.userId, body.search_term, body.limit ?? 10),
  }),
];
