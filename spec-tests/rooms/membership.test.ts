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
/** Creates the rooms: power level 100. */
let alice: TestUser;
/** A moderator: power level 50. */
let mod: TestUser;
/** A second moderator, to test actions against an equal level. */
let mod2: TestUser;
/** A member with the default power level 0. */
let bob: TestUser;
/** Not in the room unless a test puts them there. */
let charlie: TestUser;

beforeAll(async () => {
  server = await startTestServer();
  [alice, mod, mod2, bob, charlie] = await Promise.all([
    createUser(server, 'alice'),
    createUser(server, 'mod'),
    createUser(server, 'modtwo'),
    createUser(server, 'bob'),
    createUser(server, 'charlie'),
  ]);
});
afterAll(() => server?.stop());

function room(roomId: string): string {
  return `${V3}/rooms/${encodeURIComponent(roomId)}`;
}

function post(user: TestUser, path: string, body: Record<string, unknown> = {}) {
  return api(server, 'POST', path, { token: user.accessToken, body });
}

async function ok(res: Promise<ApiResponse>, what: string): Promise<ApiResponse> {
  const done = await res;
  if (done.status !== 200) throw new Error(`${what} failed: ${JSON.stringify(done.body)}`);
  return done;
}

async function createRoom(user: TestUser, body: Record<string, unknown> = {}): Promise<string> {
  return (await ok(post(user, `${V3}/createRoom`, body), 'createRoom')).body.room_id;
}

function join(user: TestUser, roomId: string): Promise<ApiResponse> {
  return post(user, `${V3}/join/${encodeURIComponent(roomId)}`);
}

function invite(user: TestUser, roomId: string, target: TestUser): Promise<ApiResponse> {
  return post(user, `${room(roomId)}/invite`, { user_id: target.userId });
}

function kick(user: TestUser, roomId: string, target: TestUser): Promise<ApiResponse> {
  return post(user, `${room(roomId)}/kick`, { user_id: target.userId, reason: 'test' });
}

function ban(user: TestUser, roomId: string, target: TestUser): Promise<ApiResponse> {
  return post(user, `${room(roomId)}/ban`, { user_id: target.userId });
}

function unban(user: TestUser, roomId: string, target: TestUser): Promise<ApiResponse> {
  return post(user, `${room(roomId)}/unban`, { user_id: target.userId });
}

function leave(user: TestUser, roomId: string): Promise<ApiResponse> {
  return post(user, `${room(roomId)}/leave`);
}

function putState(
  user: TestUser,
  roomId: string,
  type: string,
  stateKey: string,
  content: Record<string, unknown>,
): Promise<ApiResponse> {
  const path = `${room(roomId)}/state/${type}/${encodeURIComponent(stateKey)}`;
  return api(server, 'PUT', path, { token: user.accessToken, body: content });
}

async function memberContent(roomId: string, userId: string, as: TestUser = alice): Promise<any> {
  const path = `${room(roomId)}/state/m.room.member/${encodeURIComponent(userId)}`;
  return (await ok(api(server, 'GET', path, { token: as.accessToken }), 'GET member')).body;
}

async function joinedRooms(user: TestUser): Promise<string[]> {
  const res = await api(server, 'GET', `${V3}/joined_rooms`, { token: user.accessToken });
  return res.body.joined_rooms;
}

/**
 * A room with alice (100), mod and mod2 (50) and bob (0) joined; charlie is outside. Public
 * unless `preset` says otherwise (then everyone was invited first).
 */
async function fixture(preset: 'public_chat' | 'private_chat' = 'public_chat'): Promise<string> {
  const roomId = await createRoom(alice, {
    preset,
    power_level_content_override: {
      users: { [alice.userId]: 100, [mod.userId]: 50, [mod2.userId]: 50 },
    },
  });
  for (const user of [mod, mod2, bob]) {
    if (preset === 'private_chat') await ok(invite(alice, roomId, user), 'invite');
    await ok(join(user, roomId), 'join');
  }
  return roomId;
}

interface PermissionCase {
  name: string;
  preset?: 'public_chat' | 'private_chat';
  prepare?: (roomId: string) => Promise<unknown>;
  act: (roomId: string) => Promise<ApiResponse>;
  status: number;
  errcode?: string;
}

