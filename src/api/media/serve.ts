/** Turning a stored media file into a response: safe headers, disposition and byte ranges. */
import type { IncomingHttpHeaders } from 'node:http';
import { HttpResponse } from '../../http/route.js';
import {
  contentDisposition,
  isInlineSafe,
  parseRange,
  securityHeaders,
} from '../../media/headers.js';
import type { MediaStore } from '../../media/store.js';
import type { ServableFile } from '../../services/media.js';

/**
 * The response serving `file`: the whole file (200) or the single byte range asked for (206),
 * or 416 for a range past its end. `inline` only for types the spec deems safe to render; a
 * thumbnail is always one of those.
 */
export function serveFile(
  store: MediaStore,
  file: ServableFile,
  requestHeaders: IncomingHttpHeaders,
  fileName: string | null,
): HttpResponse {
  const headers: Record<string, string> = {
    ...securityHeaders(),
    'Content-Type': file.contentType,
    'Content-Disposition': contentDisposition(
      isInlineSafe(file.contentType) ? 'inline' : 'attachment',
      fileName,
    ),
    'Accept-Ranges': 'bytes',
    // The bytes behind a media id never change once uploaded.
    ETag: `"${file.sha256}"`,
  };
  const range = parseRange(requestHeaders.range, file.size);
  if (range === 'unsatisfiable') {
    return new HttpResponse(
      416,
      { errcode: 'M_UNKNOWN', error: 'Requested range not satisfiable' },
      { 'Content-Range': `bytes */${file.size}` },
    );
  }
  if (range === undefined || file.size === 0) {
    headers['Content-Length'] = String(file.size);
    return new HttpResponse(200, store.read(file.sha256), headers);
  }
  headers['Content-Range'] = `bytes ${range.start}-${range.end}/${file.size}`;
  headers['Content-Length'] = String(range.end - range.start + 1);
  return new HttpResponse(206, store.read(file.sha256, range), headers);
}
