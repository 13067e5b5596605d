import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createUser,
  startTestServer,
  type TestServer,
  type TestUser,
} from '../support/server.js';
import { specErrors } from '../support/spec-schema.js';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let roomId: string;

const V3 = '/_matrix/client/v3';

beforeAll(async () => {
  server = await startTestServer();
  alice = await createUser(server, 'alice');
  bob = await createUser(server, 'bob');
  const res = await api(server, 'POST', `${V3}/createRoom`, {
    token: alice.accessToken,
    body: { name: 'account data' },
  });
  if (res.status !== 200) throw new Error(`createRoom failed: ${JSON.stringify(res.body)}`);
  roomId = res.body.room_id;
});
afterAll(() => server?.stop());

const user = (u: TestUser) => `${V3}/user/${encodeURIComponent(u.userId)}`;
const globalPath = (u: TestUser, type: string) =>
  `${user(u)}/account_data/${encodeURIComponent(type)}`;
const roomPath = (u: TestUser, type: string, room = roomId) =>
  `${user(u)}/rooms/${encodeURIComponent(room)}/account_data/${encodeURIComponent(type)}`;
const tagsPath = (u: TestUser, tag = '') =>
  `${user(u)}/rooms/${encodeURIComponent(roomId)}/tags${tag ? `/${encodeURIComponent(tag)}` : ''}`;

async function nextBatch(u: TestUser): Promise<string> {
  const res = await api(server, 'GET', `${V3}/sync`, { token: u.accessToken });
  expect(res.status).toBe(200);
  return res.body.next_batch;
}

async function syncSince(u: TestUser, since: string) {
  const res = await api(server, 'GET', `${V3}/sync?since=${encodeURIComponent(since)}`, {
    token: u.accessToken,
  });
  expect(res.status).toBe(200);
  return res.body;
}

const ACCOUNT_DATA = 'client-server/account-data.yaml';

describe('PUT /user/{userId}/account_data/{type}', () => {
  it('stores global account data that GET reads back', async () => {
    const put = await api(server, 'PUT', globalPath(alice, 'org.example.config'), {
      token: alice.accessToken,
      body: { colour: 'green' },
    });
    expect(put.status).toBe(200);
    expect(
      specErrors(ACCOUNT_DATA, 'PUT', '/user/{userId}/account_data/{type}', 200, put.body),
    ).toEqual([]);
    const get = await api(server, 'GET', globalPath(alice, 'org.example.config'), {
      token: alice.accessToken,
    });
    expect(get.status).toBe(200);
    expect(
      specErrors(ACCOUNT_DATA, 'GET', '/user/{userId}/account_data/{type}', 200, get.body),
    ).toEqual([]);
    expect(get.body).toEqual({ colour: 'green' });
  });

  it('replaces the previous content', async () => {
    for (const colour of ['red', 'blue']) {
      const put = await api(server, 'PUT', globalPath(alice, 'org.example.replace'), {
        token: alice.accessToken,
        body: { colour },
      });
      expect(put.status).toBe(200);
    }
    const get = await api(server, 'GET', globalPath(alice, 'org.example.replace'), {
      token: alice.accessToken,
    });
    expect(get.body).toEqual({ colour: 'blue' });
  });

  it("refuses to write another user's account data with 403 M_FORBIDDEN", async () => {
    const res = await api(server, 'PUT', globalPath(bob, 'org.example.config'), {
      token: alice.accessToken,
      body: { colour: 'green' },
    });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });

  it('rejects a body that is not a JSON object with 400', async () => {
    const res = await api(server, 'PUT', globalPath(alice, 'org.example.config'), {
      token: alice.accessToken,
      body: ['not', 'an', 'object'],
    });
    expect(res.status).toBe(400);
    expect(['M_BAD_JSON', 'M_NOT_JSON']).toContain(res.body.errcode);
  });

  it.each(['m.push_rules', 'm.fully_read'])(
    'refuses the server-managed type %s with 405 M_BAD_JSON',
    async (type) => {
      const res = await api(server, 'PUT', globalPath(alice, type), {
        token: alice.accessToken,
        body: {},
      });
      expect(res.status).toBe(405);
      expect(res.body.errcode).toBe('M_BAD_JSON');
    },
  );
});

