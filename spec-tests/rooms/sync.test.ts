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

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const V3 = '/_matrix/client/v3';

interface SyncEvent {
  event_id: string;
  type: string;
  sender: string;
  state_key?: string;
  content: Record<string, unknown>;
}

let txn = 0;

async function createRoom(user: TestUser, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api(server, 'POST', `${V3}/createRoom`, { token: user.accessToken, body });
  if (res.status !== 200) throw new Error(`createRoom failed: ${JSON.stringify(res.body)}`);
  return res.body.room_id as string;
}

async function send(user: TestUser, roomId: string, text: string): Promise<string> {
  txn += 1;
  const path = `${V3}/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${txn}`;
  const res = await api(server, 'PUT', path, {
    token: user.accessToken,
    body: { msgtype: 'm.text', body: text },
  });
  if (res.status !== 200) throw new Error(`send failed: ${JSON.stringify(res.body)}`);
  return res.body.event_id as string;
}

async function join(user: TestUser, roomId: string): Promise<void> {
  const res = await api(server, 'POST', `${V3}/join/${encodeURIComponent(roomId)}`, {
    token: user.accessToken,
    body: {},
  });
  if (res.status !== 200) throw new Error(`join failed: ${JSON.stringify(res.body)}`);
}

function sync(user: TestUser, query: Record<string, string | number> = {}): Promise<ApiResponse> {
  const search = new URLSearchParams(
    Object.entries(query).map(([key, value]): [string, string] => [key, String(value)]),
  );
  const qs = search.size ? `?${search}` : '';
  return api(server, 'GET', `${V3}/sync${qs}`, { token: user.accessToken });
}

/** An initial sync that must succeed; returns its body. */
async function syncOk(user: TestUser, query: Record<string, string | number> = {}) {
  const res = await sync(user, query);
  expect(res.status).toBe(200);
  return res.body;
}

const ids = (events: SyncEvent[]) => events.map((e) => e.event_id);
const types = (events: SyncEvent[]) => events.map((e) => e.type);

describe('GET /sync (initial)', () => {
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  let body: any;

  beforeAll(async () => {
    alice = await createUser(server, 'alice');
    bob = await createUser(server, 'bob');
    roomId = await createRoom(alice, { invite: [bob.userId], preset: 'private_chat' });
    for (let i = 0; i < 12; i++) await send(alice, roomId, `message ${i}`);
    body = await syncOk(alice);
  });

  it('answers in the shape the spec gives', () => {
    expect(specErrors('client-server/sync.yaml', 'GET', '/sync', 200, body)).toEqual([]);
    expect(typeof body.next_batch).toBe('string');
  });

  it('lists the joined room with its state and a limited timeline with prev_batch', () => {
    const room = body.rooms.join[roomId];
    expect(room).toBeDefined();
    expect(types(room.state.events)).toContain('m.room.create');
    expect(types(room.state.events)).toContain('m.room.power_levels');
    expect(room.timeline.limited).toBe(true);
    expect(typeof room.timeline.prev_batch).toBe('string');
    expect(room.timeline.events.length).toBeGreaterThan(0);
    const last = room.timeline.events.at(-1) as SyncEvent;
    expect(last.content.body).toBe('message 11');
  });

  it('summarises members and names heroes for a room without a name', () => {
    const summary = body.rooms.join[roomId].summary;
    expect(summary['m.joined_member_count']).toBe(1);
    expect(summary['m.invited_member_count']).toBe(1);
    expect(summary['m.heroes']).toEqual([bob.userId]);
  });

  it('gives unread notification counts', () => {
    const counts = body.rooms.join[roomId].unread_notifications;
    expect(typeof counts.notification_count).toBe('number');
    expect(typeof counts.highlight_count).toBe('number');
  });

  it('carries the push rules in global account data', () => {
    const pushRules = body.account_data.events.find(
      (e: { type: string }) => e.type === 'm.push_rules',
    );
    expect(pushRules?.content?.global?.override).toBeInstanceOf(Array);
  });

  it('lists the room under invite for the invited user, with stripped state', async () => {
    const bobs = await syncOk(bob);
    expect(bobs.rooms.join[roomId]).toBeUndefined();
    const invite = bobs.rooms.invite[roomId];
    expect(types(invite.invite_state.events)).toContain('m.room.create');
    const own = invite.invite_state.events.find(
      (e: SyncEvent) => e.type === 'm.room.member' && e.state_key === bob.userId,
    );
    expect(own?.content.membership).toBe('invite');
  });
});

