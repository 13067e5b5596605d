/** Password changes and deactivation (spec: client-server-api, Account management). */
import { clientPaths, route } from '../../http/route.js';
import { authenticateWithPassword } from '../../services/auth-stages.js';
import type { AuthDict } from '../../services/uia.js';

const authSchema = {
  type: 'object',
  properties: { type: { type: 'string' }, session: { type: 'string' } },
};

export const accountRoutes = [
  /**
   * POST /_matrix/client/v3/account/password
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3accountpassword
   */
  route<{ new_password: string; logout_devices?: boolean; auth?: AuthDict }>()({
    method: 'POST',
    path: clientPaths('/account/password'),
    auth: 'optionalAccessToken',
    body: {
      type: 'object',
      required: ['new_password'],
      properties: {
        new_password: { type: 'string' },
        logout_devices: { type: 'boolean' },
        auth: authSchema,
      },
    },
    handler: async ({ body, requester, services, action }) => {
      const userId = await authenticateWithPassword(services, {
        action,
        requesterId: requester?.userId ?? null,
        auth: body.auth,
      });
      await services.accounts.changePassword(
        userId,
        body.new_password,
        body.logout_devices ?? true,
        requester?.deviceId ?? null,
      );
      return {};
    },
  }),

  /**
   * POST /_matrix/client/v3/account/deactivate
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3accountdeactivate
   *
   * Not implemented: identity servers (there are none to unbind from), `erase`.
   */
  route<{ auth?: AuthDict; erase?: boolean }>()({
    method: 'POST',
    path: clientPaths('/account/deactivate'),
    auth: 'optionalAccessToken',
    body: {
      type: 'object',
      properties: { auth: authSchema, id_server: { type: 'string' }, erase: { type: 'boolean' } },
    },
    handler: async ({ body, requester, services, action }) => {
      const userId = await authenticateWithPassword(services, {
        action,
        requesterId: requester?.userId ?? null,
        auth: body.auth,
      });
      await services.accounts.deactivate(userId);
      // No third-party identifiers are ever bound here, and the spec asks for `success` when
      // there is nothing to unbind.
      return { id_server_unbind_result: 'success' };
    },
  }),
];
