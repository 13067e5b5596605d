import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createTestDatabase, TEST_TMP, type TestDatabase } from '../../test/support/database.js';
import {
  api,
  spawnScript,
  startTestServer,
  waitForLine,
  type TestServer,
} from '../support/server.js';

/**
 * Resolves with the exit code once `child` has exited and its output is all read; kills it if it
 * runs longer than `ms` (a server that should have refused to start).
 */
function exitCode(child: ChildProcess, ms = 30_000): Promise<number | null> {
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGTERM'), ms);
    child.once('close', (code) => {
      clearTimeout(timer);
      done(code);
    });
  });
}

/** Runs a script to completion, optionally writing `stdin`, and returns its code and output. */
async function run(script: string, args: string[], stdin?: string) {
  const { child, output } = spawnScript(script, args);
  const exited = exitCode(child);
  if (stdin !== undefined) child.stdin?.end(stdin);
  else child.stdin?.end();
  const code = await exited;
  return { code, text: output.join('\n') };
}

let configDir: string;

/** Writes a configuration file for a process that is started by hand. */
function writeConfig(name: string, config: unknown): string {
  const path = join(configDir, name);
  writeFileSync(path, typeof config === 'string' ? config : stringify(config));
  return path;
}

beforeAll(() => {
  mkdirSync(TEST_TMP, { recursive: true });
  configDir = mkdtempSync(join(TEST_TMP, 'process-test-'));
});
afterAll(() => rmSync(configDir, { recursive: true, force: true }));

describe('src/main.ts on a data directory in use', () => {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    if (process.env.TEST_DATABASE_URL) return;
    database = await createTestDatabase();
    server = await startTestServer({}, { database });
  });
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it.skipIf(!!process.env.TEST_DATABASE_URL)(
    'refuses to start a second server, naming the data directory',
    async () => {
      const path = writeConfig('second.yaml', {
        server_name: 'hs1.test',
        listeners: [{ bind_address: '127.0.0.1', port: 0 }],
        database: { data_dir: database.config.data_dir },
      });
      const { code, text } = await run('src/main.ts', ['--config', path]);
      expect(code).not.toBe(0);
      expect(text).toContain(database.config.data_dir);
      expect(text).toMatch(/in use/);
      expect(text).not.toMatch(/"msg":"listening"/);
      // The first server is unharmed.
      const res = await api(server, 'GET', '/_matrix/client/versions');
      expect(res.status).toBe(200);
    },
  );
});

describe('src/main.ts after a crash', () => {
  let database: TestDatabase;
  let server: TestServer | undefined;
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it.skipIf(!!process.env.TEST_DATABASE_URL)(
    'takes over the lock of a server process that no longer runs',
    async () => {
      database = await createTestDatabase();
      const gone = spawn(process.execPath, ['-e', '']);
      await exitCode(gone);
      writeFileSync(join(database.config.data_dir, 'server.lock'), String(gone.pid));
      server = await startTestServer({}, { database });
      const res = await api(server, 'GET', '/_matrix/client/versions');
      expect(res.status).toBe(200);
    },
  );
});

describe('src/main.ts --config with a bad configuration', () => {
  it('exits non-zero naming an unknown key', async () => {
    const path = writeConfig('unknown-key.yaml', 'server_name: hs1.test\nlisenters: []\n');
    const { code, text } = await run('src/main.ts', ['--config', path]);
    expect(code).not.toBe(0);
    expect(text).toContain("unknown key 'lisenters'");
  });

  it('exits non-zero naming a key whose value has the wrong type', async () => {
    const path = writeConfig('wrong-type.yaml', "listeners:\n  - port: 'abc'\n");
    const { code, text } = await run('src/main.ts', ['--config', path]);
    expect(code).not.toBe(0);
    expect(text).toContain('listeners.0.port');
  });

  it('exits non-zero naming a file that does not exist', async () => {
    const path = join(configDir, 'missing.yaml');
    const { code, text } = await run('src/main.ts', ['--config', path]);
    expect(code).not.toBe(0);
    expect(text).toContain(path);
  });
});

describe('src/cli.ts while the server runs', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  const cli = (args: string[], stdin?: string) =>
    run('src/cli.ts', ['--config', server.configPath, ...args], stdin);

  const passwordLogin = (user: string, password: string) =>
    api(server, 'POST', '/_matrix/client/v3/login', {
      body: { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password },
    });

  it('create-user --admin --password makes an account that can log in over HTTP', async () => {
    const { code, text } = await cli(['create-user', 'carol', '--admin', '--password', 'pw']);
    expect(code).toBe(0);
    expect(text).toContain('@carol:hs1.test');
    if (!process.env.TEST_DATABASE_URL) {
      // The embedded database is the server's alone: the command went through its socket.
      await waitForLine(server.process, server.output, (l) => l.includes('admin command run'));
    }
    const res = await passwordLogin('carol', 'pw');
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe('@carol:hs1.test');
  });

  it('create-user reads the password from stdin when it is not a terminal', async () => {
    const { code } = await cli(['create-user', 'dave'], 'dave-secret-pw\n');
    expect(code).toBe(0);
    const res = await passwordLogin('dave', 'dave-secret-pw');
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe('@dave:hs1.test');
    const wrong = await passwordLogin('dave', 'dave-secret-pw\n');
    expect(wrong.status).toBe(403);
  });

  it('create-user takes a piped password that has no final newline', async () => {
    const { code } = await cli(['create-user', 'erin'], 'erin-secret-pw');
    expect(code).toBe(0);
    const res = await passwordLogin('erin', 'erin-secret-pw');
    expect(res.status).toBe(200);
  });

  it('create-user exits 2 when standard input ends without a password', async () => {
    const { code, text } = await cli(['create-user', 'frank'], '');
    expect(code).toBe(2);
    expect(text).toContain('no password given');
    const res = await passwordLogin('frank', '');
    expect(res.status).toBe(403);
  });

  it('list-users shows carol as an admin and dave as not', async () => {
    const { code, text } = await cli(['list-users']);
    expect(code).toBe(0);
    const lines = text.split('\n');
    expect(lines.find((l) => l.startsWith('@carol:hs1.test\t'))?.split('\t')[1]).toBe('admin');
    expect(lines.find((l) => l.startsWith('@dave:hs1.test\t'))?.split('\t')[1]).toBe('-');
  });

  it('refuses to create an account that exists, exiting non-zero', async () => {
    const { code, text } = await cli(['create-user', 'carol', '--password', 'other']);
    expect(code).not.toBe(0);
    expect(text).toMatch(/taken/i);
    const res = await passwordLogin('carol', 'pw');
    expect(res.status).toBe(200);
  });

  it('exits 2 on an unknown command', async () => {
    const { code, text } = await cli(['frobnicate']);
    expect(code).toBe(2);
    expect(text).toContain('unknown command frobnicate');
  });
});