const permissionCases: PermissionCase[] = [
  {
    name: 'a member may invite (invite level 0)',
    act: (r) => invite(bob, r, charlie),
    status: 200,
  },
  {
    name: 'a non-member may not invite',
    act: (r) => invite(charlie, r, bob),
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'nobody joins an invite-only room without an invite',
    preset: 'private_chat',
    act: (r) => join(charlie, r),
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'an invited user joins an invite-only room',
    preset: 'private_chat',
    prepare: (r) => ok(invite(alice, r, charlie), 'invite'),
    act: (r) => join(charlie, r),
    status: 200,
  },
  {
    name: 'anyone joins a public room',
    act: (r) => join(charlie, r),
    status: 200,
  },
  {
    name: 'a moderator (50) kicks a user of level 0',
    act: (r) => kick(mod, r, bob),
    status: 200,
  },
  {
    name: 'a user of level 0 may not kick',
    prepare: (r) => ok(join(charlie, r), 'join'),
    act: (r) => kick(bob, r, charlie),
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'a moderator may not kick a user of the same level',
    act: (r) => kick(mod, r, mod2),
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'a moderator may not kick the admin',
    act: (r) => kick(mod, r, alice),
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'a moderator bans a user of level 0',
    act: (r) => ban(mod, r, bob),
    status: 200,
  },
  {
    name: 'a moderator bans a user who is not in the room',
    act: (r) => ban(mod, r, charlie),
    status: 200,
  },
  {
    name: 'a user of level 0 may not ban',
    act: (r) => ban(bob, r, mod),
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'a moderator unbans',
    prepare: (r) => ok(ban(mod, r, charlie), 'ban'),
    act: (r) => unban(mod2, r, charlie),
    status: 200,
  },
  {
    name: 'a user of level 0 may not unban',
    prepare: (r) => ok(ban(mod, r, charlie), 'ban'),
    act: (r) => unban(bob, r, charlie),
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'a banned user may not join',
    prepare: (r) => ok(ban(mod, r, charlie), 'ban'),
    act: (r) => join(charlie, r),
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'a banned user may not be invited',
    prepare: (r) => ok(ban(mod, r, charlie), 'ban'),
    act: (r) => invite(alice, r, charlie),
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'a user of level 0 may not send state below state_default (m.room.name)',
    act: (r) => putState(bob, r, 'm.room.name', '', { name: 'Mine now' }),
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'a moderator may set m.room.name (level 50)',
    act: (r) => putState(mod, r, 'm.room.name', '', { name: 'Moderated' }),
    status: 200,
  },
  {
    name: "a user may not set another user's member state",
    act: (r) => putState(bob, r, 'm.room.member', mod.userId, { membership: 'join' }),
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'a user may not set a state key that is another user id',
    act: (r) => putState(mod, r, 'org.example.owned', bob.userId, { mine: true }),
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'a moderator may not raise themselves above their own level',
    act: async (r) => {
      const levels = await api(server, 'GET', `${room(r)}/state/m.room.power_levels/`, {
        token: mod.accessToken,
      });
      const users = { ...levels.body.users, [mod.userId]: 100 };
      return putState(mod, r, 'm.room.power_levels', '', { ...levels.body, users });
    },
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'a moderator may not give another user a level above their own',
    act: async (r) => {
      const levels = await api(server, 'GET', `${room(r)}/state/m.room.power_levels/`, {
        token: mod.accessToken,
      });
      const users = { ...levels.body.users, [bob.userId]: 75 };
      return putState(mod, r, 'm.room.power_levels', '', { ...levels.body, users });
    },
    status: 403,
    errcode: 'M_FORBIDDEN',
  },
  {
    name: 'the admin may raise a user to their own level',
    act: async (r) => {
      const levels = await api(server, 'GET', `${room(r)}/state/m.room.power_levels/`, {
        token: alice.accessToken,
      });
      const users = { ...levels.body.users, [bob.userId]: 100 };
      return putState(alice, r, 'm.room.power_levels', '', { ...levels.body, users });
    },
    status: 200,
  },
];

