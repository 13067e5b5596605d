import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createUser,
  login,
  startTestServer,
  type ApiResponse,
  type TestServer,
} from '../support/server.js';
import { specErrors } from '../support/spec-schema.js';

const REGISTRATION = 'client-server/registration.yaml';
const TOKENS = 'client-server/registration_tokens.yaml';
const VALIDITY_PATH = '/_matrix/client/v1/register/m.login.registration_token/validity';

/** Registration left at its default: closed. */
let closed: TestServer;
/** Open registration: the dummy stage is enough. */
let open: TestServer;
/** Registration that needs the token `letmein`. */
let gated: TestServer;

beforeAll(async () => {
  [closed, open, gated] = await Promise.all([
    startTestServer(),
    startTestServer({ registration: { enabled: true } }),
    startTestServer({ registration: { enabled: true, tokens: ['letmein'] } }),
  ]);
});
afterAll(() => Promise.all([closed?.stop(), open?.stop(), gated?.stop()]));

function register(server: TestServer, body: Record<string, unknown>, query = '') {
  return api(server, 'POST', `/_matrix/client/v3/register${query}`, { body });
}

/** Starts a registration and returns the session the server offers. */
async function startSession(server: TestServer): Promise<string> {
  const res = await register(server, {});
  expect(res.status).toBe(401);
  expect(typeof res.body.session).toBe('string');
  return res.body.session as string;
}

/** Registers `username` through the dummy stage. */
async function registerWithDummy(
  server: TestServer,
  body: Record<string, unknown>,
): Promise<ApiResponse> {
  const session = await startSession(server);
  return register(server, { ...body, auth: { type: 'm.login.dummy', session } });
}

function available(server: TestServer, username: string): Promise<ApiResponse> {
  const query = `username=${encodeURIComponent(username)}`;
  return api(server, 'GET', `/_matrix/client/v3/register/available?${query}`);
}

function whoami(server: TestServer, token: string): Promise<ApiResponse> {
  return api(server, 'GET', '/_matrix/client/v3/account/whoami', { token });
}

