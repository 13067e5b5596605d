/** Typing notifications (spec: client-server-api, Typing Notifications). */
import { clientPaths, route } from '../../http/route.js';

export const typingRoutes = [
  /**
   * PUT /_matrix/client/v3/rooms/{roomId}/typing/{userId}
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3roomsroomidtypinguserid
   *
   * The timeout is capped at 30 seconds (30 seconds when absent); the server ends the typing
   * itself when it runs out.
   */
  route<{ typing: boolean; timeout?: number }>()({
    method: 'PUT',
    path: clientPaths('/rooms/:roomId/typing/:userId'),
    auth: 'accessToken',
    rateLimited: true,
    body: {
      type: 'object',
      properties: {
        typing: { type: 'boolean' },
        timeout: { type: 'integer', minimum: 0 },
      },
      required: ['typing'],
    },
    handler: async ({ params, body, requester, services }) => {
      await services.typing.setTyping(
        requester.userId,
        params.roomId as string,
        params.userId as string,
        body.typing,
        body.timeout,
      );
      return {};
    },
  }),
];
