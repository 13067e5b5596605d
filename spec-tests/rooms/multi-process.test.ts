/**
 * Several server processes sharing one PostgreSQL database: a send on one process wakes a
 * long-polling sync on the other (LISTEN/NOTIFY). The embedded database allows one process only,
 * so this runs when TEST_DATABASE_URL is set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { api, createUser, startTestServer, type TestServer } from '../support/server.js';

const onPostgres = !!process.env.TEST_DATABASE_URL;
let database: TestDatabase;
let first: TestServer;
let second: TestServer;

beforeAll(async () => {
  if (!onPostgres) return;
  database = await createTestDatabase();
  // Both processes start together and race to apply the migrations; the lock makes one win.
  [first, second] = await Promise.all([
    startTestServer({}, { database }),
    startTestServer({}, { database }),
  ]);
});

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
  await database?.drop();
});

describe.skipIf(!onPostgres)('two server processes on one database', () => {
  it('wakes a long-poll on one process when a message is sent through the other', async () => {
    const alice = await createUser(first, 'alice');
    const bob = await createUser(first, 'bob');
    const created = await api(first, 'POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { preset: 'public_chat' },
    });
    const roomId = created.body.room_id as string;
    await api(second, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {
      token: bob.accessToken,
      body: {},
    });
    const initial = await api(second, 'GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
    const since = initial.body.next_batch as string;

    const started = Date.now();
    const poll = api(second, 'GET', `/_matrix/client/v3/sync?since=${since}&timeout=20000`, {
      token: bob.accessToken,
    });
    await new Promise((r) => setTimeout(r, 300));
    const sent = await api(
      first,
      'PUT',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`,
      { token: alice.accessToken, body: { msgtype: 'm.text', body: 'from the other process' } },
    );
    const res = await poll;
    expect(res.status).toBe(200);
    const events = res.body.rooms.join[roomId].timeline.events as { event_id: string }[];
    expect(events.map((e) => e.event_id)).toContain(sent.body.event_id);
    // Woken by the notification, not by the end of the 20 s timeout.
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
