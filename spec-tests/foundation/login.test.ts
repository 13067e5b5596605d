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

const LOGIN = 'client-server/login.yaml';
const LOGOUT = 'client-server/logout.yaml';
const WHOAMI = 'client-server/whoami.yaml';
const DEVICES = 'client-server/device_management.yaml';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

function postLogin(body: Record<string, unknown>): Promise<ApiResponse> {
  return api(server, 'POST', '/_matrix/client/v3/login', { body });
}

function passwordLogin(user: string, password: string, extra: Record<string, unknown> = {}) {
  return postLogin({
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user },
    password,
    ...extra,
  });
}

function whoami(token: string): Promise<ApiResponse> {
  return api(server, 'GET', '/_matrix/client/v3/account/whoami', { token });
}

async function deviceIds(token: string): Promise<string[]> {
  const res = await api(server, 'GET', '/_matrix/client/v3/devices', { token });
  expect(res.status).toBe(200);
  return (res.body.devices as { device_id: string }[]).map((d) => d.device_id).sort();
}

describe('GET /_matrix/client/v3/login', () => {
  it('offers password login in the spec shape', async () => {
    const res = await api(server, 'GET', '/_matrix/client/v3/login');
    expect(res.status).toBe(200);
    expect(specErrors(LOGIN, 'GET', '/login', 200, res.body)).toEqual([]);
    expect(res.body.flows).toContainEqual({ type: 'm.login.password' });
  });
});

describe('POST /_matrix/client/v3/login', () => {
  let alice: TestUser;

  beforeAll(async () => {
    alice = await createUser(server, 'alice');
  });

  it('logs in by localpart and returns a working token', async () => {
    const res = await passwordLogin(alice.localpart, alice.password);
    expect(res.status).toBe(200);
    expect(specErrors(LOGIN, 'POST', '/login', 200, res.body)).toEqual([]);
    expect(res.body.user_id).toBe(alice.userId);
    const me = await whoami(res.body.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user_id: alice.userId, device_id: res.body.device_id });
  });

  it('logs in by full user id', async () => {
    const res = await passwordLogin(alice.userId, alice.password);
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(alice.userId);
  });

  it('matches an upper-case localpart to the lower-case account', async () => {
    const res = await passwordLogin(alice.localpart.toUpperCase(), alice.password);
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(alice.userId);
  });

  it('accepts the deprecated top-level `user` field', async () => {
    const res = await postLogin({
      type: 'm.login.password',
      user: alice.localpart,
      password: alice.password,
    });
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(alice.userId);
  });

  it('refuses a wrong password and an unknown user alike, with 403 M_FORBIDDEN', async () => {
    const wrong = await passwordLogin(alice.localpart, `${alice.password}-wrong`);
    const unknown = await passwordLogin(`nobody-${alice.localpart}`, alice.password);
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(403);
      expect(res.body.errcode).toBe('M_FORBIDDEN');
      expect(specErrors(LOGIN, 'POST', '/login', 403, res.body)).toEqual([]);
    }
    // The same message either way, so the answer does not tell whether the account exists.
    expect(unknown.body.error).toBe(wrong.body.error);
  });

  it('refuses a password login without a password with M_MISSING_PARAM', async () => {
    const res = await postLogin({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: alice.localpart },
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_MISSING_PARAM');
    expect(specErrors(LOGIN, 'POST', '/login', 400, res.body)).toEqual([]);
  });

  it('refuses a login type it does not offer with 400', async () => {
    const res = await postLogin({ type: 'org.example.unknown', password: alice.password });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_UNKNOWN');
    expect(specErrors(LOGIN, 'POST', '/login', 400, res.body)).toEqual([]);
  });

  it('reuses a given device id and revokes the token that device had', async () => {
    const user = await createUser(server, 'dev');
    const first = await passwordLogin(user.localpart, user.password, { device_id: 'REUSED' });
    expect(first.status).toBe(200);
    expect(first.body.device_id).toBe('REUSED');
    const second = await passwordLogin(user.localpart, user.password, { device_id: 'REUSED' });
    expect(second.status).toBe(200);
    expect(second.body.device_id).toBe('REUSED');
    expect(second.body.access_token).not.toBe(first.body.access_token);

    const old = await whoami(first.body.access_token);
    expect(old.status).toBe(401);
    expect(old.body.errcode).toBe('M_UNKNOWN_TOKEN');
    expect((await whoami(second.body.access_token)).status).toBe(200);
    expect(await deviceIds(second.body.access_token)).toEqual([user.deviceId, 'REUSED'].sort());
  });

  it('names a new device after initial_device_display_name', async () => {
    const user = await createUser(server, 'named');
    const res = await passwordLogin(user.localpart, user.password, {
      initial_device_display_name: 'Office laptop',
    });
    expect(res.status).toBe(200);
    const path = `/_matrix/client/v3/devices/${encodeURIComponent(res.body.device_id)}`;
    const device = await api(server, 'GET', path, { token: res.body.access_token });
    expect(device.status).toBe(200);
    expect(specErrors(DEVICES, 'GET', '/devices/{deviceId}', 200, device.body)).toEqual([]);
    expect(device.body.device_id).toBe(res.body.device_id);
    expect(device.body.display_name).toBe('Office laptop');
  });

  it('ignores initial_device_display_name when the device already exists', async () => {
    const user = await createUser(server, 'renamed');
    const extra = { device_id: 'KEEPNAME', initial_device_display_name: 'First name' };
    expect((await passwordLogin(user.localpart, user.password, extra)).status).toBe(200);
    const again = await passwordLogin(user.localpart, user.password, {
      ...extra,
      initial_device_display_name: 'Second name',
    });
    expect(again.status).toBe(200);
    const device = await api(server, 'GET', '/_matrix/client/v3/devices/KEEPNAME', {
      token: again.body.access_token,
    });
    expect(device.status).toBe(200);
    expect(device.body.display_name).toBe('First name');
  });
});

