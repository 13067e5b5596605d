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

const V3 = '/_matrix/client/v3';
const ROOMS = 'client-server/rooms.yaml';

let server: TestServer;
/** Creates the rooms. */
let alice: TestUser;
/** Is invited, or joins with the default power level. */
let bob: TestUser;
/** A second invitee. */
let charlie: TestUser;
let aliasCounter = 0;

beforeAll(async () => {
  server = await startTestServer();
  [alice, bob, charlie] = await Promise.all([
    createUser(server, 'alice'),
    createUser(server, 'bob'),
    createUser(server, 'charlie'),
  ]);
});
afterAll(() => server?.stop());

function postCreateRoom(user: TestUser, body: Record<string, unknown>): Promise<ApiResponse> {
  return api(server, 'POST', `${V3}/createRoom`, { token: user.accessToken, body });
}

async function createRoom(user: TestUser, body: Record<string, unknown> = {}): Promise<string> {
  const res = await postCreateRoom(user, body);
  if (res.status !== 200) throw new Error(`createRoom failed: ${JSON.stringify(res.body)}`);
  return res.body.room_id as string;
}

function room(roomId: string): string {
  return `${V3}/rooms/${encodeURIComponent(roomId)}`;
}

/** The content of one state event, as alice (or `user`) sees it. */
async function stateContent(
  roomId: string,
  type: string,
  stateKey = '',
  user: TestUser = alice,
): Promise<any> {
  const res = await api(server, 'GET', `${room(roomId)}/state/${type}/${stateKey}`, {
    token: user.accessToken,
  });
  if (res.status !== 200) throw new Error(`no ${type} state: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function allState(roomId: string, user: TestUser = alice): Promise<any[]> {
  const res = await api(server, 'GET', `${room(roomId)}/state`, { token: user.accessToken });
  if (res.status !== 200) throw new Error(`GET state failed: ${JSON.stringify(res.body)}`);
  return res.body as any[];
}

async function join(user: TestUser, roomIdOrAlias: string): Promise<void> {
  const res = await api(server, 'POST', `${V3}/join/${encodeURIComponent(roomIdOrAlias)}`, {
    token: user.accessToken,
    body: {},
  });
  if (res.status !== 200) throw new Error(`join failed: ${JSON.stringify(res.body)}`);
}

async function joinedRooms(user: TestUser): Promise<string[]> {
  const res = await api(server, 'GET', `${V3}/joined_rooms`, { token: user.accessToken });
  return res.body.joined_rooms as string[];
}

function newAliasLocalpart(): string {
  aliasCounter += 1;
  return `room${process.pid}x${aliasCounter}`;
}

describe('POST /createRoom presets', () => {
  it('private_chat makes an invite-only room with shared history and guest access', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat' });
    expect(await stateContent(roomId, 'm.room.join_rules')).toMatchObject({ join_rule: 'invite' });
    expect(await stateContent(roomId, 'm.room.history_visibility')).toMatchObject({
      history_visibility: 'shared',
    });
    expect(await stateContent(roomId, 'm.room.guest_access')).toMatchObject({
      guest_access: 'can_join',
    });
  });

  it('public_chat makes a room anyone may join', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    expect(await stateContent(roomId, 'm.room.join_rules')).toMatchObject({ join_rule: 'public' });
    await join(bob, roomId);
    expect(await joinedRooms(bob)).toContain(roomId);
  });

  it('trusted_private_chat gives every invitee power level 100', async () => {
    const roomId = await createRoom(alice, {
      preset: 'trusted_private_chat',
      invite: [bob.userId, charlie.userId],
    });
    const levels = await stateContent(roomId, 'm.room.power_levels');
    expect(levels.users).toEqual({ [alice.userId]: 100, [bob.userId]: 100, [charlie.userId]: 100 });
    expect(await stateContent(roomId, 'm.room.join_rules')).toMatchObject({ join_rule: 'invite' });
  });

  it('private_chat leaves invitees at the default power level', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat', invite: [bob.userId] });
    const levels = await stateContent(roomId, 'm.room.power_levels');
    expect(levels.users).toEqual({ [alice.userId]: 100 });
  });

  it('picks public_chat for visibility public without a preset', async () => {
    const roomId = await createRoom(alice, { visibility: 'public' });
    expect(await stateContent(roomId, 'm.room.join_rules')).toMatchObject({ join_rule: 'public' });
  });
});

describe('POST /createRoom fields', () => {
  it('sets the name and the topic', async () => {
    const roomId = await createRoom(alice, { name: 'Tea room', topic: 'Oolong only' });
    expect(await stateContent(roomId, 'm.room.name')).toEqual({ name: 'Tea room' });
    expect(await stateContent(roomId, 'm.room.topic')).toMatchObject({ topic: 'Oolong only' });
  });

  it('invites users, who see the invite in /sync with stripped state', async () => {
    const dave = await createUser(server, 'dave');
    const roomId = await createRoom(alice, { name: 'Invitation', invite: [dave.userId] });
    const sync = await api(server, 'GET', `${V3}/sync`, { token: dave.accessToken });
    expect(sync.status).toBe(200);
    const invited = sync.body.rooms.invite[roomId];
    expect(invited).toBeDefined();
    const events = invited.invite_state.events as any[];
    for (const event of events) {
      expect(Object.keys(event)).toEqual(expect.arrayContaining(['type', 'state_key', 'content']));
      expect(typeof event.sender).toBe('string');
    }
    const member = events.find((e) => e.type === 'm.room.member' && e.state_key === dave.userId);
    expect(member.content.membership).toBe('invite');
    expect(member.sender).toBe(alice.userId);
    expect(events.find((e) => e.type === 'm.room.name')?.content).toEqual({ name: 'Invitation' });
    expect(events.find((e) => e.type === 'm.room.join_rules')?.content.join_rule).toBe('invite');
    expect(sync.body.rooms.join?.[roomId]).toBeUndefined();
  });

  it('marks the invite member event is_direct when asked', async () => {
    const roomId = await createRoom(alice, { invite: [bob.userId], is_direct: true });
    const member = await stateContent(roomId, 'm.room.member', bob.userId);
    expect(member).toMatchObject({ membership: 'invite', is_direct: true });
  });

  it('leaves is_direct out of the invite when not asked', async () => {
    const roomId = await createRoom(alice, { invite: [bob.userId] });
    const member = await stateContent(roomId, 'm.room.member', bob.userId);
    expect(member.membership).toBe('invite');
    expect(member.is_direct).toBeUndefined();
  });

  it('applies initial_state, and name over an m.room.name in it', async () => {
    const roomId = await createRoom(alice, {
      name: 'From name',
      initial_state: [
        { type: 'm.room.name', content: { name: 'From initial_state' } },
        { type: 'org.example.flavour', state_key: 'tea', content: { kind: 'green' } },
      ],
    });
    expect(await stateContent(roomId, 'org.example.flavour', 'tea')).toEqual({ kind: 'green' });
    expect(await stateContent(roomId, 'm.room.name')).toEqual({ name: 'From name' });
  });

  it('publishes room_alias_name, which then resolves to the room', async () => {
    const localpart = newAliasLocalpart();
    const roomId = await createRoom(alice, { room_alias_name: localpart });
    const alias = `#${localpart}:${server.serverName}`;
    const res = await api(server, 'GET', `${V3}/directory/room/${encodeURIComponent(alias)}`);
    expect(res.status).toBe(200);
    expect(res.body.room_id).toBe(roomId);
    expect(await stateContent(roomId, 'm.room.canonical_alias')).toMatchObject({ alias });
  });

  it('refuses a room_alias_name already taken with 400 M_ROOM_IN_USE', async () => {
    const localpart = newAliasLocalpart();
    await createRoom(alice, { room_alias_name: localpart });
    const before = await joinedRooms(bob);
    const res = await postCreateRoom(bob, { room_alias_name: localpart });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_ROOM_IN_USE');
    expect(await joinedRooms(bob)).toEqual(before);
  });

  it('refuses a room_alias_name with a colon or a space with 400 M_INVALID_PARAM', async () => {
    for (const name of ['bad:alias', 'bad alias']) {
      const res = await postCreateRoom(alice, { room_alias_name: name });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe('M_INVALID_PARAM');
    }
  });

  it('lists the room in the public directory for visibility public', async () => {
    const roomId = await createRoom(alice, { visibility: 'public', name: 'Listed' });
    const res = await api(server, 'GET', `${V3}/directory/list/room/${encodeURIComponent(roomId)}`);
    expect(res.status).toBe(200);
    expect(res.body.visibility).toBe('public');
    const list = await api(server, 'GET', `${V3}/publicRooms`, { token: alice.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.chunk.map((r: any) => r.room_id)).toContain(roomId);
  });

  it('keeps a room without visibility out of the public directory', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    const res = await api(server, 'GET', `${V3}/directory/list/room/${encodeURIComponent(roomId)}`);
    expect(res.status).toBe(200);
    expect(res.body.visibility).toBe('private');
  });

  it('merges power_level_content_override into the power levels', async () => {
    const roomId = await createRoom(alice, {
      power_level_content_override: { events_default: 20, invite: 50 },
    });
    const levels = await stateContent(roomId, 'm.room.power_levels');
    expect(levels).toMatchObject({ events_default: 20, invite: 50, kick: 50 });
    expect(levels.users[alice.userId]).toBe(100);
  });

  it('puts creation_content, such as type m.space, in the create event', async () => {
    const roomId = await createRoom(alice, { creation_content: { type: 'm.space' } });
    const create = await stateContent(roomId, 'm.room.create');
    expect(create).toMatchObject({ type: 'm.space', room_version: '11' });
    expect(create.creator).toBeUndefined();
  });

  it('creates room version 11 by default', async () => {
    const roomId = await createRoom(alice);
    expect((await stateContent(roomId, 'm.room.create')).room_version).toBe('11');
  });

  it('creates room version 11 when asked for it', async () => {
    const roomId = await createRoom(alice, { room_version: '11' });
    expect((await stateContent(roomId, 'm.room.create')).room_version).toBe('11');
  });

  it('refuses an unknown room version with 400 M_UNSUPPORTED_ROOM_VERSION', async () => {
    const res = await postCreateRoom(alice, { room_version: 'no-such-version' });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_UNSUPPORTED_ROOM_VERSION');
  });

  it('fails when an invitee does not exist, leaving no room behind', async () => {
    const before = await joinedRooms(alice);
    const res = await postCreateRoom(alice, {
      name: 'Never',
      invite: [bob.userId, `@nobody${process.pid}:${server.serverName}`],
    });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
    expect(await joinedRooms(alice)).toEqual(before);
  });

  it('refuses a malformed body with 400 M_BAD_JSON', async () => {
    const res = await postCreateRoom(alice, { preset: 'secret_chat' });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_BAD_JSON');
  });

  it('needs an access token', async () => {
    const res = await api(server, 'POST', `${V3}/createRoom`, { body: {} });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_MISSING_TOKEN');
  });
});

