/**
 * The content repository over HTTP: uploads (direct and create-then-upload), downloads on the
 * authenticated and the deprecated paths, headers, ranges, thumbnails and the size limit.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, startTestServer, type TestServer, type TestUser } from '../support/server.js';
import { filesUnder, newStorePath, pixelsOf, request, samplePng, upload } from './support.js';

const MAX_UPLOAD = 3 * 1024 * 1024;

let server: TestServer;
let storePath: string;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  storePath = newStorePath();
  server = await startTestServer({
    media: { store_path: storePath, max_upload_size: MAX_UPLOAD },
  });
  [alice, bob] = await Promise.all([createUser(server, 'alice'), createUser(server, 'bob')]);
});
afterAll(() => server?.stop());

const authed = (id: string) => `/_matrix/client/v1/media/download/hs1.test/${id}`;
const contentFiles = () => filesUnder(join(storePath, 'content'));
const tempFiles = () => filesUnder(join(storePath, 'tmp'));

describe('POST /_matrix/media/v3/upload and GET .../download', () => {
  it('serves an uploaded PNG on both path families, the authenticated one only with a token', async () => {
    const png = await samplePng(40, 30);
    const id = await upload(server, alice.accessToken, png, 'image/png', 'photo.png');

    const withToken = await request(server, 'GET', authed(id), { token: bob.accessToken });
    expect(withToken.status).toBe(200);
    expect(withToken.headers.get('content-type')).toBe('image/png');
    expect(withToken.headers.get('content-disposition')).toBe('inline; filename="photo.png"');
    expect(await pixelsOf(withToken.bytes)).toEqual(await pixelsOf(png));

    const anonymous = await request(server, 'GET', authed(id));
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.errcode).toBe('M_MISSING_TOKEN');

    for (const version of ['v3', 'r0']) {
      const legacy = await request(
        server,
        'GET',
        `/_matrix/media/${version}/download/hs1.test/${id}`,
      );
      expect(legacy.status).toBe(200);
      expect(legacy.bytes).toEqual(withToken.bytes);
    }
  });

  it('sends nosniff, a sandboxing Content-Security-Policy and cross-origin CORP', async () => {
    const id = await upload(server, alice.accessToken, Buffer.from('hello'), 'text/plain');
    const res = await request(server, 'GET', authed(id), { token: alice.accessToken });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain('sandbox');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
  });

  it('round-trips a Japanese file name with filename*=UTF-8 and an ASCII fallback', async () => {
    const name = '会議資料.pdf';
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const id = await upload(server, alice.accessToken, pdf, 'application/pdf', name);
    const res = await request(server, 'GET', authed(id), { token: alice.accessToken });
    expect(res.status).toBe(200);
    const disposition = res.headers.get('content-disposition') ?? '';
    expect(disposition.startsWith('attachment;')).toBe(true);
    expect(disposition).toContain(`filename*=UTF-8''${encodeURIComponent(name)}`);
    expect(disposition).toMatch(/filename="[\x20-\x7e]*\.pdf"/);
    const encoded = /filename\*=UTF-8''([^;]+)/.exec(disposition)?.[1] ?? '';
    expect(decodeURIComponent(encoded)).toBe(name);

    // The path form names the file itself.
    const renamed = await request(
      server,
      'GET',
      `${authed(id)}/${encodeURIComponent('写真.png')}`,
      {
        token: alice.accessToken,
      },
    );
    expect(renamed.headers.get('content-disposition')).toContain(
      `filename*=UTF-8''${encodeURIComponent('写真.png')}`,
    );
  });

  it('stores the same bytes once however often they are uploaded', async () => {
    const bytes = Buffer.from(`same bytes ${Date.now()}`);
    const before = contentFiles().length;
    const first = await upload(server, alice.accessToken, bytes, 'application/octet-stream');
    const second = await upload(server, bob.accessToken, bytes, 'application/octet-stream');
    expect(first).not.toBe(second);
    expect(contentFiles().length).toBe(before + 1);
    const res = await request(server, 'GET', authed(second), { token: alice.accessToken });
    expect(res.bytes).toEqual(bytes);
  });

  it('refuses an upload over the limit with 413 and keeps nothing of it', async () => {
    const before = contentFiles().length;
    const big = Buffer.alloc(MAX_UPLOAD + 1, 7);
    const declared = await request(server, 'POST', '/_matrix/media/v3/upload', {
      token: alice.accessToken,
      body: big,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(declared.status).toBe(413);
    expect(declared.json.errcode).toBe('M_TOO_LARGE');

    // Without Content-Length the limit is enforced while the body streams in.
    const chunks = [
      Buffer.alloc(MAX_UPLOAD / 2, 1),
      Buffer.alloc(MAX_UPLOAD / 2, 2),
      Buffer.alloc(10, 3),
    ];
    const streamed = await fetch(`${server.baseUrl}/_matrix/media/v3/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.accessToken}` },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { errcode: string }).errcode).toBe('M_TOO_LARGE');

    expect(contentFiles().length).toBe(before);
    expect(tempFiles()).toEqual([]);
  });

  it('serves a byte range with 206 and refuses one past the end with 416', async () => {
    const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    const id = await upload(server, alice.accessToken, bytes, 'application/octet-stream');
    const part = await request(server, 'GET', authed(id), {
      token: alice.accessToken,
      headers: { range: 'bytes=10-19' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 10-19/100');
    expect(part.bytes).toEqual(bytes.subarray(10, 20));

    const tail = await request(server, 'GET', authed(id), {
      token: alice.accessToken,
      headers: { range: 'bytes=-5' },
    });
    expect(tail.status).toBe(206);
    expect(tail.bytes).toEqual(bytes.subarray(95));

    const beyond = await request(server, 'GET', authed(id), {
      token: alice.accessToken,
      headers: { range: 'bytes=100-' },
    });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */100');
  });

  it('answers 404 M_NOT_FOUND for unknown and remote media', async () => {
    for (const path of [
      authed('doesNotExist'),
      '/_matrix/client/v1/media/download/other.test/abc',
    ]) {
      const res = await request(server, 'GET', path, { token: alice.accessToken });
      expect(res.status).toBe(404);
      expect(res.json.errcode).toBe('M_NOT_FOUND');
    }
  });
});