describe('room membership permissions', () => {
  it.each(permissionCases)('$name', async ({ preset, prepare, act, status, errcode }) => {
    const roomId = await fixture(preset);
    if (prepare) await prepare(roomId);
    const res = await act(roomId);
    expect(res.status).toBe(status);
    if (errcode) expect(res.body.errcode).toBe(errcode);
    else expect(res.body.errcode).toBeUndefined();
  });
});

describe('POST /join/{roomIdOrAlias}', () => {
  it('joins by alias and returns the room id', async () => {
    const localpart = `members${process.pid}`;
    const roomId = await createRoom(alice, { preset: 'public_chat', room_alias_name: localpart });
    const alias = `#${localpart}:${server.serverName}`;
    const res = await join(bob, alias);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ room_id: roomId });
    expect(await joinedRooms(bob)).toContain(roomId);
  });

  it('answers 404 M_NOT_FOUND for an unknown alias', async () => {
    const res = await join(bob, `#nosuchalias${process.pid}:${server.serverName}`);
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it('changes nothing when joining a room one is already in', async () => {
    const roomId = await fixture();
    const before = await memberContent(roomId, bob.userId);
    const res = await join(bob, roomId);
    expect(res.status).toBe(200);
    expect(res.body.room_id).toBe(roomId);
    const path = `${room(roomId)}/state/m.room.member/${encodeURIComponent(bob.userId)}`;
    const after = await api(server, 'GET', `${path}?format=event`, { token: bob.accessToken });
    expect(after.body.content).toEqual(before);
    expect(after.body.unsigned?.replaces_state).toBeUndefined();
  });
});

describe('POST /rooms/{roomId}/kick', () => {
  it('sets the target to leave with the reason and the kicker as sender', async () => {
    const roomId = await fixture();
    await ok(kick(mod, roomId, bob), 'kick');
    expect(await memberContent(roomId, bob.userId)).toMatchObject({
      membership: 'leave',
      reason: 'test',
    });
    expect(await joinedRooms(bob)).not.toContain(roomId);
  });

  it('refuses to kick a user who is not in the room with 403 M_FORBIDDEN', async () => {
    const roomId = await fixture();
    const res = await kick(mod, roomId, charlie);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });
});

describe('POST /rooms/{roomId}/ban and /unban', () => {
  it('bans, keeps the user out, and lets them back after an unban', async () => {
    const roomId = await fixture();
    await ok(ban(mod, roomId, bob), 'ban');
    expect((await memberContent(roomId, bob.userId)).membership).toBe('ban');
    expect(await joinedRooms(bob)).not.toContain(roomId);

    const refused = await join(bob, roomId);
    expect(refused.status).toBe(403);
    expect(refused.body.errcode).toBe('M_FORBIDDEN');

    await ok(unban(mod, roomId, bob), 'unban');
    expect((await memberContent(roomId, bob.userId)).membership).toBe('leave');
    const again = await join(bob, roomId);
    expect(again.status).toBe(200);
    expect(await joinedRooms(bob)).toContain(roomId);
  });

  it('does not let a banned user leave their ban behind', async () => {
    const roomId = await fixture();
    await ok(ban(mod, roomId, bob), 'ban');
    const res = await leave(bob, roomId);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    expect((await memberContent(roomId, bob.userId)).membership).toBe('ban');
  });
});

describe('POST /rooms/{roomId}/leave', () => {
  it('leaves a public room, which can then be joined again', async () => {
    const roomId = await fixture();
    const res = await leave(bob, roomId);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect(await joinedRooms(bob)).not.toContain(roomId);
    expect((await memberContent(roomId, bob.userId)).membership).toBe('leave');

    expect((await join(bob, roomId)).status).toBe(200);
    expect(await joinedRooms(bob)).toContain(roomId);
    expect((await memberContent(roomId, bob.userId)).membership).toBe('join');
  });

  it('rejects an invite', async () => {
    const roomId = await fixture('private_chat');
    await ok(invite(alice, roomId, charlie), 'invite');
    expect((await leave(charlie, roomId)).status).toBe(200);
    expect((await memberContent(roomId, charlie.userId)).membership).toBe('leave');
    const res = await join(charlie, roomId);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });

  it('answers 404 M_NOT_FOUND for an unknown room', async () => {
    const res = await leave(bob, `!nosuchroom:${server.serverName}`);
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });
});

