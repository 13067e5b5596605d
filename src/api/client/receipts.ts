/**
 * Receipts, read markers, notifications and the read-status report (spec: client-server-api,
 * Receipts; Read markers; Receiving notifications).
 */
import { clientPaths, route } from '../../http/route.js';

/** The vendor prefix of endpoints this server adds beyond the Matrix specification. */
export const VENDOR_PREFIX = '/_matrix/client/unstable/jp.machi';

export const receiptRoutes = [
  /**
   * POST /_matrix/client/v3/rooms/{roomId}/receipt/{receiptType}/{eventId}
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidreceiptreceipttypeeventid
   */
  route<{ thread_id?: string }>()({
    method: 'POST',
    path: clientPaths('/rooms/:roomId/receipt/:receiptType/:eventId'),
    auth: 'accessToken',
    rateLimited: true,
    body: { type: 'object', properties: { thread_id: { type: 'string' } } },
    handler: async ({ params, body, requester, services }) => {
      await services.receipts.post(
        requester,
        params.roomId as string,
        params.receiptType as string,
        params.eventId as string,
        body.thread_id,
      );
      return {};
    },
  }),

  /**
   * POST /_matrix/client/v3/rooms/{roomId}/read_markers
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidread_markers
   */
  route<{ 'm.fully_read'?: string; 'm.read'?: string; 'm.read.private'?: string }>()({
    method: 'POST',
    path: clientPaths('/rooms/:roomId/read_markers'),
    auth: 'accessToken',
    rateLimited: true,
    body: {
      type: 'object',
      properties: {
        'm.fully_read': { type: 'string' },
        'm.read': { type: 'string' },
        'm.read.private': { type: 'string' },
      },
    },
    handler: async ({ params, body, requester, services }) => {
      await services.receipts.setReadMarkers(requester, params.roomId as string, body);
      return {};
    },
  }),

  /**
   * GET /_matrix/client/v3/notifications
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3notifications
   */
  route<Record<string, never>, { from?: string; limit?: number; only?: string }>()({
    method: 'GET',
    path: clientPaths('/notifications'),
    auth: 'accessToken',
    query: {
      type: 'object',
      properties: {
        from: { type: 'string' },
        limit: { type: 'integer', minimum: 1, maximum: 1000 },
        only: { type: 'string' },
      },
    },
    handler: async ({ query, requester, services }) =>
      services.notifications.list(requester, services.reader, {
        ...(query.from !== undefined ? { from: query.from } : {}),
        limit: query.limit ?? 50,
        ...(query.only !== undefined ? { only: query.only } : {}),
      }),
  }),

  /**
   * GET /_matrix/client/unstable/jp.machi/rooms/{roomId}/read_status/{eventId}
   *
   * Beyond the Matrix specification: which joined members have read an event (a public m.read
   * receipt at or after it in the main timeline) and which have not. Room moderators and server
   * admins only. Private receipts count as not read.
   */
  route()({
    method: 'GET',
    path: `${VENDOR_PREFIX}/rooms/:roomId/read_status/:eventId`,
    auth: 'accessToken',
    handler: async ({ params, requester, services }) =>
      services.receipts.readStatus(requester, params.roomId as string, params.eventId as string),
  }),
];
