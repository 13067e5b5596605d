/**
 * Media with a real client (matrix-js-sdk): one staff member uploads a photo and posts it as an
 * m.image message; a colleague's client finds the message and downloads the photo.
 */
import { createClient, Direction, MsgType, type MatrixClient } from 'matrix-js-sdk';
import { logger as sdkLogger } from 'matrix-js-sdk/lib/logger.js';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, startTestServer, type TestServer, type TestUser } from '../support/server.js';
import { newStorePath, pixelsOf, samplePng } from './support.js';

let server: TestServer;

beforeAll(async () => {
  (sdkLogger as unknown as { setLevel(level: 'silent'): void }).setLevel('silent');
  server = await startTestServer({ media: { store_path: newStorePath() } });
});
afterAll(() => server?.stop());

function clientOf(user: TestUser): MatrixClient {
  return createClient({
    baseUrl: server.baseUrl,
    userId: user.userId,
    accessToken: user.accessToken,
    deviceId: user.deviceId,
  });
}

describe('matrix-js-sdk uploadContent and an m.image message', () => {
  it("lets the other user's client download the image it was sent", async () => {
    const [alice, bob] = await Promise.all([
      createUser(server, 'alice'),
      createUser(server, 'bob'),
    ]);
    const aliceClient = clientOf(alice);
    const bobClient = clientOf(bob);

    const png = await samplePng(120, 90);
    const uploaded = await aliceClient.uploadContent(png, { name: '写真.png', type: 'image/png' });
    expect(uploaded.content_uri).toMatch(/^mxc:\/\/hs1\.test\/[A-Za-z0-9_-]+$/);

    const { room_id: roomId } = await aliceClient.createRoom({ invite: [bob.userId] });
    await bobClient.joinRoom(roomId);
    const { event_id: eventId } = await aliceClient.sendMessage(roomId, {
      msgtype: MsgType.Image,
      body: '写真.png',
      url: uploaded.content_uri,
      info: { mimetype: 'image/png', w: 120, h: 90, size: png.length },
    });

    const page = await bobClient.createMessagesRequest(roomId, null, 10, Direction.Backward);
    const message = page.chunk.find((e) => e.event_id === eventId);
    expect(message?.content.msgtype).toBe('m.image');
    const mxc = message?.content.url as string;

    const url = bobClient.mxcUrlToHttp(mxc, undefined, undefined, undefined, false, true, true);
    expect(url).toContain('/_matrix/client/v1/media/download/');
    const response = await fetch(url as string, {
      headers: { authorization: `Bearer ${bob.accessToken}` },
    });
    expect(response.status).toBe(200);
    const downloaded = Buffer.from(await response.arrayBuffer());
    // Compare decoded pixels: the sanitization pipeline may rewrite an image's container.
    expect(await pixelsOf(downloaded)).toEqual(await pixelsOf(png));

    const thumbUrl = bobClient.mxcUrlToHttp(mxc, 32, 32, 'crop', false, true, true);
    const thumb = await fetch(thumbUrl as string, {
      headers: { authorization: `Bearer ${bob.accessToken}` },
    });
    expect(thumb.status).toBe(200);
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([32, 32]);
  });
});
