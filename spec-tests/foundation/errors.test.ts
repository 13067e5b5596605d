import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createUser,
  login,
  startTestServer,
  waitForLine,
  type ApiResponse,
  type TestServer,
  type TestUser,
} from '../support/server.js';
import { specErrors } from '../support/spec-schema.js';

const LOGIN = '/_matrix/client/v3/login';
const WHOAMI = '/_matrix/client/v3/account/whoami';
const MAX_BODY = 2048;

let server: TestServer;
let alice: TestUser;

beforeAll(async () => {
  server = await startTestServer({
    registration: { enabled: true },
    http: { max_request_body_bytes: MAX_BODY },
  });
  alice = await createUser(server, 'alice');
});
afterAll(() => server?.stop());

/**
 * Asserts status and errcode, and that the body is the spec's standard error object (checked
 * against the `error.yaml` schema through the 403 of POST /login, which references it).
 */
function expectError(res: ApiResponse, status: number, errcode: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ errcode, error: expect.any(String) });
  expect(specErrors('client-server/login.yaml', 'POST', '/login', 403, res.body)).toEqual([]);
}

/**
 * Sends raw HTTP/1.1 requests one after another on a single keep-alive connection and returns
 * each response's status and body (responses must carry Content-Length). A request given as
 * several parts is sent a part at a time, as a slow client would. Rejects when the server stops
 * answering.
 */
async function onOneConnection(
  requests: (string | string[])[],
): Promise<{ status: number; body: string }[]> {
  const url = new URL(server.baseUrl);
  const socket = connect(Number(url.port), url.hostname);
  let received = Buffer.alloc(0);
  let wake: () => void = () => undefined;
  socket.on('data', (data: Buffer) => {
    received = Buffer.concat([received, data]);
    wake();
  });
  socket.on('close', () => wake());
  const nextResponse = async () => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const end = received.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = received.subarray(0, end).toString('latin1');
        const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
        if (received.length >= end + 4 + length) {
          const body = received.subarray(end + 4, end + 4 + length).toString('utf8');
          received = received.subarray(end + 4 + length);
          return { status: Number(head.split(' ')[1]), body };
        }
      }
      if (socket.destroyed || Date.now() > deadline) throw new Error('no response');
      await new Promise<void>((done) => {
        wake = done;
        setTimeout(done, 100);
      });
    }
  };
  try {
    const responses = [];
    for (const request of requests) {
      for (const part of Array.isArray(request) ? request : [request]) {
        socket.write(part);
        await new Promise((done) => setTimeout(done, 20));
      }
      responses.push(await nextResponse());
    }
    return responses;
  } finally {
    socket.destroy();
  }
}

describe('unknown endpoints', () => {
  it('answers an unknown path with 404 M_UNRECOGNIZED', async () => {
    const res = await api(server, 'GET', '/_matrix/client/v3/no/such/endpoint');
    expectError(res, 404, 'M_UNRECOGNIZED');
  });

  it('answers an unknown path outside /_matrix with 404 M_UNRECOGNIZED too', async () => {
    expectError(await api(server, 'POST', '/nowhere', { body: {} }), 404, 'M_UNRECOGNIZED');
  });

  it('answers a known path with an unsupported method with 405 M_UNRECOGNIZED', async () => {
    expectError(await api(server, 'DELETE', LOGIN), 405, 'M_UNRECOGNIZED');
    expectError(await api(server, 'POST', WHOAMI, { body: {} }), 405, 'M_UNRECOGNIZED');
  });
});

describe('request bodies', () => {
  it('refuses a body that is not JSON with 400 M_NOT_JSON', async () => {
    const res = await api(server, 'POST', LOGIN, {
      raw: '{"type": "m.login.password",',
      headers: { 'content-type': 'application/json' },
    });
    expectError(res, 400, 'M_NOT_JSON');
  });

  it('refuses a value of the wrong type with 400 M_BAD_JSON', async () => {
    const res = await api(server, 'POST', LOGIN, { body: { type: 5 } });
    expectError(res, 400, 'M_BAD_JSON');
  });

  it('refuses JSON that is not an object with 400 M_BAD_JSON', async () => {
    const res = await api(server, 'POST', LOGIN, { body: ['m.login.password'] });
    expectError(res, 400, 'M_BAD_JSON');
  });

  it('refuses a body missing a required key with 400 M_MISSING_PARAM', async () => {
    const res = await api(server, 'POST', LOGIN, { body: { password: 'x' } });
    expectError(res, 400, 'M_MISSING_PARAM');
    expect(res.body.error).toContain('type');
  });

  it('refuses a body over http.max_request_body_bytes with 413 M_TOO_LARGE', async () => {
    const res = await api(server, 'POST', LOGIN, {
      body: { type: 'm.login.password', password: 'x'.repeat(MAX_BODY * 2) },
    });
    expectError(res, 413, 'M_TOO_LARGE');
  });

  it('refuses an oversized chunked body and keeps the connection usable', async () => {
    const piece = `"${'x'.repeat(1000)}",`;
    const parts = ['{"padding": [', ...Array(5).fill(piece), '"end"]}'].map(
      (part) => `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`,
    );
    const [tooLarge, next] = await onOneConnection([
      [
        `POST ${LOGIN} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n` +
          'Transfer-Encoding: chunked\r\n\r\n',
        ...parts,
        '0\r\n\r\n',
      ],
      'GET /_matrix/client/versions HTTP/1.1\r\nHost: test\r\n\r\n',
    ]);
    const body = JSON.parse(tooLarge!.body) as unknown;
    expectError({ status: tooLarge!.status, headers: new Headers(), body }, 413, 'M_TOO_LARGE');
    expect(next!.status).toBe(200);
  });

  it('accepts a body just under the limit', async () => {
    const res = await api(server, 'POST', LOGIN, {
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: alice.localpart },
        password: alice.password,
        initial_device_display_name: 'd'.repeat(200),
        padding: 'p'.repeat(MAX_BODY - 600),
      },
    });
    expect(res.status).toBe(200);
  });
});

