/**
 * Read receipts, read markers, unread counts, GET /notifications and the read-status report
 * (spec: client-server-api, Receipts; Read markers; Receiving notifications), over HTTP and through
 * matrix-js-sdk, plus the admin CLI's `read-status`.
 */
import type { ChildProcess } from 'node:child_process';
import {
  ClientEvent,
  createClient,
  NotificationCountType,
  ReceiptType,
  type MatrixClient,
} from 'matrix-js-sdk';
import { logger as sdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createUser,
  spawnScript,
  startTestServer,
  waitForLine,
  type ApiResponse,
  type TestServer,
  type TestUser,
} from '../support/server.js';
import { specErrors } from '../support/spec-schema.js';

let server: TestServer;

beforeAll(async () => {
  (sdkLogger as unknown as { setLevel(level: 'silent'): void }).setLevel('silent');
  server = await startTestServer();
});
afterAll(() => server?.stop());

const V3 = '/_matrix/client/v3';
const VENDOR = '/_matrix/client/unstable/jp.machi';
const PRIVACY_NOTE = /private/i;

let txn = 0;
const enc = encodeURIComponent;

async function createRoom(user: TestUser, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api(server, 'POST', `${V3}/createRoom`, { token: user.accessToken, body });
  if (res.status !== 200) throw new Error(`createRoom failed: ${JSON.stringify(res.body)}`);
  return res.body.room_id as string;
}

async function join(user: TestUser, roomId: string): Promise<void> {
  const res = await api(server, 'POST', `${V3}/join/${enc(roomId)}`, {
    token: user.accessToken,
    body: {},
  });
  if (res.status !== 200) throw new Error(`join failed: ${JSON.stringify(res.body)}`);
}

/** A room created by `owner` (public, so that the others can join) with `members` joined. */
async function roomWith(owner: TestUser, members: TestUser[]): Promise<string> {
  const roomId = await createRoom(owner, { preset: 'public_chat' });
  for (const member of members) await join(member, roomId);
  return roomId;
}

/** Sends an `m.room.message`; `content` is a text body or the whole content. */
async function send(
  user: TestUser,
  roomId: string,
  content: string | Record<string, unknown>,
): Promise<string> {
  txn += 1;
  const path = `${V3}/rooms/${enc(roomId)}/send/m.room.message/r${txn}`;
  const body = typeof content === 'string' ? { msgtype: 'm.text', body: content } : content;
  const res = await api(server, 'PUT', path, { token: user.accessToken, body });
  if (res.status !== 200) throw new Error(`send failed: ${JSON.stringify(res.body)}`);
  return res.body.event_id as string;
}

/** Sends a reply in the thread rooted at `rootId`. */
function sendInThread(user: TestUser, roomId: string, rootId: string, text: string) {
  return send(user, roomId, {
    msgtype: 'm.text',
    body: text,
    'm.relates_to': { rel_type: 'm.thread', event_id: rootId },
  });
}

function receipt(
  user: TestUser,
  roomId: string,
  type: string,
  eventId: string,
  body: Record<string, unknown> = {},
): Promise<ApiResponse> {
  return api(server, 'POST', `${V3}/rooms/${enc(roomId)}/receipt/${enc(type)}/${enc(eventId)}`, {
    token: user.accessToken,
    body,
  });
}

async function receiptOk(
  user: TestUser,
  roomId: string,
  type: string,
  eventId: string,
  body: Record<string, unknown> = {},
): Promise<void> {
  const res = await receipt(user, roomId, type, eventId, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body).toEqual({});
}

/** A sync that must succeed (initial unless `since` is given; never waits). */
async function syncOk(
  user: TestUser,
  options: { since?: string; filter?: Record<string, unknown> } = {},
): Promise<any> {
  const query = new URLSearchParams({ timeout: '0' });
  if (options.since !== undefined) query.set('since', options.since);
  if (options.filter !== undefined) query.set('filter', JSON.stringify(options.filter));
  const res = await api(server, 'GET', `${V3}/sync?${query}`, { token: user.accessToken });
  expect(res.status).toBe(200);
  return res.body;
}

