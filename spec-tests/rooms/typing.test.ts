/**
 * Typing notifications: `PUT /rooms/{roomId}/typing/{userId}` and the `m.typing` ephemeral event
 * in /sync, including long-polls woken by typing and by its expiry, sync tokens carrying a typing
 * part, two server processes sharing one PostgreSQL database, and matrix-js-sdk.
 */
import { ClientEvent, createClient, RoomMemberEvent, type MatrixClient } from 'matrix-js-sdk';
import { logger as sdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import {
  api,
  createUser,
  startTestServer,
  type ApiResponse,
  type TestServer,
  type TestUser,
} from '../support/server.js';
import { specErrors } from '../support/spec-schema.js';

const V3 = '/_matrix/client/v3';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

interface EphemeralEvent {
  type: string;
  content: { user_ids?: string[] };
}

/** A room alice created (public) and bob joined, on `on`. */
async function sharedRoom(alice: TestUser, bob: TestUser, on = server): Promise<string> {
  const created = await api(on, 'POST', `${V3}/createRoom`, {
    token: alice.accessToken,
    body: { preset: 'public_chat' },
  });
  expect(created.status).toBe(200);
  const roomId = created.body.room_id as string;
  const joined = await api(on, 'POST', `${V3}/join/${encodeURIComponent(roomId)}`, {
    token: bob.accessToken,
    body: {},
  });
  expect(joined.status).toBe(200);
  return roomId;
}

function setTyping(
  user: TestUser,
  roomId: string,
  body: unknown,
  options: { as?: string; on?: TestServer; prefix?: string } = {},
): Promise<ApiResponse> {
  const path =
    `${options.prefix ?? V3}/rooms/${encodeURIComponent(roomId)}` +
    `/typing/${encodeURIComponent(options.as ?? user.userId)}`;
  return api(options.on ?? server, 'PUT', path, { token: user.accessToken, body });
}

function sync(
  user: TestUser,
  query: Record<string, string | number> = {},
  on = server,
): Promise<ApiResponse> {
  const search = new URLSearchParams(
    Object.entries(query).map(([key, value]): [string, string] => [key, String(value)]),
  );
  const qs = search.size ? `?${search}` : '';
  return api(on, 'GET', `${V3}/sync${qs}`, { token: user.accessToken });
}

async function syncOk(user: TestUser, query: Record<string, string | number> = {}, on = server) {
  const res = await sync(user, query, on);
  expect(res.status).toBe(200);
  return res.body;
}

/** The `m.typing` user list of a room in a sync body; undefined when the room has none. */
function typingIn(body: any, roomId: string): string[] | undefined {
  const events = (body.rooms?.join?.[roomId]?.ephemeral?.events ?? []) as EphemeralEvent[];
  return events.find((e) => e.type === 'm.typing')?.content.user_ids;
}

describe('PUT /rooms/{roomId}/typing/{userId}', () => {
  it("shows a member typing in the other member's sync, and no longer once they stop", async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const roomId = await sharedRoom(alice, bob);

    const started = await setTyping(alice, roomId, { typing: true, timeout: 30_000 });
    expect(started.status).toBe(200);
    expect(started.body).toEqual({});
    const initial = await syncOk(bob);
    expect(specErrors('client-server/sync.yaml', 'GET', '/sync', 200, initial)).toEqual([]);
    expect(typingIn(initial, roomId)).toEqual([alice.userId]);
    expect(initial.next_batch).toMatch(/^s\d+_t\d+$/);

    const stopped = await setTyping(alice, roomId, { typing: false });
    expect(stopped.status).toBe(200);
    const next = await syncOk(bob, { since: initial.next_batch });
    expect(typingIn(next, roomId)).toEqual([]);
    // An initial sync leaves out rooms where nobody types.
    expect(typingIn(await syncOk(bob), roomId)).toBeUndefined();
  });

  it('wakes a long-poll when a member starts typing, well before the timeout', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const roomId = await sharedRoom(alice, bob);
    const first = await syncOk(bob);
    expect(typingIn(first, roomId)).toBeUndefined();

    const started = Date.now();
    const poll = sync(bob, { since: first.next_batch, timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await setTyping(alice, roomId, { typing: true, timeout: 20_000 })).status).toBe(200);
    const res = await poll;
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(res.status).toBe(200);
    expect(typingIn(res.body, roomId)).toEqual([alice.userId]);
    // Typing has no stream position: only the typing part of the token moved.
    const [position] = (first.next_batch as string).split('_');
    expect((res.body.next_batch as string).startsWith(`${position}_t`)).toBe(true);
    expect(res.body.next_batch).not.toBe(first.next_batch);

    // Seen once, the same typing is not sent again.
    const again = await syncOk(bob, { since: res.body.next_batch });
    expect(typingIn(again, roomId)).toBeUndefined();
    await setTyping(alice, roomId, { typing: false });
  });

  it('ends typing when its timeout runs out, waking a long-poll', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const roomId = await sharedRoom(alice, bob);
    expect((await setTyping(alice, roomId, { typing: true, timeout: 1500 })).status).toBe(200);
    const first = await syncOk(bob);
    expect(typingIn(first, roomId)).toEqual([alice.userId]);

    const started = Date.now();
    const res = await sync(bob, { since: first.next_batch, timeout: 10_000 });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(typingIn(res.body, roomId)).toEqual([]);
    expect(typingIn(await syncOk(bob), roomId)).toBeUndefined();
  });

  it('keeps a refreshed typing state and shows several members typing', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const roomId = await sharedRoom(alice, bob);
    await setTyping(alice, roomId, { typing: true, timeout: 1000 });
    await setTyping(alice, roomId, { typing: true, timeout: 30_000 });
    await setTyping(bob, roomId, { typing: true });
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const body = await syncOk(bob);
    expect(typingIn(body, roomId)?.sort()).toEqual([alice.userId, bob.userId].sort());
    await setTyping(alice, roomId, { typing: false });
    await setTyping(bob, roomId, { typing: false });
  });

  it('accepts the r0 path', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const roomId = await sharedRoom(alice, bob);
    const res = await setTyping(alice, roomId, { typing: true }, { prefix: '/_matrix/client/r0' });
    expect(res.status).toBe(200);
    expect(typingIn(await syncOk(bob), roomId)).toEqual([alice.userId]);
    await setTyping(alice, roomId, { typing: false });
  });

  it('rejects setting the typing state of another user with 403 M_FORBIDDEN', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const roomId = await sharedRoom(alice, bob);
    const res = await setTyping(alice, roomId, { typing: true }, { as: bob.userId });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    expect(typingIn(await syncOk(alice), roomId)).toBeUndefined();
  });

  it('rejects a user who is not joined to the room with 403 M_FORBIDDEN', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const charlie = await createUser(server, 'charlie');
    const roomId = await sharedRoom(alice, bob);
    const res = await setTyping(charlie, roomId, { typing: true });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    const unknown = await setTyping(charlie, '!nowhere:hs1.test', { typing: true });
    expect(unknown.status).toBe(403);
    expect(unknown.body.errcode).toBe('M_FORBIDDEN');
  });

  it.each([
    ['typing missing', 'M_MISSING_PARAM', {}],
    ['typing not a boolean', 'M_BAD_JSON', { typing: 'yes' }],
    ['timeout not an integer', 'M_BAD_JSON', { typing: true, timeout: 'long' }],
    ['timeout negative', 'M_BAD_JSON', { typing: true, timeout: -5 }],
    ['body not an object', 'M_BAD_JSON', [true]],
  ])('rejects a bad body (%s) with 400 %s', async (_what, errcode, body) => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const roomId = await sharedRoom(alice, bob);
    const res = await setTyping(alice, roomId, body);
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe(errcode);
  });

  it('requires an access token', async () => {
    const res = await api(
      server,
      'PUT',
      `${V3}/rooms/${encodeURIComponent('!x:hs1.test')}/typing/${encodeURIComponent('@a:hs1.test')}`,
      { body: { typing: true } },
    );
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_MISSING_TOKEN');
  });
});

