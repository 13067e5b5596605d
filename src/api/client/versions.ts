/** Discovery: supported versions, .well-known, and capabilities. */
import { clientPaths, route } from '../../http/route.js';

/**
 * Versions of the Client-Server API this server speaks. A version is listed once the features
 * it introduced that clients depend on exist here.
 */
export const SUPPORTED_VERSIONS = [
  'r0.0.1',
  'r0.1.0',
  'r0.2.0',
  'r0.3.0',
  'r0.4.0',
  'r0.5.0',
  'r0.6.0',
  'r0.6.1',
  // v1.1: the v3 endpoint prefix; v1.2: registration tokens, the v1 prefix, space hierarchy;
  // v1.3: relations and their aggregations; v1.4: private and threaded read receipts.
  // Not yet: v1.6 needs timestamp_to_event, v1.10 relations with `recurse`, so v1.11's
  // authenticated media (served already under /_matrix/client/v1/media) cannot be advertised.
  'v1.1',
  'v1.2',
  'v1.3',
  'v1.4',
];

export const versionRoutes = [
  /**
   * GET /_matrix/client/versions
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientversions
   */
  route()({
    method: 'GET',
    path: '/_matrix/client/versions',
    auth: 'optionalAccessToken',
    handler: async () => ({ versions: SUPPORTED_VERSIONS, unstable_features: {} }),
  }),

  /**
   * GET /.well-known/matrix/client
   * https://spec.matrix.org/v1.16/client-server-api/#getwell-knownmatrixclient
   */
  route()({
    method: 'GET',
    path: '/.well-known/matrix/client',
    auth: 'none',
    handler: async ({ services, baseUrl }) => ({
      'm.homeserver': { base_url: services.config.public_baseurl ?? baseUrl },
    }),
  }),

  /**
   * GET /_matrix/client/v3/capabilities
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3capabilities
   */
  route()({
    method: 'GET',
    path: clientPaths('/capabilities'),
    auth: 'accessToken',
    handler: async () => ({
      capabilities: {
        'm.change_password': { enabled: true },
        'm.room_versions': { default: '11', available: { '11': 'stable' } },
        'm.set_displayname': { enabled: true },
        'm.set_avatar_url': { enabled: true },
        'm.3pid_changes': { enabled: false },
        'm.get_login_token': { enabled: false },
      },
    }),
  }),
];
