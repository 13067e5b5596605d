/**
 * The headers media is served with: a disposition that lets browsers render only harmless types,
 * file names that survive any language, and policies that keep served files from running code.
 */

/**
 * Types served `inline`: the spec's list of types unlikely to cause cross-site scripting (spec:
 * client-server-api, Serving inline content). Everything else, SVG, HTML and PDF included, is
 * served as `attachment`, so a browser saves it instead of rendering it in the server's origin.
 * https://spec.matrix.org/v1.16/client-server-api/#serving-inline-content
 */
const INLINE_TYPES = new Set([
  'text/css',
  'text/plain',
  'text/csv',
  'application/json',
  'application/ld+json',
  'image/jpeg',
  'image/gif',
  'image/png',
  'image/apng',
  'image/webp',
  'image/avif',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'video/quicktime',
  'audio/mp4',
  'audio/webm',
  'audio/aac',
  'audio/mpeg',
  'audio/ogg',
  'audio/wave',
  'audio/wav',
  'audio/x-wav',
  'audio/x-pn-wav',
  'audio/flac',
  'audio/x-flac',
]);

/**
 * The policy the spec recommends for served media, plus `media-src 'self'` so that audio and
 * video can play when opened directly.
 */
export const MEDIA_CSP =
  "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; " +
  "style-src 'unsafe-inline'; media-src 'self'; object-src 'self';";

/** Headers sent with every file and thumbnail. */
export function securityHeaders(): Record<string, string> {
  return {
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': MEDIA_CSP,
    'Cross-Origin-Resource-Policy': 'cross-origin',
  };
}

/** The media type without parameters, lower-cased: `Text/Plain; charset=x` → `text/plain`. */
export function essenceOf(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Whether a file of this type may be served `inline`. */
export function isInlineSafe(contentType: string): boolean {
  return INLINE_TYPES.has(essenceOf(contentType));
}

// RFC 5987 attr-char: everything else in a UTF-8 file name is percent-encoded.
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

function encodeRfc5987(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    out +=
      byte < 0x80 && ATTR_CHAR.test(char)
        ? char
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * A `Content-Disposition` value (RFC 6266): `inline` or `attachment`, the file name as a quoted
 * ASCII fallback for old user agents, and, when the name is not plain ASCII, the exact name as
 * `filename*=UTF-8''…` (RFC 5987), which current browsers prefer. `会議資料.pdf` gives
 * `attachment; filename="____.pdf"; filename*=UTF-8''%E4%BC%9A%E8%AD%B0%E8%B3%87%E6%96%99.pdf`.
 */
export function contentDisposition(
  kind: 'inline' | 'attachment',
  fileName: string | null | undefined,
): string {
  // Control characters could split the header; they never belong in a file name.
  const name = (fileName ?? '').replace(/[\u0000-\u001f\u007f]/g, '');
  if (name.length === 0) return kind;
  const ascii = name.replace(/[^\u0020-\u007e]/g, '_').replace(/["\\]/g, '\\$&');
  const plain = /^[\u0020-\u007e]*$/.test(name);
  return plain
    ? `${kind}; filename="${ascii}"`
    : `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeRfc5987(name)}`;
}

/** An inclusive byte range of a file. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Reads a `Range` header against a file of `size` bytes (RFC 9110, section 14): a single
 * `bytes=` range gives that range; a header this server does not serve ranges for (another unit,
 * several ranges, a malformed value) gives `undefined`, meaning the whole file; a well-formed
 * range beyond the end gives `'unsatisfiable'`.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // A suffix range: the last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
