import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createUser,
  login,
  SHARED_SECRET,
  startTestServer,
  type ApiResponse,
  type TestServer,
  type TestUser,
} from '../support/server.js';
import { specErrors } from '../support/spec-schema.js';

const PASSWORD = 'client-server/password_management.yaml';
const DEACTIVATE = 'client-server/account_deactivation.yaml';
const ADMIN_REGISTER = '/_synapse/admin/v1/register';

let server: TestServer;
/** A server without a shared secret configured. */
let noSecret: TestServer;

beforeAll(async () => {
  [server, noSecret] = await Promise.all([
    startTestServer(),
    startTestServer({ registration: { shared_secret: null } }),
  ]);
});
afterAll(() => Promise.all([server?.stop(), noSecret?.stop()]));

function passwordAuth(user: TestUser, password: string, session?: string) {
  return {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: user.userId },
    password,
    ...(session !== undefined ? { session } : {}),
  };
}

function changePassword(token: string | undefined, body: Record<string, unknown>) {
  return api(server, 'POST', '/_matrix/client/v3/account/password', {
    ...(token !== undefined ? { token } : {}),
    body,
  });
}

function whoami(token: string): Promise<ApiResponse> {
  return api(server, 'GET', '/_matrix/client/v3/account/whoami', { token });
}

function tryLogin(localpart: string, password: string): Promise<ApiResponse> {
  return api(server, 'POST', '/_matrix/client/v3/login', {
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: localpart },
      password,
    },
  });
}

async function expectUnknownToken(token: string): Promise<void> {
  const res = await whoami(token);
  expect(res.status).toBe(401);
  expect(res.body.errcode).toBe('M_UNKNOWN_TOKEN');
}

/** The HMAC-SHA1 shared-secret registration asks for. */
function sharedSecretMac(nonce: string, username: string, password: string, admin = false) {
  return createHmac('sha1', SHARED_SECRET)
    .update(`${nonce}\0${username}\0${password}\0${admin ? 'admin' : 'notadmin'}`)
    .digest('hex');
}

async function registrationNonce(target: TestServer = server): Promise<string> {
  const res = await api(target, 'GET', ADMIN_REGISTER);
  expect(res.status).toBe(200);
  expect(res.body.nonce).toEqual(expect.any(String));
  return res.body.nonce as string;
}

