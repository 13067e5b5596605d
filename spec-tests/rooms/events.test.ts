import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createUser,
  login,
  startTestServer,
  type ApiResponse,
  type TestServer,
  type TestUser,
} from '../support/server.js';
import { specErrors } from '../support/spec-schema.js';

const V3 = '/_matrix/client/v3';
const V1 = '/_matrix/client/v1';
const ROOMS = 'client-server/rooms.yaml';

let server: TestServer;
/** Creates the rooms: power level 100. */
let alice: TestUser;
/** A member with the default power level 0. */
let bob: TestUser;
/** A moderator (50) in the rooms that need one, else an outsider. */
let charlie: TestUser;
let txnCounter = 0;

beforeAll(async () => {
  server = await startTestServer();
  [alice, bob, charlie] = await Promise.all([
    createUser(server, 'alice'),
    createUser(server, 'bob'),
    createUser(server, 'charlie'),
  ]);
});
afterAll(() => server?.stop());

function room(roomId: string): string {
  return `${V3}/rooms/${encodeURIComponent(roomId)}`;
}

function txn(): string {
  txnCounter += 1;
  return `t${process.pid}x${txnCounter}`;
}

async function ok(res: Promise<ApiResponse>, what: string): Promise<ApiResponse> {
  const done = await res;
  if (done.status !== 200) throw new Error(`${what} failed: ${JSON.stringify(done.body)}`);
  return done;
}

async function createRoom(user: TestUser, body: Record<string, unknown> = {}): Promise<string> {
  const res = api(server, 'POST', `${V3}/createRoom`, { token: user.accessToken, body });
  return (await ok(res, 'createRoom')).body.room_id;
}

async function join(user: TestUser, roomId: string): Promise<void> {
  const path = `${V3}/join/${encodeURIComponent(roomId)}`;
  await ok(api(server, 'POST', path, { token: user.accessToken, body: {} }), 'join');
}

/** A public room of alice's that bob (and charlie, as moderator, when asked) have joined. */
async function sharedRoom(options: { moderator?: boolean } = {}): Promise<string> {
  const roomId = await createRoom(alice, {
    preset: 'public_chat',
    ...(options.moderator
      ? { power_level_content_override: { users: { [alice.userId]: 100, [charlie.userId]: 50 } } }
      : {}),
  });
  await join(bob, roomId);
  if (options.moderator) await join(charlie, roomId);
  return roomId;
}

function putSend(
  user: { accessToken: string },
  roomId: string,
  content: Record<string, unknown> | string,
  options: { type?: string; txnId?: string } = {},
): Promise<ApiResponse> {
  const type = options.type ?? 'm.room.message';
  const path = `${room(roomId)}/send/${type}/${options.txnId ?? txn()}`;
  return typeof content === 'string'
    ? api(server, 'PUT', path, {
        token: user.accessToken,
        raw: content,
        headers: { 'content-type': 'application/json' },
      })
    : api(server, 'PUT', path, { token: user.accessToken, body: content });
}

/** Sends an event and returns its id. */
async function send(
  user: TestUser,
  roomId: string,
  content: Record<string, unknown>,
  type = 'm.room.message',
): Promise<string> {
  return (await ok(putSend(user, roomId, content, { type }), 'send')).body.event_id;
}

function text(body: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { msgtype: 'm.text', body, ...extra };
}

function putState(
  user: TestUser,
  roomId: string,
  type: string,
  content: Record<string, unknown>,
  stateKey = '',
): Promise<ApiResponse> {
  const path = `${room(roomId)}/state/${type}/${encodeURIComponent(stateKey)}`;
  return api(server, 'PUT', path, { token: user.accessToken, body: content });
}

function getEvent(user: TestUser, roomId: string, eventId: string): Promise<ApiResponse> {
  const path = `${room(roomId)}/event/${encodeURIComponent(eventId)}`;
  return api(server, 'GET', path, { token: user.accessToken });
}

function messages(
  user: { accessToken: string },
  roomId: string,
  query: Record<string, string | number> = {},
): Promise<ApiResponse> {
  const params = new URLSearchParams(
    Object.entries({ dir: 'b', ...query }).map(([k, v]): [string, string] => [k, String(v)]),
  );
  return api(server, 'GET', `${room(roomId)}/messages?${params}`, { token: user.accessToken });
}

/** The ids of every m.room.message the user can page back to, newest first. */
async function visibleMessageIds(user: TestUser, roomId: string): Promise<string[]> {
  const res = await ok(messages(user, roomId, { limit: 100 }), 'messages');
  return res.body.chunk.filter((e: any) => e.type === 'm.room.message').map((e: any) => e.event_id);
}

function redact(user: TestUser, roomId: string, eventId: string): Promise<ApiResponse> {
  const path = `${room(roomId)}/redact/${encodeURIComponent(eventId)}/${txn()}`;
  return api(server, 'PUT', path, { token: user.accessToken, body: { reason: 'tidy up' } });
}

