import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createUser,
  startTestServer,
  type ApiResponse,
  type TestServer,
  type TestUser,
} from '../support/server.js';
import { specErrors } from '../support/spec-schema.js';

const DIRECTORY = 'client-server/directory.yaml';
const PUBLIC_ROOMS = 'client-server/list_public_rooms.yaml';
const HIERARCHY = 'client-server/space_hierarchy.yaml';
const USERS = 'client-server/users.yaml';
const V3 = '/_matrix/client/v3';

let server: TestServer;
/** Creates most rooms and is their admin. */
let alice: TestUser;
/** Joins alice's public rooms with the default power level. */
let bob: TestUser;
/** Is in no room at all. */
let carol: TestUser;
let aliasCounter = 0;

beforeAll(async () => {
  server = await startTestServer();
  [alice, bob, carol] = await Promise.all([
    createUser(server, 'alice'),
    createUser(server, 'bob'),
    createUser(server, 'carol'),
  ]);
});
afterAll(() => server?.stop());

async function createRoom(user: TestUser, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api(server, 'POST', `${V3}/createRoom`, { token: user.accessToken, body });
  if (res.status !== 200) throw new Error(`createRoom failed: ${JSON.stringify(res.body)}`);
  return res.body.room_id as string;
}

async function join(user: TestUser, roomIdOrAlias: string): Promise<void> {
  const res = await api(server, 'POST', `${V3}/join/${encodeURIComponent(roomIdOrAlias)}`, {
    token: user.accessToken,
    body: {},
  });
  if (res.status !== 200) throw new Error(`join failed: ${JSON.stringify(res.body)}`);
}

/** A fresh alias on the test server. */
function newAlias(name = 'room'): string {
  aliasCounter += 1;
  return `#${name}${process.pid}x${aliasCounter}:${server.serverName}`;
}

function aliasPath(alias: string): string {
  return `${V3}/directory/room/${encodeURIComponent(alias)}`;
}

function putAlias(user: TestUser, alias: string, roomId: string): Promise<ApiResponse> {
  return api(server, 'PUT', aliasPath(alias), {
    token: user.accessToken,
    body: { room_id: roomId },
  });
}

function visibilityPath(roomId: string): string {
  return `${V3}/directory/list/room/${encodeURIComponent(roomId)}`;
}

function searchPublicRooms(user: TestUser, body: Record<string, unknown>): Promise<ApiResponse> {
  return api(server, 'POST', `${V3}/publicRooms`, { token: user.accessToken, body });
}

