/** Account registration (spec: client-server-api, Account registration). */
import { MatrixError, forbidden } from '../../errors.js';
import { clientPaths, clientV1Path, route } from '../../http/route.js';
import { dummyStage, registrationTokenStage } from '../../services/auth-stages.js';
import { randomDeviceId } from '../../services/secrets.js';
import type { Services } from '../../services/services.js';
import type { AuthDict } from '../../services/uia.js';

interface RegisterBody {
  auth?: AuthDict;
  username?: string;
  password?: string;
  device_id?: string;
  initial_device_display_name?: string;
  inhibit_login?: boolean;
}

function requireRegistrationEnabled(services: Services): void {
  if (!services.config.registration.enabled) {
    throw forbidden('Registration has been disabled on this server');
  }
}

export const registerRoutes = [
  /**
   * POST /_matrix/client/v3/register
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3register
   *
   * Not implemented: guest accounts (kind=guest is refused), refresh tokens.
   */
  route<RegisterBody, { kind?: string }>()({
    method: 'POST',
    path: clientPaths('/register'),
    auth: 'none',
    query: { type: 'object', properties: { kind: { enum: ['user', 'guest'] } } },
    body: {
      type: 'object',
      properties: {
        auth: {
          type: 'object',
          properties: { type: { type: 'string' }, session: { type: 'string' } },
        },
        username: { type: 'string', minLength: 1 },
        password: { type: 'string' },
        device_id: { type: 'string', minLength: 1, maxLength: 255 },
        initial_device_display_name: { type: 'string', maxLength: 255 },
        inhibit_login: { type: 'boolean' },
        refresh_token: { type: 'boolean' },
      },
    },
    handler: async ({ body, query, services, ip, action }) => {
      if (query.kind === 'guest') throw forbidden('Guest access is disabled on this server');
      requireRegistrationEnabled(services);
      const { tokens } = services.config.registration;
      if (body.username !== undefined) {
        await services.accounts.checkUsernameAvailable(body.username);
      }
      // Refuse a request that would complete the last stage without a password before the
      // stage uses the session up, so that the client can simply send it again.
      if (body.auth?.type !== undefined && body.password === undefined) {
        throw new MatrixError('M_MISSING_PARAM', 'Missing parameter: password');
      }
      await services.uia.authenticate({
        action,
        userId: null,
        auth: body.auth,
        flows: tokens.length > 0 ? [['m.login.registration_token']] : [['m.login.dummy']],
        checkers: {
          'm.login.dummy': dummyStage,
          'm.login.registration_token': registrationTokenStage(services),
        },
      });
      if (body.password === undefined) {
        throw new MatrixError('M_MISSING_PARAM', 'Missing parameter: password');
      }
      services.limiter.take(`register:${ip}`, services.config.rate_limits.registration_per_address);
      const localpart = body.username ?? `u${randomDeviceId(8).toLowerCase()}`;
      const userId = await services.accounts.createAccount({ localpart, password: body.password });
      if (body.inhibit_login) return { user_id: userId, home_server: services.config.server_name };
      const session = await services.sessions.createSession(
        userId,
        body.device_id,
        body.initial_device_display_name,
      );
      return {
        user_id: userId,
        access_token: session.accessToken,
        device_id: session.deviceId,
        home_server: services.config.server_name,
      };
    },
  }),

  /**
   * GET /_matrix/client/v3/register/available
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3registeravailable
   */
  route<Record<string, never>, { username: string }>()({
    method: 'GET',
    path: clientPaths('/register/available'),
    auth: 'none',
    query: {
      type: 'object',
      required: ['username'],
      properties: { username: { type: 'string' } },
    },
    handler: async ({ query, services, ip }) => {
      requireRegistrationEnabled(services);
      services.limiter.take(`available:${ip}`, services.config.rate_limits.login_per_address);
      await services.accounts.checkUsernameAvailable(query.username);
      return { available: true };
    },
  }),

  /**
   * GET /_matrix/client/v1/register/m.login.registration_token/validity
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv1registermloginregistration_tokenvalidity
   */
  route<Record<string, never>, { token: string }>()({
    method: 'GET',
    path: clientV1Path('/register/m.login.registration_token/validity'),
    auth: 'none',
    query: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } },
    handler: async ({ query, services, ip }) => {
      requireRegistrationEnabled(services);
      services.limiter.take(`token-validity:${ip}`, services.config.rate_limits.login_per_address);
      return { valid: services.config.registration.tokens.includes(query.token) };
    },
  }),
];