describe('GET /_matrix/client/v1/media/config', () => {
  it('gives m.upload.size on the authenticated and the deprecated path', async () => {
    const res = await request(server, 'GET', '/_matrix/client/v1/media/config', {
      token: alice.accessToken,
    });
    expect(res.status).toBe(200);
    expect(res.json['m.upload.size']).toBe(MAX_UPLOAD);
    expect((await request(server, 'GET', '/_matrix/client/v1/media/config')).status).toBe(401);
    const legacy = await request(server, 'GET', '/_matrix/media/v3/config');
    expect(legacy.json['m.upload.size']).toBe(MAX_UPLOAD);
  });
});

describe('POST /_matrix/media/v1/create and PUT /_matrix/media/v3/upload/{serverName}/{mediaId}', () => {
  async function create(token: string): Promise<{ id: string; expiresAt: number }> {
    const res = await request(server, 'POST', '/_matrix/media/v1/create', { token });
    expect(res.status).toBe(200);
    return {
      id: (res.json.content_uri as string).replace('mxc://hs1.test/', ''),
      expiresAt: res.json.unused_expires_at,
    };
  }
  const put = (id: string, token: string, body: Buffer) =>
    request(server, 'PUT', `/_matrix/media/v3/upload/hs1.test/${id}?filename=later.txt`, {
      token,
      body,
      headers: { 'content-type': 'text/plain' },
    });

  it('uploads later, only by the creator, and only once', async () => {
    const { id, expiresAt } = await create(alice.accessToken);
    expect(expiresAt).toBeGreaterThan(Date.now());

    const early = await request(server, 'GET', `${authed(id)}?timeout_ms=100`, {
      token: alice.accessToken,
    });
    expect(early.status).toBe(504);
    expect(early.json.errcode).toBe('M_NOT_YET_UPLOADED');

    const byBob = await put(id, bob.accessToken, Buffer.from('not yours'));
    expect(byBob.status).toBe(403);
    expect(byBob.json.errcode).toBe('M_FORBIDDEN');

    const first = await put(id, alice.accessToken, Buffer.from('uploaded later'));
    expect(first.status).toBe(200);
    expect(first.json).toEqual({});

    const second = await put(id, alice.accessToken, Buffer.from('again'));
    expect(second.status).toBe(409);
    expect(second.json.errcode).toBe('M_CANNOT_OVERWRITE_MEDIA');

    const res = await request(server, 'GET', authed(id), { token: bob.accessToken });
    expect(res.status).toBe(200);
    expect(res.bytes.toString()).toBe('uploaded later');
    expect(res.headers.get('content-disposition')).toBe('inline; filename="later.txt"');
  });

  it('lets a download wait for an upload that arrives within timeout_ms', async () => {
    const { id } = await create(alice.accessToken);
    const waiting = request(server, 'GET', `${authed(id)}?timeout_ms=10000`, {
      token: bob.accessToken,
    });
    await new Promise((done) => setTimeout(done, 300));
    expect((await put(id, alice.accessToken, Buffer.from('worth the wait'))).status).toBe(200);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.bytes.toString()).toBe('worth the wait');
  });

  it('refuses a PUT to an id that was never created', async () => {
    const res = await put('neverCreated', alice.accessToken, Buffer.from('x'));
    expect(res.status).toBe(404);
    expect(res.json.errcode).toBe('M_NOT_FOUND');
  });
});