describe('PUT /rooms/{roomId}/send/{eventType}/{txnId}', () => {
  it('returns the same event for a retried transaction id and stores it once', async () => {
    const roomId = await sharedRoom();
    const txnId = txn();
    const first = await putSend(bob, roomId, text('once'), { txnId });
    const second = await putSend(bob, roomId, text('once'), { txnId });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.event_id).toBe(first.body.event_id);
    const page = await ok(messages(bob, roomId, { limit: 50 }), 'messages');
    const copies = page.body.chunk.filter((e: any) => e.content.body === 'once');
    expect(copies).toHaveLength(1);
    expect(copies[0].unsigned.transaction_id).toBe(txnId);
  });

  it('treats the same transaction id from another device as a new event', async () => {
    const roomId = await sharedRoom();
    const txnId = txn();
    const other = await login(server, bob);
    const first = await ok(putSend(bob, roomId, text('twice'), { txnId }), 'send');
    const second = await ok(putSend(other, roomId, text('twice'), { txnId }), 'send');
    expect(second.body.event_id).not.toBe(first.body.event_id);
    const page = await ok(messages(bob, roomId, { limit: 50 }), 'messages');
    expect(page.body.chunk.filter((e: any) => e.content.body === 'twice')).toHaveLength(2);
  });

  // Transaction ids are scoped to the device and the request path.
  it('treats the same transaction id in another room as a new event', async () => {
    const first = await sharedRoom();
    const second = await sharedRoom();
    const txnId = txn();
    const a = await ok(putSend(bob, first, text('room one'), { txnId }), 'send');
    const b = await ok(putSend(bob, second, text('room two'), { txnId }), 'send');
    expect(b.body.event_id).not.toBe(a.body.event_id);
    const event = await getEvent(bob, second, b.body.event_id);
    expect(event.status).toBe(200);
    expect(event.body.content.body).toBe('room two');
  });

  it('treats the same transaction id on /redact as a new request', async () => {
    const roomId = await sharedRoom();
    const txnId = txn();
    const message = await ok(putSend(bob, roomId, text('to be redacted'), { txnId }), 'send');
    const path = `${room(roomId)}/redact/${encodeURIComponent(message.body.event_id)}/${txnId}`;
    const res = await api(server, 'PUT', path, { token: bob.accessToken, body: {} });
    expect(res.status).toBe(200);
    expect(res.body.event_id).not.toBe(message.body.event_id);
    expect((await getEvent(bob, roomId, message.body.event_id)).body.content).toEqual({});
  });

  it('shows transaction_id only to the device that sent the event', async () => {
    const roomId = await sharedRoom();
    const txnId = txn();
    const eventId = (await ok(putSend(bob, roomId, text('mine'), { txnId }), 'send')).body.event_id;
    expect((await getEvent(bob, roomId, eventId)).body.unsigned.transaction_id).toBe(txnId);
    expect((await getEvent(alice, roomId, eventId)).body.unsigned?.transaction_id).toBeUndefined();
  });

  it('refuses floats in content with 400 M_BAD_JSON', async () => {
    const roomId = await sharedRoom();
    const res = await putSend(bob, roomId, text('pi', { value: 3.14 }));
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_BAD_JSON');
  });

  it('refuses integers beyond the canonical JSON range with 400 M_BAD_JSON', async () => {
    const roomId = await sharedRoom();
    const res = await putSend(bob, roomId, '{"msgtype":"m.text","body":"x","n":9007199254740993}');
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_BAD_JSON');
  });

  it('refuses an event over 64 KiB with 413 M_TOO_LARGE', async () => {
    const roomId = await sharedRoom();
    const res = await putSend(bob, roomId, text('x'.repeat(66_000)));
    expect(res.status).toBe(413);
    expect(res.body.errcode).toBe('M_TOO_LARGE');
  });

  it('refuses an event type over 255 bytes with 413 M_TOO_LARGE', async () => {
    const roomId = await sharedRoom();
    const accepted = await putSend(bob, roomId, text('long'), { type: `a.${'t'.repeat(253)}` });
    expect(accepted.status).toBe(200);
    const res = await putSend(bob, roomId, text('longer'), { type: `a.${'t'.repeat(254)}` });
    expect(res.status).toBe(413);
    expect(res.body.errcode).toBe('M_TOO_LARGE');
  });

  it('accepts an event of 60 KiB', async () => {
    const roomId = await sharedRoom();
    const res = await putSend(bob, roomId, text('x'.repeat(60_000)));
    expect(res.status).toBe(200);
    expect(res.body.event_id).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a non-member with 403 M_FORBIDDEN', async () => {
    const roomId = await sharedRoom();
    const res = await putSend(charlie, roomId, text('let me in'));
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });

  it('refuses a sender below events_default with 403 M_FORBIDDEN', async () => {
    const roomId = await createRoom(alice, {
      preset: 'public_chat',
      power_level_content_override: { events_default: 10 },
    });
    await join(bob, roomId);
    const res = await putSend(bob, roomId, text('quiet room'));
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });
});