describe('GET /sync with typing', () => {
  it('accepts a token with a typing part from an earlier sync, and one without', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const roomId = await sharedRoom(alice, bob);
    const first = await syncOk(bob);
    const quiet = await syncOk(bob, { since: first.next_batch });
    expect(quiet.rooms?.join?.[roomId]).toBeUndefined();
    expect(quiet.next_batch).toMatch(/^s\d+_t\d+$/);

    await setTyping(alice, roomId, { typing: true });
    // A token without a typing part has seen no typing: the current typing is sent.
    const [position] = (first.next_batch as string).split('_');
    const plain = await syncOk(bob, { since: position as string });
    expect(typingIn(plain, roomId)).toEqual([alice.userId]);
    await setTyping(alice, roomId, { typing: false });
  });

  it.each(['s1_tgarbage', 's1_t', 's1_x5', 'sX_t5'])(
    'rejects the since token %s with 400 M_INVALID_PARAM',
    async (since) => {
      const alice = await createUser(server, 'alice');
      const res = await sync(alice, { since });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe('M_INVALID_PARAM');
    },
  );

  it('leaves typing out when the filter excludes m.typing, and is not woken by it', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const roomId = await sharedRoom(alice, bob);
    const filter = JSON.stringify({ room: { ephemeral: { not_types: ['m.typing'] } } });
    await setTyping(alice, roomId, { typing: true });
    const first = await syncOk(bob, { filter });
    expect(typingIn(first, roomId)).toBeUndefined();
    expect(first.rooms.join[roomId]).toBeDefined();

    const started = Date.now();
    const poll = sync(bob, { since: first.next_batch, timeout: 1500, filter });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await setTyping(alice, roomId, { typing: false });
    const res = await poll;
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(res.body.rooms?.join?.[roomId]).toBeUndefined();
  });

  it('does not wake the long-poll of a user outside the room', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const charlie = await createUser(server, 'charlie');
    const roomId = await sharedRoom(alice, bob);
    const first = await syncOk(charlie);
    const started = Date.now();
    const poll = sync(charlie, { since: first.next_batch, timeout: 1500 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await setTyping(alice, roomId, { typing: true });
    const res = await poll;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(res.body.rooms?.join?.[roomId]).toBeUndefined();
    await setTyping(alice, roomId, { typing: false });
  });
});

