/**
 * Two staff members on a real client (matrix-js-sdk): a talk room from creation to a kick,
 * with concurrent senders, back-pagination, edits, reactions, replies and redactions.
 */
import {
  ClientEvent,
  createClient,
  EventType,
  Filter,
  MatrixError,
  MsgType,
  RelationType,
  RoomEvent,
  type MatrixClient,
  type MatrixEvent,
} from 'matrix-js-sdk';
import { logger as sdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createUser,
  startTestServer,
  type TestServer,
  type TestUser,
} from '../support/server.js';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let aliceClient: MatrixClient;
let bobClient: MatrixClient;
let roomId: string;

/** Message ids in the order each client received them live from /sync. */
const received = new Map<string, string[]>();

async function startClient(user: TestUser): Promise<MatrixClient> {
  const client = createClient({
    baseUrl: server.baseUrl,
    userId: user.userId,
    accessToken: user.accessToken,
    deviceId: user.deviceId,
  });
  const ids: string[] = [];
  received.set(user.userId, ids);
  client.on(RoomEvent.Timeline, (event: MatrixEvent, _room, toStartOfTimeline) => {
    if (toStartOfTimeline || event.getType() !== EventType.RoomMessage) return;
    const id = event.getId();
    if (id && !id.startsWith('~')) ids.push(id);
  });
  // A generous timeline limit, so that no sync answer is cut short (limited) while 200
  // messages arrive at once.
  const filter = new Filter(user.userId);
  filter.setDefinition({ room: { timeline: { limit: 1000 } } });
  const prepared = new Promise<void>((done) => {
    client.on(ClientEvent.Sync, (state) => {
      if (state === 'PREPARED') done();
    });
  });
  await client.startClient({ filter, pollTimeout: 5000 });
  await prepared;
  return client;
}