describe('PUT and GET /rooms/{roomId}/state/{eventType}/{stateKey}', () => {
  it('stores state and returns its content, or the whole event with format=event', async () => {
    const roomId = await sharedRoom();
    const put = await putState(alice, roomId, 'org.example.colour', { colour: 'teal' }, 'wall');
    expect(put.status).toBe(200);
    expect(put.body.event_id).toMatch(/^\$/);
    const path = `${room(roomId)}/state/org.example.colour/wall`;
    const content = await api(server, 'GET', path, { token: bob.accessToken });
    expect(content.status).toBe(200);
    expect(content.body).toEqual({ colour: 'teal' });

    const event = await api(server, 'GET', `${path}?format=event`, { token: bob.accessToken });
    expect(event.status).toBe(200);
    // The spec's schema here is a oneOf of any object and a state event, which an event
    // always matches twice; the event is compared with its entry in the checked GET /state.
    const all = await api(server, 'GET', `${room(roomId)}/state`, { token: bob.accessToken });
    expect(specErrors(ROOMS, 'GET', '/rooms/{roomId}/state', 200, all.body)).toEqual([]);
    const listed = all.body.find((e: any) => e.event_id === put.body.event_id);
    const { age: _a, ...unsigned } = event.body.unsigned ?? {};
    const { age: _b, ...listedUnsigned } = listed.unsigned ?? {};
    expect({ ...event.body, unsigned }).toEqual({ ...listed, unsigned: listedUnsigned });
    expect(event.body).toMatchObject({
      event_id: put.body.event_id,
      type: 'org.example.colour',
      state_key: 'wall',
      sender: alice.userId,
      room_id: roomId,
      content: { colour: 'teal' },
    });
  });

  it('refuses a state key over 255 bytes with 413 M_TOO_LARGE', async () => {
    const roomId = await sharedRoom();
    const ok255 = await putState(alice, roomId, 'org.example.key', { a: 1 }, 'é'.repeat(127) + 'k');
    expect(ok255.status).toBe(200);
    const res = await putState(alice, roomId, 'org.example.key', { a: 1 }, 'é'.repeat(128));
    expect(res.status).toBe(413);
    expect(res.body.errcode).toBe('M_TOO_LARGE');
  });

  it('refuses a state event whose signed form is over 64 KiB with 413 M_TOO_LARGE', async () => {
    const roomId = await sharedRoom();
    const type = `a.${'t'.repeat(253)}`;
    const content = { body: 'x'.repeat(64_490) };
    const res = await putState(alice, roomId, type, content, 'k'.repeat(255));
    expect(res.status).toBe(413);
    expect(res.body.errcode).toBe('M_TOO_LARGE');
    const smaller = { body: 'x'.repeat(60_000) };
    const small = await putState(alice, roomId, type, smaller, 'k'.repeat(255));
    expect(small.status).toBe(200);
  });

  it('reads the empty state key with or without the trailing slash', async () => {
    const roomId = await sharedRoom();
    await ok(putState(alice, roomId, 'm.room.topic', { topic: 'Slashes' }), 'PUT state');
    for (const path of ['m.room.topic', 'm.room.topic/']) {
      const res = await api(server, 'GET', `${room(roomId)}/state/${path}`, {
        token: bob.accessToken,
      });
      expect(res.status).toBe(200);
      expect(res.body.topic).toBe('Slashes');
    }
  });

  it('answers 404 M_NOT_FOUND for a state key the room does not have', async () => {
    const roomId = await sharedRoom();
    const res = await api(server, 'GET', `${room(roomId)}/state/org.example.colour/nothing`, {
      token: bob.accessToken,
    });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it('answers 403 M_FORBIDDEN to a user who was never in the room', async () => {
    const roomId = await sharedRoom();
    const res = await api(server, 'GET', `${room(roomId)}/state/m.room.create/`, {
      token: charlie.accessToken,
    });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });
});

describe('GET /rooms/{roomId}/event/{eventId}', () => {
  it('returns the event in the spec format', async () => {
    const roomId = await sharedRoom();
    const eventId = await send(alice, roomId, text('hello'));
    const res = await getEvent(bob, roomId, eventId);
    expect(res.status).toBe(200);
    expect(specErrors(ROOMS, 'GET', '/rooms/{roomId}/event/{eventId}', 200, res.body)).toEqual([]);
    expect(res.body).toMatchObject({
      event_id: eventId,
      room_id: roomId,
      sender: alice.userId,
      type: 'm.room.message',
      content: text('hello'),
    });
    expect(res.body.state_key).toBeUndefined();
  });

  it('answers 404 M_NOT_FOUND for an unknown event', async () => {
    const roomId = await sharedRoom();
    const res = await getEvent(bob, roomId, '$doesnotexistdoesnotexistdoesnotexistdoesno');
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it('answers 404 M_NOT_FOUND for an event of another room', async () => {
    const roomId = await sharedRoom();
    const other = await sharedRoom();
    const eventId = await send(alice, other, text('elsewhere'));
    const res = await getEvent(bob, roomId, eventId);
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });
});

describe('GET /rooms/{roomId}/messages', () => {
  let roomId: string;
  /** The 30 messages of the room, oldest first. */
  const sent: string[] = [];

  beforeAll(async () => {
    roomId = await sharedRoom();
    for (let i = 0; i < 30; i++) {
      sent.push(await send(i % 2 === 0 ? alice : bob, roomId, text(`message ${i}`)));
    }
  });

  it('pages back from the end through every message once, newest first', async () => {
    const seen: string[] = [];
    let from: string | undefined;
    let pages = 0;
    for (;;) {
      const res = await messages(bob, roomId, { limit: 7, ...(from ? { from } : {}) });
      expect(res.status).toBe(200);
      expect(
        specErrors(
          'client-server/message_pagination.yaml',
          'GET',
          '/rooms/{roomId}/messages',
          200,
          res.body,
        ),
      ).toEqual([]);
      expect(res.body.chunk.length).toBeLessThanOrEqual(7);
      seen.push(...res.body.chunk.map((e: any) => e.event_id));
      pages += 1;
      if (res.body.end === undefined) break;
      expect(res.body.chunk.length).toBeGreaterThan(0);
      from = res.body.end;
      expect(pages).toBeLessThan(20);
    }
    expect(new Set(seen).size).toBe(seen.length);
    const onlyMessages = seen.filter((id) => sent.includes(id));
    expect(onlyMessages).toEqual([...sent].reverse());
    expect(pages).toBeGreaterThanOrEqual(5);
  });

  it('reaches the creation of the room paging back, and says so by leaving out end', async () => {
    const res = await messages(bob, roomId, { limit: 1000 });
    expect(res.status).toBe(200);
    expect(res.body.end).toBeUndefined();
    expect(res.body.chunk.at(-1).type).toBe('m.room.create');
  });

  it('pages forward from the start with dir=f, oldest first', async () => {
    const res = await messages(bob, roomId, { dir: 'f', limit: 5 });
    expect(res.status).toBe(200);
    expect(res.body.chunk).toHaveLength(5);
    expect(res.body.chunk[0].type).toBe('m.room.create');
    expect(typeof res.body.end).toBe('string');
    const seen: string[] = res.body.chunk.map((e: any) => e.event_id);
    let from = res.body.end;
    for (let i = 0; i < 20 && from; i++) {
      const next = await ok(messages(bob, roomId, { dir: 'f', limit: 10, from }), 'messages');
      seen.push(...next.body.chunk.map((e: any) => e.event_id));
      from = next.body.end;
    }
    expect(seen.filter((id) => sent.includes(id))).toEqual(sent);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('keeps only the filtered types', async () => {
    const filter = JSON.stringify({ types: ['m.room.message'] });
    const res = await messages(bob, roomId, { limit: 100, filter });
    expect(res.status).toBe(200);
    expect(res.body.chunk.map((e: any) => e.event_id)).toEqual([...sent].reverse());
  });

  it('keeps only the filtered senders, and honours the filter limit', async () => {
    const filter = JSON.stringify({ senders: [bob.userId], types: ['m.room.message'], limit: 4 });
    const res = await messages(bob, roomId, { filter });
    expect(res.status).toBe(200);
    expect(res.body.chunk).toHaveLength(4);
    for (const event of res.body.chunk) expect(event.sender).toBe(bob.userId);
    expect(res.body.chunk[0].event_id).toBe(sent[29]);
  });

  it('drops not_types and not_senders', async () => {
    const filter = JSON.stringify({ not_types: ['m.room.member'], not_senders: [alice.userId] });
    const res = await messages(bob, roomId, { limit: 100, filter });
    expect(res.status).toBe(200);
    expect(res.body.chunk.length).toBe(15);
    for (const event of res.body.chunk) expect(event.sender).toBe(bob.userId);
  });

  it('returns the member events of the senders with lazy_load_members', async () => {
    const filter = JSON.stringify({ lazy_load_members: true, types: ['m.room.message'] });
    const res = await messages(bob, roomId, { limit: 3, filter });
    expect(res.status).toBe(200);
    const senders = new Set(res.body.chunk.map((e: any) => e.sender));
    expect(senders).toEqual(new Set([alice.userId, bob.userId]));
    const members = (res.body.state as any[]).filter((e) => e.type === 'm.room.member');
    expect(new Set(members.map((e) => e.state_key))).toEqual(senders);
    for (const member of members) expect(member.content.membership).toBe('join');
  });

  it('stops at a to token from /sync, and pages forward from it', async () => {
    const own = await sharedRoom();
    await send(alice, own, text('earlier'));
    const sync = await ok(api(server, 'GET', `${V3}/sync`, { token: bob.accessToken }), 'sync');
    const token = sync.body.next_batch as string;
    const later = [await send(alice, own, text('later 1')), await send(bob, own, text('later 2'))];
    const back = await ok(messages(bob, own, { to: token, limit: 50 }), 'messages');
    expect(back.body.chunk.map((e: any) => e.event_id)).toEqual([...later].reverse());
    const forward = await ok(messages(bob, own, { dir: 'f', from: token }), 'messages');
    expect(forward.body.chunk.map((e: any) => e.event_id)).toEqual(later);
  });

  it('answers an invalid from token with 400', async () => {
    const res = await messages(bob, roomId, { from: 'garbage-token' });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
  });

  it('answers a filter that is not JSON with 400 M_INVALID_PARAM', async () => {
    const res = await messages(bob, roomId, { filter: '{not json' });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
  });

  it('answers 403 M_FORBIDDEN to a user who was never in the room', async () => {
    const res = await messages(charlie, roomId);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });
});

describe('GET /rooms/{roomId}/context/{eventId}', () => {
  it('returns the events around one event and the state at it', async () => {
    const roomId = await sharedRoom();
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) ids.push(await send(alice, roomId, text(`context ${i}`)));
    const middle = ids[4] as string;
    const path = `${room(roomId)}/context/${encodeURIComponent(middle)}?limit=4`;
    const res = await api(server, 'GET', path, { token: bob.accessToken });
    expect(res.status).toBe(200);
    const schema = 'client-server/event_context.yaml';
    expect(specErrors(schema, 'GET', '/rooms/{roomId}/context/{eventId}', 200, res.body)).toEqual(
      [],
    );
    expect(res.body.event.event_id).toBe(middle);
    expect(res.body.events_before.map((e: any) => e.event_id)).toEqual([ids[3], ids[2]]);
    expect(res.body.events_after.map((e: any) => e.event_id)).toEqual([ids[5], ids[6]]);
    const stateTypes = res.body.state.map((e: any) => e.type);
    expect(stateTypes).toEqual(expect.arrayContaining(['m.room.create', 'm.room.member']));

    const later = await ok(messages(bob, roomId, { dir: 'f', from: res.body.end }), 'messages');
    expect(later.body.chunk.map((e: any) => e.event_id)).toEqual([ids[7], ids[8]]);
  });

  it('returns the state at the last event returned', async () => {
    const roomId = await sharedRoom();
    await ok(putState(alice, roomId, 'm.room.topic', { topic: 'old topic' }), 'PUT topic');
    const target = await send(alice, roomId, text('target'));
    await ok(putState(alice, roomId, 'm.room.topic', { topic: 'new topic' }), 'PUT topic');
    await send(alice, roomId, text('last'));
    await ok(putState(alice, roomId, 'm.room.topic', { topic: 'too late' }), 'PUT topic');
    await send(alice, roomId, text('not returned'));
    const path = `${room(roomId)}/context/${encodeURIComponent(target)}?limit=4`;
    const res = await ok(api(server, 'GET', path, { token: bob.accessToken }), 'context');
    expect(res.body.events_after.map((e: any) => e.content.body ?? e.content.topic)).toEqual([
      'new topic',
      'last',
    ]);
    const topic = res.body.state.find((e: any) => e.type === 'm.room.topic');
    expect(topic.content.topic).toBe('new topic');
  });

  it('hides events from before the join in a joined-visibility room', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await ok(
      putState(alice, roomId, 'm.room.history_visibility', {
        history_visibility: 'joined',
      }),
      'PUT history_visibility',
    );
    const hidden = await send(alice, roomId, text('before bob'));
    await join(bob, roomId);
    const target = await send(alice, roomId, text('after bob'));
    const path = `${room(roomId)}/context/${encodeURIComponent(target)}?limit=20`;
    const res = await ok(api(server, 'GET', path, { token: bob.accessToken }), 'context');
    const before = res.body.events_before.map((e: any) => e.event_id);
    expect(before).not.toContain(hidden);
    expect(res.body.events_before[0]).toMatchObject({
      type: 'm.room.member',
      state_key: bob.userId,
    });
  });

  it('answers 404 M_NOT_FOUND for an unknown event', async () => {
    const roomId = await sharedRoom();
    const path = `${room(roomId)}/context/${encodeURIComponent('$nope')}`;
    const res = await api(server, 'GET', path, { token: bob.accessToken });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });
});

describe('m.replace (edits)', () => {
  function edit(originalId: string, body: string): Record<string, unknown> {
    return text(`* ${body}`, {
      'm.new_content': text(body),
      'm.relates_to': { rel_type: 'm.replace', event_id: originalId },
    });
  }

  function replacementOf(res: ApiResponse): any {
    return res.body.unsigned?.['m.relations']?.['m.replace'];
  }

  it("aggregates the sender's newest edit in the original's unsigned m.relations", async () => {
    const roomId = await sharedRoom();
    const original = await send(bob, roomId, text('typo'));
    await send(bob, roomId, edit(original, 'tpyo'));
    const latest = await send(bob, roomId, edit(original, 'typo fixed'));
    const res = await getEvent(alice, roomId, original);
    expect(res.status).toBe(200);
    expect(res.body.content).toEqual(text('typo'));
    expect(replacementOf(res)).toMatchObject({
      event_id: latest,
      sender: bob.userId,
      content: { 'm.new_content': text('typo fixed') },
    });
  });

  it('ignores an edit by another user', async () => {
    const roomId = await sharedRoom();
    const original = await send(bob, roomId, text('mine'));
    const foreign = await putSend(alice, roomId, edit(original, 'yours now'));
    expect(foreign.status).toBe(200);
    expect(replacementOf(await getEvent(bob, roomId, original))).toBeUndefined();
  });

  it('ignores an edit without m.new_content', async () => {
    const roomId = await sharedRoom();
    const original = await send(bob, roomId, text('plain'));
    await send(
      bob,
      roomId,
      text('* nothing', {
        'm.relates_to': { rel_type: 'm.replace', event_id: original },
      }),
    );
    expect(replacementOf(await getEvent(bob, roomId, original))).toBeUndefined();
  });

  it('ignores an edit of another event type', async () => {
    const roomId = await sharedRoom();
    const original = await send(bob, roomId, text('typed'));
    await send(bob, roomId, edit(original, 'retyped'), 'org.example.other');
    expect(replacementOf(await getEvent(bob, roomId, original))).toBeUndefined();
  });
});

describe('GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}/{relType}', () => {
  function relationsPath(roomId: string, eventId: string, rest = ''): string {
    const ids = `${encodeURIComponent(roomId)}/relations/${encodeURIComponent(eventId)}`;
    return `${V1}/rooms/${ids}${rest}`;
  }

  it('lists a reaction (m.annotation) to an event', async () => {
    const roomId = await sharedRoom();
    const target = await send(alice, roomId, text('react to me'));
    const reaction = await send(
      bob,
      roomId,
      {
        'm.relates_to': { rel_type: 'm.annotation', event_id: target, key: '👍' },
      },
      'm.reaction',
    );
    await send(bob, roomId, text('unrelated'));
    const res = await api(server, 'GET', relationsPath(roomId, target, '/m.annotation'), {
      token: alice.accessToken,
    });
    expect(res.status).toBe(200);
    const schema = 'client-server/relations.yaml';
    expect(
      specErrors(schema, 'GET', '/rooms/{roomId}/relations/{eventId}/{relType}', 200, res.body),
    ).toEqual([]);
    expect(res.body.chunk.map((e: any) => e.event_id)).toEqual([reaction]);
    expect(res.body.chunk[0].content['m.relates_to'].key).toBe('👍');
  });

  it('pages through relations with next_batch, newest first, each once', async () => {
    const roomId = await sharedRoom();
    const target = await send(alice, roomId, text('popular'));
    const reactions: string[] = [];
    for (const key of ['a', 'b', 'c', 'd', 'e']) {
      const content = { 'm.relates_to': { rel_type: 'm.annotation', event_id: target, key } };
      reactions.push(await send(bob, roomId, content, 'm.reaction'));
    }
    const seen: string[] = [];
    let from: string | undefined;
    for (let i = 0; i < 10; i++) {
      const query = `?limit=2${from ? `&from=${encodeURIComponent(from)}` : ''}`;
      const path = relationsPath(roomId, target, `/m.annotation/m.reaction${query}`);
      const res = await api(server, 'GET', path, { token: alice.accessToken });
      expect(res.status).toBe(200);
      seen.push(...res.body.chunk.map((e: any) => e.event_id));
      from = res.body.next_batch;
      if (!from) break;
    }
    expect(seen).toEqual([...reactions].reverse());
  });

  it('refuses a user who was never in the room', async () => {
    const roomId = await sharedRoom();
    const target = await send(alice, roomId, text('private'));
    const res = await api(server, 'GET', relationsPath(roomId, target), {
      token: charlie.accessToken,
    });
    expect([403, 404]).toContain(res.status);
    expect(res.body.errcode).toBe(res.status === 403 ? 'M_FORBIDDEN' : 'M_NOT_FOUND');
  });
});

describe('m.in_reply_to (rich replies)', () => {
  it('stores a reply as it was sent', async () => {
    const roomId = await sharedRoom();
    const target = await send(alice, roomId, text('question?'));
    const content = text('answer', { 'm.relates_to': { 'm.in_reply_to': { event_id: target } } });
    const reply = await send(bob, roomId, content);
    const res = await getEvent(alice, roomId, reply);
    expect(res.status).toBe(200);
    expect(res.body.content).toEqual(content);
  });
});

describe('m.thread (threads)', () => {
  function threadReply(rootId: string, body: string): Record<string, unknown> {
    return text(body, {
      'm.relates_to': {
        rel_type: 'm.thread',
        event_id: rootId,
        is_falling_back: true,
        'm.in_reply_to': { event_id: rootId },
      },
    });
  }

  function threads(user: TestUser, roomId: string, query = ''): Promise<ApiResponse> {
    const path = `${V1}/rooms/${encodeURIComponent(roomId)}/threads${query}`;
    return api(server, 'GET', path, { token: user.accessToken });
  }

  it('aggregates count, latest event and participation on the thread root', async () => {
    const roomId = await sharedRoom({ moderator: true });
    const root = await send(alice, roomId, text('thread root'));
    await send(bob, roomId, threadReply(root, 'one'));
    await send(alice, roomId, threadReply(root, 'two'));
    const latest = await send(bob, roomId, threadReply(root, 'three'));

    const asBob = await getEvent(bob, roomId, root);
    const thread = asBob.body.unsigned['m.relations']['m.thread'];
    expect(thread.count).toBe(3);
    expect(thread.current_user_participated).toBe(true);
    expect(thread.latest_event).toMatchObject({
      event_id: latest,
      sender: bob.userId,
      type: 'm.room.message',
      room_id: roomId,
    });
    expect(thread.latest_event.content.body).toBe('three');

    const asCharlie = await getEvent(charlie, roomId, root);
    expect(asCharlie.body.unsigned['m.relations']['m.thread'].current_user_participated).toBe(
      false,
    );
  });

  it('lists thread roots, and for include=participated only those one took part in', async () => {
    const roomId = await sharedRoom({ moderator: true });
    const root = await send(alice, roomId, text('root'));
    await send(bob, roomId, threadReply(root, 'reply'));
    await send(alice, roomId, text('not a thread'));

    const all = await threads(charlie, roomId);
    expect(all.status).toBe(200);
    expect(
      specErrors(
        'client-server/threads_list.yaml',
        'GET',
        '/rooms/{roomId}/threads',
        200,
        all.body,
      ),
    ).toEqual([]);
    expect(all.body.chunk.map((e: any) => e.event_id)).toEqual([root]);

    const notMine = await threads(charlie, roomId, '?include=participated');
    expect(notMine.status).toBe(200);
    expect(notMine.body.chunk).toEqual([]);

    const mine = await threads(bob, roomId, '?include=participated');
    expect(mine.body.chunk.map((e: any) => e.event_id)).toEqual([root]);
  });
});

describe('PUT /rooms/{roomId}/redact/{eventId}/{txnId}', () => {
  it('lets the sender redact their message, leaving content {} and redacted_because', async () => {
    const roomId = await sharedRoom();
    const target = await send(bob, roomId, text('oops'));
    const res = await redact(bob, roomId, target);
    expect(res.status).toBe(200);
    expect(res.body.event_id).toMatch(/^\$/);
    const event = await getEvent(alice, roomId, target);
    expect(event.status).toBe(200);
    expect(event.body.content).toEqual({});
    expect(event.body.unsigned.redacted_because).toMatchObject({
      event_id: res.body.event_id,
      type: 'm.room.redaction',
      sender: bob.userId,
      content: { redacts: target, reason: 'tidy up' },
    });
  });

  it("refuses a user of level 0 redacting another user's event with 403 M_FORBIDDEN", async () => {
    const roomId = await sharedRoom();
    const target = await send(alice, roomId, text('keep me'));
    const res = await redact(bob, roomId, target);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    expect((await getEvent(bob, roomId, target)).body.content).toEqual(text('keep me'));
  });

  it("lets a moderator redact another user's event", async () => {
    const roomId = await sharedRoom({ moderator: true });
    const target = await send(bob, roomId, text('spam'));
    const res = await redact(charlie, roomId, target);
    expect(res.status).toBe(200);
    expect((await getEvent(bob, roomId, target)).body.content).toEqual({});
  });

  it('empties the content of a redacted state event but keeps its state key', async () => {
    const roomId = await sharedRoom();
    const topic = await ok(putState(alice, roomId, 'm.room.topic', { topic: 'secret' }), 'PUT');
    await ok(redact(alice, roomId, topic.body.event_id), 'redact');
    const res = await api(server, 'GET', `${room(roomId)}/state/m.room.topic/?format=event`, {
      token: bob.accessToken,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ event_id: topic.body.event_id, state_key: '', content: {} });
    const state = await ok(
      api(server, 'GET', `${room(roomId)}/state`, {
        token: bob.accessToken,
      }),
      'GET state',
    );
    const inState = state.body.find((e: any) => e.type === 'm.room.topic');
    expect(inState).toMatchObject({ state_key: '', content: {} });
  });

  it('keeps the membership of a redacted member event', async () => {
    const roomId = await sharedRoom({ moderator: true });
    const path = `${room(roomId)}/state/m.room.member/${encodeURIComponent(bob.userId)}`;
    const member = await ok(
      api(server, 'GET', `${path}?format=event`, {
        token: bob.accessToken,
      }),
      'GET member',
    );
    await ok(redact(charlie, roomId, member.body.event_id), 'redact');
    const after = await ok(api(server, 'GET', path, { token: bob.accessToken }), 'GET member');
    expect(after.body).toEqual({ membership: 'join' });
    expect((await putSend(bob, roomId, text('still joined'))).status).toBe(200);
  });

  it('answers 404 M_NOT_FOUND for an unknown event', async () => {
    const roomId = await sharedRoom();
    const res = await redact(alice, roomId, '$nosuchevent');
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });
});

describe('history visibility', () => {
  /** A public room with the given visibility in which alice has sent one message. */
  async function roomWith(visibility: string): Promise<{ roomId: string; before: string }> {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await ok(
      putState(alice, roomId, 'm.room.history_visibility', {
        history_visibility: visibility,
      }),
      'PUT history_visibility',
    );
    const before = await send(alice, roomId, text(`before, ${visibility}`));
    return { roomId, before };
  }

  it('hides messages from before the join when joined', async () => {
    const { roomId, before } = await roomWith('joined');
    await join(bob, roomId);
    const after = await send(alice, roomId, text('after'));
    const ids = await visibleMessageIds(bob, roomId);
    expect(ids).toContain(after);
    expect(ids).not.toContain(before);
    const res = await getEvent(bob, roomId, before);
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
    expect((await getEvent(bob, roomId, after)).status).toBe(200);
  });

  it('shows messages from before the join when shared', async () => {
    const { roomId, before } = await roomWith('shared');
    await join(bob, roomId);
    expect(await visibleMessageIds(bob, roomId)).toContain(before);
    expect((await getEvent(bob, roomId, before)).status).toBe(200);
  });

  it('shows messages from the invite on when invited', async () => {
    const { roomId, before } = await roomWith('invited');
    const invite = api(server, 'POST', `${room(roomId)}/invite`, {
      token: alice.accessToken,
      body: { user_id: bob.userId },
    });
    await ok(invite, 'invite');
    const whileInvited = await send(alice, roomId, text('while invited'));
    await join(bob, roomId);
    const ids = await visibleMessageIds(bob, roomId);
    expect(ids).toContain(whileInvited);
    expect(ids).not.toContain(before);
    expect((await getEvent(bob, roomId, before)).status).toBe(404);
  });

  it('cuts a kicked user off from what is sent after the kick', async () => {
    const { roomId, before } = await roomWith('shared');
    await join(bob, roomId);
    const seen = await send(alice, roomId, text('seen'));
    const kick = api(server, 'POST', `${room(roomId)}/kick`, {
      token: alice.accessToken,
      body: { user_id: bob.userId },
    });
    await ok(kick, 'kick');
    const unseen = await send(alice, roomId, text('unseen'));

    const ids = await visibleMessageIds(bob, roomId);
    expect(ids).toEqual(expect.arrayContaining([before, seen]));
    expect(ids).not.toContain(unseen);

    const sendRes = await putSend(bob, roomId, text('still here?'));
    expect(sendRes.status).toBe(403);
    expect(sendRes.body.errcode).toBe('M_FORBIDDEN');

    const res = await getEvent(bob, roomId, unseen);
    expect([403, 404]).toContain(res.status);
    expect(res.body.errcode).toBe(res.status === 403 ? 'M_FORBIDDEN' : 'M_NOT_FOUND');
  });

  it('shows a kicked user their kick and the state as it was then', async () => {
    const { roomId } = await roomWith('shared');
    await ok(putState(alice, roomId, 'm.room.name', { name: 'Before the kick' }), 'PUT name');
    await join(bob, roomId);
    const kick = api(server, 'POST', `${room(roomId)}/kick`, {
      token: alice.accessToken,
      body: { user_id: bob.userId },
    });
    await ok(kick, 'kick');
    await ok(putState(alice, roomId, 'm.room.name', { name: 'After the kick' }), 'PUT name');

    const name = await api(server, 'GET', `${room(roomId)}/state/m.room.name/`, {
      token: bob.accessToken,
    });
    expect(name.status).toBe(200);
    expect(name.body).toEqual({ name: 'Before the kick' });
    const page = await ok(messages(bob, roomId, { limit: 50 }), 'messages');
    expect(page.body.chunk[0]).toMatchObject({
      type: 'm.room.member',
      state_key: bob.userId,
      sender: alice.userId,
      content: { membership: 'leave' },
    });
    const names = page.body.chunk.filter((e: any) => e.type === 'm.room.name');
    expect(names.map((e: any) => e.content.name)).toEqual(['Before the kick']);
  });

  it('lets a non-member read a world_readable room', async () => {
    const { roomId, before } = await roomWith('world_readable');
    const res = await messages(charlie, roomId, { limit: 50 });
    expect(res.status).toBe(200);
    expect(res.body.chunk.map((e: any) => e.event_id)).toContain(before);
    expect((await getEvent(charlie, roomId, before)).status).toBe(200);
    const sendRes = await putSend(charlie, roomId, text('can I talk?'));
    expect(sendRes.status).toBe(403);
    expect(sendRes.body.errcode).toBe('M_FORBIDDEN');
  });

  it('keeps a non-member out of a shared room', async () => {
    const { roomId, before } = await roomWith('shared');
    const res = await messages(charlie, roomId);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    const event = await getEvent(charlie, roomId, before);
    expect([403, 404]).toContain(event.status);
    expect(event.body.errcode).toBe(event.status === 403 ? 'M_FORBIDDEN' : 'M_NOT_FOUND');
  });
});