describe('PUT /directory/room/{roomAlias}', () => {
  it('maps a new alias to a room, which then resolves without a token', async () => {
    const roomId = await createRoom(alice);
    const alias = newAlias();
    const put = await putAlias(alice, alias, roomId);
    expect(put.status).toBe(200);
    expect(specErrors(DIRECTORY, 'PUT', '/directory/room/{roomAlias}', 200, put.body)).toEqual([]);

    const get = await api(server, 'GET', aliasPath(alias));
    expect(get.status).toBe(200);
    expect(specErrors(DIRECTORY, 'GET', '/directory/room/{roomAlias}', 200, get.body)).toEqual([]);
    expect(get.body).toEqual({ room_id: roomId, servers: [server.serverName] });
  });

  it('answers 409 M_UNKNOWN for an alias that is taken', async () => {
    const roomId = await createRoom(alice);
    const alias = newAlias();
    expect((await putAlias(alice, alias, roomId)).status).toBe(200);
    const again = await putAlias(alice, alias, await createRoom(alice));
    expect(again.status).toBe(409);
    expect(again.body.errcode).toBe('M_UNKNOWN');
    expect(specErrors(DIRECTORY, 'PUT', '/directory/room/{roomAlias}', 409, again.body)).toEqual(
      [],
    );
  });

  it('refuses an alias of another server, or malformed, with 400 M_INVALID_PARAM', async () => {
    const roomId = await createRoom(alice);
    for (const alias of ['#elsewhere:other.example', '#nodomain', 'plain:hs1.test']) {
      const res = await putAlias(alice, alias, roomId);
      expect(res.status, alias).toBe(400);
      expect(res.body.errcode, alias).toBe('M_INVALID_PARAM');
    }
  });

  it('accepts a localpart in Japanese', async () => {
    const roomId = await createRoom(alice);
    const alias = `#防災${process.pid}:${server.serverName}`;
    expect((await putAlias(alice, alias, roomId)).status).toBe(200);
    const get = await api(server, 'GET', aliasPath(alias));
    expect(get.body.room_id).toBe(roomId);
  });

  it('refuses a user who is not in the room with 403', async () => {
    const roomId = await createRoom(alice);
    const res = await putAlias(carol, newAlias(), roomId);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });

  it('answers 404 for a room the server does not know', async () => {
    const res = await putAlias(alice, newAlias(), `!nowhere:${server.serverName}`);
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it('needs an access token', async () => {
    const res = await api(server, 'PUT', aliasPath(newAlias()), { body: { room_id: '!a:b' } });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_MISSING_TOKEN');
  });
});

describe('GET /directory/room/{roomAlias}', () => {
  it('answers 404 M_NOT_FOUND for an unknown alias', async () => {
    const res = await api(server, 'GET', aliasPath(newAlias('unknown')));
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
    expect(specErrors(DIRECTORY, 'GET', '/directory/room/{roomAlias}', 404, res.body)).toEqual([]);
  });
});

describe('DELETE /directory/room/{roomAlias}', () => {
  it('lets the alias creator delete it', async () => {
    const roomId = await createRoom(alice);
    const alias = newAlias();
    await putAlias(alice, alias, roomId);
    const res = await api(server, 'DELETE', aliasPath(alias), { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(specErrors(DIRECTORY, 'DELETE', '/directory/room/{roomAlias}', 200, res.body)).toEqual(
      [],
    );
    expect((await api(server, 'GET', aliasPath(alias))).status).toBe(404);
  });

  it('refuses a member without the power to change the canonical alias', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await join(bob, roomId);
    const alias = newAlias();
    await putAlias(alice, alias, roomId);
    const res = await api(server, 'DELETE', aliasPath(alias), { token: bob.accessToken });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    expect((await api(server, 'GET', aliasPath(alias))).status).toBe(200);
  });

  it("lets a room admin delete another member's alias", async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await join(bob, roomId);
    const alias = newAlias();
    expect((await putAlias(bob, alias, roomId)).status).toBe(200);
    const res = await api(server, 'DELETE', aliasPath(alias), { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect((await api(server, 'GET', aliasPath(alias))).status).toBe(404);
  });

  it('answers 404 for an alias that does not exist', async () => {
    const res = await api(server, 'DELETE', aliasPath(newAlias()), { token: alice.accessToken });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });
});

describe('GET /rooms/{roomId}/aliases', () => {
  it("lists the room's local aliases to a member and refuses others", async () => {
    const roomId = await createRoom(alice);
    const [first, second] = [newAlias(), newAlias()];
    await putAlias(alice, first, roomId);
    await putAlias(alice, second, roomId);
    const path = `${V3}/rooms/${encodeURIComponent(roomId)}/aliases`;

    const res = await api(server, 'GET', path, { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(specErrors(DIRECTORY, 'GET', '/rooms/{roomId}/aliases', 200, res.body)).toEqual([]);
    expect([...res.body.aliases].sort()).toEqual([first, second].sort());

    const stranger = await api(server, 'GET', path, { token: carol.accessToken });
    expect(stranger.status).toBe(403);
    expect(stranger.body.errcode).toBe('M_FORBIDDEN');
  });
});

describe('GET and PUT /directory/list/room/{roomId}', () => {
  it('publishes and unpublishes a room for its admin', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    const before = await api(server, 'GET', visibilityPath(roomId));
    expect(before.status).toBe(200);
    expect(
      specErrors(PUBLIC_ROOMS, 'GET', '/directory/list/room/{roomId}', 200, before.body),
    ).toEqual([]);
    expect(before.body.visibility).toBe('private');

    const put = await api(server, 'PUT', visibilityPath(roomId), {
      token: alice.accessToken,
      body: { visibility: 'public' },
    });
    expect(put.status).toBe(200);
    expect((await api(server, 'GET', visibilityPath(roomId))).body.visibility).toBe('public');

    await api(server, 'PUT', visibilityPath(roomId), {
      token: alice.accessToken,
      body: { visibility: 'private' },
    });
    expect((await api(server, 'GET', visibilityPath(roomId))).body.visibility).toBe('private');
  });

  it('refuses a member without power and a stranger with 403', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await join(bob, roomId);
    for (const user of [bob, carol]) {
      const res = await api(server, 'PUT', visibilityPath(roomId), {
        token: user.accessToken,
        body: { visibility: 'public' },
      });
      expect(res.status).toBe(403);
      expect(res.body.errcode).toBe('M_FORBIDDEN');
    }
    expect((await api(server, 'GET', visibilityPath(roomId))).body.visibility).toBe('private');
  });

  it('answers 404 for an unknown room', async () => {
    const res = await api(server, 'GET', visibilityPath(`!nowhere:${server.serverName}`));
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });
});

describe('GET and POST /publicRooms', () => {
  let drillRoom: string;
  let quietRoom: string;

  beforeAll(async () => {
    drillRoom = await createRoom(alice, {
      visibility: 'public',
      preset: 'public_chat',
      name: '防災訓練の連絡',
      topic: '毎月の避難訓練について',
    });
    await join(bob, drillRoom);
    quietRoom = await createRoom(alice, {
      visibility: 'public',
      preset: 'public_chat',
      name: 'Library opening hours',
    });
  });

  it('lists a published room with its name, topic and member count, without a token', async () => {
    const res = await api(server, 'GET', `${V3}/publicRooms`);
    expect(res.status).toBe(200);
    expect(specErrors(PUBLIC_ROOMS, 'GET', '/publicRooms', 200, res.body)).toEqual([]);
    const entry = res.body.chunk.find((r: { room_id: string }) => r.room_id === drillRoom);
    expect(entry).toMatchObject({
      room_id: drillRoom,
      name: '防災訓練の連絡',
      topic: '毎月の避難訓練について',
      num_joined_members: 2,
      world_readable: false,
      guest_can_join: false,
      join_rule: 'public',
    });
    expect(res.body.total_room_count_estimate).toBeGreaterThanOrEqual(2);
  });

  it('puts the room with more joined members first', async () => {
    const res = await api(server, 'GET', `${V3}/publicRooms`);
    const ids = res.body.chunk.map((r: { room_id: string }) => r.room_id);
    expect(ids.indexOf(drillRoom)).toBeLessThan(ids.indexOf(quietRoom));
  });

  it('leaves out rooms that are not published', async () => {
    const hidden = await createRoom(alice, { preset: 'public_chat', name: 'Not listed' });
    const res = await api(server, 'GET', `${V3}/publicRooms`);
    expect(res.body.chunk.map((r: { room_id: string }) => r.room_id)).not.toContain(hidden);
  });

  it('pages through the list one room at a time, forwards and back', async () => {
    const first = await api(server, 'GET', `${V3}/publicRooms?limit=1`);
    expect(first.status).toBe(200);
    expect(first.body.chunk).toHaveLength(1);
    expect(first.body.next_batch).toEqual(expect.any(String));
    expect(first.body.prev_batch).toBeUndefined();

    const since = encodeURIComponent(first.body.next_batch);
    const second = await api(server, 'GET', `${V3}/publicRooms?limit=1&since=${since}`);
    expect(second.status).toBe(200);
    expect(specErrors(PUBLIC_ROOMS, 'GET', '/publicRooms', 200, second.body)).toEqual([]);
    expect(second.body.chunk).toHaveLength(1);
    expect(second.body.chunk[0].room_id).not.toBe(first.body.chunk[0].room_id);
    expect(second.body.prev_batch).toEqual(expect.any(String));

    const back = await searchPublicRooms(alice, { limit: 1, since: second.body.prev_batch });
    expect(back.status).toBe(200);
    expect(back.body.chunk.map((r: { room_id: string }) => r.room_id)).toEqual([
      first.body.chunk[0].room_id,
    ]);
  });

  it('finds a room by a Japanese substring of its name or topic', async () => {
    const byName = await searchPublicRooms(alice, {
      limit: 10,
      filter: { generic_search_term: '防災' },
    });
    expect(byName.status).toBe(200);
    expect(specErrors(PUBLIC_ROOMS, 'POST', '/publicRooms', 200, byName.body)).toEqual([]);
    expect(byName.body.chunk.map((r: { room_id: string }) => r.room_id)).toEqual([drillRoom]);

    const byTopic = await searchPublicRooms(bob, { filter: { generic_search_term: '避難' } });
    expect(byTopic.body.chunk.map((r: { room_id: string }) => r.room_id)).toEqual([drillRoom]);
  });

  it('matches the search term regardless of case', async () => {
    const res = await searchPublicRooms(bob, { filter: { generic_search_term: 'LIBRARY' } });
    expect(res.body.chunk.map((r: { room_id: string }) => r.room_id)).toEqual([quietRoom]);
  });

  it('filters by room type, null standing for rooms without one', async () => {
    const space = await createRoom(alice, {
      visibility: 'public',
      preset: 'public_chat',
      name: 'Published space',
      creation_content: { type: 'm.space' },
    });
    const spaces = await searchPublicRooms(alice, { filter: { room_types: ['m.space'] } });
    expect(spaces.body.chunk).toEqual([expect.objectContaining({ room_id: space })]);
    expect(spaces.body.chunk[0].room_type).toBe('m.space');
    const plain = await searchPublicRooms(alice, { filter: { room_types: [null] } });
    const ids = plain.body.chunk.map((r: { room_id: string }) => r.room_id);
    expect(ids).toContain(drillRoom);
    expect(ids).not.toContain(space);
  });

  it('refuses a pagination token it did not issue with 400', async () => {
    const res = await api(server, 'GET', `${V3}/publicRooms?since=garbage`);
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
  });

  it('needs an access token for the filtered form', async () => {
    const res = await api(server, 'POST', `${V3}/publicRooms`, { body: {} });
    expect(res.status).toBe(401);
  });
});

describe('GET /_matrix/client/v1/rooms/{roomId}/hierarchy', () => {
  let spaceId: string;
  let childId: string;

  beforeAll(async () => {
    spaceId = await createRoom(alice, {
      name: '市役所',
      creation_content: { type: 'm.space' },
    });
    childId = await createRoom(alice, { name: '総務課' });
    const statePath = `${V3}/rooms/${encodeURIComponent(spaceId)}/state/m.space.child`;
    const res = await api(server, 'PUT', `${statePath}/${encodeURIComponent(childId)}`, {
      token: alice.accessToken,
      body: { via: [server.serverName], suggested: true },
    });
    if (res.status !== 200) throw new Error(`m.space.child failed: ${JSON.stringify(res.body)}`);
  });

  it('lists the space and its child, with the child event in children_state', async () => {
    const res = await api(
      server,
      'GET',
      `/_matrix/client/v1/rooms/${encodeURIComponent(spaceId)}/hierarchy`,
      { token: alice.accessToken },
    );
    expect(res.status).toBe(200);
    expect(specErrors(HIERARCHY, 'GET', '/rooms/{roomId}/hierarchy', 200, res.body)).toEqual([]);
    const [space, child] = res.body.rooms;
    expect(space).toMatchObject({ room_id: spaceId, room_type: 'm.space', name: '市役所' });
    expect(space.children_state).toEqual([
      expect.objectContaining({
        type: 'm.space.child',
        state_key: childId,
        sender: alice.userId,
        content: { via: [server.serverName], suggested: true },
        origin_server_ts: expect.any(Number),
      }),
    ]);
    expect(child).toMatchObject({ room_id: childId, name: '総務課', children_state: [] });
    expect(res.body.next_batch).toBeUndefined();
  });

  it('pages with limit and from', async () => {
    const base = `/_matrix/client/v1/rooms/${encodeURIComponent(spaceId)}/hierarchy`;
    const first = await api(server, 'GET', `${base}?limit=1`, { token: alice.accessToken });
    expect(first.body.rooms.map((r: { room_id: string }) => r.room_id)).toEqual([spaceId]);
    const from = encodeURIComponent(first.body.next_batch);
    const next = await api(server, 'GET', `${base}?limit=1&from=${from}`, {
      token: alice.accessToken,
    });
    expect(next.status).toBe(200);
    expect(next.body.rooms.map((r: { room_id: string }) => r.room_id)).toEqual([childId]);
  });

  it('refuses a changed max_depth while paginating with 400 M_INVALID_PARAM', async () => {
    const base = `/_matrix/client/v1/rooms/${encodeURIComponent(spaceId)}/hierarchy`;
    const first = await api(server, 'GET', `${base}?limit=1&max_depth=3`, {
      token: alice.accessToken,
    });
    const from = encodeURIComponent(first.body.next_batch);
    const res = await api(server, 'GET', `${base}?limit=1&max_depth=1&from=${from}`, {
      token: alice.accessToken,
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
  });

  it('shows a public space to anyone, without the children they cannot see', async () => {
    const publicSpace = await createRoom(alice, {
      preset: 'public_chat',
      creation_content: { type: 'm.space' },
    });
    const openChild = await createRoom(alice, { preset: 'public_chat' });
    const closedChild = await createRoom(alice, { preset: 'private_chat' });
    const statePath = `${V3}/rooms/${encodeURIComponent(publicSpace)}/state/m.space.child`;
    for (const child of [openChild, closedChild]) {
      await api(server, 'PUT', `${statePath}/${encodeURIComponent(child)}`, {
        token: alice.accessToken,
        body: { via: [server.serverName] },
      });
    }
    const res = await api(
      server,
      'GET',
      `/_matrix/client/v1/rooms/${encodeURIComponent(publicSpace)}/hierarchy`,
      { token: carol.accessToken },
    );
    expect(res.status).toBe(200);
    expect(res.body.rooms.map((r: { room_id: string }) => r.room_id)).toEqual([
      publicSpace,
      openChild,
    ]);
    expect(res.body.rooms[0].children_state).toHaveLength(2);
  });

  it('refuses a user who cannot see the space with 403', async () => {
    const res = await api(
      server,
      'GET',
      `/_matrix/client/v1/rooms/${encodeURIComponent(spaceId)}/hierarchy`,
      { token: carol.accessToken },
    );
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });
});

describe('POST /user_directory/search', () => {
  const hanakoName = `山田花子${process.pid}`;

  beforeAll(async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat', invite: [bob.userId] });
    await join(bob, roomId);
    for (const [user, name] of [
      [alice, hanakoName],
      [carol, `山田次郎${process.pid}`],
    ] as const) {
      const res = await api(
        server,
        'PUT',
        `${V3}/profile/${encodeURIComponent(user.userId)}/displayname`,
        { token: user.accessToken, body: { displayname: name } },
      );
      if (res.status !== 200) throw new Error(`displayname failed: ${JSON.stringify(res.body)}`);
    }
  });

  function search(user: TestUser, body: Record<string, unknown>): Promise<ApiResponse> {
    return api(server, 'POST', `${V3}/user_directory/search`, { token: user.accessToken, body });
  }

  it('finds a user sharing a room by part of a Japanese display name', async () => {
    const res = await search(bob, { search_term: '花子' });
    expect(res.status).toBe(200);
    expect(specErrors(USERS, 'POST', '/user_directory/search', 200, res.body)).toEqual([]);
    expect(res.body.results).toContainEqual({ user_id: alice.userId, display_name: hanakoName });
  });

  it('does not find a user with no shared or public room', async () => {
    const res = await search(bob, { search_term: '山田' });
    const ids = res.body.results.map((r: { user_id: string }) => r.user_id);
    expect(ids).toContain(alice.userId);
    expect(ids).not.toContain(carol.userId);

    const byLocalpart = await search(bob, { search_term: carol.localpart });
    expect(byLocalpart.body.results).toEqual([]);
    expect(byLocalpart.body.limited).toBe(false);
  });

  it('matches the localpart regardless of case', async () => {
    const res = await search(bob, { search_term: alice.localpart.toUpperCase() });
    expect(res.body.results.map((r: { user_id: string }) => r.user_id)).toEqual([alice.userId]);
  });

  it('treats % and _ in the term literally', async () => {
    const res = await search(bob, { search_term: '%' });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([]);
  });

  it('reports limited when more users match than the limit', async () => {
    const res = await search(alice, { search_term: '', limit: 1 });
    expect(res.body.results).toHaveLength(1);
    expect(res.body.limited).toBe(true);
  });

  it('needs search_term', async () => {
    const res = await search(bob, { limit: 5 });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_MISSING_PARAM');
  });
});