/** Waits until `check` holds, polling; fails with `what` after `ms`. */
async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends a message over plain HTTP with a given transaction id. */
async function send(user: TestUser, body: string, txnId: string): Promise<string> {
  const res = await api(
    server,
    'PUT',
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txnId}`,
    { token: user.accessToken, body: { msgtype: 'm.text', body } },
  );
  expect(res.status).toBe(200);
  return res.body.event_id as string;
}

beforeAll(async () => {
  (sdkLogger as unknown as { setLevel(level: 'silent'): void }).setLevel('silent');
  server = await startTestServer();
  alice = await createUser(server, 'alice');
  bob = await createUser(server, 'bob');
  [aliceClient, bobClient] = await Promise.all([startClient(alice), startClient(bob)]);
});

afterAll(async () => {
  aliceClient?.stopClient();
  bobClient?.stopClient();
  await server?.stop();
});

describe('a talk room through matrix-js-sdk', () => {
  it('alice creates a room and invites bob; bob sees the invite and joins', async () => {
    const created = await aliceClient.createRoom({ name: '総務課', invite: [bob.userId] });
    roomId = created.room_id;
    await until(() => bobClient.getRoom(roomId)?.getMyMembership() === 'invite', 'the invite');
    await bobClient.joinRoom(roomId);
    await until(
      () => aliceClient.getRoom(roomId)?.getMember(bob.userId)?.membership === 'join',
      "bob's join on alice's side",
    );
    expect(bobClient.getRoom(roomId)?.name).toBe('総務課');
  });

  it('delivers 200 concurrent messages to both clients exactly once, in the same order', async () => {
    const sends: Promise<string>[] = [];
    for (let i = 0; i < 100; i++) {
      sends.push(send(alice, `alice ${i}`, `a-${i}`));
      sends.push(send(bob, `bob ${i}`, `b-${i}`));
    }
    const sent = await Promise.all(sends);
    expect(new Set(sent).size).toBe(200);

    const aliceIds = received.get(alice.userId) as string[];
    const bobIds = received.get(bob.userId) as string[];
    await until(() => aliceIds.length >= 200 && bobIds.length >= 200, 'all 200 messages');
    expect(new Set(aliceIds).size).toBe(aliceIds.length);
    expect(new Set(bobIds).size).toBe(bobIds.length);
    expect(new Set(aliceIds)).toEqual(new Set(sent));
    expect(bobIds).toEqual(aliceIds);
  });

  it('back-paginates the whole history in the order the room has it', async () => {
    const ids: string[] = [];
    let from: string | undefined;
    for (let page = 0; page < 100; page++) {
      const query = new URLSearchParams({ dir: 'b', limit: '37', ...(from ? { from } : {}) });
      const res = await api(
        server,
        'GET',
        `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?${query}`,
        { token: bob.accessToken },
      );
      expect(res.status).toBe(200);
      for (const e of res.body.chunk) if (e.type === 'm.room.message') ids.push(e.event_id);
      if (!res.body.end) break;
      from = res.body.end;
    }
    expect(ids.reverse()).toEqual(received.get(bob.userId));
  });

  it('returns the same event id for a retried transaction id', async () => {
    const first = await send(alice, 'once only', 'retry-1');
    const again = await send(alice, 'once only', 'retry-1');
    expect(again).toBe(first);
    const aliceIds = received.get(alice.userId) as string[];
    await until(() => aliceIds.includes(first), 'the retried message');
    await new Promise((r) => setTimeout(r, 300));
    expect(aliceIds.filter((id) => id === first)).toHaveLength(1);
  });

  it('shows an edit, a reaction, a reply and a redaction as the spec says', async () => {
    const original = await aliceClient.sendTextMessage(roomId, '会議は3時です');
    const edit = await aliceClient.sendEvent(roomId, EventType.RoomMessage, {
      msgtype: MsgType.Text,
      body: '* 会議は4時です',
      'm.new_content': { msgtype: MsgType.Text, body: '会議は4時です' },
      'm.relates_to': { rel_type: RelationType.Replace, event_id: original.event_id },
    });
    const reaction = await bobClient.sendEvent(roomId, EventType.Reaction, {
      'm.relates_to': {
        rel_type: RelationType.Annotation,
        event_id: original.event_id,
        key: '👍',
      },
    });
    const reply = await bobClient.sendEvent(roomId, EventType.RoomMessage, {
      msgtype: MsgType.Text,
      body: '了解です',
      'm.relates_to': { 'm.in_reply_to': { event_id: original.event_id } },
    });

    const fetched = await bobClient.fetchRoomEvent(roomId, original.event_id);
    const relations = fetched.unsigned?.['m.relations'] as Record<string, any>;
    expect(relations['m.replace'].event_id).toBe(edit.event_id);

    const annotations = await bobClient.relations(roomId, original.event_id, 'm.annotation');
    expect(annotations.events.map((e) => e.getId())).toContain(reaction.event_id);

    const replyEvent = await aliceClient.fetchRoomEvent(roomId, reply.event_id);
    expect(replyEvent.content?.['m.relates_to']).toEqual({
      'm.in_reply_to': { event_id: original.event_id },
    });

    await aliceClient.redactEvent(roomId, original.event_id, undefined, { reason: 'typo' });
    await until(
      () => bobClient.getRoom(roomId)?.findEventById(original.event_id)?.isRedacted() === true,
      "the redaction on bob's client",
    );
    const redacted = await bobClient.fetchRoomEvent(roomId, original.event_id);
    expect(redacted.content).toEqual({});
    expect((redacted.unsigned?.redacted_because as { sender: string }).sender).toBe(alice.userId);
  });

  it('kicked bob can no longer send or read new events', async () => {
    await aliceClient.kick(roomId, bob.userId, 'moved to another section');
    await until(() => bobClient.getRoom(roomId)?.getMyMembership() === 'leave', 'the kick');
    const secret = await aliceClient.sendTextMessage(roomId, 'after bob left');

    const error = await bobClient.sendTextMessage(roomId, 'still here?').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(MatrixError);
    expect((error as MatrixError).httpStatus).toBe(403);
    expect((error as MatrixError).errcode).toBe('M_FORBIDDEN');

    const read = await api(
      server,
      'GET',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(secret.event_id)}`,
      { token: bob.accessToken },
    );
    expect([403, 404]).toContain(read.status);
    const page = await api(
      server,
      'GET',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=50`,
      { token: bob.accessToken },
    );
    expect(page.status).toBe(200);
    expect(page.body.chunk.map((e: { event_id: string }) => e.event_id)).not.toContain(
      secret.event_id,
    );
  });
});
