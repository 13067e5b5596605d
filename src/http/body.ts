/** Reading a request body as JSON, under a size limit. */
import type { IncomingMessage } from 'node:http';
import { MatrixError, tooLarge } from '../errors.js';

/** Reads the whole body, refusing with 413 M_TOO_LARGE past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(`Request body is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving a plain `for await` early destroys the request, and with it the keep-alive
  // connection's parser: the 413 would still be sent, but the client's next request on that
  // connection would hang. The rest of the body is discarded instead.
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw tooLarge(`Request body is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Parses a JSON body; an empty body is read as `{}` because many clients send none to endpoints
 * whose parameters are all optional.
 */
export function parseJsonBody(raw: Buffer): unknown {
  const text = raw.toString('utf8').trim();
  if (text.length === 0) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new MatrixError('M_NOT_JSON', 'Content not JSON');
  }
}
