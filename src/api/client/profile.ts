/** Profiles (spec: client-server-api, Profiles). */
import { notFound } from '../../errors.js';
import { clientPaths, route } from '../../http/route.js';

type Field = 'displayname' | 'avatar_url';

function fieldRoutes(field: Field) {
  return [
    /**
     * GET /_matrix/client/v3/profile/{userId}/displayname (and /avatar_url)
     * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3profileuseridkeyname
     */
    route()({
      method: 'GET',
      path: clientPaths(`/profile/:userId/${field}`),
      auth: 'optionalAccessToken',
      handler: async ({ params, services }) => {
        const profile = await services.profiles.get(params.userId as string);
        const value = profile[field];
        if (value === undefined) throw notFound(`No ${field} set for this user`);
        return { [field]: value };
      },
    }),

    /**
     * PUT /_matrix/client/v3/profile/{userId}/displayname (and /avatar_url)
     * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3profileuseridkeyname
     */
    route<Record<Field, string | null | undefined>>()({
      method: 'PUT',
      path: clientPaths(`/profile/:userId/${field}`),
      auth: 'accessToken',
      rateLimited: true,
      body: {
        type: 'object',
        required: [field],
        properties: { [field]: { type: ['string', 'null'] } },
      },
      handler: async ({ params, body, requester, services }) => {
        await services.profiles.set(
          requester.userId,
          params.userId as string,
          field,
          body[field] ?? null,
        );
        return {};
      },
    }),
  ];
}

export const profileRoutes = [
  /**
   * GET /_matrix/client/v3/profile/{userId}
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3profileuserid
   */
  route()({
    method: 'GET',
    path: clientPaths('/profile/:userId'),
    auth: 'optionalAccessToken',
    handler: async ({ params, services }) => services.profiles.get(params.userId as string),
  }),
  ...fieldRoutes('displayname'),
  ...fieldRoutes('avatar_url'),
];
