/**
 * Uploads go through the sanitization pipeline before anyone can download them: a blocked file
 * gets a Matrix error and leaves nothing on disk; a photo loses its location metadata.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, startTestServer, type TestServer, type TestUser } from '../support/server.js';
import { filesUnder, newStorePath, request, upload } from './support.js';

let server: TestServer;
let storePath: string;
let alice: TestUser;

beforeAll(async () => {
  storePath = newStorePath();
  server = await startTestServer({ media: { store_path: storePath } });
  alice = await createUser(server, 'alice');
});
afterAll(() => server?.stop());

const stored = () => filesUnder(join(storePath, 'content')).length;
const temporary = () => filesUnder(join(storePath, 'tmp')).length;

describe('POST /_matrix/media/v3/upload of a dangerous file', () => {
  it('refuses a Windows program named .pdf with 403 M_FORBIDDEN and keeps nothing', async () => {
    const before = stored();
    // The start of a PE executable: "MZ", padding, and the PE signature at the offset in 0x3c.
    const exe = Buffer.alloc(512);
    exe.write('MZ', 0, 'latin1');
    exe.writeUInt32LE(0x80, 0x3c);
    exe.write('PE\0\0', 0x80, 'latin1');
    const res = await request(server, 'POST', '/_matrix/media/v3/upload?filename=invoice.pdf', {
      token: alice.accessToken,
      body: exe,
      headers: { 'content-type': 'application/pdf' },
    });
    expect(res.status).toBe(403);
    expect(res.json.errcode).toBe('M_FORBIDDEN');
    expect(String(res.json.error)).toMatch(/refused/i);
    expect(stored()).toBe(before);
    expect(temporary()).toBe(0);
  });

  it('serves a JPEG without its GPS metadata', async () => {
    const jpeg = await sharp({
      create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 10, b: 10 } },
    })
      .jpeg()
      .withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '35/1 41/1 0/1' } })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).exif).toBeDefined();
    const id = await upload(server, alice.accessToken, jpeg, 'image/jpeg', 'site.jpg');
    const res = await request(server, 'GET', `/_matrix/client/v1/media/download/hs1.test/${id}`, {
      token: alice.accessToken,
    });
    expect(res.status).toBe(200);
    const metadata = await sharp(res.bytes).metadata();
    expect(metadata.format).toBe('jpeg');
    expect(metadata.exif).toBeUndefined();
    expect(res.bytes.includes(Buffer.from('GPS'))).toBe(false);
  });
});