describe('POST /_matrix/client/v3/account/password', () => {
  it('answers a request without auth with 401, the password flow and a session', async () => {
    const alice = await createUser(server, 'alice');
    const res = await changePassword(alice.accessToken, { new_password: 'alice-new-password' });
    expect(res.status).toBe(401);
    expect(specErrors(PASSWORD, 'POST', '/account/password', 401, res.body)).toEqual([]);
    expect(res.body.flows).toEqual([{ stages: ['m.login.password'] }]);
    expect(res.body.session).toEqual(expect.any(String));
    // Nothing changed yet.
    expect((await tryLogin(alice.localpart, alice.password)).status).toBe(200);
  });

  it('refuses a wrong current password with 401 M_FORBIDDEN and keeps the session', async () => {
    const bob = await createUser(server, 'bob');
    const started = await changePassword(bob.accessToken, { new_password: 'bob-new-password' });
    const session = started.body.session as string;
    const res = await changePassword(bob.accessToken, {
      new_password: 'bob-new-password',
      auth: passwordAuth(bob, 'not-bobs-password', session),
    });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    expect(specErrors(PASSWORD, 'POST', '/account/password', 401, res.body)).toEqual([]);
    expect(res.body.session).toBe(session);
    expect((await tryLogin(bob.localpart, 'bob-new-password')).status).toBe(403);
  });

  it('changes the password and logs out the other devices by default', async () => {
    const carol = await createUser(server, 'carol');
    const other = await login(server, carol);
    const started = await changePassword(carol.accessToken, { new_password: 'carol-new-pw' });
    const res = await changePassword(carol.accessToken, {
      new_password: 'carol-new-pw',
      auth: passwordAuth(carol, carol.password, started.body.session),
    });
    expect(res.status).toBe(200);
    expect(specErrors(PASSWORD, 'POST', '/account/password', 200, res.body)).toEqual([]);

    const old = await tryLogin(carol.localpart, carol.password);
    expect(old.status).toBe(403);
    expect(old.body.errcode).toBe('M_FORBIDDEN');
    expect((await tryLogin(carol.localpart, 'carol-new-pw')).status).toBe(200);

    await expectUnknownToken(other.accessToken);
    const me = await whoami(carol.accessToken);
    expect(me.status).toBe(200);
    expect(me.body.device_id).toBe(carol.deviceId);
  });

  it('keeps the other devices with logout_devices: false', async () => {
    const dave = await createUser(server, 'dave');
    const other = await login(server, dave);
    const res = await changePassword(dave.accessToken, {
      new_password: 'dave-new-pw',
      logout_devices: false,
      auth: passwordAuth(dave, dave.password),
    });
    expect(res.status).toBe(200);
    expect((await whoami(other.accessToken)).status).toBe(200);
    expect((await whoami(dave.accessToken)).status).toBe(200);
    expect((await tryLogin(dave.localpart, 'dave-new-pw')).status).toBe(200);
  });

  it('refuses the password of another user than the caller with 401 M_FORBIDDEN', async () => {
    const erin = await createUser(server, 'erin');
    const frank = await createUser(server, 'frank');
    const res = await changePassword(erin.accessToken, {
      new_password: 'taken-over',
      auth: passwordAuth(frank, frank.password),
    });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    expect((await tryLogin(erin.localpart, erin.password)).status).toBe(200);
    expect((await tryLogin(frank.localpart, frank.password)).status).toBe(200);
  });

  it('without an access token, changes the password the auth names and logs out all', async () => {
    const grace = await createUser(server, 'grace');
    const res = await changePassword(undefined, {
      new_password: 'grace-new-pw',
      auth: passwordAuth(grace, grace.password),
    });
    expect(res.status).toBe(200);
    await expectUnknownToken(grace.accessToken);
    expect((await tryLogin(grace.localpart, 'grace-new-pw')).status).toBe(200);
  });
});

describe('POST /_matrix/client/v3/account/deactivate', () => {
  it('asks for the password, then ends the account and all its sessions', async () => {
    const heidi = await createUser(server, 'heidi');
    const started = await api(server, 'POST', '/_matrix/client/v3/account/deactivate', {
      token: heidi.accessToken,
      body: {},
    });
    expect(started.status).toBe(401);
    expect(specErrors(DEACTIVATE, 'POST', '/account/deactivate', 401, started.body)).toEqual([]);
    expect(started.body.flows).toEqual([{ stages: ['m.login.password'] }]);

    const res = await api(server, 'POST', '/_matrix/client/v3/account/deactivate', {
      token: heidi.accessToken,
      body: { auth: passwordAuth(heidi, heidi.password, started.body.session) },
    });
    expect(res.status).toBe(200);
    expect(specErrors(DEACTIVATE, 'POST', '/account/deactivate', 200, res.body)).toEqual([]);
    // The account has no third-party identifiers, so there was nothing to unbind.
    expect(res.body.id_server_unbind_result).toBe('success');

    await expectUnknownToken(heidi.accessToken);
    const again = await tryLogin(heidi.localpart, heidi.password);
    expect(again.status).toBe(403);
    // The spec allows either code for a deactivated account.
    expect(['M_USER_DEACTIVATED', 'M_FORBIDDEN']).toContain(again.body.errcode);
  });

  it('keeps the user id of a deactivated account from being registered again', async () => {
    const ivan = await createUser(server, 'ivan');
    const res = await api(server, 'POST', '/_matrix/client/v3/account/deactivate', {
      token: ivan.accessToken,
      body: { auth: passwordAuth(ivan, ivan.password) },
    });
    expect(res.status).toBe(200);
    const nonce = await registrationNonce();
    const reuse = await api(server, 'POST', ADMIN_REGISTER, {
      body: {
        nonce,
        username: ivan.localpart,
        password: 'new-owner',
        mac: sharedSecretMac(nonce, ivan.localpart, 'new-owner'),
      },
    });
    expect(reuse.status).toBe(400);
    expect(reuse.body.errcode).toBe('M_USER_IN_USE');
  });

  it('refuses a wrong password with 401 M_FORBIDDEN and leaves the account', async () => {
    const judy = await createUser(server, 'judy');
    const res = await api(server, 'POST', '/_matrix/client/v3/account/deactivate', {
      token: judy.accessToken,
      body: { auth: passwordAuth(judy, 'not-judys-password') },
    });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    expect((await whoami(judy.accessToken)).status).toBe(200);
  });
});

