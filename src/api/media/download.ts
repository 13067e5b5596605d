/**
 * Downloads, thumbnails and the repository's limits, on the authenticated `/client/v1/media`
 * paths and on the deprecated `/media/v3` (and r0) paths that older clients still use
 * (spec: client-server-api, Content repository).
 *
 * Access: any authenticated user may fetch any local media id, since the spec grants access to
 * whoever knows the `mxc://` URI. The deprecated paths need no token unless
 * `media.require_auth_for_legacy` is on.
 */
import { missingToken } from '../../errors.js';
import { route, type AuthKind, type HandlerInput } from '../../http/route.js';
import type { ThumbnailMethod } from '../../media/thumbnailer.js';
import { serveFile } from './serve.js';

interface DownloadQuery {
  timeout_ms?: number;
}

interface ThumbnailQuery extends DownloadQuery {
  width: number;
  height: number;
  method?: ThumbnailMethod;
  animated?: boolean;
}

const downloadQuery = {
  type: 'object',
  properties: {
    timeout_ms: { type: 'integer', minimum: 0 },
    allow_remote: { type: 'boolean' },
    allow_redirect: { type: 'boolean' },
  },
};

const thumbnailQuery = {
  type: 'object',
  required: ['width', 'height'],
  properties: {
    ...downloadQuery.properties,
    width: { type: 'integer', minimum: 1 },
    height: { type: 'integer', minimum: 1 },
    method: { enum: ['crop', 'scale'] },
    animated: { type: 'boolean' },
  },
};

const legacyPaths = (path: string) => [`/_matrix/media/v3${path}`, `/_matrix/media/r0${path}`];
const authedPaths = (path: string) => [`/_matrix/client/v1/media${path}`];

/** Refuses an anonymous request to a deprecated path when the configuration says so. */
function checkLegacyAccess(input: Input<unknown>): void {
  if (input.services.config.media.require_auth_for_legacy && !input.requester) {
    throw missingToken();
  }
}

type Input<Q> = HandlerInput<unknown, Q, AuthKind>;

async function download({ params, query, headers, services, signal }: Input<DownloadQuery>) {
  const file = await services.media.getFile(
    params.serverName as string,
    params.mediaId as string,
    query.timeout_ms,
    signal,
  );
  return serveFile(services.media.store, file, headers, params.fileName ?? file.fileName);
}

async function thumbnail({ params, query, headers, services, signal }: Input<ThumbnailQuery>) {
  const file = await services.media.getThumbnail(
    params.serverName as string,
    params.mediaId as string,
    {
      width: query.width,
      height: query.height,
      method: query.method ?? 'scale',
      animated: query.animated ?? false,
    },
    query.timeout_ms,
    signal,
  );
  return serveFile(services.media.store, file, headers, file.fileName);
}

export const mediaDownloadRoutes = [
  /**
   * GET /_matrix/client/v1/media/download/{serverName}/{mediaId}[/{fileName}]
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv1mediadownloadservernamemediaid
   *
   * Serves single byte ranges (206, 416). Not implemented:
   * - remote media (`allow_remote`): 404 for another server's media.
   */
  route<unknown, DownloadQuery>()({
    method: 'GET',
    path: [
      ...authedPaths('/download/:serverName/:mediaId'),
      ...authedPaths('/download/:serverName/:mediaId/:fileName'),
    ],
    auth: 'accessToken',
    query: downloadQuery,
    handler: download,
  }),

  /**
   * GET /_matrix/client/v1/media/thumbnail/{serverName}/{mediaId}
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv1mediathumbnailservernamemediaid
   *
   * Non-images get 400 M_UNKNOWN; images past the decoder's pixel limit 413 M_TOO_LARGE.
   */
  route<unknown, ThumbnailQuery>()({
    method: 'GET',
    path: authedPaths('/thumbnail/:serverName/:mediaId'),
    auth: 'accessToken',
    query: thumbnailQuery,
    handler: thumbnail,
  }),

  /**
   * GET /_matrix/client/v1/media/config
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv1mediaconfig
   */
  route()({
    method: 'GET',
    path: authedPaths('/config'),
    auth: 'accessToken',
    handler: async ({ services }) => services.media.limits(),
  }),

  /**
   * GET /_matrix/media/v3/download/{serverName}/{mediaId}[/{fileName}] (deprecated; and r0)
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixmediav3downloadservernamemediaid
   */
  route<unknown, DownloadQuery>()({
    method: 'GET',
    path: [
      ...legacyPaths('/download/:serverName/:mediaId'),
      ...legacyPaths('/download/:serverName/:mediaId/:fileName'),
    ],
    auth: 'optionalAccessToken',
    query: downloadQuery,
    handler: async (input) => {
      checkLegacyAccess(input);
      return download(input);
    },
  }),

  /**
   * GET /_matrix/media/v3/thumbnail/{serverName}/{mediaId} (deprecated; and r0)
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixmediav3thumbnailservernamemediaid
   */
  route<unknown, ThumbnailQuery>()({
    method: 'GET',
    path: legacyPaths('/thumbnail/:serverName/:mediaId'),
    auth: 'optionalAccessToken',
    query: thumbnailQuery,
    handler: async (input) => {
      checkLegacyAccess(input);
      return thumbnail(input);
    },
  }),

  /**
   * GET /_matrix/media/v3/config (deprecated; and r0)
   * https://spec.matrix.org/v1.16/client-server-api/#get_matrixmediav3config
   */
  route()({
    method: 'GET',
    path: legacyPaths('/config'),
    auth: 'optionalAccessToken',
    handler: async (input) => {
      checkLegacyAccess(input);
      return input.services.media.limits();
    },
  }),
];