describe('query parameters', () => {
  it('refuses GET /register/available without username with 400 M_MISSING_PARAM', async () => {
    const res = await api(server, 'GET', '/_matrix/client/v3/register/available');
    expectError(res, 400, 'M_MISSING_PARAM');
    expect(
      specErrors('client-server/registration.yaml', 'GET', '/register/available', 400, res.body),
    ).toEqual([]);
  });

  it('refuses a query value outside the allowed ones with 400 M_INVALID_PARAM', async () => {
    const res = await api(server, 'POST', '/_matrix/client/v3/register?kind=admin', { body: {} });
    expectError(res, 400, 'M_INVALID_PARAM');
    const file = 'client-server/registration.yaml';
    expect(specErrors(file, 'POST', '/register', 400, res.body)).toEqual([]);
  });
});

describe('access tokens', () => {
  const whoami401Errors = (body: unknown) =>
    specErrors('client-server/whoami.yaml', 'GET', '/account/whoami', 401, body);

  it('refuses a request without a token with 401 M_MISSING_TOKEN', async () => {
    const res = await api(server, 'GET', WHOAMI);
    expectError(res, 401, 'M_MISSING_TOKEN');
    expect(whoami401Errors(res.body)).toEqual([]);
  });

  it('refuses an unknown token in the Authorization header with 401 M_UNKNOWN_TOKEN', async () => {
    const res = await api(server, 'GET', WHOAMI, { token: 'syt_not_a_real_token' });
    expectError(res, 401, 'M_UNKNOWN_TOKEN');
    expect(res.body.soft_logout).toBe(false);
    expect(whoami401Errors(res.body)).toEqual([]);
  });

  it('refuses an unknown token in ?access_token= with 401 M_UNKNOWN_TOKEN', async () => {
    const res = await api(server, 'GET', `${WHOAMI}?access_token=syt_not_a_real_token`);
    expectError(res, 401, 'M_UNKNOWN_TOKEN');
  });

  it('accepts a valid token in ?access_token=', async () => {
    const res = await api(server, 'GET', `${WHOAMI}?access_token=${alice.accessToken}`);
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(alice.userId);
  });

  it('treats an Authorization header that is not Bearer as a missing token', async () => {
    const res = await api(server, 'GET', WHOAMI, {
      headers: { authorization: `Basic ${alice.accessToken}` },
    });
    expectError(res, 401, 'M_MISSING_TOKEN');
  });
});

describe('POST /login errors', () => {
  it('refuses a wrong password with 403 M_FORBIDDEN', async () => {
    const res = await api(server, 'POST', LOGIN, {
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: alice.localpart },
        password: 'not-the-password',
      },
    });
    expectError(res, 403, 'M_FORBIDDEN');
  });

  it('refuses an unknown login type with 400 M_UNKNOWN', async () => {
    const res = await api(server, 'POST', LOGIN, { body: { type: 'm.login.carrier_pigeon' } });
    expectError(res, 400, 'M_UNKNOWN');
    expect(specErrors('client-server/login.yaml', 'POST', '/login', 400, res.body)).toEqual([]);
  });
});

