/** Login, logout and whoami (spec: client-server-api, Login; Account management). */
import { MatrixError } from '../../errors.js';
import { clientPaths, route } from '../../http/route.js';
import type { LoginIdentifier } from '../../services/sessions.js';

interface LoginBody extends LoginIdentifier {
  type: string;
  password?: string;
  device_id?: string;
  initial_device_display_name?: string;
}

const identifierSchema = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string' }, user: { type: 'string' } },
};

export const loginRoutes = [
  /**
   * GET /_matrix/client/v3/login
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3login
   */
  route()({
    method: 'GET',
    path: clientPaths('/login'),
    auth: 'none',
    handler: async () => ({ flows: [{ type: 'm.login.password' }] }),
  }),

  /**
   * POST /_matrix/client/v3/login
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3login
   *
   * Not implemented: m.login.token, SSO and refresh tokens; third-party identifiers.
   */
  route<LoginBody>()({
    method: 'POST',
    path: clientPaths('/login'),
    auth: 'none',
    body: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { type: 'string' },
        identifier: identifierSchema,
        user: { type: 'string' },
        password: { type: 'string' },
        device_id: { type: 'string', minLength: 1, maxLength: 255 },
        initial_device_display_name: { type: 'string', maxLength: 255 },
        refresh_token: { type: 'boolean' },
      },
    },
    handler: async ({ body, services, ip, baseUrl }) => {
      if (body.type !== 'm.login.password') {
        throw new MatrixError('M_UNKNOWN', `Unknown login type ${body.type}`, { status: 400 });
      }
      if (body.password === undefined) {
        throw new MatrixError('M_MISSING_PARAM', 'Missing parameter: password');
      }
      const session = await services.sessions.loginWithPassword({
        login: body,
        password: body.password,
        deviceId: body.device_id,
        initialDeviceDisplayName: body.initial_device_display_name,
        ip,
      });
      return {
        user_id: session.userId,
        access_token: session.accessToken,
        device_id: session.deviceId,
        home_server: services.config.server_name,
        well_known: {
          'm.homeserver': { base_url: services.config.public_baseurl ?? baseUrl },
        },
      };
    },
  }),

  /**
   * POST /_matrix/client/v3/logout
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3logout
   */
  route()({
    method: 'POST',
    path: clientPaths('/logout'),
    auth: 'accessToken',
    handler: async ({ requester, services }) => {
      await services.sessions.logout(requester);
      return {};
    },
  }),

  /**
   * POST /_matrix/client/v3/logout/all
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3logoutall
   */
  route()({
    method: 'POST',
    path: clientPaths('/logout/all'),
    auth: 'accessToken',
    handler: async ({ requester, services }) => {
      await services.sessions.logoutAll(requester.userId);
      return {};
    },
  }),

  /**
   * GET /_matrix/client/v3/account/whoami
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3accountwhoami
   */
  route()({
    method: 'GET',
    path: clientPaths('/account/whoami'),
    auth: 'accessToken',
    handler: async ({ requester }) => ({
      user_id: requester.userId,
      device_id: requester.deviceId,
      is_guest: false,
    }),
  }),
];