describe('typing through matrix-js-sdk', () => {
  const clients: MatrixClient[] = [];

  async function startClient(user: TestUser): Promise<MatrixClient> {
    const client = createClient({
      baseUrl: server.baseUrl,
      userId: user.userId,
      accessToken: user.accessToken,
      deviceId: user.deviceId,
    });
    clients.push(client);
    const prepared = new Promise<void>((done) => {
      client.on(ClientEvent.Sync, (state) => {
        if (state === 'PREPARED') done();
      });
    });
    await client.startClient({ pollTimeout: 5000 });
    await prepared;
    return client;
  }

  /** Waits until `check` holds, polling; fails with `what` after `ms`. */
  async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  afterAll(() => {
    for (const client of clients) client.stopClient();
  });

  it("sendTyping shows on the other client's room member, and clears", async () => {
    (sdkLogger as unknown as { setLevel(level: 'silent'): void }).setLevel('silent');
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const roomId = await sharedRoom(alice, bob);
    const [aliceClient, bobClient] = await Promise.all([startClient(alice), startClient(bob)]);
    await until(() => bobClient.getRoom(roomId)?.getMember(alice.userId) != null, 'the room');
    const changes: boolean[] = [];
    bobClient.on(RoomMemberEvent.Typing, (_event, member) => {
      if (member.userId === alice.userId && member.roomId === roomId) changes.push(member.typing);
    });

    await aliceClient.sendTyping(roomId, true, 30_000);
    await until(
      () => bobClient.getRoom(roomId)?.getMember(alice.userId)?.typing === true,
      'alice typing on bob’s client',
    );
    await aliceClient.sendTyping(roomId, false, 0);
    await until(
      () => bobClient.getRoom(roomId)?.getMember(alice.userId)?.typing === false,
      'alice no longer typing on bob’s client',
    );
    expect(changes).toEqual([true, false]);
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('typing across two server processes', () => {
  let database: TestDatabase;
  let first: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    database = await createTestDatabase();
    [first, second] = await Promise.all([
      startTestServer({}, { database }),
      startTestServer({}, { database }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await database?.drop();
  });

  it('shows typing set on one process in a sync on the other, waking its long-poll', async () => {
    const alice = await createUser(first, 'alice');
    const bob = await createUser(first, 'bob');
    const roomId = await sharedRoom(alice, bob, first);
    const initial = await syncOk(bob, {}, second);
    expect(typingIn(initial, roomId)).toBeUndefined();

    const started = Date.now();
    const poll = sync(bob, { since: initial.next_batch, timeout: 10_000 }, second);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await setTyping(alice, roomId, { typing: true }, { on: first })).status).toBe(200);
    const res = await poll;
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(typingIn(res.body, roomId)).toEqual([alice.userId]);

    // The token of one process means the same on the other.
    const onFirst = await syncOk(bob, { since: res.body.next_batch }, first);
    expect(typingIn(onFirst, roomId)).toBeUndefined();
    await setTyping(alice, roomId, { typing: false }, { on: first });
    const stopped = await syncOk(bob, { since: res.body.next_batch, timeout: 10_000 }, second);
    expect(typingIn(stopped, roomId)).toEqual([]);
  });

  it('expires typing on both processes at the time the sender set', async () => {
    const alice = await createUser(first, 'alice');
    const bob = await createUser(first, 'bob');
    const roomId = await sharedRoom(alice, bob, first);
    await setTyping(alice, roomId, { typing: true, timeout: 1500 }, { on: first });
    // The notification reaches the other process a moment later.
    let initial = await syncOk(bob, {}, second);
    for (let i = 0; i < 20 && typingIn(initial, roomId) === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      initial = await syncOk(bob, {}, second);
    }
    expect(typingIn(initial, roomId)).toEqual([alice.userId]);
    const res = await syncOk(bob, { since: initial.next_batch, timeout: 10_000 }, second);
    expect(typingIn(res, roomId)).toEqual([]);
    expect(typingIn(await syncOk(bob, {}, first), roomId)).toBeUndefined();
  });
});