describe('GET /rooms/{roomId}/state', () => {
  it('returns events in the spec format with room version 11 event ids', async () => {
    const roomId = await createRoom(alice, { name: 'Format', topic: 'ids', invite: [bob.userId] });
    const res = await api(server, 'GET', `${room(roomId)}/state`, { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(specErrors(ROOMS, 'GET', '/rooms/{roomId}/state', 200, res.body)).toEqual([]);
    const events = res.body as any[];
    const types = events.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'm.room.create',
        'm.room.member',
        'm.room.power_levels',
        'm.room.join_rules',
        'm.room.history_visibility',
        'm.room.name',
        'm.room.topic',
      ]),
    );
    for (const event of events) {
      expect(event.event_id).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
      expect(event.room_id).toBe(roomId);
      expect(typeof event.state_key).toBe('string');
      expect(typeof event.origin_server_ts).toBe('number');
    }
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
  });

  it('answers 403 M_FORBIDDEN to a user who was never in the room', async () => {
    const roomId = await createRoom(alice);
    const res = await api(server, 'GET', `${room(roomId)}/state`, { token: bob.accessToken });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });
});

describe('POST /rooms/{roomId}/upgrade', () => {
  async function upgrade(user: TestUser, roomId: string): Promise<ApiResponse> {
    return api(server, 'POST', `${room(roomId)}/upgrade`, {
      token: user.accessToken,
      body: { new_version: '11' },
    });
  }

  it('replaces the room, tombstones the old one and carries its state over', async () => {
    const localpart = newAliasLocalpart();
    const alias = `#${localpart}:${server.serverName}`;
    const oldRoom = await createRoom(alice, {
      preset: 'public_chat',
      name: 'Old name',
      topic: 'Old topic',
      room_alias_name: localpart,
    });
    const oldCreateId = (await allState(oldRoom)).find((e) => e.type === 'm.room.create').event_id;
    const res = await upgrade(alice, oldRoom);
    expect(res.status).toBe(200);
    const upgradeSchema = 'client-server/room_upgrades.yaml';
    expect(specErrors(upgradeSchema, 'POST', '/rooms/{roomId}/upgrade', 200, res.body)).toEqual([]);
    const newRoom = res.body.replacement_room as string;
    expect(newRoom).not.toBe(oldRoom);

    const tombstone = (await allState(oldRoom)).find((e) => e.type === 'm.room.tombstone');
    expect(tombstone.state_key).toBe('');
    expect(tombstone.content.replacement_room).toBe(newRoom);

    const create = await stateContent(newRoom, 'm.room.create');
    expect(create.predecessor).toEqual({ room_id: oldRoom, event_id: oldCreateId });
    expect(create.room_version).toBe('11');
    expect(await stateContent(newRoom, 'm.room.name')).toEqual({ name: 'Old name' });
    expect(await stateContent(newRoom, 'm.room.topic')).toMatchObject({ topic: 'Old topic' });
    expect(await stateContent(newRoom, 'm.room.join_rules')).toMatchObject({ join_rule: 'public' });

    const resolved = await api(server, 'GET', `${V3}/directory/room/${encodeURIComponent(alias)}`);
    expect(resolved.status).toBe(200);
    expect(resolved.body.room_id).toBe(newRoom);
    expect(await joinedRooms(alice)).toContain(newRoom);
  });

  it('copies the room type and silences ordinary members in the old room', async () => {
    const oldRoom = await createRoom(alice, {
      preset: 'public_chat',
      creation_content: { type: 'm.space' },
    });
    await join(bob, oldRoom);
    const res = await upgrade(alice, oldRoom);
    expect(res.status).toBe(200);
    const newRoom = res.body.replacement_room as string;
    expect((await stateContent(newRoom, 'm.room.create')).type).toBe('m.space');

    const levels = await stateContent(oldRoom, 'm.room.power_levels');
    expect(levels.events_default).toBeGreaterThanOrEqual(50);
    expect(levels.invite).toBeGreaterThanOrEqual(50);
    const path = `${room(oldRoom)}/send/m.room.message/after-upgrade`;
    const sent = await api(server, 'PUT', path, {
      token: bob.accessToken,
      body: { msgtype: 'm.text', body: 'anyone here?' },
    });
    expect(sent.status).toBe(403);
    expect(sent.body.errcode).toBe('M_FORBIDDEN');
    await join(bob, newRoom);
    expect(await joinedRooms(bob)).toContain(newRoom);
  });

  it('refuses a member below the tombstone power level with 403 M_FORBIDDEN', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await join(bob, roomId);
    const res = await upgrade(bob, roomId);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    expect((await allState(roomId)).some((e) => e.type === 'm.room.tombstone')).toBe(false);
  });

  it('refuses a user who is not in the room with 403 M_FORBIDDEN', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    const res = await upgrade(bob, roomId);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });

  it('refuses an unknown room version with 400 M_UNSUPPORTED_ROOM_VERSION', async () => {
    const roomId = await createRoom(alice);
    const res = await api(server, 'POST', `${room(roomId)}/upgrade`, {
      token: alice.accessToken,
      body: { new_version: 'no-such-version' },
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_UNSUPPORTED_ROOM_VERSION');
  });
});