describe('POST /rooms/{roomId}/forget', () => {
  it('refuses while still joined with 400 M_UNKNOWN', async () => {
    const roomId = await fixture();
    const res = await post(bob, `${room(roomId)}/forget`);
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_UNKNOWN');
  });

  it('forgets a room after leaving it, after which its history is out of reach', async () => {
    const roomId = await fixture();
    await ok(leave(bob, roomId), 'leave');
    const before = await api(server, 'GET', `${room(roomId)}/messages?dir=b`, {
      token: bob.accessToken,
    });
    expect(before.status).toBe(200);

    const res = await post(bob, `${room(roomId)}/forget`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    const after = await api(server, 'GET', `${room(roomId)}/messages?dir=b`, {
      token: bob.accessToken,
    });
    expect(after.status).toBe(403);
    expect(after.body.errcode).toBe('M_FORBIDDEN');
  });

  it('lets a user who forgot a public room join it again', async () => {
    const roomId = await fixture();
    await ok(leave(bob, roomId), 'leave');
    await ok(post(bob, `${room(roomId)}/forget`), 'forget');
    expect((await join(bob, roomId)).status).toBe(200);
    const res = await api(server, 'GET', `${room(roomId)}/messages?dir=b`, {
      token: bob.accessToken,
    });
    expect(res.status).toBe(200);
  });
});

describe('GET /joined_rooms', () => {
  it('lists exactly the rooms the user is joined to', async () => {
    const user = await createUser(server, 'dora');
    expect(await joinedRooms(user)).toEqual([]);
    const first = await createRoom(user);
    const second = await createRoom(alice, { preset: 'public_chat' });
    await ok(join(user, second), 'join');
    const invitedOnly = await createRoom(alice, { invite: [user.userId] });
    const res = await api(server, 'GET', `${V3}/joined_rooms`, { token: user.accessToken });
    expect(res.status).toBe(200);
    const schema = 'client-server/list_joined_rooms.yaml';
    expect(specErrors(schema, 'GET', '/joined_rooms', 200, res.body)).toEqual([]);
    expect([...res.body.joined_rooms].sort()).toEqual([first, second].sort());
    expect(res.body.joined_rooms).not.toContain(invitedOnly);
  });
});

describe('GET /rooms/{roomId}/members', () => {
  /** alice and bob joined, charlie joined then left, dora invited; `token` from before that. */
  async function membersRoom(): Promise<{ roomId: string; token: string; dora: TestUser }> {
    const dora = await createUser(server, 'dora');
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await ok(join(bob, roomId), 'join');
    const sync = await ok(api(server, 'GET', `${V3}/sync`, { token: alice.accessToken }), 'sync');
    await ok(join(charlie, roomId), 'join');
    await ok(leave(charlie, roomId), 'leave');
    await ok(invite(alice, roomId, dora), 'invite');
    return { roomId, token: sync.body.next_batch, dora };
  }

  function members(user: TestUser, roomId: string, query = ''): Promise<ApiResponse> {
    return api(server, 'GET', `${room(roomId)}/members${query}`, { token: user.accessToken });
  }

  function byUser(res: ApiResponse): Record<string, string> {
    return Object.fromEntries(res.body.chunk.map((e: any) => [e.state_key, e.content.membership]));
  }

  it('lists every member event of the room in the spec format', async () => {
    const { roomId, dora } = await membersRoom();
    const res = await members(bob, roomId);
    expect(res.status).toBe(200);
    expect(specErrors(ROOMS, 'GET', '/rooms/{roomId}/members', 200, res.body)).toEqual([]);
    expect(byUser(res)).toEqual({
      [alice.userId]: 'join',
      [bob.userId]: 'join',
      [charlie.userId]: 'leave',
      [dora.userId]: 'invite',
    });
    for (const event of res.body.chunk) expect(event.type).toBe('m.room.member');
  });

  it('keeps only one membership with membership=', async () => {
    const { roomId } = await membersRoom();
    const res = await members(bob, roomId, '?membership=join');
    expect(res.status).toBe(200);
    expect(byUser(res)).toEqual({ [alice.userId]: 'join', [bob.userId]: 'join' });
  });

  it('drops one membership with not_membership=', async () => {
    const { roomId, dora } = await membersRoom();
    const res = await members(bob, roomId, '?not_membership=leave');
    expect(res.status).toBe(200);
    expect(byUser(res)).toEqual({
      [alice.userId]: 'join',
      [bob.userId]: 'join',
      [dora.userId]: 'invite',
    });
  });

  it('returns the members at a /sync next_batch with at=', async () => {
    const { roomId, token } = await membersRoom();
    const res = await members(bob, roomId, `?at=${encodeURIComponent(token)}`);
    expect(res.status).toBe(200);
    expect(byUser(res)).toEqual({ [alice.userId]: 'join', [bob.userId]: 'join' });
  });

  it('refuses a malformed at token with 400 M_INVALID_PARAM', async () => {
    const { roomId } = await membersRoom();
    const res = await members(bob, roomId, '?at=not-a-token');
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
  });

  it('shows a user who left the members as they were when they left', async () => {
    const { roomId } = await membersRoom();
    const res = await members(charlie, roomId);
    expect(res.status).toBe(200);
    expect(byUser(res)).toEqual({
      [alice.userId]: 'join',
      [bob.userId]: 'join',
      [charlie.userId]: 'leave',
    });
  });

  it('answers 403 M_FORBIDDEN to a user who was never in the room', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    const res = await members(charlie, roomId);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });
});

