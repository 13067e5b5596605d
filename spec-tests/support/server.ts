/**
 * Black-box test support: starts the real server as its own process (`src/main.ts`) on port 0
 * with a fresh database, and drives it over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { createTestDatabase, TEST_TMP, type TestDatabase } from '../../test/support/database.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const TSX = join(REPO_ROOT, 'node_modules/.bin/tsx');
export const SHARED_SECRET = 'test-shared-secret-0123456789';

export interface TestServer {
  readonly baseUrl: string;
  readonly serverName: string;
  readonly configPath: string;
  readonly database: TestDatabase;
  /** Every line the server has printed so far. */
  readonly output: string[];
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Deep-merges configuration overrides into the test defaults. */
function merge(base: Record<string, unknown>, extra: Record<string, unknown>) {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const prev = out[key];
    out[key] =
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      prev &&
      typeof prev === 'object'
        ? merge(prev as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

/** Waits for a line of `output` matching `predicate`, or rejects when the process exits. */
export function waitForLine(
  child: ChildProcess,
  output: string[],
  predicate: (line: string) => boolean,
  timeoutMs = 60_000,
): Promise<string> {
  return new Promise((done, fail) => {
    const found = output.find(predicate);
    if (found) return done(found);
    const timer = setTimeout(() => {
      cleanup();
      fail(new Error(`timed out waiting for server output; got:\n${output.join('\n')}`));
    }, timeoutMs);
    const onLine = (line: string) => {
      if (predicate(line)) {
        cleanup();
        done(line);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      fail(new Error(`server exited with ${code}:\n${output.join('\n')}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('line', onLine);
      child.off('exit', onExit);
    };
    child.on('line', onLine);
    child.on('exit', onExit);
  });
}

/** Spawns `tsx <script> args` in the repository, collecting its output lines. */
export function spawnScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; output: string[] } {
  const child = spawn(TSX, [script, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        output.push(line);
        child.emit('line', line);
      }
    });
  }
  return { child, output };
}

/** Starts a server process with a fresh database; `overrides` are merged into its config. */
export async function startTestServer(
  overrides: Record<string, unknown> = {},
  options: { database?: TestDatabase } = {},
): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase());
  const dir = mkdtempSync(join(TEST_TMP, 'server-'));
  const config = merge(
    {
      server_name: 'hs1.test',
      listeners: [{ bind_address: '127.0.0.1', port: 0 }],
      database: database.config,
      registration: { shared_secret: SHARED_SECRET },
      rate_limits: { enabled: false },
      log: { level: 'debug' },
    },
    overrides,
  );
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, stringify(config));
  const { child, output } = spawnScript('src/main.ts', ['--config', configPath]);
  const line = await waitForLine(child, output, (l) => l.includes('"msg":"listening"'));
  const { port } = JSON.parse(line) as { port: number };
  let stopped = false;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    serverName: String(config.server_name),
    configPath,
    database,
    output,
    process: child,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
      if (!options.database) await database.drop();
    },
  };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** Sends one request; `body` is sent as JSON unless `raw` is given. */
export async function api(
  server: TestServer,
  method: string,
  path: string,
  options: {
    token?: string;
    body?: unknown;
    raw?: string | Buffer;
    headers?: Record<string, string>;
  } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: string | Buffer | undefined;
  if (options.raw !== undefined) payload = options.raw;
  else if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${server.baseUrl}${path}`, { method, headers, body: payload });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body };
}

export interface TestUser {
  userId: string;
  localpart: string;
  password: string;
  accessToken: string;
  deviceId: string;
}

let userCounter = 0;

/** Creates an account through shared-secret registration and returns its first session. */
export async function createUser(
  server: TestServer,
  name = 'user',
  options: { admin?: boolean; password?: string } = {},
): Promise<TestUser> {
  userCounter += 1;
  const localpart = `${name}${process.pid}x${userCounter}`;
  const password = options.password ?? `pw-${localpart}`;
  const admin = options.admin ?? false;
  const { body: nonceBody } = await api(server, 'GET', '/_synapse/admin/v1/register');
  const nonce = (nonceBody as { nonce: string }).nonce;
  const mac = createHmac('sha1', SHARED_SECRET)
    .update(`${nonce}\0${localpart}\0${password}\0${admin ? 'admin' : 'notadmin'}`)
    .digest('hex');
  const res = await api(server, 'POST', '/_synapse/admin/v1/register', {
    body: { nonce, username: localpart, password, admin, mac },
  });
  if (res.status !== 200) throw new Error(`createUser failed: ${JSON.stringify(res.body)}`);
  const body = res.body as { user_id: string; access_token: string; device_id: string };
  return {
    userId: body.user_id,
    localpart,
    password,
    accessToken: body.access_token,
    deviceId: body.device_id,
  };
}

/** Logs in with a password and returns the new session. */
export async function login(
  server: TestServer,
  user: { localpart: string; password: string },
  extra: Record<string, unknown> = {},
): Promise<{ accessToken: string; deviceId: string }> {
  const res = await api(server, 'POST', '/_matrix/client/v3/login', {
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: user.localpart },
      password: user.password,
      ...extra,
    },
  });
  if (res.status !== 200) throw new Error(`login failed: ${JSON.stringify(res.body)}`);
  return { accessToken: res.body.access_token, deviceId: res.body.device_id };
}
