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
const sent: string[] = [];
let txn = 0;

const OLD_SYNC = 'client-server/old_sync.yaml';

interface ClientEvent {
  event_id: string;
  type: string;
  room_id: string;
  sender: string;
  state_key?: string;
  content: Record<string, unknown>;
}

async function send(user: TestUser, room: string, text: string, prefix = 'v3'): Promise<string> {
  txn += 1;
  const path = `/_matrix/client/${prefix}/rooms/${encodeURIComponent(room)}/send/m.room.message`;
  const res = await api(server, 'PUT', `${path}/legacy${txn}`, {
    token: user.accessToken,
    body: { msgtype: 'm.text', body: text },
  });
  if (res.status !== 200) throw new Error(`send failed: ${JSON.stringify(res.body)}`);
  return res.body.event_id as string;
}

beforeAll(async () => {
  server = await startTestServer();
  alice = await createUser(server, 'alice');
  bob = await createUser(server, 'bob');
  const res = await api(server, 'POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { name: 'legacy', preset: 'private_chat' },
  });
  if (res.status !== 200) throw new Error(`createRoom failed: ${JSON.stringify(res.body)}`);
  roomId = res.body.room_id;
  for (let i = 0; i < 3; i++) sent.push(await send(alice, roomId, `legacy ${i}`));
});
afterAll(() => server?.stop());

const ids = (events: ClientEvent[]) => events.map((e) => e.event_id);

describe.each(['v3', 'r0'])('GET /_matrix/client/%s/initialSync', (prefix) => {
  it("lists the user's rooms with messages, state and an end token", async () => {
    const res = await api(server, 'GET', `/_matrix/client/${prefix}/initialSync`, {
      token: alice.accessToken,
    });
    expect(res.status).toBe(200);
    expect(specErrors(OLD_SYNC, 'GET', '/initialSync', 200, res.body)).toEqual([]);
    expect(typeof res.body.end).toBe('string');
    const room = res.body.rooms.find((r: { room_id: string }) => r.room_id === roomId);
    expect(room.membership).toBe('join');
    expect(ids(room.messages.chunk).slice(-3)).toEqual(sent.slice(0, 3));
    const name = room.state.find((e: ClientEvent) => e.type === 'm.room.name');
    expect(name?.content.name).toBe('legacy');
  });

  it('honours the limit on messages per room', async () => {
    const res = await api(server, 'GET', `/_matrix/client/${prefix}/initialSync?limit=2`, {
      token: alice.accessToken,
    });
    expect(res.status).toBe(200);
    const room = res.body.rooms.find((r: { room_id: string }) => r.room_id === roomId);
    expect(ids(room.messages.chunk)).toEqual(sent.slice(1, 3));
  });
});

describe.each(['v3', 'r0'])('GET /_matrix/client/%s/events', (prefix) => {
  it('returns a message sent while it waits', async () => {
    const initial = await api(server, 'GET', `/_matrix/client/${prefix}/initialSync?limit=1`, {
      token: alice.accessToken,
    });
    expect(initial.status).toBe(200);
    const started = Date.now();
    const poll = api(
      server,
      'GET',
      `/_matrix/client/${prefix}/events?from=${encodeURIComponent(initial.body.end)}&timeout=5000`,
      { token: alice.accessToken },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const eventId = await send(alice, roomId, `meanwhile on ${prefix}`, prefix);
    const res = await poll;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(res.status).toBe(200);
    expect(specErrors(OLD_SYNC, 'GET', '/events', 200, res.body)).toEqual([]);
    expect(ids(res.body.chunk)).toEqual([eventId]);
    const [event] = res.body.chunk as ClientEvent[];
    expect(event?.room_id).toBe(roomId);
    expect(event?.content.body).toBe(`meanwhile on ${prefix}`);
    expect(typeof res.body.end).toBe('string');
  });

  it('returns an empty chunk after the timeout when nothing happens', async () => {
    const initial = await api(server, 'GET', `/_matrix/client/${prefix}/initialSync?limit=1`, {
      token: alice.accessToken,
    });
    const from = encodeURIComponent(initial.body.end);
    const path = `/_matrix/client/${prefix}/events?from=${from}&timeout=500`;
    const res = await api(server, 'GET', path, { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(specErrors(OLD_SYNC, 'GET', '/events', 200, res.body)).toEqual([]);
    expect(res.body.chunk).toEqual([]);
  });

  it('rejects a from token it did not issue with 400', async () => {
    const res = await api(server, 'GET', `/_matrix/client/${prefix}/events?from=garbage`, {
      token: alice.accessToken,
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
  });
});

describe.each(['v3', 'r0'])('GET /_matrix/client/%s/rooms/{roomId}/initialSync', (prefix) => {
  const path = (room: string) => `/_matrix/client/${prefix}/rooms/${encodeURIComponent(room)}`;

  it('returns the messages, state and membership of one room', async () => {
    const res = await api(server, 'GET', `${path(roomId)}/initialSync`, {
      token: alice.accessToken,
    });
    expect(res.status).toBe(200);
    const file = 'client-server/room_initial_sync.yaml';
    expect(specErrors(file, 'GET', '/rooms/{roomId}/initialSync', 200, res.body)).toEqual([]);
    expect(res.body.room_id).toBe(roomId);
    expect(res.body.membership).toBe('join');
    const chunk = ids(res.body.messages.chunk);
    expect(chunk.slice(chunk.indexOf(sent[0] as string)).slice(0, 3)).toEqual(sent);
    expect(typeof res.body.messages.start).toBe('string');
    expect(typeof res.body.messages.end).toBe('string');
    const create = res.body.state.find((e: ClientEvent) => e.type === 'm.room.create');
    expect(create?.room_id).toBe(roomId);
  });

  it('refuses a user who was never in the room with 403 M_FORBIDDEN', async () => {
    const res = await api(server, 'GET', `${path(roomId)}/initialSync`, {
      token: bob.accessToken,
    });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });
});

describe.each(['v3', 'r0'])('GET /_matrix/client/%s/events/{eventId}', (prefix) => {
  const path = (eventId: string) =>
    `/_matrix/client/${prefix}/events/${encodeURIComponent(eventId)}`;

  it('returns the event', async () => {
    const eventId = sent[1] as string;
    const res = await api(server, 'GET', path(eventId), { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(specErrors(OLD_SYNC, 'GET', '/events/{eventId}', 200, res.body)).toEqual([]);
    expect(res.body.event_id).toBe(eventId);
    expect(res.body.room_id).toBe(roomId);
    expect(res.body.type).toBe('m.room.message');
    expect(res.body.content.body).toBe('legacy 1');
  });

  it('answers 404 M_NOT_FOUND for an unknown event', async () => {
    const res = await api(server, 'GET', path('$unknown-event-id'), { token: alice.accessToken });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it('answers 404 M_NOT_FOUND for an event the user may not see', async () => {
    const res = await api(server, 'GET', path(sent[1] as string), { token: bob.accessToken });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });
});
