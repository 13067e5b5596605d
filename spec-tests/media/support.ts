/** Helpers for the media tests: sample images made with sharp, raw uploads, store inspection. */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { TEST_TMP } from '../../test/support/database.js';
import type { TestServer } from '../support/server.js';

/** A fresh folder for a test server's media store. */
export function newStorePath(): string {
  return mkdtempSync(join(TEST_TMP, 'media-'));
}

/** A PNG of `width`×`height` with a diagonal gradient, so crops and scales differ. */
export async function samplePng(width: number, height: number, seed = 0): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = (x + seed) % 256;
      pixels[i + 1] = (y * 2) % 256;
      pixels[i + 2] = (x + y + seed * 7) % 256;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** The decoded pixels of an image, to compare images whatever their encoding. */
export async function pixelsOf(image: Buffer): Promise<Buffer> {
  return sharp(image).removeAlpha().raw().toBuffer();
}

/** Every file under `dir`, recursively (none when it does not exist). */
export function filesUnder(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

export interface RawResponse {
  status: number;
  headers: Headers;
  bytes: Buffer;
  /** The body parsed as JSON, when it is JSON. */
  json: any;
}

/** Sends a request and keeps the response body as bytes. */
export async function request(
  server: TestServer,
  method: string,
  path: string,
  options: { token?: string; body?: Buffer; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers,
    body: options.body,
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, bytes, json };
}

/** Uploads bytes with POST /_matrix/media/v3/upload and returns the media id. */
export async function upload(
  server: TestServer,
  token: string,
  body: Buffer,
  contentType: string,
  fileName?: string,
): Promise<string> {
  const query = fileName === undefined ? '' : `?filename=${encodeURIComponent(fileName)}`;
  const res = await request(server, 'POST', `/_matrix/media/v3/upload${query}`, {
    token,
    body,
    headers: { 'content-type': contentType },
  });
  if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${res.bytes}`);
  const uri = res.json.content_uri as string;
  const prefix = `mxc://${server.serverName}/`;
  if (!uri.startsWith(prefix)) throw new Error(`unexpected content_uri ${uri}`);
  return uri.slice(prefix.length);
}