describe('GET /_matrix/client/v1/media/thumbnail/{serverName}/{mediaId}', () => {
  let imageId: string;
  beforeAll(async () => {
    imageId = await upload(server, alice.accessToken, await samplePng(1000, 800), 'image/png');
  });
  const thumbnail = (query: string, token: string | null = alice.accessToken) =>
    request(server, 'GET', `/_matrix/client/v1/media/thumbnail/hs1.test/${imageId}?${query}`, {
      ...(token ? { token } : {}),
    });

  it.each([
    ['width=96&height=96&method=crop', 96, 96],
    ['width=32&height=32&method=crop', 32, 32],
    ['width=50&height=50&method=crop', 96, 96],
    ['width=320&height=240&method=scale', 300, 240],
    ['width=640&height=480', 600, 480],
  ])('makes %s as %ix%i', async (query, width, height) => {
    const res = await thumbnail(query);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toMatch(/^inline; filename="thumbnail\.png"$/);
    const meta = await sharp(res.bytes).metadata();
    expect([meta.width, meta.height]).toEqual([width, height]);
  });

  it('generates a thumbnail once and serves the cached one after', async () => {
    const before = contentFiles().length;
    const first = await thumbnail('width=800&height=600&method=scale');
    const afterFirst = contentFiles().length;
    const second = await thumbnail('width=800&height=600&method=scale');
    expect(first.bytes).toEqual(second.bytes);
    expect(afterFirst).toBe(before + 1);
    expect(contentFiles().length).toBe(afterFirst);
  });

  it('never enlarges a small image', async () => {
    const small = await upload(server, alice.accessToken, await samplePng(20, 10), 'image/png');
    const res = await request(
      server,
      'GET',
      `/_matrix/client/v1/media/thumbnail/hs1.test/${small}?width=96&height=96&method=crop`,
      { token: alice.accessToken },
    );
    const meta = await sharp(res.bytes).metadata();
    expect([meta.width, meta.height]).toEqual([10, 10]);
  });

  it('serves the deprecated path without a token and the new one only with one', async () => {
    const legacy = await request(
      server,
      'GET',
      `/_matrix/media/v3/thumbnail/hs1.test/${imageId}?width=96&height=96&method=crop`,
    );
    expect(legacy.status).toBe(200);
    expect((await thumbnail('width=96&height=96', null)).status).toBe(401);
  });

  it('refuses non-images with 400 M_UNKNOWN and unknown ids with 404', async () => {
    const text = await upload(server, alice.accessToken, Buffer.from('just text'), 'text/plain');
    const res = await request(
      server,
      'GET',
      `/_matrix/client/v1/media/thumbnail/hs1.test/${text}?width=96&height=96`,
      { token: alice.accessToken },
    );
    expect(res.status).toBe(400);
    expect(res.json.errcode).toBe('M_UNKNOWN');
    const missing = await request(
      server,
      'GET',
      '/_matrix/client/v1/media/thumbnail/hs1.test/nothingHere?width=96&height=96',
      { token: alice.accessToken },
    );
    expect(missing.status).toBe(404);
  });

  it('keeps an animation only when animated=true asks for it', async () => {
    const frames = await Promise.all([samplePng(64, 48, 0), samplePng(64, 48, 90)]);
    const raw = await Promise.all(frames.map((f) => sharp(f).raw().toBuffer()));
    const gif = await sharp(Buffer.concat(raw), {
      raw: { width: 64, height: 96, channels: 3, pageHeight: 48 },
    } as Parameters<typeof sharp>[1])
      .gif({ delay: [100, 100], loop: 0 })
      .toBuffer();
    const id = await upload(server, alice.accessToken, gif, 'image/gif');
    const path = `/_matrix/client/v1/media/thumbnail/hs1.test/${id}?width=32&height=32&method=crop`;
    const still = await request(server, 'GET', path, { token: alice.accessToken });
    expect(still.status).toBe(200);
    expect((await sharp(still.bytes).metadata()).pages ?? 1).toBe(1);
    const moving = await request(server, 'GET', `${path}&animated=true`, {
      token: alice.accessToken,
    });
    expect(moving.status).toBe(200);
    expect(moving.headers.get('content-type')).toBe('image/webp');
    expect((await sharp(moving.bytes, { animated: true }).metadata()).pages).toBe(2);
  });
});

describe('media.require_auth_for_legacy', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer({
      media: { store_path: newStorePath(), require_auth_for_legacy: true },
    });
  });
  afterAll(() => strict?.stop());

  it('makes the deprecated paths ask for a token', async () => {
    const carol = await createUser(strict, 'carol');
    const id = await upload(strict, carol.accessToken, Buffer.from('x'), 'text/plain');
    const path = `/_matrix/media/v3/download/hs1.test/${id}`;
    const anonymous = await request(strict, 'GET', path);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.errcode).toBe('M_MISSING_TOKEN');
    expect((await request(strict, 'GET', path, { token: carol.accessToken })).status).toBe(200);
  });
});
