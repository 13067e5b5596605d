/**
 * matrix-js-sdk as a real client: login, the account endpoints it calls, and registration
 * driven by its InteractiveAuth.
 */
import {
  createClient,
  InteractiveAuth,
  MatrixError,
  type MatrixClient,
  type RegisterResponse,
} from 'matrix-js-sdk';
import { logger as sdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, startTestServer, type TestServer } from '../support/server.js';

/** Open registration: InteractiveAuth finishes the dummy stage by itself. */
let server: TestServer;
/** Registration that needs the token `letmein`, which the app supplies when asked. */
let gated: TestServer;

beforeAll(async () => {
  // The sdk logs every request and UIA step at debug level; keep the test output readable.
  (sdkLogger as unknown as { setLevel(level: 'silent'): void }).setLevel('silent');
  [server, gated] = await Promise.all([
    startTestServer({ registration: { enabled: true } }),
    startTestServer({ registration: { enabled: true, tokens: ['letmein'] } }),
  ]);
});
afterAll(() => Promise.all([server?.stop(), gated?.stop()]));

/** A client holding the session a login or registration returned. */
function sessionClient(
  target: TestServer,
  session: { user_id: string; access_token?: string; device_id?: string },
): MatrixClient {
  return createClient({
    baseUrl: target.baseUrl,
    userId: session.user_id,
    ...(session.access_token !== undefined ? { accessToken: session.access_token } : {}),
    ...(session.device_id !== undefined ? { deviceId: session.device_id } : {}),
  });
}

/** The MatrixError a rejected sdk call carries. */
async function matrixErrorOf(call: Promise<unknown>): Promise<MatrixError> {
  const error = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(MatrixError);
  return error as MatrixError;
}

describe('matrix-js-sdk session lifecycle', () => {
  it('logs in with loginRequest, uses the session, and logs out', async () => {
    const alice = await createUser(server, 'alice');
    const anonymous = createClient({ baseUrl: server.baseUrl });
    const flows = await anonymous.loginFlows();
    expect(flows.flows.map((f) => f.type)).toContain('m.login.password');

    const response = await anonymous.loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: alice.localpart },
      password: alice.password,
      initial_device_display_name: 'js-sdk test',
    });
    expect(response.user_id).toBe(alice.userId);
    const client = sessionClient(server, response);

    const me = await client.whoami();
    expect(me.user_id).toBe(alice.userId);
    expect(me.device_id).toBe(response.device_id);

    const { devices } = await client.getDevices();
    expect(devices.map((d) => d.device_id).sort()).toEqual(
      [alice.deviceId, response.device_id].sort(),
    );
    const device = devices.find((d) => d.device_id === response.device_id);
    expect(device?.display_name).toBe('js-sdk test');

    await client.setDisplayName('Alice Liddell');
    const profile = await client.getProfileInfo(alice.userId);
    expect(profile.displayname).toBe('Alice Liddell');

    await client.logout();
    const error = await matrixErrorOf(client.whoami());
    expect(error.httpStatus).toBe(401);
    expect(error.errcode).toBe('M_UNKNOWN_TOKEN');
    // The session that was not logged out still works.
    const first = sessionClient(server, { user_id: alice.userId, access_token: alice.accessToken });
    expect((await first.whoami()).device_id).toBe(alice.deviceId);
  });

  it('logs in with the older login() call, which keeps the token on the client', async () => {
    const bob = await createUser(server, 'bob');
    const client = createClient({ baseUrl: server.baseUrl });
    const response = await client.login('m.login.password', {
      identifier: { type: 'm.id.user', user: bob.userId },
      password: bob.password,
    });
    expect(response.user_id).toBe(bob.userId);
    expect(client.getAccessToken()).toBe(response.access_token);
    expect((await client.whoami()).user_id).toBe(bob.userId);
  });

  it('gets M_FORBIDDEN for a wrong password', async () => {
    const carol = await createUser(server, 'carol');
    const client = createClient({ baseUrl: server.baseUrl });
    const error = await matrixErrorOf(
      client.loginRequest({
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: carol.localpart },
        password: `${carol.password}-wrong`,
      }),
    );
    expect(error.httpStatus).toBe(403);
    expect(error.errcode).toBe('M_FORBIDDEN');
  });
});

describe('matrix-js-sdk InteractiveAuth registration', () => {
  it('registers through the dummy stage without asking the app for anything', async () => {
    const client = createClient({ baseUrl: server.baseUrl });
    const asked: string[] = [];
    const auth = new InteractiveAuth<RegisterResponse>({
      matrixClient: client,
      doRequest: (authData) =>
        client.registerRequest({
          username: 'dora',
          password: 'dora-password',
          ...(authData ? { auth: authData } : {}),
        }),
      stateUpdated: (stage) => asked.push(stage),
      requestEmailToken: async () => {
        throw new Error('no email stage is offered');
      },
    });
    const result = await auth.attemptAuth();
    expect(result.user_id).toBe(`@dora:${server.serverName}`);
    expect(asked).toEqual([]);

    const dora = sessionClient(server, result);
    const me = await dora.whoami();
    expect(me.user_id).toBe(result.user_id);
    expect(me.device_id).toBe(result.device_id);
  });

  it('registers through the token stage once the app supplies the token', async () => {
    const client = createClient({ baseUrl: gated.baseUrl });
    const asked: string[] = [];
    const auth: InteractiveAuth<RegisterResponse> = new InteractiveAuth<RegisterResponse>({
      matrixClient: client,
      doRequest: (authData) =>
        client.registerRequest({
          username: 'eve',
          password: 'eve-password',
          ...(authData ? { auth: authData } : {}),
        }),
      stateUpdated: (stage) => {
        asked.push(stage);
        void auth.submitAuthDict({ type: stage, token: 'letmein' });
      },
      requestEmailToken: async () => {
        throw new Error('no email stage is offered');
      },
    });
    const result = await auth.attemptAuth();
    expect(asked).toEqual(['m.login.registration_token']);
    expect(result.user_id).toBe(`@eve:${gated.serverName}`);
    expect((await sessionClient(gated, result).whoami()).user_id).toBe(result.user_id);
  });
});