describe('POST /_synapse/admin/v1/register', () => {
  it('creates an account when the HMAC is right', async () => {
    const nonce = await registrationNonce();
    const res = await api(server, 'POST', ADMIN_REGISTER, {
      body: {
        nonce,
        username: 'kim',
        password: 'kim-password',
        admin: false,
        mac: sharedSecretMac(nonce, 'kim', 'kim-password'),
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(`@kim:${server.serverName}`);
    const me = await whoami(res.body.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user_id: res.body.user_id, device_id: res.body.device_id });
    expect((await tryLogin('kim', 'kim-password')).status).toBe(200);
  });

  it('refuses a wrong HMAC with 403 M_FORBIDDEN and creates nothing', async () => {
    const nonce = await registrationNonce();
    const res = await api(server, 'POST', ADMIN_REGISTER, {
      body: {
        nonce,
        username: 'lena',
        password: 'lena-password',
        // Signed for an admin account, sent as a plain one.
        mac: sharedSecretMac(nonce, 'lena', 'lena-password', true),
      },
    });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    const attempt = await tryLogin('lena', 'lena-password');
    expect(attempt.status).toBe(403);
    expect(attempt.body.errcode).toBe('M_FORBIDDEN');
  });

  it('refuses a nonce that was already used with 403 M_FORBIDDEN', async () => {
    const nonce = await registrationNonce();
    const first = await api(server, 'POST', ADMIN_REGISTER, {
      body: {
        nonce,
        username: 'mia',
        password: 'mia-password',
        mac: sharedSecretMac(nonce, 'mia', 'mia-password'),
      },
    });
    expect(first.status).toBe(200);
    const replay = await api(server, 'POST', ADMIN_REGISTER, {
      body: {
        nonce,
        username: 'nora',
        password: 'nora-password',
        mac: sharedSecretMac(nonce, 'nora', 'nora-password'),
      },
    });
    expect(replay.status).toBe(403);
    expect(replay.body.errcode).toBe('M_FORBIDDEN');
    expect((await tryLogin('nora', 'nora-password')).status).toBe(403);
  });

  it('is absent with 404 M_UNRECOGNIZED when no shared secret is configured', async () => {
    const res = await api(noSecret, 'POST', ADMIN_REGISTER, {
      body: {
        nonce: 'made-up',
        username: 'olga',
        password: 'olga-password',
        mac: sharedSecretMac('made-up', 'olga', 'olga-password'),
      },
    });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_UNRECOGNIZED');
  });
});

describe('GET /_synapse/admin/v1/register', () => {
  it('hands out a different nonce each time', async () => {
    const [a, b] = await Promise.all([registrationNonce(), registrationNonce()]);
    expect(a).not.toBe(b);
  });

  it('is absent with 404 M_UNRECOGNIZED when no shared secret is configured', async () => {
    const res = await api(noSecret, 'GET', ADMIN_REGISTER);
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_UNRECOGNIZED');
  });
});