describe('GET /sync?since=', () => {
  it('returns only the events after next_batch', async () => {
    const alice = await createUser(server, 'alice');
    const roomId = await createRoom(alice, { name: 'incremental' });
    await send(alice, roomId, 'before');
    const first = await syncOk(alice);
    const eventId = await send(alice, roomId, 'after');
    const next = await syncOk(alice, { since: first.next_batch });
    expect(specErrors('client-server/sync.yaml', 'GET', '/sync', 200, next)).toEqual([]);
    const room = next.rooms.join[roomId];
    expect(ids(room.timeline.events)).toEqual([eventId]);
    expect(room.timeline.limited).toBe(false);
    expect(room.state.events).toEqual([]);
    expect(next.next_batch).not.toBe(first.next_batch);
  });

  it('wakes a long-poll when a message arrives, well before the timeout', async () => {
    const alice = await createUser(server, 'alice');
    const roomId = await createRoom(alice);
    const first = await syncOk(alice);
    const started = Date.now();
    const poll = sync(alice, { since: first.next_batch, timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const eventId = await send(alice, roomId, 'wake up');
    const res = await poll;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.status).toBe(200);
    expect(ids(res.body.rooms.join[roomId].timeline.events)).toContain(eventId);
  });

  it('returns an empty response after the timeout when nothing happens', async () => {
    const alice = await createUser(server, 'alice');
    const roomId = await createRoom(alice);
    await send(alice, roomId, 'old news');
    const first = await syncOk(alice);
    const started = Date.now();
    const res = await sync(alice, { since: first.next_batch, timeout: 1500 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(res.status).toBe(200);
    expect(res.body.rooms?.join?.[roomId]).toBeUndefined();
    expect(typeof res.body.next_batch).toBe('string');
    // An older token would replay the room's events.
    const again = await syncOk(alice, { since: res.body.next_batch });
    expect(again.rooms?.join?.[roomId]).toBeUndefined();
  });

  it('is not woken by a message in a room the user is not in', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const roomId = await createRoom(alice);
    const first = await syncOk(bob);
    const started = Date.now();
    const poll = sync(bob, { since: first.next_batch, timeout: 1500 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await send(alice, roomId, 'not for bob');
    const res = await poll;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(res.status).toBe(200);
    expect(res.body.rooms?.join?.[roomId]).toBeUndefined();
  });

  it('is woken by an invite, which lists the room under invite with invite_state', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const first = await syncOk(bob);
    const started = Date.now();
    const poll = sync(bob, { since: first.next_batch, timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const roomId = await createRoom(alice, { name: 'invitation', invite: [bob.userId] });
    const res = await poll;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.status).toBe(200);
    const invite = res.body.rooms.invite[roomId];
    const name = invite.invite_state.events.find((e: SyncEvent) => e.type === 'm.room.name');
    expect(name?.content.name).toBe('invitation');
    const own = invite.invite_state.events.find(
      (e: SyncEvent) => e.type === 'm.room.member' && e.state_key === bob.userId,
    );
    expect(own?.content.membership).toBe('invite');
  });

  it('lists a room the user left under leave', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await join(bob, roomId);
    const first = await syncOk(bob);
    expect(first.rooms.join[roomId]).toBeDefined();
    const left = await api(server, 'POST', `${V3}/rooms/${encodeURIComponent(roomId)}/leave`, {
      token: bob.accessToken,
      body: {},
    });
    expect(left.status).toBe(200);
    const next = await syncOk(bob, { since: first.next_batch });
    expect(next.rooms.join?.[roomId]).toBeUndefined();
    const leave = next.rooms.leave[roomId];
    expect(leave).toBeDefined();
    const own = leave.timeline.events.find(
      (e: SyncEvent) => e.type === 'm.room.member' && e.state_key === bob.userId,
    );
    expect(own?.content.membership).toBe('leave');
  });

  it('sends state changed in the gap before a limited timeline', async () => {
    const alice = await createUser(server, 'alice');
    const roomId = await createRoom(alice, { name: 'old name' });
    const first = await syncOk(alice);
    const path = `${V3}/rooms/${encodeURIComponent(roomId)}/state/m.room.name`;
    const renamed = await api(server, 'PUT', path, {
      token: alice.accessToken,
      body: { name: 'new name' },
    });
    expect(renamed.status).toBe(200);
    for (let i = 0; i < 12; i++) await send(alice, roomId, `after rename ${i}`);
    const next = await syncOk(alice, { since: first.next_batch });
    const room = next.rooms.join[roomId];
    expect(room.timeline.limited).toBe(true);
    expect(ids(room.timeline.events)).not.toContain(renamed.body.event_id);
    const name = (room.state.events as SyncEvent[]).find((e) => e.type === 'm.room.name');
    expect(name?.event_id).toBe(renamed.body.event_id);
    expect(types(room.state.events)).not.toContain('m.room.create');
  });

  it('rejects a token it did not issue with 400, not 500', async () => {
    const alice = await createUser(server, 'alice');
    const res = await sync(alice, { since: 'garbage' });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toMatch(/^M_/);
  });

  it('returns the full state of every room with full_state=true', async () => {
    const alice = await createUser(server, 'alice');
    const roomId = await createRoom(alice, { name: 'full state' });
    const first = await syncOk(alice);
    const next = await syncOk(alice, { since: first.next_batch, full_state: 'true' });
    const room = next.rooms.join[roomId];
    expect(room).toBeDefined();
    const state = room.state.events as SyncEvent[];
    expect(types(state)).toEqual(
      expect.arrayContaining(['m.room.create', 'm.room.power_levels', 'm.room.name']),
    );
    expect(state.find((e) => e.type === 'm.room.name')?.content.name).toBe('full state');
    expect(room.timeline.events).toEqual([]);
  });

  it('gives a newly joined room with its full state', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const roomId = await createRoom(alice, { name: 'new to bob', preset: 'public_chat' });
    for (let i = 0; i < 12; i++) await send(alice, roomId, `history ${i}`);
    const first = await syncOk(bob);
    await join(bob, roomId);
    const next = await syncOk(bob, { since: first.next_batch });
    const room = next.rooms.join[roomId];
    expect(room).toBeDefined();
    const all = [...room.state.events, ...room.timeline.events] as SyncEvent[];
    expect(all.find((e) => e.type === 'm.room.name')?.content.name).toBe('new to bob');
    expect(types(all)).toContain('m.room.create');
    const own = all.find((e) => e.type === 'm.room.member' && e.state_key === bob.userId);
    expect(own?.content.membership).toBe('join');
  });
});

describe('GET /sync?filter=', () => {
  let alice: TestUser;
  let roomId: string;
  let messages: string[];

  beforeAll(async () => {
    alice = await createUser(server, 'alice');
    roomId = await createRoom(alice, { name: 'filtered' });
    messages = [];
    for (let i = 0; i < 5; i++) messages.push(await send(alice, roomId, `m${i}`));
  });

  it('limits the timeline with an inline JSON filter', async () => {
    const body = await syncOk(alice, {
      filter: JSON.stringify({ room: { timeline: { limit: 2 } } }),
    });
    const timeline = body.rooms.join[roomId].timeline;
    expect(timeline.limited).toBe(true);
    expect(ids(timeline.events)).toEqual(messages.slice(3));
  });

  it('limits the timeline with a filter id from POST /user/{userId}/filter', async () => {
    const path = `${V3}/user/${encodeURIComponent(alice.userId)}/filter`;
    const created = await api(server, 'POST', path, {
      token: alice.accessToken,
      body: { room: { timeline: { limit: 2 } } },
    });
    expect(created.status).toBe(200);
    const body = await syncOk(alice, { filter: created.body.filter_id });
    const timeline = body.rooms.join[roomId].timeline;
    expect(timeline.limited).toBe(true);
    expect(ids(timeline.events)).toEqual(messages.slice(3));
  });

  it('keeps only the listed event types in the timeline', async () => {
    const body = await syncOk(alice, {
      filter: JSON.stringify({ room: { timeline: { types: ['m.room.message'], limit: 50 } } }),
    });
    const timeline = body.rooms.join[roomId].timeline;
    expect(ids(timeline.events)).toEqual(messages);
    const unfiltered = await syncOk(alice, {
      filter: JSON.stringify({ room: { timeline: { limit: 50 } } }),
    });
    expect(types(unfiltered.rooms.join[roomId].timeline.events)).toContain('m.room.create');
  });

  it('rejects an inline filter that is not valid JSON with 400', async () => {
    const res = await sync(alice, { filter: '{"room":' });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toMatch(/^M_/);
  });

  it('sends only the members who spoke (and the user) with lazy_load_members', async () => {
    const others = await Promise.all(
      ['bob', 'charlie', 'dave', 'eve'].map((name) => createUser(server, name)),
    );
    const room = await createRoom(alice, { preset: 'public_chat', name: 'lazy' });
    for (const user of others) await join(user, room);
    for (let i = 0; i < 4; i++) await send(alice, room, `alice speaks ${i}`);
    const bob = others[0] as TestUser;
    const filter = { room: { state: { lazy_load_members: true }, timeline: { limit: 3 } } };
    const body = await syncOk(bob, { filter: JSON.stringify(filter) });
    const section = body.rooms.join[room];
    expect(new Set(section.timeline.events.map((e: SyncEvent) => e.sender))).toEqual(
      new Set([alice.userId]),
    );
    const members = (section.state.events as SyncEvent[])
      .filter((e) => e.type === 'm.room.member')
      .map((e) => e.state_key)
      .sort();
    expect(members).toEqual([alice.userId, bob.userId].sort());
    expect(types(section.state.events)).toContain('m.room.name');
    expect(section.summary['m.joined_member_count']).toBe(5);
  });
});

describe('GET /sync then GET /rooms/{roomId}/messages', () => {
  it('continues from prev_batch without overlap or gap', async () => {
    const alice = await createUser(server, 'alice');
    const roomId = await createRoom(alice, { name: 'pagination' });
    const sent: string[] = [];
    for (let i = 0; i < 15; i++) sent.push(await send(alice, roomId, `page ${i}`));
    const body = await syncOk(alice);
    const timeline = body.rooms.join[roomId].timeline;
    expect(timeline.limited).toBe(true);
    const seen: string[] = ids(timeline.events);

    let from: string | undefined = timeline.prev_batch;
    for (let page = 0; from && page < 20; page++) {
      const path = `${V3}/rooms/${encodeURIComponent(roomId)}/messages`;
      const res = await api(server, 'GET', `${path}?from=${encodeURIComponent(from)}&dir=b`, {
        token: alice.accessToken,
      });
      expect(res.status).toBe(200);
      if (res.body.chunk.length === 0) break;
      seen.push(...ids(res.body.chunk));
      from = res.body.end;
    }

    const state = await api(server, 'GET', `${V3}/rooms/${encodeURIComponent(roomId)}/state`, {
      token: alice.accessToken,
    });
    expect(state.status).toBe(200);
    const expected = [...sent, ...ids(state.body)];
    expect(seen.length).toBe(new Set(seen).size);
    expect(new Set(seen)).toEqual(new Set(expected));
  });
});
