import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createUser,
  login,
  startTestServer,
  type TestServer,
  type TestUser,
} from '../support/server.js';
import { specErrors } from '../support/spec-schema.js';

const DEVICES = 'client-server/device_management.yaml';
const PROFILE = 'client-server/profile.yaml';
const V3 = '/_matrix/client/v3';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  server = await startTestServer();
  alice = await createUser(server, 'alice');
  bob = await createUser(server, 'bob');
});
afterAll(() => server?.stop());

const devicePath = (deviceId: string) => `${V3}/devices/${encodeURIComponent(deviceId)}`;
const profilePath = (userId: string, field?: string) =>
  `${V3}/profile/${encodeURIComponent(userId)}${field ? `/${field}` : ''}`;

/** The `auth` object of the password stage for `user`, continuing `session`. */
const passwordAuth = (user: TestUser, session: string, password = user.password) => ({
  type: 'm.login.password',
  identifier: { type: 'm.id.user', user: user.localpart },
  password,
  session,
});

describe('GET /devices', () => {
  it("lists the user's devices in the spec shape", async () => {
    const second = await login(server, alice, { initial_device_display_name: 'Alice phone' });
    const res = await api(server, 'GET', `${V3}/devices`, { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(specErrors(DEVICES, 'GET', '/devices', 200, res.body)).toEqual([]);
    const ids = (res.body.devices as { device_id: string }[]).map((d) => d.device_id);
    expect(ids).toEqual(expect.arrayContaining([alice.deviceId, second.deviceId]));
    const phone = (res.body.devices as { device_id: string; display_name?: string }[]).find(
      (d) => d.device_id === second.deviceId,
    );
    expect(phone?.display_name).toBe('Alice phone');
  });

  it("does not show another user's devices", async () => {
    const res = await api(server, 'GET', `${V3}/devices`, { token: bob.accessToken });
    expect(res.status).toBe(200);
    const ids = (res.body.devices as { device_id: string }[]).map((d) => d.device_id);
    expect(ids).toEqual([bob.deviceId]);
  });

  it('needs an access token', async () => {
    const res = await api(server, 'GET', `${V3}/devices`);
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_MISSING_TOKEN');
  });
});

describe('GET /devices/{deviceId}', () => {
  it('returns one device, with where and when it was last seen', async () => {
    const res = await api(server, 'GET', devicePath(alice.deviceId), { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(specErrors(DEVICES, 'GET', '/devices/{deviceId}', 200, res.body)).toEqual([]);
    expect(res.body.device_id).toBe(alice.deviceId);
    expect(res.body.last_seen_ip).toBe('127.0.0.1');
    expect(res.body.last_seen_ts).toBeGreaterThan(Date.now() - 600_000);
  });

  it('answers 404 M_NOT_FOUND for an unknown device', async () => {
    const res = await api(server, 'GET', devicePath('NOSUCHDEVICE'), { token: alice.accessToken });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it("answers 404 M_NOT_FOUND for another user's device", async () => {
    const res = await api(server, 'GET', devicePath(bob.deviceId), { token: alice.accessToken });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });
});

describe('PUT /devices/{deviceId}', () => {
  it('renames a device', async () => {
    const put = await api(server, 'PUT', devicePath(alice.deviceId), {
      token: alice.accessToken,
      body: { display_name: 'Work laptop' },
    });
    expect(put.status).toBe(200);
    expect(specErrors(DEVICES, 'PUT', '/devices/{deviceId}', 200, put.body)).toEqual([]);
    const res = await api(server, 'GET', devicePath(alice.deviceId), { token: alice.accessToken });
    expect(res.body.display_name).toBe('Work laptop');
  });

  it('keeps the name when display_name is not given', async () => {
    await api(server, 'PUT', devicePath(alice.deviceId), {
      token: alice.accessToken,
      body: { display_name: 'Kept name' },
    });
    const put = await api(server, 'PUT', devicePath(alice.deviceId), {
      token: alice.accessToken,
      body: {},
    });
    expect(put.status).toBe(200);
    const res = await api(server, 'GET', devicePath(alice.deviceId), { token: alice.accessToken });
    expect(res.body.display_name).toBe('Kept name');
  });

  it('answers 404 M_NOT_FOUND for an unknown device', async () => {
    const res = await api(server, 'PUT', devicePath('NOSUCHDEVICE'), {
      token: alice.accessToken,
      body: { display_name: 'x' },
    });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });

  it("cannot rename another user's device", async () => {
    const res = await api(server, 'PUT', devicePath(bob.deviceId), {
      token: alice.accessToken,
      body: { display_name: 'taken over' },
    });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
    const own = await api(server, 'GET', devicePath(bob.deviceId), { token: bob.accessToken });
    expect(own.body.display_name).toBeUndefined();
  });
});

describe('DELETE /devices/{deviceId}', () => {
  it('asks for the password through user-interactive auth first', async () => {
    const victim = await login(server, alice);
    const res = await api(server, 'DELETE', devicePath(victim.deviceId), {
      token: alice.accessToken,
      body: {},
    });
    expect(res.status).toBe(401);
    expect(specErrors(DEVICES, 'DELETE', '/devices/{deviceId}', 401, res.body)).toEqual([]);
    expect(res.body.flows).toEqual([{ stages: ['m.login.password'] }]);
    expect(typeof res.body.session).toBe('string');
    const still = await api(server, 'GET', devicePath(victim.deviceId), {
      token: alice.accessToken,
    });
    expect(still.status).toBe(200);
  });

  it('refuses a wrong password with 401 M_FORBIDDEN and keeps the device', async () => {
    const victim = await login(server, alice);
    const first = await api(server, 'DELETE', devicePath(victim.deviceId), {
      token: alice.accessToken,
      body: {},
    });
    const res = await api(server, 'DELETE', devicePath(victim.deviceId), {
      token: alice.accessToken,
      body: { auth: passwordAuth(alice, first.body.session, 'wrong password') },
    });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    expect(specErrors(DEVICES, 'DELETE', '/devices/{deviceId}', 401, res.body)).toEqual([]);
    const whoami = await api(server, 'GET', `${V3}/account/whoami`, { token: victim.accessToken });
    expect(whoami.status).toBe(200);
  });

  it('deletes the device with the password, revoking its access token', async () => {
    const victim = await login(server, alice);
    const first = await api(server, 'DELETE', devicePath(victim.deviceId), {
      token: alice.accessToken,
      body: {},
    });
    const res = await api(server, 'DELETE', devicePath(victim.deviceId), {
      token: alice.accessToken,
      body: { auth: passwordAuth(alice, first.body.session) },
    });
    expect(res.status).toBe(200);
    expect(specErrors(DEVICES, 'DELETE', '/devices/{deviceId}', 200, res.body)).toEqual([]);

    const whoami = await api(server, 'GET', `${V3}/account/whoami`, { token: victim.accessToken });
    expect(whoami.status).toBe(401);
    expect(whoami.body.errcode).toBe('M_UNKNOWN_TOKEN');
    const gone = await api(server, 'GET', devicePath(victim.deviceId), {
      token: alice.accessToken,
    });
    expect(gone.status).toBe(404);
    expect(gone.body.errcode).toBe('M_NOT_FOUND');
    const mine = await api(server, 'GET', `${V3}/account/whoami`, { token: alice.accessToken });
    expect(mine.status).toBe(200);
  });

  it("does not accept another user's password", async () => {
    const victim = await login(server, alice);
    const first = await api(server, 'DELETE', devicePath(victim.deviceId), {
      token: alice.accessToken,
      body: {},
    });
    const res = await api(server, 'DELETE', devicePath(victim.deviceId), {
      token: alice.accessToken,
      body: { auth: passwordAuth(bob, first.body.session) },
    });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    const whoami = await api(server, 'GET', `${V3}/account/whoami`, { token: victim.accessToken });
    expect(whoami.status).toBe(200);
  });
});

describe('POST /delete_devices', () => {
  it('deletes several devices after user-interactive auth, revoking their tokens', async () => {
    const one = await login(server, alice);
    const two = await login(server, alice);
    const body = { devices: [one.deviceId, two.deviceId] };
    const first = await api(server, 'POST', `${V3}/delete_devices`, {
      token: alice.accessToken,
      body,
    });
    expect(first.status).toBe(401);
    expect(specErrors(DEVICES, 'POST', '/delete_devices', 401, first.body)).toEqual([]);
    expect(first.body.flows).toEqual([{ stages: ['m.login.password'] }]);
    for (const session of [one, two]) {
      const whoami = await api(server, 'GET', `${V3}/account/whoami`, {
        token: session.accessToken,
      });
      expect(whoami.status).toBe(200);
    }

    const res = await api(server, 'POST', `${V3}/delete_devices`, {
      token: alice.accessToken,
      body: { ...body, auth: passwordAuth(alice, first.body.session) },
    });
    expect(res.status).toBe(200);
    expect(specErrors(DEVICES, 'POST', '/delete_devices', 200, res.body)).toEqual([]);
    for (const session of [one, two]) {
      const whoami = await api(server, 'GET', `${V3}/account/whoami`, {
        token: session.accessToken,
      });
      expect(whoami.status).toBe(401);
      expect(whoami.body.errcode).toBe('M_UNKNOWN_TOKEN');
    }
    const list = await api(server, 'GET', `${V3}/devices`, { token: alice.accessToken });
    const ids = (list.body.devices as { device_id: string }[]).map((d) => d.device_id);
    expect(ids).toContain(alice.deviceId);
    expect(ids).not.toContain(one.deviceId);
    expect(ids).not.toContain(two.deviceId);
  });

  it('refuses a body without devices with 400 M_MISSING_PARAM', async () => {
    const res = await api(server, 'POST', `${V3}/delete_devices`, {
      token: alice.accessToken,
      body: {},
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_MISSING_PARAM');
  });

  it("leaves another user's devices alone even when named", async () => {
    const first = await api(server, 'POST', `${V3}/delete_devices`, {
      token: alice.accessToken,
      body: { devices: [bob.deviceId] },
    });
    const res = await api(server, 'POST', `${V3}/delete_devices`, {
      token: alice.accessToken,
      body: { devices: [bob.deviceId], auth: passwordAuth(alice, first.body.session) },
    });
    expect(res.status).toBe(200);
    const whoami = await api(server, 'GET', `${V3}/account/whoami`, { token: bob.accessToken });
    expect(whoami.status).toBe(200);
  });
});

describe('GET /profile/{userId}', () => {
  it('shows the localpart as display name until one is set', async () => {
    const carol = await createUser(server, 'carol');
    const res = await api(server, 'GET', profilePath(carol.userId));
    expect(res.status).toBe(200);
    expect(specErrors(PROFILE, 'GET', '/profile/{userId}', 200, res.body)).toEqual([]);
    expect(res.body).toEqual({ displayname: carol.localpart });
  });

  it('answers 404 M_NOT_FOUND for an unknown user', async () => {
    const res = await api(server, 'GET', profilePath('@nobody:hs1.test'));
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
    expect(specErrors(PROFILE, 'GET', '/profile/{userId}', 404, res.body)).toEqual([]);
  });

  it('answers 404 M_NOT_FOUND for one field of an unknown user', async () => {
    const res = await api(server, 'GET', profilePath('@nobody:hs1.test', 'displayname'));
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_NOT_FOUND');
  });
});

describe('PUT /profile/{userId}/displayname', () => {
  it('sets a display name in Japanese and reads it back', async () => {
    const name = '山田 太郎';
    const put = await api(server, 'PUT', profilePath(alice.userId, 'displayname'), {
      token: alice.accessToken,
      body: { displayname: name },
    });
    expect(put.status).toBe(200);
    expect(specErrors(PROFILE, 'PUT', '/profile/{userId}/{keyName}', 200, put.body)).toEqual([]);

    const field = await api(server, 'GET', profilePath(alice.userId, 'displayname'));
    expect(field.status).toBe(200);
    expect(specErrors(PROFILE, 'GET', '/profile/{userId}/{keyName}', 200, field.body)).toEqual([]);
    expect(field.body).toEqual({ displayname: name });
    const whole = await api(server, 'GET', profilePath(alice.userId));
    expect(whole.body.displayname).toBe(name);
  });

  it("refuses to change another user's profile with 403 M_FORBIDDEN", async () => {
    const before = await api(server, 'GET', profilePath(bob.userId, 'displayname'));
    const res = await api(server, 'PUT', profilePath(bob.userId, 'displayname'), {
      token: alice.accessToken,
      body: { displayname: 'Not Bob' },
    });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    expect(specErrors(PROFILE, 'PUT', '/profile/{userId}/{keyName}', 403, res.body)).toEqual([]);
    const after = await api(server, 'GET', profilePath(bob.userId, 'displayname'));
    expect(after.body).toEqual(before.body);
  });

  it('refuses a body without the field with 400 M_MISSING_PARAM', async () => {
    const res = await api(server, 'PUT', profilePath(alice.userId, 'displayname'), {
      token: alice.accessToken,
      body: {},
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_MISSING_PARAM');
    expect(specErrors(PROFILE, 'PUT', '/profile/{userId}/{keyName}', 400, res.body)).toEqual([]);
  });

  it('needs an access token', async () => {
    const res = await api(server, 'PUT', profilePath(alice.userId, 'displayname'), {
      body: { displayname: 'anonymous' },
    });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe('M_MISSING_TOKEN');
  });
});

describe('PUT /profile/{userId}/avatar_url', () => {
  it('sets an mxc:// avatar and shows it in the profile', async () => {
    const avatar = 'mxc://hs1.test/AbCdEf123';
    const put = await api(server, 'PUT', profilePath(bob.userId, 'avatar_url'), {
      token: bob.accessToken,
      body: { avatar_url: avatar },
    });
    expect(put.status).toBe(200);
    const field = await api(server, 'GET', profilePath(bob.userId, 'avatar_url'));
    expect(field.status).toBe(200);
    expect(field.body).toEqual({ avatar_url: avatar });
    const whole = await api(server, 'GET', profilePath(bob.userId));
    expect(specErrors(PROFILE, 'GET', '/profile/{userId}', 200, whole.body)).toEqual([]);
    expect(whole.body.avatar_url).toBe(avatar);
  });

  it.each(['https://example.org/me.png', 'mxc://', 'mxc://hs1.test/'])(
    'refuses %s, which is not an mxc:// URI, with 400 M_INVALID_PARAM',
    async (avatar) => {
      const res = await api(server, 'PUT', profilePath(bob.userId, 'avatar_url'), {
        token: bob.accessToken,
        body: { avatar_url: avatar },
      });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe('M_INVALID_PARAM');
      expect(specErrors(PROFILE, 'PUT', '/profile/{userId}/{keyName}', 400, res.body)).toEqual([]);
      const field = await api(server, 'GET', profilePath(bob.userId, 'avatar_url'));
      expect(field.body.avatar_url).not.toBe(avatar);
    },
  );
});