interface SeenReceipt {
  eventId: string;
  type: string;
  userId: string;
  ts: unknown;
  threadId?: string;
}

/** Every receipt in a sync answer's `m.receipt` ephemeral events of one room, flattened. */
function receiptsIn(body: any, roomId: string): SeenReceipt[] {
  const events: { type: string; content: Record<string, any> }[] =
    body.rooms?.join?.[roomId]?.ephemeral?.events ?? [];
  const out: SeenReceipt[] = [];
  for (const event of events.filter((e) => e.type === 'm.receipt')) {
    for (const [eventId, byType] of Object.entries(event.content)) {
      for (const [type, byUser] of Object.entries(byType as Record<string, any>)) {
        for (const [userId, data] of Object.entries(byUser as Record<string, any>)) {
          out.push({
            eventId,
            type,
            userId,
            ts: data.ts,
            ...(data.thread_id !== undefined ? { threadId: data.thread_id } : {}),
          });
        }
      }
    }
  }
  return out;
}

/** Creates one account per name, in parallel. */
function createUsers<N extends string[]>(...names: N): Promise<{ [K in keyof N]: TestUser }> {
  return Promise.all(names.map((name) => createUser(server, name))) as Promise<{
    [K in keyof N]: TestUser;
  }>;
}

/** Waits until `check` holds, polling; fails with `what` after `ms`. */
async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function readStatus(user: TestUser, roomId: string, eventId: string): Promise<ApiResponse> {
  return api(server, 'GET', `${VENDOR}/rooms/${enc(roomId)}/read_status/${enc(eventId)}`, {
    token: user.accessToken,
  });
}

describe('read receipts through matrix-js-sdk', () => {
  let alice: TestUser;
  let bob: TestUser;
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

  beforeAll(async () => {
    alice = await createUser(server, 'alice');
    bob = await createUser(server, 'bob');
  });
  afterAll(() => {
    for (const client of clients) client.stopClient();
  });

  it("shows on alice's client the receipt bob sent for her message", async () => {
    const [aliceClient, bobClient] = await Promise.all([startClient(alice), startClient(bob)]);
    const { room_id: roomId } = await aliceClient.createRoom({ invite: [bob.userId] });
    await until(() => bobClient.getRoom(roomId)?.getMyMembership() === 'invite', 'the invite');
    await bobClient.joinRoom(roomId);
    // Alice's client places her message after bob's join only once it has seen the join; before
    // that, the client would order her local echo first and prefer bob's implicit receipt.
    await until(
      () => aliceClient.getRoom(roomId)?.getMember(bob.userId)?.membership === 'join',
      "bob's join on alice's client",
    );
    const { event_id: eventId } = await aliceClient.sendTextMessage(roomId, '議事録を共有します');

    await until(() => !!bobClient.getRoom(roomId)?.findEventById(eventId), 'the message on bob');
    const bobRoom = bobClient.getRoom(roomId)!;
    await until(
      () => bobRoom.getUnreadNotificationCount(NotificationCountType.Total) === 1,
      "the message's unread count on bob's client",
    );
    await bobClient.sendReadReceipt(bobRoom.findEventById(eventId)!, ReceiptType.Read);

    const aliceRoom = aliceClient.getRoom(roomId)!;
    await until(
      () =>
        aliceRoom
          .getReceiptsForEvent(aliceRoom.findEventById(eventId)!)
          .some((r) => r.userId === bob.userId && r.type === ReceiptType.Read),
      "bob's receipt on alice's client",
    );
    expect(aliceRoom.getUsersReadUpTo(aliceRoom.findEventById(eventId)!)).toContain(bob.userId);
    await until(
      () => bobRoom.getUnreadNotificationCount(NotificationCountType.Total) === 0,
      "bob's unread count cleared by his receipt",
    );
  });
});

