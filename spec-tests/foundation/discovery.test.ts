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

beforeAll(async () => {
  server = await startTestServer();
  alice = await createUser(server, 'alice');
});
afterAll(() => server?.stop());

describe('GET /_matrix/client/versions', () => {
  it('lists v1 and the r0 history in the spec shape', async () => {
    const res = await api(server, 'GET', '/_matrix/client/versions');
    expect(res.status).toBe(200);
    expect(specErrors('client-server/versions.yaml', 'GET', '/versions', 200, res.body)).toEqual(
      [],
    );
    expect(res.body.versions).toContain('v1.1');
    expect(res.body.versions).toContain('r0.6.1');
  });
});

describe('GET /.well-known/matrix/client', () => {
  it('points clients at the address they used', async () => {
    const res = await api(server, 'GET', '/.well-known/matrix/client');
    expect(res.status).toBe(200);
    expect(
      specErrors('client-server/wellknown.yaml', 'GET', '/matrix/client', 200, res.body),
    ).toEqual([]);
    expect(res.body['m.homeserver'].base_url).toBe(server.baseUrl);
  });
});

describe('GET /capabilities', () => {
  it('advertises password change, profile changes and room version 11', async () => {
    const res = await api(server, 'GET', '/_matrix/client/v3/capabilities', {
      token: alice.accessToken,
    });
    expect(res.status).toBe(200);
    expect(
      specErrors('client-server/capabilities.yaml', 'GET', '/capabilities', 200, res.body),
    ).toEqual([]);
    expect(res.body.capabilities['m.change_password']).toEqual({ enabled: true });
    expect(res.body.capabilities['m.set_displayname']).toEqual({ enabled: true });
    expect(res.body.capabilities['m.set_avatar_url']).toEqual({ enabled: true });
    expect(res.body.capabilities['m.room_versions'].default).toBe('11');
  });

  it('answers under /r0/ as well, for older clients', async () => {
    const res = await api(server, 'GET', '/_matrix/client/r0/capabilities', {
      token: alice.accessToken,
    });
    expect(res.status).toBe(200);
    expect(res.body.capabilities['m.change_password']).toEqual({ enabled: true });
  });
});

describe('CORS', () => {
  it('answers a browser preflight with the headers the spec recommends', async () => {
    const res = await api(server, 'OPTIONS', '/_matrix/client/v3/login', {
      headers: { origin: 'https://app.element.io', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(res.headers.get('access-control-allow-headers')).toContain('Authorization');
  });

  it('puts the CORS headers on errors too', async () => {
    const res = await api(server, 'GET', '/_matrix/client/v3/account/whoami');
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});