describe('POST /_matrix/client/v3/register', () => {
  describe('when registration is disabled', () => {
    it('refuses to start with 403 M_FORBIDDEN', async () => {
      const res = await register(closed, {});
      expect(res.status).toBe(403);
      expect(res.body.errcode).toBe('M_FORBIDDEN');
      expect(specErrors(REGISTRATION, 'POST', '/register', 403, res.body)).toEqual([]);
    });

    it('refuses a complete request with 403 M_FORBIDDEN and creates nothing', async () => {
      const res = await register(closed, {
        username: 'intruder',
        password: 'intruder-password',
        auth: { type: 'm.login.dummy' },
      });
      expect(res.status).toBe(403);
      expect(res.body.errcode).toBe('M_FORBIDDEN');
      const attempt = await api(closed, 'POST', '/_matrix/client/v3/login', {
        body: { type: 'm.login.password', user: 'intruder', password: 'intruder-password' },
      });
      expect(attempt.status).toBe(403);
      expect(attempt.body.errcode).toBe('M_FORBIDDEN');
    });
  });

  describe('with open registration', () => {
    it('answers a request without auth with 401, the dummy flow and a session', async () => {
      const res = await register(open, {});
      expect(res.status).toBe(401);
      expect(specErrors(REGISTRATION, 'POST', '/register', 401, res.body)).toEqual([]);
      expect(res.body.flows).toEqual([{ stages: ['m.login.dummy'] }]);
      expect(res.body.session).toEqual(expect.any(String));
      expect(res.body.session.length).toBeGreaterThan(0);
    });

    it('creates the account once the dummy stage is completed', async () => {
      const res = await registerWithDummy(open, {
        username: 'alice',
        password: 'alice-password',
      });
      expect(res.status).toBe(200);
      expect(specErrors(REGISTRATION, 'POST', '/register', 200, res.body)).toEqual([]);
      expect(res.body.user_id).toBe(`@alice:${open.serverName}`);
      expect(res.body.access_token).toEqual(expect.any(String));
      expect(res.body.device_id).toEqual(expect.any(String));

      const me = await whoami(open, res.body.access_token);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ user_id: res.body.user_id, device_id: res.body.device_id });
      // The password given is the account's password.
      const session = await login(open, { localpart: 'alice', password: 'alice-password' });
      expect(session.accessToken).not.toBe(res.body.access_token);
    });

    it('uses the device id the client gives', async () => {
      const res = await registerWithDummy(open, {
        username: 'bob',
        password: 'bob-password',
        device_id: 'BOBPHONE',
      });
      expect(res.status).toBe(200);
      expect(res.body.device_id).toBe('BOBPHONE');
      const me = await whoami(open, res.body.access_token);
      expect(me.status).toBe(200);
      expect(me.body.device_id).toBe('BOBPHONE');
    });

    it('returns no session with inhibit_login, yet the account can log in', async () => {
      const res = await registerWithDummy(open, {
        username: 'carol',
        password: 'carol-password',
        inhibit_login: true,
      });
      expect(res.status).toBe(200);
      expect(specErrors(REGISTRATION, 'POST', '/register', 200, res.body)).toEqual([]);
      expect(res.body.user_id).toBe(`@carol:${open.serverName}`);
      // home_server is deprecated but still allowed; nothing else may come back.
      const keys = Object.keys(res.body).filter((k) => k !== 'home_server');
      expect(keys).toEqual(['user_id']);
      await login(open, { localpart: 'carol', password: 'carol-password' });
    });

    it('generates a valid user id when no username is given', async () => {
      const res = await registerWithDummy(open, { password: 'anonymous-password' });
      expect(res.status).toBe(200);
      const escaped = open.serverName.replaceAll('.', '\\.');
      expect(res.body.user_id).toMatch(new RegExp(`^@[a-z0-9._=\\-/+]+:${escaped}$`));
    });

    it.each([
      ['upper-case letters', 'Dave'],
      ['a space', 'dave smith'],
      ['a non-ASCII letter', 'dävid'],
      ['a leading underscore', '_dave'],
    ])('refuses a username with %s with 400 M_INVALID_USERNAME', async (_what, username) => {
      const res = await register(open, { username, password: 'dave-password' });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe('M_INVALID_USERNAME');
      expect(specErrors(REGISTRATION, 'POST', '/register', 400, res.body)).toEqual([]);
    });

    it('refuses a taken username with 400 M_USER_IN_USE before asking for auth', async () => {
      const first = await registerWithDummy(open, { username: 'erin', password: 'erin-pw-1' });
      expect(first.status).toBe(200);
      const res = await register(open, { username: 'erin', password: 'erin-pw-2' });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe('M_USER_IN_USE');
      expect(specErrors(REGISTRATION, 'POST', '/register', 400, res.body)).toEqual([]);
      // The first account keeps its password.
      await login(open, { localpart: 'erin', password: 'erin-pw-1' });
    });

    it('refuses guest accounts with 403 M_FORBIDDEN', async () => {
      const res = await register(open, {}, '?kind=guest');
      expect(res.status).toBe(403);
      expect(res.body.errcode).toBe('M_FORBIDDEN');
      expect(specErrors(REGISTRATION, 'POST', '/register', 403, res.body)).toEqual([]);
    });
  });

  describe('with token-gated registration', () => {
    it('asks for the registration token stage', async () => {
      const res = await register(gated, {});
      expect(res.status).toBe(401);
      expect(specErrors(REGISTRATION, 'POST', '/register', 401, res.body)).toEqual([]);
      expect(res.body.flows).toEqual([{ stages: ['m.login.registration_token'] }]);
      expect(res.body.session).toEqual(expect.any(String));
    });

    it('does not let the dummy stage stand in for the token', async () => {
      const res = await registerWithDummy(gated, { username: 'sneaky', password: 'sneaky-pw' });
      expect(res.status).toBe(401);
      expect(res.body.errcode).toBe('M_UNRECOGNIZED');
      expect(res.body.completed ?? []).toEqual([]);
      expect((await available(gated, 'sneaky')).body).toEqual({ available: true });
    });

    it('refuses a wrong token with 401, then takes the right one in that session', async () => {
      const session = await startSession(gated);
      const body = { username: 'frank', password: 'frank-password' };
      const wrong = await register(gated, {
        ...body,
        auth: { type: 'm.login.registration_token', token: 'letmeout', session },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body.errcode).toBe('M_UNAUTHORIZED');
      expect(specErrors(REGISTRATION, 'POST', '/register', 401, wrong.body)).toEqual([]);
      expect(wrong.body.session).toBe(session);
      expect(wrong.body.completed ?? []).toEqual([]);

      const right = await register(gated, {
        ...body,
        auth: { type: 'm.login.registration_token', token: 'letmein', session },
      });
      expect(right.status).toBe(200);
      expect(right.body.user_id).toBe(`@frank:${gated.serverName}`);
      expect((await whoami(gated, right.body.access_token)).status).toBe(200);
    });
  });
});

