/** Room creation and upgrades (spec: client-server-api, Creation; Room Upgrades). */
import { clientPaths, route } from '../../http/route.js';
import type { CreateRoomRequest } from '../../services/rooms.js';

const stateEventSchema = {
  type: 'object',
  required: ['type', 'content'],
  properties: {
    type: { type: 'string', minLength: 1 },
    state_key: { type: 'string' },
    content: { type: 'object' },
  },
};

export const roomRoutes = [
  /**
   * POST /_matrix/client/v3/createRoom
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3createroom
   *
   * Not implemented: invite_3pid (third-party invites).
   */
  route<CreateRoomRequest>()({
    method: 'POST',
    path: clientPaths('/createRoom'),
    auth: 'accessToken',
    rateLimited: true,
    body: {
      type: 'object',
      properties: {
        visibility: { enum: ['public', 'private'] },
        room_alias_name: { type: 'string', minLength: 1, maxLength: 200 },
        name: { type: 'string', maxLength: 1000 },
        topic: { type: 'string', maxLength: 10000 },
        invite: { type: 'array', items: { type: 'string' }, maxItems: 1000 },
        room_version: { type: 'string' },
        creation_content: { type: 'object' },
        initial_state: { type: 'array', items: stateEventSchema, maxItems: 100 },
        preset: { enum: ['private_chat', 'public_chat', 'trusted_private_chat'] },
        is_direct: { type: 'boolean' },
        power_level_content_override: { type: 'object' },
      },
    },
    handler: async ({ body, requester, services }) => ({
      room_id: await services.rooms.createRoom(requester.userId, body),
    }),
  }),

  /**
   * POST /_matrix/client/v3/rooms/{roomId}/upgrade
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidupgrade
   */
  route<{ new_version: string }>()({
    method: 'POST',
    path: clientPaths('/rooms/:roomId/upgrade'),
    auth: 'accessToken',
    body: {
      type: 'object',
      required: ['new_version'],
      properties: { new_version: { type: 'string' } },
    },
    handler: async ({ body, params, requester, services }) => ({
      replacement_room: await services.rooms.upgradeRoom(
        requester.userId,
        params.roomId as string,
        body.new_version,
      ),
    }),
  }),
];