describe('GET /rooms/{roomId}/joined_members', () => {
  it('maps joined users to their profile in the spec format', async () => {
    const roomId = await fixture();
    await ok(invite(alice, roomId, charlie), 'invite');
    const res = await api(server, 'GET', `${room(roomId)}/joined_members`, {
      token: bob.accessToken,
    });
    expect(res.status).toBe(200);
    expect(specErrors(ROOMS, 'GET', '/rooms/{roomId}/joined_members', 200, res.body)).toEqual([]);
    expect(Object.keys(res.body.joined).sort()).toEqual(
      [alice.userId, mod.userId, mod2.userId, bob.userId].sort(),
    );
  });

  it('answers 403 M_FORBIDDEN to a non-member', async () => {
    const roomId = await fixture();
    const res = await api(server, 'GET', `${room(roomId)}/joined_members`, {
      token: charlie.accessToken,
    });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });

  it('shows a per-room display name set through the member state event', async () => {
    const roomId = await fixture();
    const current = await memberContent(roomId, bob.userId, bob);
    const res = await putState(bob, roomId, 'm.room.member', bob.userId, {
      ...current,
      displayname: 'Bob in this room',
    });
    expect(res.status).toBe(200);
    expect(res.body.event_id).toMatch(/^\$/);
    const joined = await api(server, 'GET', `${room(roomId)}/joined_members`, {
      token: alice.accessToken,
    });
    expect(joined.body.joined[bob.userId].display_name).toBe('Bob in this room');
  });
});

describe('PUT /profile/{userId}/displayname', () => {
  it('updates the member event in every room the user is joined to', async () => {
    const erin = await createUser(server, 'erin');
    const first = await createRoom(erin);
    const second = await createRoom(alice, { preset: 'public_chat' });
    await ok(join(erin, second), 'join');
    const left = await createRoom(alice, { preset: 'public_chat' });
    await ok(join(erin, left), 'join');
    await ok(leave(erin, left), 'leave');

    const path = `${V3}/profile/${encodeURIComponent(erin.userId)}/displayname`;
    const res = await api(server, 'PUT', path, {
      token: erin.accessToken,
      body: { displayname: 'Erin Everywhere' },
    });
    expect(res.status).toBe(200);
    for (const roomId of [first, second]) {
      const member = await memberContent(roomId, erin.userId, erin);
      expect(member).toMatchObject({ membership: 'join', displayname: 'Erin Everywhere' });
      const joined = await api(server, 'GET', `${room(roomId)}/joined_members`, {
        token: erin.accessToken,
      });
      expect(joined.body.joined[erin.userId].display_name).toBe('Erin Everywhere');
    }
    const stillLeft = await memberContent(left, erin.userId, alice);
    expect(stillLeft.membership).toBe('leave');
    expect(stillLeft.displayname).toBeUndefined();
  });
});
