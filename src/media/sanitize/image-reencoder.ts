/**
 * Re-encodes images with sharp. Decoding to pixels and encoding again keeps the picture and
 * nothing else: metadata (EXIF, GPS, XMP, comments), data after the image's end and any second
 * format hidden in the file are gone, and the EXIF orientation is applied to the pixels.
 */

import sharp from 'sharp';
import type { Metadata, Sharp } from 'sharp';

/** The outcome of {@link reencodeImage}. */
export type ImageOutcome =
  | { outcome: 'reencoded'; contentType: string; changes: string[] }
  | { outcome: 'refused'; reason: string };

/** Formats that may hold several frames; their animation is kept. */
const ANIMATED_TYPES = new Set(['image/gif', 'image/webp']);

function encoder(image: Sharp, type: string): { image: Sharp; contentType: string } {
  switch (type) {
    case 'image/jpeg':
      return { image: image.jpeg({ quality: 90 }), contentType: 'image/jpeg' };
    case 'image/webp':
      return { image: image.webp({ quality: 90 }), contentType: 'image/webp' };
    case 'image/gif':
      return { image: image.gif(), contentType: 'image/gif' };
    case 'image/avif':
      return { image: image.avif(), contentType: 'image/avif' };
    case 'image/heic':
      // sharp's bundled libheif reads AVIF only; when it can read HEIC, JPEG is the output that
      // every client shows.
      return { image: image.jpeg({ quality: 90 }), contentType: 'image/jpeg' };
    default:
      // PNG, TIFF and SVG renderings all end up as PNG.
      return { image: image.png(), contentType: 'image/png' };
  }
}

/**
 * Re-encodes the image at `input` (of detected type `type`, or SVG markup) into `output`.
 * Metadata is not copied; the orientation is applied; animated GIF and WebP keep their frames.
 */
export async function reencodeImage(
  input: string | Buffer,
  type: string,
  output: string,
): Promise<ImageOutcome> {
  const animated = ANIMATED_TYPES.has(type);
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { animated }).metadata();
  } catch {
    return { outcome: 'refused', reason: `image cannot be decoded (${type})` };
  }
  const changes: string[] = [];
  if (type === 'image/svg+xml') {
    changes.push('converted the SVG image to PNG');
  } else {
    changes.push('re-encoded the image, dropping anything outside its pixels');
  }
  if (metadata.exif) changes.push('removed EXIF metadata (including any location)');
  if (metadata.xmp) changes.push('removed XMP metadata');
  if (metadata.iptc) changes.push('removed IPTC metadata');
  if ((metadata.orientation ?? 1) > 1) changes.push('rotated the image upright');

  try {
    const { image, contentType } = encoder(sharp(input, { animated, autoOrient: true }), type);
    if (contentType !== type && type !== 'image/svg+xml') {
      changes.push(`converted the image from ${type} to ${contentType}`);
    }
    await image.toFile(output);
    return { outcome: 'reencoded', contentType, changes };
  } catch {
    return { outcome: 'refused', reason: `image cannot be re-encoded (${type})` };
  }
}
