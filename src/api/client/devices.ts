/** Device management (spec: client-server-api, Device Management). */
import { clientPaths, route } from '../../http/route.js';
import { authenticateWithPassword } from '../../services/auth-stages.js';
import type { AuthDict } from '../../services/uia.js';

const authSchema = {
  type: 'object',
  properties: { type: { type: 'string' }, session: { type: 'string' } },
};

export const deviceRoutes = [
  /**
   * GET /_matrix/client/v3/devices
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3devices
   */
  route()({
    method: 'GET',
    path: clientPaths('/devices'),
    auth: 'accessToken',
    handler: async ({ requester, services }) => ({
      devices: await services.devices.list(requester.userId),
    }),
  }),

  /**
   * GET /_matrix/client/v3/devices/{deviceId}
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3devicesdeviceid
   */
  route()({
    method: 'GET',
    path: clientPaths('/devices/:deviceId'),
    auth: 'accessToken',
    handler: async ({ requester, params, services }) =>
      services.devices.get(requester.userId, params.deviceId as string),
  }),

  /**
   * PUT /_matrix/client/v3/devices/{deviceId}
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3devicesdeviceid
   */
  route<{ display_name?: string | null }>()({
    method: 'PUT',
    path: clientPaths('/devices/:deviceId'),
    auth: 'accessToken',
    body: {
      type: 'object',
      properties: { display_name: { type: ['string', 'null'], maxLength: 255 } },
    },
    handler: async ({ requester, params, body, services }) => {
      if (body.display_name !== undefined) {
        await services.devices.rename(
          requester.userId,
          params.deviceId as string,
          body.display_name,
        );
      } else {
        await services.devices.get(requester.userId, params.deviceId as string);
      }
      return {};
    },
  }),

  /**
   * DELETE /_matrix/client/v3/devices/{deviceId}
   * https://spec.matrix.org/v1.16/client-server-api/#delete_matrixclientv3devicesdeviceid
   */
  route<{ auth?: AuthDict }>()({
    method: 'DELETE',
    path: clientPaths('/devices/:deviceId'),
    auth: 'accessToken',
    body: { type: 'object', properties: { auth: authSchema } },
    handler: async ({ requester, params, body, services, action }) => {
      // Deleting a device that is already gone succeeds (the spec's 200 covers "removed
      // previously"), after the same authentication.
      const deviceId = params.deviceId as string;
      await authenticateWithPassword(services, {
        action,
        requesterId: requester.userId,
        auth: body.auth,
      });
      await services.devices.delete(requester.userId, [deviceId]);
      return {};
    },
  }),

  /**
   * POST /_matrix/client/v3/delete_devices
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3delete_devices
   */
  route<{ devices: string[]; auth?: AuthDict }>()({
    method: 'POST',
    path: clientPaths('/delete_devices'),
    auth: 'accessToken',
    body: {
      type: 'object',
      required: ['devices'],
      properties: { devices: { type: 'array', items: { type: 'string' } }, auth: authSchema },
    },
    handler: async ({ requester, body, services, action }) => {
      await authenticateWithPassword(services, {
        action,
        requesterId: requester.userId,
        auth: body.auth,
      });
      await services.devices.delete(requester.userId, body.devices);
      return {};
    },
  }),
];