describe('POST /rooms/{roomId}/receipt/{receiptType}/{eventId}', () => {
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  let roomId: string;
  let first: string;
  let second: string;

  beforeAll(async () => {
    [alice, bob, carol, dave] = await createUsers('alice', 'bob', 'carol', 'dave');
    roomId = await roomWith(alice, [bob, carol]);
    first = await send(alice, roomId, '1つ目');
    second = await send(alice, roomId, '2つ目');
  });

  it("shows carol's private receipt in her own sync only", async () => {
    const aliceBefore = (await syncOk(alice)).next_batch as string;
    const bobBefore = (await syncOk(bob)).next_batch as string;
    await receiptOk(carol, roomId, 'm.read.private', second);

    const own = receiptsIn(await syncOk(carol), roomId);
    expect(own).toContainEqual(
      expect.objectContaining({ eventId: second, type: 'm.read.private', userId: carol.userId }),
    );
    for (const body of [
      await syncOk(alice),
      await syncOk(bob),
      await syncOk(alice, { since: aliceBefore }),
      await syncOk(bob, { since: bobBefore }),
    ]) {
      const seen = receiptsIn(body, roomId);
      expect(seen.filter((r) => r.type === 'm.read.private')).toEqual([]);
      expect(seen.filter((r) => r.userId === carol.userId)).toEqual([]);
    }
    const report = await readStatus(alice, roomId, second);
    expect(report.status).toBe(200);
    expect(report.body.unread).toContainEqual({ user_id: carol.userId });
  });

  it('keeps the main-timeline receipt when a thread receipt is sent', async () => {
    const root = await send(alice, roomId, 'スレッドの最初');
    const reply = await sendInThread(alice, roomId, root, '返信');
    await receiptOk(bob, roomId, 'm.read', root, { thread_id: 'main' });
    await receiptOk(bob, roomId, 'm.read', reply, { thread_id: root });

    const bobs = receiptsIn(await syncOk(bob), roomId).filter((r) => r.userId === bob.userId);
    expect(bobs).toContainEqual(
      expect.objectContaining({ eventId: root, type: 'm.read', threadId: 'main' }),
    );
    expect(bobs).toContainEqual(
      expect.objectContaining({ eventId: reply, type: 'm.read', threadId: root }),
    );
  });

  it('rejects a thread receipt for an event outside that thread', async () => {
    const root = await send(alice, roomId, '別のスレッド');
    await sendInThread(alice, roomId, root, '返信');
    const res = await receipt(bob, roomId, 'm.read', first, { thread_id: root });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
  });

  it('accepts a receipt for an older event but does not move the receipt back', async () => {
    await receiptOk(carol, roomId, 'm.read', second);
    await receiptOk(carol, roomId, 'm.read', first);
    const carols = receiptsIn(await syncOk(alice), roomId).filter(
      (r) => r.userId === carol.userId && r.type === 'm.read',
    );
    expect(carols.map((r) => r.eventId)).toEqual([second]);
    expect(carols[0]?.threadId).toBeUndefined();
    expect(typeof carols[0]?.ts).toBe('number');
  });

  it("moves the sender's own m.read receipt to the message they send", async () => {
    const since = (await syncOk(alice)).next_batch as string;
    const sent = await send(carol, roomId, '了解しました');
    const seen = receiptsIn(await syncOk(alice, { since }), roomId);
    expect(seen).toContainEqual(
      expect.objectContaining({ eventId: sent, type: 'm.read', userId: carol.userId }),
    );
  });

  it('answers 404 M_NOT_FOUND for an event the server does not know', async () => {
    const res = await receipt(bob, roomId, 'm.read', '$unknown-event');
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it('answers 404 M_NOT_FOUND for an event of another room', async () => {
    const other = await createRoom(bob);
    const elsewhere = await send(bob, other, 'ここは別の部屋');
    const res = await receipt(bob, roomId, 'm.read', elsewhere);
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it('answers 403 M_FORBIDDEN for an event in a room the user is not in', async () => {
    const res = await receipt(dave, roomId, 'm.read', second);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    const report = await readStatus(alice, roomId, second);
    expect(report.body.read.map((r: { user_id: string }) => r.user_id)).not.toContain(dave.userId);
  });

  it("answers 400 M_INVALID_PARAM for an empty thread_id, as the spec's example shows", async () => {
    const res = await receipt(bob, roomId, 'm.read', second, { thread_id: '' });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
    expect(
      specErrors(
        'client-server/receipts.yaml',
        'POST',
        '/rooms/{roomId}/receipt/{receiptType}/{eventId}',
        400,
        res.body,
      ),
    ).toEqual([]);
  });

  it('answers 400 for a receipt type it does not know', async () => {
    const res = await receipt(bob, roomId, 'm.seen', second);
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
  });

  it('answers 400 M_INVALID_PARAM for a thread_id on m.fully_read', async () => {
    const res = await receipt(bob, roomId, 'm.fully_read', second, { thread_id: 'main' });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
  });
});

describe('the fully-read marker', () => {
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  let first: string;
  let second: string;

  const fullyRead = (user: TestUser) =>
    api(
      server,
      'GET',
      `${V3}/user/${enc(user.userId)}/rooms/${enc(roomId)}/account_data/m.fully_read`,
      { token: user.accessToken },
    );

  beforeAll(async () => {
    alice = await createUser(server, 'alice');
    bob = await createUser(server, 'bob');
    roomId = await roomWith(alice, [bob]);
    first = await send(alice, roomId, '一');
    second = await send(alice, roomId, '二');
  });

  it('is set by POST /receipt/m.fully_read and lands in room account data', async () => {
    expect((await fullyRead(bob)).status).toBe(404);
    await receiptOk(bob, roomId, 'm.fully_read', first);
    const res = await fullyRead(bob);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ event_id: first });
    // m.fully_read is a marker, not a receipt: it never appears under m.receipt.
    const seen = receiptsIn(await syncOk(bob), roomId);
    expect(seen.filter((r) => r.type === 'm.fully_read')).toEqual([]);
  });

  it('is set by POST /read_markers together with the receipts, and reaches sync', async () => {
    const since = (await syncOk(bob)).next_batch as string;
    const res = await api(server, 'POST', `${V3}/rooms/${enc(roomId)}/read_markers`, {
      token: bob.accessToken,
      body: { 'm.fully_read': second, 'm.read': second, 'm.read.private': second },
    });
    expect(res.status).toBe(200);
    expect((await fullyRead(bob)).body).toEqual({ event_id: second });

    const body = await syncOk(bob, { since });
    const roomData = body.rooms.join[roomId]?.account_data.events ?? [];
    expect(roomData).toContainEqual({ type: 'm.fully_read', content: { event_id: second } });
    const seen = receiptsIn(body, roomId).filter((r) => r.userId === bob.userId);
    expect(seen).toContainEqual(expect.objectContaining({ eventId: second, type: 'm.read' }));
    expect(seen).toContainEqual(
      expect.objectContaining({ eventId: second, type: 'm.read.private' }),
    );
  });

  it('cannot be set through the account data API', async () => {
    const res = await api(
      server,
      'PUT',
      `${V3}/user/${enc(bob.userId)}/rooms/${enc(roomId)}/account_data/m.fully_read`,
      { token: bob.accessToken, body: { event_id: first } },
    );
    expect(res.status).toBe(405);
    expect((await fullyRead(bob)).body).toEqual({ event_id: second });
  });

  it('moves nothing when one event of a /read_markers request is unknown', async () => {
    const res = await api(server, 'POST', `${V3}/rooms/${enc(roomId)}/read_markers`, {
      token: bob.accessToken,
      body: { 'm.fully_read': first, 'm.read': '$unknown-event' },
    });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
    expect((await fullyRead(bob)).body).toEqual({ event_id: second });
  });
});

describe('unread counts in /sync', () => {
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let roomId: string;
  let since: string;
  let last: string;
  const perThread = { room: { timeline: { unread_thread_notifications: true } } };

  /** Bob's incremental sync from the previous one; returns the room's section. */
  async function bobSync(filter?: Record<string, unknown>): Promise<any> {
    const body = await syncOk(bob, { since, ...(filter ? { filter } : {}) });
    since = body.next_batch;
    return body.rooms.join[roomId];
  }

  beforeAll(async () => {
    alice = await createUser(server, 'alice');
    bob = await createUser(server, 'bob');
    carol = await createUser(server, 'carol');
    const res = await api(server, 'PUT', `${V3}/profile/${enc(bob.userId)}/displayname`, {
      token: bob.accessToken,
      body: { displayname: '佐藤' },
    });
    expect(res.status).toBe(200);
    roomId = await roomWith(alice, [bob, carol]);
    since = (await syncOk(bob)).next_batch;
  });

  it('counts three messages as three notifications', async () => {
    for (const text of ['おはようございます', '本日の予定です', '会議は10時から']) {
      last = await send(alice, roomId, text);
    }
    const room = await bobSync();
    expect(room.unread_notifications).toEqual({ notification_count: 3, highlight_count: 0 });
  });

  it("highlights a message containing bob's Japanese display name", async () => {
    last = await send(alice, roomId, '佐藤さん、確認お願いします');
    const room = await bobSync();
    expect(room.unread_notifications).toEqual({ notification_count: 4, highlight_count: 1 });
  });

  it('highlights a message that mentions bob in m.mentions', async () => {
    last = await send(alice, roomId, {
      msgtype: 'm.text',
      body: '資料を見てください',
      'm.mentions': { user_ids: [bob.userId] },
    });
    const room = await bobSync();
    expect(room.unread_notifications).toEqual({ notification_count: 5, highlight_count: 2 });
  });

  it('does not count a message that only mentions someone else', async () => {
    last = await send(alice, roomId, {
      msgtype: 'm.text',
      body: 'carol さんへ',
      'm.mentions': { user_ids: [carol.userId] },
    });
    const room = await bobSync();
    expect(room.unread_notifications).toEqual({ notification_count: 6, highlight_count: 2 });
  });

  it("resets both counts to 0 with bob's m.read receipt on the last message", async () => {
    await receiptOk(bob, roomId, 'm.read', last);
    const room = await bobSync();
    expect(room.unread_notifications).toEqual({ notification_count: 0, highlight_count: 0 });
  });

  it('resets the count with an m.read.private receipt too', async () => {
    last = await send(alice, roomId, '追加の連絡です');
    expect((await bobSync()).unread_notifications.notification_count).toBe(1);
    await receiptOk(bob, roomId, 'm.read.private', last);
    const room = await bobSync();
    expect(room.unread_notifications).toEqual({ notification_count: 0, highlight_count: 0 });
  });

  it('does not count an m.notice', async () => {
    last = await send(alice, roomId, { msgtype: 'm.notice', body: '自動通知: バックアップ完了' });
    const room = await bobSync();
    expect(room.timeline.events.map((e: { event_id: string }) => e.event_id)).toContain(last);
    expect(room.unread_notifications).toEqual({ notification_count: 0, highlight_count: 0 });
  });

  it('does not count messages bob sends himself', async () => {
    last = await send(bob, roomId, '承知しました');
    const room = await bobSync();
    expect(room.unread_notifications).toEqual({ notification_count: 0, highlight_count: 0 });
  });

  it('counts each thread apart under unread_thread_notifications when the filter asks', async () => {
    const root = await send(alice, roomId, '新しい議題');
    await sendInThread(alice, roomId, root, '意見1');
    const reply = await sendInThread(carol, roomId, root, '佐藤さんはどう思いますか');

    const split = await bobSync(perThread);
    expect(split.unread_notifications).toEqual({ notification_count: 1, highlight_count: 0 });
    expect(split.unread_thread_notifications).toEqual({
      [root]: { notification_count: 2, highlight_count: 1 },
    });
    const whole = (await syncOk(bob)).rooms.join[roomId];
    expect(whole.unread_notifications).toEqual({ notification_count: 3, highlight_count: 1 });
    expect(whole.unread_thread_notifications).toBeUndefined();

    // A receipt in the thread clears the thread only.
    await receiptOk(bob, roomId, 'm.read', reply, { thread_id: root });
    const after = await bobSync(perThread);
    expect(after.unread_notifications).toEqual({ notification_count: 1, highlight_count: 0 });
    expect(after.unread_thread_notifications?.[root]).toBeUndefined();
  });
});

describe('GET /notifications', () => {
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  let plain: string;
  let named: string;
  let mention: string;
  let unreadOne: string;

  const notifications = (user: TestUser, query = '') =>
    api(server, 'GET', `${V3}/notifications${query}`, { token: user.accessToken });

  beforeAll(async () => {
    alice = await createUser(server, 'alice');
    bob = await createUser(server, 'bob');
    const carol = await createUser(server, 'carol');
    await api(server, 'PUT', `${V3}/profile/${enc(bob.userId)}/displayname`, {
      token: bob.accessToken,
      body: { displayname: '佐藤' },
    });
    roomId = await roomWith(alice, [bob, carol]);
    plain = await send(alice, roomId, '普通のメッセージ');
    named = await send(alice, roomId, '佐藤さん、お願いします');
    mention = await send(alice, roomId, {
      msgtype: 'm.text',
      body: 'ご確認ください',
      'm.mentions': { user_ids: [bob.userId] },
    });
    await send(alice, roomId, { msgtype: 'm.notice', body: 'ボットの通知' });
    await receiptOk(bob, roomId, 'm.read', mention);
    unreadOne = await send(alice, roomId, 'まだ読んでいない');
  });

  it("lists bob's notifications newest first, with read flags, in the spec's shape", async () => {
    const res = await notifications(bob);
    expect(res.status).toBe(200);
    expect(
      specErrors('client-server/notifications.yaml', 'GET', '/notifications', 200, res.body),
    ).toEqual([]);
    const listed = res.body.notifications.map((n: any) => [n.event.event_id, n.read]);
    expect(listed).toEqual([
      [unreadOne, false],
      [mention, true],
      [named, true],
      [plain, true],
    ]);
    for (const n of res.body.notifications) {
      expect(n.room_id).toBe(roomId);
      expect(n.actions).toContain('notify');
    }
  });

  it('lists only the highlights with only=highlight', async () => {
    const res = await notifications(bob, '?only=highlight');
    expect(res.status).toBe(200);
    expect(
      specErrors('client-server/notifications.yaml', 'GET', '/notifications', 200, res.body),
    ).toEqual([]);
    expect(res.body.notifications.map((n: any) => n.event.event_id)).toEqual([mention, named]);
    for (const n of res.body.notifications) {
      expect(n.actions).toContainEqual({ set_tweak: 'highlight' });
    }
  });

  it('pages with limit and next_token', async () => {
    const page1 = await notifications(bob, '?limit=3');
    expect(page1.body.notifications).toHaveLength(3);
    expect(typeof page1.body.next_token).toBe('string');
    const page2 = await notifications(bob, `?limit=3&from=${enc(page1.body.next_token)}`);
    expect(page2.body.notifications.map((n: any) => n.event.event_id)).toEqual([plain]);
    expect(page2.body.next_token).toBeUndefined();
  });

  it('lists nothing for the sender of those messages', async () => {
    const res = await notifications(alice);
    expect(res.status).toBe(200);
    expect(res.body.notifications).toEqual([]);
  });
});

describe(`GET ${VENDOR}/rooms/{roomId}/read_status/{eventId}`, () => {
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  let admin: TestUser;
  let roomId: string;
  let eventId: string;

  beforeAll(async () => {
    [alice, bob, carol, dave] = await createUsers('alice', 'bob', 'carol', 'dave');
    admin = await createUser(server, 'admin', { admin: true });
    roomId = await roomWith(alice, [bob, carol, dave]);
    eventId = await send(alice, roomId, '明日は休館日です。全員確認してください。');
    await receiptOk(bob, roomId, 'm.read', eventId);
    await receiptOk(carol, roomId, 'm.read.private', eventId);
  });

  function expectReport(body: any): void {
    expect(body.room_id).toBe(roomId);
    expect(body.event_id).toBe(eventId);
    expect(body.read.map((r: { user_id: string }) => r.user_id).sort()).toEqual(
      [alice.userId, bob.userId].sort(),
    );
    for (const r of body.read) expect(typeof r.ts).toBe('number');
    expect(body.unread).toEqual(
      [carol.userId, dave.userId].sort().map((userId) => ({ user_id: userId })),
    );
    expect(body.privacy).toMatch(PRIVACY_NOTE);
  }

  it('tells the room creator that bob (and she herself) read it; carol and dave did not', async () => {
    const res = await readStatus(alice, roomId, eventId);
    expect(res.status).toBe(200);
    expectReport(res.body);
  });

  it('refuses a member without the power to change power levels', async () => {
    const res = await readStatus(bob, roomId, eventId);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });

  it('refuses a user who is not in the room', async () => {
    const outsider = await createUser(server, 'outsider');
    const res = await readStatus(outsider, roomId, eventId);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });

  it('answers a server admin who is not in the room', async () => {
    const res = await readStatus(admin, roomId, eventId);
    expect(res.status).toBe(200);
    expectReport(res.body);
  });

  it('answers 404 for an event that is not in the room', async () => {
    const res = await readStatus(admin, roomId, '$not-here');
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it('counts dave as read once his public receipt reaches a later event', async () => {
    const later = await send(bob, roomId, '確認しました');
    await receiptOk(dave, roomId, 'm.read', later);
    const res = await readStatus(alice, roomId, eventId);
    expect(res.body.read.map((r: { user_id: string }) => r.user_id)).toContain(dave.userId);
    expect(res.body.unread).toEqual([{ user_id: carol.userId }]);
  });
});

/** Runs the admin CLI against the test server to completion; returns its exit code and output. */
async function cli(args: string[]): Promise<{ code: number | null; text: string }> {
  const { child, output } = spawnScript('src/cli.ts', ['--config', server.configPath, ...args]);
  const exited = new Promise<number | null>((done) => {
    const timer = setTimeout(() => child.kill('SIGTERM'), 30_000);
    (child as ChildProcess).once('close', (code) => {
      clearTimeout(timer);
      done(code);
    });
  });
  child.stdin?.end();
  return { code: await exited, text: output.join('\n') };
}

describe('src/cli.ts read-status <roomId> <eventId>', () => {
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let roomId: string;
  let eventId: string;

  beforeAll(async () => {
    [alice, bob, carol] = await createUsers('alice', 'bob', 'carol');
    roomId = await roomWith(alice, [bob, carol]);
    eventId = await send(alice, roomId, '回覧: 年末の当番表');
    await receiptOk(bob, roomId, 'm.read', eventId);
    await receiptOk(carol, roomId, 'm.read.private', eventId);
  });

  it('prints bob as read with the time, carol as unread, and the privacy note', async () => {
    const { code, text } = await cli(['read-status', roomId, eventId]);
    expect(code, text).toBe(0);
    if (!process.env.TEST_DATABASE_URL) {
      // The embedded database is the server's alone: the command went through its socket.
      await waitForLine(server.process, server.output, (l) =>
        l.includes('"command":"read-status"'),
      );
    }
    const lines = text.split('\n');
    const row = (userId: string) => lines.find((l) => l.trimStart().startsWith(userId));
    expect(row(bob.userId)).toMatch(/\sread\s+\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/);
    expect(row(carol.userId)).toMatch(/\sunread(\s|$)/);
    expect(row(alice.userId)).toMatch(/\sread\s/);
    expect(text).toMatch(/m\.read\.private/);
  });

  it('exits non-zero naming the problem for an event that is not in the room', async () => {
    const { code, text } = await cli(['read-status', roomId, '$not-here']);
    expect(code).not.toBe(0);
    expect(text).toMatch(/not found/i);
  });

  it('exits 2 when the event id is missing', async () => {
    const { code, text } = await cli(['read-status', roomId]);
    expect(code).toBe(2);
    expect(text).toContain('read-status needs');
  });
});