describe('GET /_matrix/client/v3/register/available', () => {
  it('refuses with 403 M_FORBIDDEN when registration is disabled', async () => {
    const res = await available(closed, 'anyone');
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
  });

  it('says a free username is available', async () => {
    const res = await available(open, 'grace');
    expect(res.status).toBe(200);
    expect(specErrors(REGISTRATION, 'GET', '/register/available', 200, res.body)).toEqual([]);
    expect(res.body).toEqual({ available: true });
  });

  it('refuses a taken username with 400 M_USER_IN_USE', async () => {
    const heidi = await registerWithDummy(open, { username: 'heidi', password: 'heidi-pw' });
    expect(heidi.status).toBe(200);
    const res = await available(open, 'heidi');
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_USER_IN_USE');
    expect(specErrors(REGISTRATION, 'GET', '/register/available', 400, res.body)).toEqual([]);
  });

  it('refuses an invalid username with 400 M_INVALID_USERNAME', async () => {
    const res = await available(open, 'Not Valid');
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_INVALID_USERNAME');
    expect(specErrors(REGISTRATION, 'GET', '/register/available', 400, res.body)).toEqual([]);
  });
});

describe('GET /_matrix/client/v1/register/m.login.registration_token/validity', () => {
  it('says the configured token is valid', async () => {
    const res = await api(gated, 'GET', `${VALIDITY_PATH}?token=letmein`);
    expect(res.status).toBe(200);
    const path = '/register/m.login.registration_token/validity';
    expect(specErrors(TOKENS, 'GET', path, 200, res.body)).toEqual([]);
    expect(res.body).toEqual({ valid: true });
  });

  it('says any other token is not valid', async () => {
    const res = await api(gated, 'GET', `${VALIDITY_PATH}?token=letmeout`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: false });
  });

  it('refuses with 403 M_FORBIDDEN when registration is disabled', async () => {
    const res = await api(closed, 'GET', `${VALIDITY_PATH}?token=letmein`);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe('M_FORBIDDEN');
    const path = '/register/m.login.registration_token/validity';
    expect(specErrors(TOKENS, 'GET', path, 403, res.body)).toEqual([]);
  });
});

describe('User-interactive authentication sessions', () => {
  // Both requests go without an access token, so only the endpoint tells the sessions apart.
  it('does not accept a registration session at POST /account/password', async () => {
    const ivan = await createUser(open, 'ivan');
    const session = await startSession(open);
    const res = await api(open, 'POST', '/_matrix/client/v3/account/password', {
      body: {
        new_password: 'ivan-new-password',
        auth: {
          type: 'm.login.password',
          identifier: { type: 'm.id.user', user: ivan.userId },
          password: ivan.password,
          session,
        },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_UNKNOWN');
    // The password is unchanged and the session still works.
    await login(open, ivan);
    expect((await whoami(open, ivan.accessToken)).status).toBe(200);
  });

  it('does not accept a password-change session at POST /register', async () => {
    const started = await api(open, 'POST', '/_matrix/client/v3/account/password', {
      body: { new_password: 'judy-new-password' },
    });
    expect(started.status).toBe(401);
    expect(started.body.session).toEqual(expect.any(String));
    const res = await register(open, {
      username: 'mallory',
      password: 'mallory-password',
      auth: { type: 'm.login.dummy', session: started.body.session },
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_UNKNOWN');
    expect((await available(open, 'mallory')).body).toEqual({ available: true });
  });
});
