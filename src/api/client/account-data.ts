/** Account data, room tags and filters (spec: client-server-api, Client Config; Room Tagging;
 * Filtering). */
import { clientPaths, route } from '../../http/route.js';
import { FILTER_SCHEMA } from '../../matrix/filter.js';

export const accountDataRoutes = [
  /**
   * PUT /_matrix/client/v3/user/{userId}/account_data/{type}
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3useruseridaccount_datatype
   */
  route<Record<string, unknown>>()({
    method: 'PUT',
    path: clientPaths('/user/:userId/account_data/:type'),
    auth: 'accessToken',
    rateLimited: true,
    body: { type: 'object' },
    handler: async ({ params, body, requester, services }) => {
      await services.accountData.set(
        requester.userId,
        params.userId as string,
        '',
        params.type as string,
        body,
      );
      return {};
    },
  }),

  /**
   * GET /_matrix/client/v3/user/{userId}/account_data/{type}
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3useruseridaccount_datatype
   */
  route()({
    method: 'GET',
    path: clientPaths('/user/:userId/account_data/:type'),
    auth: 'accessToken',
    handler: async ({ params, requester, services }) =>
      services.accountData.get(
        requester.userId,
        params.userId as string,
        '',
        params.type as string,
      ),
  }),

  /**
   * PUT /_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3useruseridroomsroomidaccount_datatype
   */
  route<Record<string, unknown>>()({
    method: 'PUT',
    path: clientPaths('/user/:userId/rooms/:roomId/account_data/:type'),
    auth: 'accessToken',
    rateLimited: true,
    body: { type: 'object' },
    handler: async ({ params, body, requester, services }) => {
      await services.accountData.set(
        requester.userId,
        params.userId as string,
        params.roomId as string,
        params.type as string,
        body,
      );
      return {};
    },
  }),

  /**
   * GET /_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3useruseridroomsroomidaccount_datatype
   */
  route()({
    method: 'GET',
    path: clientPaths('/user/:userId/rooms/:roomId/account_data/:type'),
    auth: 'accessToken',
    handler: async ({ params, requester, services }) =>
      services.accountData.get(
        requester.userId,
        params.userId as string,
        params.roomId as string,
        params.type as string,
      ),
  }),

  /**
   * GET /_matrix/client/v3/user/{userId}/rooms/{roomId}/tags
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3useruseridroomsroomidtags
   */
  route()({
    method: 'GET',
    path: clientPaths('/user/:userId/rooms/:roomId/tags'),
    auth: 'accessToken',
    handler: async ({ params, requester, services }) =>
      services.accountData.getTags(
        requester.userId,
        params.userId as string,
        params.roomId as string,
      ),
  }),

  /**
   * PUT /_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag}
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3useruseridroomsroomidtagstag
   */
  route<Record<string, unknown>>()({
    method: 'PUT',
    path: clientPaths('/user/:userId/rooms/:roomId/tags/:tag'),
    auth: 'accessToken',
    body: { type: 'object', properties: { order: { type: 'number', minimum: 0, maximum: 1 } } },
    handler: async ({ params, body, requester, services }) => {
      await services.accountData.setTag(
        requester.userId,
        params.userId as string,
        params.roomId as string,
        params.tag as string,
        body,
      );
      return {};
    },
  }),

  /**
   * DELETE /_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag}
   * https://spec.matrix.org/v1.16/client-server-api/#delete_matrixclientv3useruseridroomsroomidtagstag
   */
  route()({
    method: 'DELETE',
    path: clientPaths('/user/:userId/rooms/:roomId/tags/:tag'),
    auth: 'accessToken',
    handler: async ({ params, requester, services }) => {
      await services.accountData.setTag(
        requester.userId,
        params.userId as string,
        params.roomId as string,
        params.tag as string,
        undefined,
      );
      return {};
    },
  }),

  /**
   * POST /_matrix/client/v3/user/{userId}/filter
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3useruseridfilter
   */
  route<Record<string, unknown>>()({
    method: 'POST',
    path: clientPaths('/user/:userId/filter'),
    auth: 'accessToken',
    body: FILTER_SCHEMA,
    handler: async ({ params, body, requester, services }) => ({
      filter_id: await services.accountData.createFilter(
        requester.userId,
        params.userId as string,
        body,
      ),
    }),
  }),

  /**
   * GET /_matrix/client/v3/user/{userId}/filter/{filterId}
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3useruseridfilterfilterid
   */
  route()({
    method: 'GET',
    path: clientPaths('/user/:userId/filter/:filterId'),
    auth: 'accessToken',
    handler: async ({ params, requester, services }) =>
      services.accountData.getFilter(
        requester.userId,
        params.userId as string,
        params.filterId as string,
      ),
  }),
];
