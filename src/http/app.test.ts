import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { parseConfig } from '../config/config.js';
import { forbidden } from '../errors.js';
import { createLogger } from '../log.js';
import { generateSigningKey } from '../matrix/signing.js';
import { createServices } from '../services/services.js';
import { openDatabase, type Database } from '../storage/database.js';
import { createApp } from './app.js';
import { route, type Route } from './route.js';

/** Every JSON line the app's logger wrote. */
const logLines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  },
});

const routes: Route[] = [
  route()({
    method: 'GET',
    path: '/test/crash',
    auth: 'none',
    handler: async () => {
      throw new Error('secret detail');
    },
  }),
  route()({
    method: 'GET',
    path: '/test/forbidden',
    auth: 'none',
    handler: async () => {
      throw forbidden('Not for you');
    },
  }),
  route<{ name: string }>()({
    method: 'POST',
    path: '/test/echo/:id',
    auth: 'none',
    body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    handler: async ({ body, params }) => ({ id: params.id, name: body.name }),
  }),
  route()({
    method: 'POST',
    path: '/test/raw',
    auth: 'none',
    rawBody: true,
    handler: async ({ bodyStream, headers }) => {
      let size = 0;
      for await (const chunk of bodyStream!) size += (chunk as Buffer).length;
      return { size, type: headers['content-type'] };
    },
  }),
];

let testDatabase: TestDatabase;
let database: Database;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  const log = createLogger('debug', sink);
  testDatabase = await createTestDatabase();
  database = await openDatabase(testDatabase.config, log);
  const config = parseConfig({ server_name: 'hs1.test', rate_limits: { enabled: false } }, {});
  const services = createServices(config, database.db, log, generateSigningKey());
  const app = createApp(services, routes);
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((done) => server.once('listening', () => done()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  if (server) await new Promise<void>((done) => server.close(() => done()));
  await database?.close();
  await testDatabase?.drop();
});

async function send(method: string, path: string, init: RequestInit = {}) {
  const res = await fetch(`${baseUrl}${path}`, { method, ...init });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, headers: res.headers, body };
}

describe('createApp error middleware', () => {
  it('answers an unexpected exception with 500 M_UNKNOWN and a generic message', async () => {
    const res = await send('GET', '/test/crash');
    expect(res.status).toBe(500);
    expect(res.body.errcode).toBe('M_UNKNOWN');
    expect(typeof res.body.error).toBe('string');
    expect(JSON.stringify(res.body)).not.toContain('secret detail');
    expect(Object.keys(res.body).sort()).toEqual(['errcode', 'error']);
  });

  it('logs the exception detail at error level with the request id', async () => {
    const res = await send('GET', '/test/crash', { headers: { 'x-request-id': 'crash-req-1' } });
    expect(res.headers.get('x-request-id')).toBe('crash-req-1');
    const errorLines = logLines.filter((l) => l.reqId === 'crash-req-1' && l.level === 50);
    expect(errorLines).toHaveLength(1);
    expect(JSON.stringify(errorLines[0])).toContain('secret detail');
  });

  it('sends a MatrixError with its own status and errcode', async () => {
    const res = await send('GET', '/test/forbidden');
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errcode: 'M_FORBIDDEN', error: 'Not for you' });
  });

  it('logs a refused request at debug level only, never as an error', async () => {
    await send('GET', '/test/forbidden', { headers: { 'x-request-id': 'refused-req-1' } });
    const lines = logLines.filter((l) => l.reqId === 'refused-req-1');
    expect(lines.some((l) => l.level === 20 && l.errcode === 'M_FORBIDDEN')).toBe(true);
    expect(lines.every((l) => (l.level as number) <= 30)).toBe(true);
  });

  it('answers an unknown path with 404 M_UNRECOGNIZED', async () => {
    const res = await send('GET', '/test/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe('M_UNRECOGNIZED');
  });

  it('answers a known path with another method with 405 M_UNRECOGNIZED', async () => {
    const res = await send('PUT', '/test/crash', { body: '{}' });
    expect(res.status).toBe(405);
    expect(res.body.errcode).toBe('M_UNRECOGNIZED');
  });

  it('validates the body before calling the handler', async () => {
    const missing = await send('POST', '/test/echo/1', { body: '{}' });
    expect(missing.status).toBe(400);
    expect(missing.body.errcode).toBe('M_MISSING_PARAM');
    const wrongType = await send('POST', '/test/echo/1', { body: '{"name": 5}' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.errcode).toBe('M_BAD_JSON');
    const ok = await send('POST', '/test/echo/a%20b', { body: '{"name": "x"}' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ id: 'a b', name: 'x' });
  });
});

describe('createApp access log', () => {
  it('writes one access line per request with method, route template, status and ms', async () => {
    await send('POST', '/test/echo/42', {
      body: '{"name": "x"}',
      headers: { 'x-request-id': 'access-req-1' },
    });
    const access = logLines.filter((l) => l.reqId === 'access-req-1' && l.msg === 'request');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      level: 30,
      method: 'POST',
      route: '/test/echo/:id',
      path: '/test/echo/42',
      status: 200,
    });
    expect(typeof access[0]!.ms).toBe('number');
  });

  it('replaces an unusable X-Request-ID with a generated one', async () => {
    const res = await send('GET', '/test/forbidden', { headers: { 'x-request-id': 'bad id!' } });
    const reqId = res.headers.get('x-request-id');
    expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(logLines.some((l) => l.reqId === reqId && l.msg === 'request')).toBe(true);
  });
});

describe('routes with rawBody', () => {
  it('hand the unparsed body to the handler, past the JSON body limit', async () => {
    const bytes = Buffer.alloc(2 * 1024 * 1024, 0xff);
    const res = await send('POST', '/test/raw', {
      body: bytes,
      headers: { 'content-type': 'application/x-test' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ size: bytes.length, type: 'application/x-test' });
  });
});