describe('POST /_matrix/client/v3/logout', () => {
  it('revokes only the calling token and deletes its device', async () => {
    const bob = await createUser(server, 'bob');
    const phone = await login(server, bob);
    const res = await api(server, 'POST', '/_matrix/client/v3/logout', {
      token: phone.accessToken,
    });
    expect(res.status).toBe(200);
    expect(specErrors(LOGOUT, 'POST', '/logout', 200, res.body)).toEqual([]);

    const gone = await whoami(phone.accessToken);
    expect(gone.status).toBe(401);
    expect(gone.body.errcode).toBe('M_UNKNOWN_TOKEN');
    expect((await whoami(bob.accessToken)).status).toBe(200);
    expect(await deviceIds(bob.accessToken)).toEqual([bob.deviceId]);
  });

  it('refuses a request without a token with 401 M_MISSING_TOKEN', async () => {
    const res = await api(server, 'POST', '/_matrix/client/v3/logout');
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_MISSING_TOKEN');
  });
});

describe('POST /_matrix/client/v3/logout/all', () => {
  it('revokes every token of the user and no one else’s', async () => {
    const carol = await createUser(server, 'carol');
    const dave = await createUser(server, 'dave');
    const laptop = await login(server, carol);
    const res = await api(server, 'POST', '/_matrix/client/v3/logout/all', {
      token: carol.accessToken,
    });
    expect(res.status).toBe(200);
    expect(specErrors(LOGOUT, 'POST', '/logout/all', 200, res.body)).toEqual([]);

    for (const token of [carol.accessToken, laptop.accessToken]) {
      const after = await whoami(token);
      expect(after.status).toBe(401);
      expect(after.body.errcode).toBe('M_UNKNOWN_TOKEN');
    }
    expect((await whoami(dave.accessToken)).status).toBe(200);
    // The account itself stays usable: a new login works.
    const fresh = await login(server, carol);
    expect(await deviceIds(fresh.accessToken)).toEqual([fresh.deviceId]);
  });
});

describe('GET /_matrix/client/v3/account/whoami', () => {
  let erin: TestUser;

  beforeAll(async () => {
    erin = await createUser(server, 'erin');
  });

  it('names the user and device the token belongs to', async () => {
    const res = await whoami(erin.accessToken);
    expect(res.status).toBe(200);
    expect(specErrors(WHOAMI, 'GET', '/account/whoami', 200, res.body)).toEqual([]);
    expect(res.body).toEqual({ user_id: erin.userId, device_id: erin.deviceId, is_guest: false });
  });

  it('accepts the token from the access_token query parameter', async () => {
    const token = encodeURIComponent(erin.accessToken);
    const res = await api(server, 'GET', `/_matrix/client/v3/account/whoami?access_token=${token}`);
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(erin.userId);
  });

  it('refuses a request without a token with 401 M_MISSING_TOKEN', async () => {
    const res = await api(server, 'GET', '/_matrix/client/v3/account/whoami');
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_MISSING_TOKEN');
    expect(specErrors(WHOAMI, 'GET', '/account/whoami', 401, res.body)).toEqual([]);
  });

  it('refuses an unknown token with 401 M_UNKNOWN_TOKEN', async () => {
    const res = await whoami(`${erin.accessToken}x`);
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_UNKNOWN_TOKEN');
    expect(specErrors(WHOAMI, 'GET', '/account/whoami', 401, res.body)).toEqual([]);
  });
});