describe('rate limits: login_per_address', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({
      rate_limits: { enabled: true, login_per_address: { per_second: 0.01, burst: 2 } },
    });
  });
  afterAll(() => limited?.stop());

  it('refuses the third login attempt with 429 M_LIMIT_EXCEEDED and retry_after_ms', async () => {
    const attempt = () =>
      api(limited, 'POST', LOGIN, {
        body: {
          type: 'm.login.password',
          identifier: { type: 'm.id.user', user: 'nobody' },
          password: 'guess',
        },
      });
    for (let i = 0; i < 2; i++) {
      const res = await attempt();
      expectError(res, 403, 'M_FORBIDDEN');
    }
    const res = await attempt();
    expect(res.status).toBe(429);
    expect(res.body.errcode).toBe('M_LIMIT_EXCEEDED');
    expect(specErrors('client-server/login.yaml', 'POST', '/login', 429, res.body)).toEqual([]);
    expect(Number.isInteger(res.body.retry_after_ms)).toBe(true);
    expect(res.body.retry_after_ms).toBeGreaterThan(0);
    // One token every 100 s: the wait is most of that.
    expect(res.body.retry_after_ms).toBeGreaterThan(90_000);
    expect(res.body.retry_after_ms).toBeLessThanOrEqual(100_000);
  });
});

describe('rate limits: login_failures_per_account', () => {
  let limited: TestServer;
  let bob: TestUser;
  let carol: TestUser;
  beforeAll(async () => {
    limited = await startTestServer({
      rate_limits: {
        enabled: true,
        login_per_address: { per_second: 100, burst: 100 },
        login_failures_per_account: { per_second: 0.01, burst: 3 },
      },
      // Lets each attempt claim its own client address through X-Forwarded-For.
      http: { trust_proxy: true },
    });
    bob = await createUser(limited, 'bob');
    carol = await createUser(limited, 'carol');
  });
  afterAll(() => limited?.stop());

  const attempt = (user: TestUser, password: string, address: string) =>
    api(limited, 'POST', LOGIN, {
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: user.localpart },
        password,
      },
      headers: { 'x-forwarded-for': address },
    });

  it('refuses even the right password, from another address, after the failures', async () => {
    for (let i = 1; i <= 3; i++) {
      expectError(await attempt(bob, `wrong-${i}`, `203.0.113.${i}`), 403, 'M_FORBIDDEN');
    }
    const res = await attempt(bob, bob.password, '198.51.100.7');
    expect(res.status).toBe(429);
    expect(res.body.errcode).toBe('M_LIMIT_EXCEEDED');
    expect(specErrors('client-server/login.yaml', 'POST', '/login', 429, res.body)).toEqual([]);
    expect(Number.isInteger(res.body.retry_after_ms)).toBe(true);
    expect(res.body.retry_after_ms).toBeGreaterThan(0);
  });

  it('leaves other accounts alone', async () => {
    const res = await attempt(carol, carol.password, '203.0.113.1');
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(carol.userId);
  });
});

describe('server output', () => {
  /** The access line of the request sent with `reqId`, once the server has printed it. */
  async function accessLine(reqId: string): Promise<Record<string, unknown>> {
    const isAccess = (line: string) =>
      line.includes(`"reqId":"${reqId}"`) && line.includes('"msg":"request"');
    await waitForLine(server.process, server.output, isAccess, 10_000);
    const lines = server.output.filter(isAccess);
    expect(lines).toHaveLength(1);
    return JSON.parse(lines[0]!) as Record<string, unknown>;
  }

  it('logs one access line per request with method, route, status and ms', async () => {
    await api(server, 'GET', WHOAMI, {
      token: alice.accessToken,
      headers: { 'x-request-id': 'errors-test-whoami' },
    });
    expect(await accessLine('errors-test-whoami')).toMatchObject({
      method: 'GET',
      route: '/_matrix/client/v3/account/whoami',
      status: 200,
      ms: expect.any(Number),
    });

    await api(server, 'GET', '/_matrix/client/v3/no/such/endpoint', {
      headers: { 'x-request-id': 'errors-test-unknown' },
    });
    expect(await accessLine('errors-test-unknown')).toMatchObject({
      method: 'GET',
      route: null,
      status: 404,
      ms: expect.any(Number),
    });
  });

  it('never prints an access token or a password it was sent', async () => {
    const password = 'pw-in-the-log-test-Zx81';
    const dave = await createUser(server, 'dave', { password });
    const session = await login(server, dave);
    const wrongPassword = 'wrong-pw-in-the-log-test-Qy27';
    const whoami = await api(server, 'GET', WHOAMI, {
      token: session.accessToken,
      headers: { 'x-request-id': 'errors-test-secrets-1' },
    });
    expect(whoami.status).toBe(200);
    const viaQuery = await api(server, 'GET', `${WHOAMI}?access_token=${session.accessToken}`, {
      headers: { 'x-request-id': 'errors-test-secrets-2' },
    });
    expect(viaQuery.status).toBe(200);
    const failed = await api(server, 'POST', LOGIN, {
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: dave.localpart },
        password: wrongPassword,
      },
      headers: { 'x-request-id': 'errors-test-secrets-3' },
    });
    expect(failed.status).toBe(403);
    await accessLine('errors-test-secrets-3');

    const output = server.output.join('\n');
    expect(output).toContain(dave.userId);
    for (const secret of [session.accessToken, dave.accessToken, password, wrongPassword]) {
      expect(output).not.toContain(secret);
    }
  });
});
