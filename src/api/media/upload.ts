/** Uploading content (spec: client-server-api, Content repository). */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { route } from '../../http/route.js';
import type { Logger } from '../../log.js';
import type { UploadInput } from '../../services/media.js';

interface UploadQuery {
  filename?: string;
}

const uploadQuery = {
  type: 'object',
  properties: { filename: { type: 'string', maxLength: 255 } },
};

/** What an upload request says about its body. */
function uploadInput(
  body: Readable | undefined,
  headers: IncomingHttpHeaders,
  query: UploadQuery,
  log: Logger,
): UploadInput {
  const length = headers['content-length'];
  return {
    body: body as Readable,
    contentType: headers['content-type'],
    contentLength: length === undefined ? undefined : Number(length),
    fileName: query.filename,
    log,
  };
}

export const mediaUploadRoutes = [
  /**
   * POST /_matrix/media/v3/upload
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixmediav3upload
   *
   * The body streams to disk under `media.max_upload_size` (413 M_TOO_LARGE, at once when
   * Content-Length already says so) and then passes the sanitization pipeline. A file the
   * pipeline blocks is refused with 403 M_FORBIDDEN whose `error` gives the reason: the spec
   * names 403 for "the server does not permit the file type", and the reason tells the user what
   * to change.
   */
  route<Record<string, never>, UploadQuery>()({
    method: 'POST',
    path: ['/_matrix/media/v3/upload', '/_matrix/media/r0/upload'],
    auth: 'accessToken',
    rateLimited: true,
    rawBody: true,
    query: uploadQuery,
    handler: async ({ bodyStream, headers, query, requester, services, log }) => ({
      content_uri: await services.media.upload(
        requester,
        uploadInput(bodyStream, headers, query, log),
      ),
    }),
  }),

  /**
   * POST /_matrix/media/v1/create
   * https://spec.matrix.org/v1.16/client-server-api/#post_matrixmediav1create
   *
   * The id expires after `media.unused_id_lifetime_ms` unless uploaded; a user may hold at most
   * `media.max_pending_uploads` such ids (429 M_LIMIT_EXCEEDED beyond).
   */
  route()({
    method: 'POST',
    path: '/_matrix/media/v1/create',
    auth: 'accessToken',
    rateLimited: true,
    handler: async ({ requester, services }) => services.media.create(requester),
  }),

  /**
   * PUT /_matrix/media/v3/upload/{serverName}/{mediaId}
   * https://spec.matrix.org/v1.16/client-server-api/#put_matrixmediav3uploadservernamemediaid
   *
   * Only the creator of the id may upload (403 M_FORBIDDEN), once (409
   * M_CANNOT_OVERWRITE_MEDIA), before it expires (404 M_NOT_FOUND). Blocked files are refused as
   * for POST /upload.
   */
  route<Record<string, never>, UploadQuery>()({
    method: 'PUT',
    path: ['/_matrix/media/v3/upload/:serverName/:mediaId'],
    auth: 'accessToken',
    rateLimited: true,
    rawBody: true,
    query: uploadQuery,
    handler: async ({ bodyStream, headers, params, query, requester, services, log }) => {
      await services.media.uploadTo(
        requester,
        params.serverName as string,
        params.mediaId as string,
        uploadInput(bodyStream, headers, query, log),
      );
      return {};
    },
  }),
];