describe('GET /user/{userId}/account_data/{type}', () => {
  it("refuses to read another user's account data with 403 M_FORBIDDEN", async () => {
    await api(server, 'PUT', globalPath(bob, 'org.example.secret'), {
      token: bob.accessToken,
      body: { secret: true },
    });
    const res = await api(server, 'GET', globalPath(bob, 'org.example.secret'), {
      token: alice.accessToken,
    });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });

  it('answers 404 M_NOT_FOUND for a type never set', async () => {
    const res = await api(server, 'GET', globalPath(alice, 'org.example.never'), {
      token: alice.accessToken,
    });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it('lets the user read the server-managed m.push_rules', async () => {
    const res = await api(server, 'GET', globalPath(alice, 'm.push_rules'), {
      token: alice.accessToken,
    });
    expect(res.status).toBe(200);
    expect(res.body.global.override).toBeInstanceOf(Array);
    expect(res.body.global.underride).toBeInstanceOf(Array);
  });
});

describe('PUT /user/{userId}/rooms/{roomId}/account_data/{type}', () => {
  const path = '/user/{userId}/rooms/{roomId}/account_data/{type}';

  it('stores per-room account data, kept apart from global data of the same type', async () => {
    const put = await api(server, 'PUT', roomPath(alice, 'org.example.room'), {
      token: alice.accessToken,
      body: { pinned: true },
    });
    expect(put.status).toBe(200);
    expect(specErrors(ACCOUNT_DATA, 'PUT', path, 200, put.body)).toEqual([]);
    const get = await api(server, 'GET', roomPath(alice, 'org.example.room'), {
      token: alice.accessToken,
    });
    expect(get.status).toBe(200);
    expect(specErrors(ACCOUNT_DATA, 'GET', path, 200, get.body)).toEqual([]);
    expect(get.body).toEqual({ pinned: true });
    const global = await api(server, 'GET', globalPath(alice, 'org.example.room'), {
      token: alice.accessToken,
    });
    expect(global.status).toBe(404);
    expect(global.body.errcode).toBe('M_NOT_FOUND');
  });

  it("refuses another user's room account data with 403 M_FORBIDDEN", async () => {
    const put = await api(server, 'PUT', roomPath(bob, 'org.example.room'), {
      token: alice.accessToken,
      body: { pinned: true },
    });
    expect(put.status).toBe(403);
    expect(put.body.errcode).toBe('M_FORBIDDEN');
    const get = await api(server, 'GET', roomPath(bob, 'org.example.room'), {
      token: alice.accessToken,
    });
    expect(get.status).toBe(403);
    expect(get.body.errcode).toBe('M_FORBIDDEN');
  });

  it('answers 404 M_NOT_FOUND for a room type never set', async () => {
    const res = await api(server, 'GET', roomPath(alice, 'org.example.never'), {
      token: alice.accessToken,
    });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it('rejects a room id that is not one with 400 M_INVALID_PARAM', async () => {
    const notRoom = roomPath(alice, 'org.example.room', '@notaroom:hs1.test');
    const put = await api(server, 'PUT', notRoom, {
      token: alice.accessToken,
      body: { pinned: true },
    });
    expect(put.status).toBe(400);
    expect(put.body.errcode).toBe('M_INVALID_PARAM');
    const get = await api(server, 'GET', notRoom, { token: alice.accessToken });
    expect(get.status).toBe(400);
    expect(get.body.errcode).toBe('M_INVALID_PARAM');
  });

  it('refuses the server-managed m.fully_read with 405 M_BAD_JSON', async () => {
    const res = await api(server, 'PUT', roomPath(alice, 'm.fully_read'), {
      token: alice.accessToken,
      body: { event_id: '$x' },
    });
    expect(res.status).toBe(405);
    expect(res.body.errcode).toBe('M_BAD_JSON');
  });
});

describe('GET /sync (account data)', () => {
  it('delivers a global change in the next incremental sync', async () => {
    const since = await nextBatch(alice);
    await api(server, 'PUT', globalPath(alice, 'org.example.synced'), {
      token: alice.accessToken,
      body: { n: 1 },
    });
    const body = await syncSince(alice, since);
    expect(body.account_data.events).toContainEqual({
      type: 'org.example.synced',
      content: { n: 1 },
    });
    expect(body.rooms?.join?.[roomId]).toBeUndefined();
  });

  it('delivers a per-room change under rooms.join[roomId].account_data', async () => {
    const since = await nextBatch(alice);
    await api(server, 'PUT', roomPath(alice, 'org.example.synced'), {
      token: alice.accessToken,
      body: { n: 2 },
    });
    const body = await syncSince(alice, since);
    expect(body.rooms.join[roomId].account_data.events).toContainEqual({
      type: 'org.example.synced',
      content: { n: 2 },
    });
    const global = (body.account_data?.events ?? []) as { type: string }[];
    expect(global.map((e) => e.type)).not.toContain('org.example.synced');
  });

  it('wakes a long-poll when account data changes', async () => {
    const since = await nextBatch(alice);
    const started = Date.now();
    const poll = api(server, 'GET', `${V3}/sync?since=${encodeURIComponent(since)}&timeout=10000`, {
      token: alice.accessToken,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await api(server, 'PUT', globalPath(alice, 'org.example.wake'), {
      token: alice.accessToken,
      body: { awake: true },
    });
    const res = await poll;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.status).toBe(200);
    expect(res.body.account_data.events).toContainEqual({
      type: 'org.example.wake',
      content: { awake: true },
    });
  });
});

describe('PUT /user/{userId}/rooms/{roomId}/tags/{tag}', () => {
  const TAGS = 'client-server/tags.yaml';

  it('adds tags with an order, lists them, and deletes one', async () => {
    const fav = await api(server, 'PUT', tagsPath(alice, 'm.favourite'), {
      token: alice.accessToken,
      body: { order: 0.25 },
    });
    expect(fav.status).toBe(200);
    expect(
      specErrors(TAGS, 'PUT', '/user/{userId}/rooms/{roomId}/tags/{tag}', 200, fav.body),
    ).toEqual([]);
    const work = await api(server, 'PUT', tagsPath(alice, 'u.work'), {
      token: alice.accessToken,
      body: {},
    });
    expect(work.status).toBe(200);

    const list = await api(server, 'GET', tagsPath(alice), { token: alice.accessToken });
    expect(list.status).toBe(200);
    expect(specErrors(TAGS, 'GET', '/user/{userId}/rooms/{roomId}/tags', 200, list.body)).toEqual(
      [],
    );
    expect(list.body.tags).toEqual({ 'm.favourite': { order: 0.25 }, 'u.work': {} });

    const del = await api(server, 'DELETE', tagsPath(alice, 'u.work'), {
      token: alice.accessToken,
    });
    expect(del.status).toBe(200);
    expect(
      specErrors(TAGS, 'DELETE', '/user/{userId}/rooms/{roomId}/tags/{tag}', 200, del.body),
    ).toEqual([]);
    const after = await api(server, 'GET', tagsPath(alice), { token: alice.accessToken });
    expect(after.body.tags).toEqual({ 'm.favourite': { order: 0.25 } });
  });

  it('lists no tags for an untagged room', async () => {
    const res = await api(server, 'GET', tagsPath(bob), { token: bob.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.tags).toEqual({});
  });

  it("refuses another user's tags with 403 M_FORBIDDEN", async () => {
    const put = await api(server, 'PUT', tagsPath(bob, 'm.favourite'), {
      token: alice.accessToken,
      body: {},
    });
    expect(put.status).toBe(403);
    expect(put.body.errcode).toBe('M_FORBIDDEN');
    const get = await api(server, 'GET', tagsPath(bob), { token: alice.accessToken });
    expect(get.status).toBe(403);
    expect(get.body.errcode).toBe('M_FORBIDDEN');
  });

  it('sends the tags as m.tag room account data in the next sync', async () => {
    const since = await nextBatch(alice);
    const put = await api(server, 'PUT', tagsPath(alice, 'm.lowpriority'), {
      token: alice.accessToken,
      body: { order: 0.5 },
    });
    expect(put.status).toBe(200);
    const body = await syncSince(alice, since);
    const tag = body.rooms.join[roomId].account_data.events.find(
      (e: { type: string }) => e.type === 'm.tag',
    );
    expect(tag.content.tags['m.lowpriority']).toEqual({ order: 0.5 });
  });
});

describe('POST /user/{userId}/filter', () => {
  const FILTER = 'client-server/filter.yaml';
  const filter = {
    event_fields: ['type', 'content', 'sender'],
    room: { timeline: { limit: 7, types: ['m.room.message'] }, state: { lazy_load_members: true } },
  };

  it('stores a filter that GET returns unchanged', async () => {
    const post = await api(server, 'POST', `${user(alice)}/filter`, {
      token: alice.accessToken,
      body: filter,
    });
    expect(post.status).toBe(200);
    expect(specErrors(FILTER, 'POST', '/user/{userId}/filter', 200, post.body)).toEqual([]);
    expect(post.body.filter_id).not.toMatch(/^\{/);
    const get = await api(server, 'GET', `${user(alice)}/filter/${post.body.filter_id}`, {
      token: alice.accessToken,
    });
    expect(get.status).toBe(200);
    expect(specErrors(FILTER, 'GET', '/user/{userId}/filter/{filterId}', 200, get.body)).toEqual(
      [],
    );
    expect(get.body).toEqual(filter);
  });

  it('answers 404 M_NOT_FOUND for an unknown filter id', async () => {
    for (const id of ['999999', 'nope']) {
      const res = await api(server, 'GET', `${user(alice)}/filter/${id}`, {
        token: alice.accessToken,
      });
      expect(res.status).toBe(404);
      expect(res.body.errcode).toBe('M_NOT_FOUND');
    }
  });

  it("refuses another user's filter with 403 M_FORBIDDEN", async () => {
    const post = await api(server, 'POST', `${user(bob)}/filter`, {
      token: bob.accessToken,
      body: filter,
    });
    expect(post.status).toBe(200);
    const get = await api(server, 'GET', `${user(bob)}/filter/${post.body.filter_id}`, {
      token: alice.accessToken,
    });
    expect(get.status).toBe(403);
    expect(get.body.errcode).toBe('M_FORBIDDEN');
    const create = await api(server, 'POST', `${user(bob)}/filter`, {
      token: alice.accessToken,
      body: filter,
    });
    expect(create.status).toBe(403);
    expect(create.body.errcode).toBe('M_FORBIDDEN');
  });

  it('rejects an invalid filter with 400 M_BAD_JSON', async () => {
    const res = await api(server, 'POST', `${user(alice)}/filter`, {
      token: alice.accessToken,
      body: { room: { timeline: { limit: 'x' } } },
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_BAD_JSON');
  });
});
