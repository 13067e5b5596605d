/**
 * Thumbnails of uploaded images, made with sharp (libvips): which size box serves a request, and
 * the rendering itself (spec: client-server-api, Thumbnails).
 * https://spec.matrix.org/v1.16/client-server-api/#thumbnails
 */
import type { ThumbnailSize } from '../config/config.js';
import { essenceOf } from './headers.js';

export type ThumbnailMethod = 'crop' | 'scale';

/**
 * Stored types the server makes thumbnails of. SVG is left out on purpose: rendering it means
 * running an XML renderer on untrusted input for little gain.
 */
const THUMBNAILABLE = new Set([
  'image/jpeg',
  'image/png',
  'image/apng',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/tiff',
  'image/heic',
  'image/heif',
]);

/** Sources with more pixels than this are refused (413) rather than decoded. */
export const MAX_SOURCE_PIXELS = 100_000_000;

/** A requested size larger than every configured one is generated up to this box. */
export const MAX_GENERATED_SIDE = 1600;

/** Whether the server makes thumbnails of stored files of this type. */
export function isThumbnailable(contentType: string): boolean {
  return THUMBNAILABLE.has(essenceOf(contentType));
}

/**
 * The size box that serves a request: the smallest configured size of the requested method that
 * is at least as large as the request in both dimensions, since a thumbnail must never be smaller
 * than asked for. A request larger than every configured size is generated as asked, with each
 * side capped at `MAX_GENERATED_SIDE`.
 */
export function chooseThumbnailSize(
  width: number,
  height: number,
  method: ThumbnailMethod,
  configured: readonly ThumbnailSize[],
): ThumbnailSize {
  const fitting = configured
    .filter((s) => s.method === method && s.width >= width && s.height >= height)
    .sort((a, b) => a.width * a.height - b.width * b.height);
  if (fitting[0]) return fitting[0];
  return {
    width: Math.min(width, MAX_GENERATED_SIDE),
    height: Math.min(height, MAX_GENERATED_SIDE),
    method,
  };
}

/** Why an image could not be thumbnailed. */
export class ThumbnailError extends Error {
  constructor(
    readonly kind: 'too_large' | 'unreadable',
    message: string,
  ) {
    super(message);
    this.name = 'ThumbnailError';
  }
}

export interface RenderedThumbnail {
  bytes: Buffer;
  contentType: string;
}

/**
 * Renders the thumbnail of the image at `path` for one size box. `scale` fits the image inside
 * the box keeping its aspect; `crop` fills the box exactly and cuts what overflows. Neither ever
 * enlarges: a source smaller than the box is cropped to the box's aspect at its own size (crop)
 * or kept at its size (scale). Animated sources keep their animation (as WebP) only when
 * `animated` is true; otherwise the first frame is used.
 */
export async function renderThumbnail(
  path: string,
  box: ThumbnailSize,
  animated: boolean,
): Promise<RenderedThumbnail> {
  // Loaded on first use: libvips is large, and most requests of a server never need it.
  const { default: sharp } = await import('sharp');
  const options = { limitInputPixels: MAX_SOURCE_PIXELS, autoOrient: true } as const;
  const meta = await sharp(path, options)
    .metadata()
    .catch((err: unknown) => {
      throw asThumbnailError(err);
    });
  const frames = meta.pages ?? 1;
  const animate = animated && frames > 1 && ['gif', 'webp', 'png'].includes(meta.format);
  const sourceWidth = meta.autoOrient.width;
  const sourceHeight = meta.pageHeight ?? meta.autoOrient.height;

  let image = sharp(path, { ...options, animated: animate });
  if (box.method === 'scale') {
    image = image.resize(box.width, box.height, { fit: 'inside', withoutEnlargement: true });
  } else {
    // Shrink the box to the source when the source is smaller, keeping the box's aspect.
    const k = Math.min(1, sourceWidth / box.width, sourceHeight / box.height);
    const width = Math.max(1, Math.floor(box.width * k));
    const height = Math.max(1, Math.floor(box.height * k));
    image = image.resize(width, height, { fit: 'cover', position: 'centre' });
  }
  try {
    if (animate) return { bytes: await image.webp().toBuffer(), contentType: 'image/webp' };
    if (meta.format === 'jpeg') {
      return { bytes: await image.jpeg({ quality: 80 }).toBuffer(), contentType: 'image/jpeg' };
    }
    return { bytes: await image.png().toBuffer(), contentType: 'image/png' };
  } catch (err) {
    throw asThumbnailError(err);
  }
}

function asThumbnailError(err: unknown): ThumbnailError {
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message)) return new ThumbnailError('too_large', message);
  return new ThumbnailError('unreadable', message);
}
