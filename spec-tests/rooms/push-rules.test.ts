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

beforeAll(async () => {
  server = await startTestServer();
  alice = await createUser(server, 'alice');
  bob = await createUser(server, 'bob');
});
afterAll(() => server?.stop());

const RULES = '/_matrix/client/v3/pushrules';

/** The path of one of the global rules, with the rule id percent-encoded. */
const rulePath = (kind: string, ruleId: string, suffix = '') =>
  `${RULES}/global/${kind}/${encodeURIComponent(ruleId)}${suffix}`;

const ids = (rules: { rule_id: string }[]) => rules.map((rule) => rule.rule_id);

describe('GET /pushrules/', () => {
  it("returns the server-default rules, filled in with the user's ids", async () => {
    const res = await api(server, 'GET', `${RULES}/`, { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(specErrors('client-server/pushrules.yaml', 'GET', '/pushrules/', 200, res.body)).toEqual(
      [],
    );
    const global = res.body.global;
    expect(ids(global.override)[0]).toBe('.m.rule.master');
    expect(global.override[0].enabled).toBe(false);
    expect(ids(global.override)).toContain('.m.rule.is_user_mention');
    expect(ids(global.underride)).toEqual([
      '.m.rule.call',
      '.m.rule.encrypted_room_one_to_one',
      '.m.rule.room_one_to_one',
      '.m.rule.message',
      '.m.rule.encrypted',
    ]);
    const userName = global.content.find(
      (rule: { rule_id: string }) => rule.rule_id === '.m.rule.contains_user_name',
    );
    expect(userName.pattern).toBe(alice.localpart);
    expect(global.room).toEqual([]);
    expect(global.sender).toEqual([]);
  });

  it('answers without the trailing slash, and under /global/ with the ruleset alone', async () => {
    const all = await api(server, 'GET', RULES, { token: bob.accessToken });
    expect(all.status).toBe(200);
    const global = await api(server, 'GET', `${RULES}/global/`, { token: bob.accessToken });
    expect(global.status).toBe(200);
    expect(
      specErrors('client-server/pushrules.yaml', 'GET', '/pushrules/global/', 200, global.body),
    ).toEqual([]);
    expect(global.body).toEqual(all.body.global);
  });

  it('requires an access token', async () => {
    const res = await api(server, 'GET', `${RULES}/`);
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_MISSING_TOKEN');
  });
});

describe('PUT /pushrules/global/{kind}/{ruleId}', () => {
  const beer = {
    conditions: [
      { kind: 'event_match', key: 'content.body', pattern: 'beer' },
      { kind: 'room_member_count', is: '<=10' },
    ],
    actions: ['notify', { set_tweak: 'sound', value: 'beeroclock.wav' }],
  };

  it('creates an override rule placed with before=, and reads it back', async () => {
    const first = await api(server, 'PUT', rulePath('override', 'first'), {
      token: alice.accessToken,
      body: beer,
    });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({});
    const second = await api(server, 'PUT', `${rulePath('override', 'second')}?before=first`, {
      token: alice.accessToken,
      body: { conditions: [], actions: ['dont_notify'] },
    });
    expect(second.status).toBe(200);

    const rule = await api(server, 'GET', rulePath('override', 'first'), {
      token: alice.accessToken,
    });
    expect(rule.status).toBe(200);
    expect(
      specErrors(
        'client-server/pushrules.yaml',
        'GET',
        '/pushrules/global/{kind}/{ruleId}',
        200,
        rule.body,
      ),
    ).toEqual([]);
    expect(rule.body).toEqual({ rule_id: 'first', default: false, enabled: true, ...beer });

    const all = await api(server, 'GET', `${RULES}/global/`, { token: alice.accessToken });
    // The master rule stays first; the user's rules come before the other defaults.
    expect(ids(all.body.override).slice(0, 4)).toEqual([
      '.m.rule.master',
      'second',
      'first',
      '.m.rule.suppress_notices',
    ]);
    // dont_notify is a historical action: it is stripped.
    expect(all.body.override[1].actions).toEqual([]);
  });

  it('places a rule with after=, and moves an existing rule', async () => {
    const put = (ruleId: string, query: string) =>
      api(server, 'PUT', `${rulePath('underride', ruleId)}${query}`, {
        token: alice.accessToken,
        body: { conditions: [], actions: ['notify'] },
      });
    expect((await put('a', '')).status).toBe(200);
    expect((await put('b', '?after=a')).status).toBe(200);
    expect((await put('c', '?after=a')).status).toBe(200);
    expect((await put('b', '?before=a')).status).toBe(200);
    const all = await api(server, 'GET', `${RULES}/global/`, { token: alice.accessToken });
    expect(ids(all.body.underride).slice(0, 4)).toEqual(['b', 'a', 'c', '.m.rule.call']);
  });

  it('creates content and room rules', async () => {
    const content = await api(server, 'PUT', rulePath('content', 'cake'), {
      token: alice.accessToken,
      body: { pattern: 'cake*lie', actions: ['notify'] },
    });
    expect(content.status).toBe(200);
    const roomId = '!dj234r78wl45Gh4D:hs1.test';
    const room = await api(server, 'PUT', rulePath('room', roomId), {
      token: alice.accessToken,
      body: { actions: [] },
    });
    expect(room.status).toBe(200);

    const all = await api(server, 'GET', `${RULES}/global/`, { token: alice.accessToken });
    expect(all.body.content[0]).toEqual({
      rule_id: 'cake',
      default: false,
      enabled: true,
      pattern: 'cake*lie',
      actions: ['notify'],
    });
    expect(all.body.room).toEqual([
      { rule_id: roomId, default: false, enabled: true, actions: [] },
    ]);
  });

  it('keeps rules per user', async () => {
    const res = await api(server, 'GET', rulePath('override', 'first'), {
      token: bob.accessToken,
    });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it('refuses rule ids reserved for server-default rules', async () => {
    const res = await api(server, 'PUT', rulePath('override', '.m.rule.mine'), {
      token: alice.accessToken,
      body: { conditions: [], actions: ['notify'] },
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
  });

  it('refuses a before= rule that does not exist', async () => {
    const res = await api(server, 'PUT', `${rulePath('override', 'third')}?before=nonesuch`, {
      token: alice.accessToken,
      body: { conditions: [], actions: ['notify'] },
    });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
    const rule = await api(server, 'GET', rulePath('override', 'third'), {
      token: alice.accessToken,
    });
    expect(rule.status).toBe(404);
  });

  it('refuses a content rule without pattern, and a sender rule not named by a user', async () => {
    const content = await api(server, 'PUT', rulePath('content', 'nopattern'), {
      token: alice.accessToken,
      body: { actions: ['notify'] },
    });
    expect(content.status).toBe(400);
    expect(content.body.errcode).toBe('M_MISSING_PARAM');
    const sender = await api(server, 'PUT', rulePath('sender', 'spambot'), {
      token: alice.accessToken,
      body: { actions: [] },
    });
    expect(sender.status).toBe(400);
    expect(sender.body.errcode).toBe('M_INVALID_PARAM');
  });

  it('refuses a body without actions', async () => {
    const res = await api(server, 'PUT', rulePath('override', 'noactions'), {
      token: alice.accessToken,
      body: { conditions: [] },
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_MISSING_PARAM');
  });
});

describe('GET and PUT /pushrules/global/{kind}/{ruleId}/enabled', () => {
  it('disables and re-enables a server-default rule', async () => {
    const path = rulePath('override', '.m.rule.suppress_notices', '/enabled');
    const off = await api(server, 'PUT', path, {
      token: alice.accessToken,
      body: { enabled: false },
    });
    expect(off.status).toBe(200);
    const read = await api(server, 'GET', path, { token: alice.accessToken });
    expect(read.status).toBe(200);
    expect(
      specErrors(
        'client-server/pushrules.yaml',
        'GET',
        '/pushrules/global/{kind}/{ruleId}/enabled',
        200,
        read.body,
      ),
    ).toEqual([]);
    expect(read.body).toEqual({ enabled: false });

    const rule = await api(server, 'GET', rulePath('override', '.m.rule.suppress_notices'), {
      token: alice.accessToken,
    });
    expect(rule.body).toMatchObject({ default: true, enabled: false });

    const on = await api(server, 'PUT', path, {
      token: alice.accessToken,
      body: { enabled: true },
    });
    expect(on.status).toBe(200);
    const again = await api(server, 'GET', path, { token: alice.accessToken });
    expect(again.body).toEqual({ enabled: true });
  });

  it('reads the master rule as disabled', async () => {
    const res = await api(server, 'GET', rulePath('override', '.m.rule.master', '/enabled'), {
      token: alice.accessToken,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ enabled: false });
  });
});

describe('GET and PUT /pushrules/global/{kind}/{ruleId}/actions', () => {
  it('changes the actions of a server-default rule', async () => {
    const path = rulePath('underride', '.m.rule.message', '/actions');
    const actions = ['notify', { set_tweak: 'sound', value: 'bing' }];
    const put = await api(server, 'PUT', path, { token: alice.accessToken, body: { actions } });
    expect(put.status).toBe(200);
    const read = await api(server, 'GET', path, { token: alice.accessToken });
    expect(read.status).toBe(200);
    expect(
      specErrors(
        'client-server/pushrules.yaml',
        'GET',
        '/pushrules/global/{kind}/{ruleId}/actions',
        200,
        read.body,
      ),
    ).toEqual([]);
    expect(read.body).toEqual({ actions });

    const all = await api(server, 'GET', `${RULES}/global/`, { token: alice.accessToken });
    const message = all.body.underride.find(
      (rule: { rule_id: string }) => rule.rule_id === '.m.rule.message',
    );
    expect(message).toMatchObject({ default: true, enabled: true, actions });
  });

  it('refuses an unknown action', async () => {
    const res = await api(server, 'PUT', rulePath('underride', '.m.rule.call', '/actions'), {
      token: alice.accessToken,
      body: { actions: ['explode'] },
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
  });
});

describe('DELETE /pushrules/global/{kind}/{ruleId}', () => {
  it("deletes a user's rule", async () => {
    const path = rulePath('override', 'doomed');
    const put = await api(server, 'PUT', path, {
      token: alice.accessToken,
      body: { conditions: [], actions: ['notify'] },
    });
    expect(put.status).toBe(200);
    const del = await api(server, 'DELETE', path, { token: alice.accessToken });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({});
    const read = await api(server, 'GET', path, { token: alice.accessToken });
    expect(read.status).toBe(404);
    expect(read.body.errcode).toBe('M_NOT_FOUND');
  });

  it('refuses to delete a server-default rule', async () => {
    const path = rulePath('override', '.m.rule.master');
    const res = await api(server, 'DELETE', path, { token: alice.accessToken });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
    const read = await api(server, 'GET', path, { token: alice.accessToken });
    expect(read.status).toBe(200);
  });
});

describe('unknown rules', () => {
  it.each([
    ['GET', ''],
    ['DELETE', ''],
    ['GET', '/enabled'],
    ['GET', '/actions'],
  ])('%s %s answers 404 M_NOT_FOUND', async (method, suffix) => {
    const res = await api(server, method, rulePath('override', 'nonesuch', suffix), {
      token: alice.accessToken,
    });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it.each([
    ['/enabled', { enabled: true }],
    ['/actions', { actions: [] }],
  ])('PUT %s answers 404 M_NOT_FOUND', async (suffix, body) => {
    const res = await api(server, 'PUT', rulePath('content', '.m.rule.nonesuch', suffix), {
      token: alice.accessToken,
      body,
    });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it('refuses an unknown kind', async () => {
    const res = await api(server, 'GET', rulePath('everything', 'first'), {
      token: alice.accessToken,
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_PARAM');
  });
});

describe('m.push_rules in /sync', () => {
  it('sends the whole new ruleset after a change', async () => {
    const first = await api(server, 'GET', '/_matrix/client/v3/sync?timeout=0', {
      token: bob.accessToken,
    });
    expect(first.status).toBe(200);
    const initial = first.body.account_data.events.find(
      (event: { type: string }) => event.type === 'm.push_rules',
    );
    expect(ids(initial.content.global.override)[0]).toBe('.m.rule.master');

    const put = await api(server, 'PUT', rulePath('override', '.m.rule.master', '/enabled'), {
      token: bob.accessToken,
      body: { enabled: true },
    });
    expect(put.status).toBe(200);
    const next = await api(
      server,
      'GET',
      `/_matrix/client/v3/sync?timeout=0&since=${encodeURIComponent(first.body.next_batch)}`,
      { token: bob.accessToken },
    );
    expect(next.status).toBe(200);
    const changed = next.body.account_data.events.find(
      (event: { type: string }) => event.type === 'm.push_rules',
    );
    expect(changed.content.global.override[0]).toMatchObject({
      rule_id: '.m.rule.master',
      enabled: true,
    });
  });
});
