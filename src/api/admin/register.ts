/**
 * Shared-secret registration for admin tools, compatible with the endpoint Synapse's
 * `register_new_matrix_user` calls. Present only when `registration.shared_secret` is set.
 */
import { unrecognized } from '../../errors.js';
import { route } from '../../http/route.js';
import type { Services } from '../../services/services.js';

interface SharedSecretBody {
  nonce: string;
  username: string;
  password: string;
  admin?: boolean;
  user_type?: string | null;
  displayname?: string;
  mac: string;
}

function requireSharedSecret(services: Services): void {
  if (!services.config.registration.shared_secret) {
    throw unrecognized('Shared secret registration is not enabled on this server');
  }
}

export const adminRegisterRoutes = [
  /** GET /_synapse/admin/v1/register: a nonce valid for 60 seconds. */
  route()({
    method: 'GET',
    path: '/_synapse/admin/v1/register',
    auth: 'none',
    handler: async ({ services, ip }) => {
      requireSharedSecret(services);
      services.limiter.take(`admin-register:${ip}`, services.config.rate_limits.login_per_address);
      return { nonce: await services.accounts.createRegistrationNonce() };
    },
  }),

  /** POST /_synapse/admin/v1/register: creates the account if the HMAC is right. */
  route<SharedSecretBody>()({
    method: 'POST',
    path: '/_synapse/admin/v1/register',
    auth: 'none',
    body: {
      type: 'object',
      required: ['nonce', 'username', 'password', 'mac'],
      properties: {
        nonce: { type: 'string' },
        username: { type: 'string', minLength: 1 },
        password: { type: 'string' },
        admin: { type: 'boolean' },
        user_type: { type: ['string', 'null'] },
        displayname: { type: 'string' },
        mac: { type: 'string', pattern: '^[0-9a-fA-F]+$' },
      },
    },
    handler: async ({ body, services, ip }) => {
      requireSharedSecret(services);
      services.limiter.take(`admin-register:${ip}`, services.config.rate_limits.login_per_address);
      const userId = await services.accounts.registerWithSharedSecret({
        nonce: body.nonce,
        username: body.username,
        password: body.password,
        admin: body.admin ?? false,
        userType: body.user_type ?? null,
        ...(body.displayname !== undefined ? { displayname: body.displayname } : {}),
        mac: body.mac,
      });
      const session = await services.sessions.createSession(userId, undefined, undefined);
      return {
        user_id: userId,
        access_token: session.accessToken,
        device_id: session.deviceId,
        home_server: services.config.server_name,
      };
    },
  }),
];
