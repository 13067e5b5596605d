/** Room membership (spec: client-server-api, Room membership). */
import { clientPaths, route } from '../../http/route.js';
import { parseToken } from '../../services/stream-token.js';

const reasonSchema = { type: 'object', properties: { reason: { type: 'string' } } };
const targetSchema = {
  type: 'object',
  required: ['user_id'],
  properties: { user_id: { type: 'string' }, reason: { type: 'string' } },
};

type Target = { user_id: string; reason?: string };

/**
 * POST /_matrix/client/v3/rooms/{roomId}/kick, /ban and /unban: a moderator changes another
 * user's membership; the auth rules check the power levels.
 * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidkick
 * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidban
 * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidunban
 */
function moderationRoute(action: 'kick' | 'ban' | 'unban') {
  return route<Target>()({
    method: 'POST',
    path: clientPaths(`/rooms/:roomId/${action}`),
    auth: 'accessToken',
    body: targetSchema,
    handler: async ({ params, body, requester, services }) => {
      await services.membership[action](
        requester.userId,
        params.roomId as string,
        body.user_id,
        body.reason,
      );
      return {};
    },
  });
}

export const membershipRoutes = [
  /**
   * POST /_matrix/client/v3/join/{roomIdOrAlias}
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3joinroomidoralias
   *
   * Not implemented: joining rooms of other servers (server_name / via are ignored),
   * third_party_signed.
   */
  route<{ reason?: string }>()({
    method: 'POST',
    path: clientPaths('/join/:roomIdOrAlias'),
    auth: 'accessToken',
    rateLimited: true,
    body: reasonSchema,
    handler: async ({ params, body, requester, services }) => ({
      room_id: await services.membership.join(
        requester.userId,
        params.roomIdOrAlias as string,
        body.reason,
      ),
    }),
  }),

  /**
   * POST /_matrix/client/v3/rooms/{roomId}/join
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidjoin
   */
  route<{ reason?: string }>()({
    method: 'POST',
    path: clientPaths('/rooms/:roomId/join'),
    auth: 'accessToken',
    rateLimited: true,
    body: reasonSchema,
    handler: async ({ params, body, requester, services }) => ({
      room_id: await services.membership.join(
        requester.userId,
        params.roomId as string,
        body.reason,
      ),
    }),
  }),

  /**
   * POST /_matrix/client/v3/rooms/{roomId}/invite
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidinvite
   */
  route<Target>()({
    method: 'POST',
    path: clientPaths('/rooms/:roomId/invite'),
    auth: 'accessToken',
    rateLimited: true,
    body: targetSchema,
    handler: async ({ params, body, requester, services }) => {
      await services.membership.invite(requester.userId, params.roomId as string, body.user_id, {
        ...(body.reason !== undefined ? { reason: body.reason } : {}),
      });
      return {};
    },
  }),

  /**
   * POST /_matrix/client/v3/rooms/{roomId}/leave
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidleave
   */
  route<{ reason?: string }>()({
    method: 'POST',
    path: clientPaths('/rooms/:roomId/leave'),
    auth: 'accessToken',
    body: reasonSchema,
    handler: async ({ params, body, requester, services }) => {
      await services.membership.leave(requester.userId, params.roomId as string, body.reason);
      return {};
    },
  }),

  /**
   * POST /_matrix/client/v3/rooms/{roomId}/forget
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3roomsroomidforget
   */
  route()({
    method: 'POST',
    path: clientPaths('/rooms/:roomId/forget'),
    auth: 'accessToken',
    handler: async ({ params, requester, services }) => {
      await services.membership.forget(requester.userId, params.roomId as string);
      return {};
    },
  }),

  ...(['kick', 'ban', 'unban'] as const).map(moderationRoute),

  /**
   * GET /_matrix/client/v3/joined_rooms
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3joined_rooms
   */
  route()({
    method: 'GET',
    path: clientPaths('/joined_rooms'),
    auth: 'accessToken',
    handler: async ({ requester, services }) => ({
      joined_rooms: await services.membership.joinedRooms(requester.userId),
    }),
  }),

  /**
   * GET /_matrix/client/v3/rooms/{roomId}/members
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidmembers
   */
  route<Record<string, never>, { at?: string; membership?: string; not_membership?: string }>()({
    method: 'GET',
    path: clientPaths('/rooms/:roomId/members'),
    auth: 'accessToken',
    query: {
      type: 'object',
      properties: {
        at: { type: 'string' },
        membership: { enum: ['join', 'invite', 'knock', 'leave', 'ban'] },
        not_membership: { enum: ['join', 'invite', 'knock', 'leave', 'ban'] },
      },
    },
    handler: async ({ params, query, requester, services }) => ({
      chunk: await services.membership.members(requester.userId, params.roomId as string, {
        ...(query.at !== undefined ? { at: parseToken(query.at, 'at') } : {}),
        ...(query.membership !== undefined ? { membership: query.membership } : {}),
        ...(query.not_membership !== undefined ? { notMembership: query.not_membership } : {}),
      }),
    }),
  }),

  /**
   * GET /_matrix/client/v3/rooms/{roomId}/joined_members
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3roomsroomidjoined_members
   */
  route()({
    method: 'GET',
    path: clientPaths('/rooms/:roomId/joined_members'),
    auth: 'accessToken',
    handler: async ({ params, requester, services }) => ({
      joined: await services.membership.joinedMembers(requester.userId, params.roomId as string),
    }),
  }),
];
