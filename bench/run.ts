/**
 * Benchmark: starts the real server (embedded PGlite and/or PostgreSQL), drives it over HTTP and
 * prints a table: send throughput with 1 and 50 concurrent senders, the time from a send to the
 * wake-up of 100 long-polling syncs, initial sync for a user in 200 rooms, queries per request
 * (from the server's access log), the server's memory, and 100 members reading one message at
 * once while their syncs wait.
 *
 *   npm run bench                      both backends (PostgreSQL at BENCH_DATABASE_URL or
 *                                      postgres://postgres@127.0.0.1:5432/postgres)
 *   npm run bench -- --backend embedded
 *   npm run bench -- --quick           fewer rounds, for a smoke run
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';

const ROOT = resolve(import.meta.dirname, '..');
const SECRET = 'bench-shared-secret-0123456789';
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const backendArg = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : 'both';
const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Server {
  base: string;
  child: ChildProcess;
  lines: string[];
  stop(): Promise<void>;
}

interface User {
  userId: string;
  token: string;
}

async function startServer(backend: 'embedded' | 'postgres'): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'machi-bench-'));
  let dbName: string | undefined;
  let database: Record<string, unknown> = { data_dir: join(dir, 'data') };
  if (backend === 'postgres') {
    dbName = `machi_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = new URL(PG_URL);
    url.pathname = `/${dbName}`;
    database = { url: url.toString(), pool_size: 20 };
  }
  const configPath = join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    stringify({
      server_name: 'bench.test',
      listeners: [{ bind_address: '127.0.0.1', port: 0 }],
      database,
      registration: { shared_secret: SECRET },
      rate_limits: { enabled: false },
      log: { level: 'info' },
    }),
  );
  const child = spawn(
    join(ROOT, 'node_modules/.bin/tsx'),
    ['src/main.ts', '--config', configPath],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  let pending = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts);
  });
  const port = await new Promise<number>((done, fail) => {
    const timer = setInterval(() => {
      const line = lines.find((l) => l.includes('"msg":"listening"'));
      if (line) {
        clearInterval(timer);
        done((JSON.parse(line) as { port: number }).port);
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      fail(new Error(`server exited with ${code}`));
    });
  });
  return {
    base: `http://127.0.0.1:${port}`,
    child,
    lines,
    stop: async () => {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
      if (dbName) {
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        await admin.end();
      }
    },
  };
}

async function call(server: Server, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${server.base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as any;
  if (res.status !== 200)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function createUsers(server: Server, prefix: string, n: number): Promise<User[]> {
  const users: User[] = [];
  for (let i = 0; i < n; i++) {
    const username = `${prefix}${i}`;
    const { nonce } = await call(server, 'GET', '/_synapse/admin/v1/register');
    const mac = createHmac('sha1', SECRET)
      .update(`${nonce}\0${username}\0pw\0notadmin`)
      .digest('hex');
    const res = await call(server, 'POST', '/_synapse/admin/v1/register', undefined, {
      nonce,
      username,
      password: 'pw',
      admin: false,
      mac,
    });
    users.push({ userId: res.user_id, token: res.access_token });
  }
  return users;
}

const room = (id: string) => encodeURIComponent(id);
let txn = 0;

async function send(server: Server, user: User, roomId: string, body = 'hello'): Promise<string> {
  txn += 1;
  const res = await call(
    server,
    'PUT',
    `/_matrix/client/v3/rooms/${room(roomId)}/send/m.room.message/b${txn}`,
    user.token,
    { msgtype: 'm.text', body },
  );
  return res.event_id;
}

async function createRoom(server: Server, owner: User, members: User[], name: string) {
  const { room_id: roomId } = await call(
    server,
    'POST',
    '/_matrix/client/v3/createRoom',
    owner.token,
    {
      preset: 'public_chat',
      name,
    },
  );
  for (const m of members)
    await call(server, 'POST', `/_matrix/client/v3/join/${room(roomId)}`, m.token, {});
  return roomId as string;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Average `queries` of access lines matching method and route written after `from`. */
function queriesOf(server: Server, from: number, method: string, route: string): number {
  const counts = server.lines
    .slice(from)
    .map((l) => {
      try {
        return JSON.parse(l) as { method?: string; route?: string; queries?: number };
      } catch {
        return {};
      }
    })
    .filter((e) => e.method === method && e.route?.endsWith(route) && typeof e.queries === 'number')
    .map((e) => e.queries as number);
  return counts.length ? counts.reduce((a, b) => a + b, 0) / counts.length : NaN;
}

function rssMb(child: ChildProcess): number {
  // The server runs as a child of the tsx launcher; take the largest RSS among them.
  const pids = [child.pid as number];
  try {
    const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8');
    pids.push(...children.trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    // no child list: only the launcher's own figure
  }
  let best = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      best = Math.max(best, kb / 1024);
    } catch {
      // process gone
    }
  }
  return Math.round(best);
}

async function bench(backend: 'embedded' | 'postgres'): Promise<Record<string, string>> {
  const server = await startServer(backend);
  const out: Record<string, string> = {};
  try {
    const senders = await createUsers(server, 's', 50);
    const listeners = await createUsers(server, 'l', 100);
    const [first] = senders as [User];

    // 1 sender, sequential sends into one room.
    const solo = await createRoom(server, first, [], 'solo');
    const soloCount = quick ? 100 : 500;
    let mark = server.lines.length;
    let t0 = performance.now();
    for (let i = 0; i < soloCount; i++) await send(server, first, solo);
    out['sends/s, 1 sender'] = (soloCount / ((performance.now() - t0) / 1000)).toFixed(0);
    out['queries per send (room of ~10 events)'] = queriesOf(
      server,
      mark,
      'PUT',
      '/send/:eventType/:txnId',
    ).toFixed(1);

    // 50 senders at once into one shared room.
    const shared = await createRoom(server, first, senders.slice(1), 'shared');
    const each = quick ? 5 : 20;
    t0 = performance.now();
    await Promise.all(
      senders.map(async (u) => {
        for (let i = 0; i < each; i++) await send(server, u, shared);
      }),
    );
    out['sends/s, 50 senders, one room'] = (
      (50 * each) /
      ((performance.now() - t0) / 1000)
    ).toFixed(0);

    // Cost of a send once the room has a long history.
    mark = server.lines.length;
    for (let i = 0; i < 50; i++) await send(server, first, solo);
    out[`queries per send (room of ~${soloCount + 60} events)`] = queriesOf(
      server,
      mark,
      'PUT',
      '/send/:eventType/:txnId',
    ).toFixed(1);

    // 100 long-polling syncs woken by one send.
    const hall = await createRoom(server, first, listeners, 'hall');
    const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 1 } } }));
    const tokens = await Promise.all(
      listeners.map(
        async (u) =>
          (await call(server, 'GET', `/_matrix/client/v3/sync?filter=${filter}`, u.token))
            .next_batch as string,
      ),
    );
    const latencies: number[] = [];
    const rounds = quick ? 5 : 20;
    for (let r = 0; r < rounds; r++) {
      let sentAt = 0;
      const polls = listeners.map(async (u, i) => {
        const res = await call(
          server,
          'GET',
          `/_matrix/client/v3/sync?filter=${filter}&timeout=30000&since=${tokens[i]}`,
          u.token,
        );
        latencies.push(performance.now() - sentAt);
        tokens[i] = res.next_batch;
      });
      await new Promise((r2) => setTimeout(r2, 400));
      sentAt = performance.now();
      await send(server, first, hall);
      await Promise.all(polls);
    }
    out['send → wake of 100 syncs, p50 ms'] = percentile(latencies, 50).toFixed(1);
    out['send → wake of 100 syncs, p99 ms'] = percentile(latencies, 99).toFixed(1);

    // An idle long-poll: queries for a 1 s and a 4 s wait with nothing happening.
    for (const seconds of [1, 4]) {
      mark = server.lines.length;
      const idle = listeners[0] as User;
      await call(
        server,
        'GET',
        `/_matrix/client/v3/sync?timeout=${seconds * 1000}&since=${tokens[0]}`,
        idle.token,
      );
      out[`queries of an idle ${seconds} s long-poll`] = queriesOf(
        server,
        mark,
        'GET',
        '/sync',
      ).toFixed(0);
    }

    // Initial sync of a user in 200 rooms with a few messages each.
    const member = listeners[1] as User;
    for (let i = 0; i < 200; i++) {
      const roomId = await createRoom(server, first, [member], `room ${i}`);
      for (let j = 0; j < 3; j++) await send(server, first, roomId);
    }
    const times: number[] = [];
    mark = server.lines.length;
    for (let i = 0; i < 3; i++) {
      t0 = performance.now();
      await call(server, 'GET', '/_matrix/client/v3/sync', member.token);
      times.push(performance.now() - t0);
    }
    out['initial sync, 200 rooms, ms (median of 3)'] = percentile(times, 50).toFixed(0);
    out['queries of that initial sync'] = queriesOf(server, mark, 'GET', '/sync').toFixed(0);
    out['server RSS, MB'] = String(rssMb(server.child));

    Object.assign(out, await receiptBurst(server, first, listeners, hall, filter, tokens));
  } finally {
    await server.stop();
  }
  return out;
}

/**
 * 100 members of one room, each with a long-polling sync waiting, all send an m.read receipt for
 * the same message at once. Measures the time until every receipt is stored (each POST answers
 * after its commit) and until the syncs return, and checks that exactly 100 public receipts exist
 * for the message (by the read-status report and as a client sees them in one incremental sync)
 * and that every waiting sync was woken with receipts. A failed check is printed and makes the
 * exit code non-zero.
 */
async function receiptBurst(
  server: Server,
  creator: User,
  members: User[],
  roomId: string,
  filter: string,
  tokens: string[],
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const eventId = await send(server, creator, roomId, 'please read');
  const since = await Promise.all(
    members.map(
      async (u, i) =>
        (
          await call(
            server,
            'GET',
            `/_matrix/client/v3/sync?filter=${filter}&timeout=0&since=${tokens[i]}`,
            u.token,
          )
        ).next_batch as string,
    ),
  );
  const hasReceipt = (body: any) =>
    ((body.rooms?.join?.[roomId]?.ephemeral?.events ?? []) as any[]).some(
      (e) => e.type === 'm.receipt' && e.content[eventId],
    );
  let burstAt = 0;
  let woken = 0;
  const wakeMs: number[] = [];
  const polls = members.map(async (u, i) => {
    const body = await call(
      server,
      'GET',
      `/_matrix/client/v3/sync?filter=${filter}&timeout=30000&since=${since[i]}`,
      u.token,
    );
    wakeMs.push(performance.now() - burstAt);
    if (hasReceipt(body)) woken += 1;
  });
  await new Promise((r) => setTimeout(r, 400));
  burstAt = performance.now();
  await Promise.all(
    members.map((u) =>
      call(
        server,
        'POST',
        `/_matrix/client/v3/rooms/${room(roomId)}/receipt/m.read/${encodeURIComponent(eventId)}`,
        u.token,
        {},
      ),
    ),
  );
  out['100 receipts at once → all stored, ms'] = (performance.now() - burstAt).toFixed(0);
  await Promise.all(polls);
  out['syncs woken by those receipts (of 100)'] = String(woken);
  out['receipts → wake of 100 syncs, p99 ms'] = percentile(wakeMs, 99).toFixed(1);

  const report = await call(
    server,
    'GET',
    `/_matrix/client/unstable/jp.machi/rooms/${room(roomId)}/read_status/${encodeURIComponent(eventId)}`,
    creator.token,
  );
  const readers = new Set((report.read as { user_id: string }[]).map((r) => r.user_id));
  const reported = members.filter((u) => readers.has(u.userId)).length;
  out['public receipts on the message (report)'] = String(reported);
  const [watcher] = members as [User];
  const seen = await call(
    server,
    'GET',
    `/_matrix/client/v3/sync?filter=${filter}&timeout=0&since=${since[0]}`,
    watcher.token,
  );
  const synced = new Set<string>();
  for (const e of seen.rooms?.join?.[roomId]?.ephemeral?.events ?? []) {
    if (e.type !== 'm.receipt') continue;
    for (const userId of Object.keys(e.content[eventId]?.['m.read'] ?? {})) synced.add(userId);
  }
  out['public receipts on the message (one sync)'] = String(synced.size);

  for (const [what, got] of [
    ['receipts in the report', reported],
    ['receipts seen in sync', synced.size],
    ['syncs woken', woken],
  ] as const) {
    if (got !== members.length) {
      process.stderr.write(`check failed: ${what}: ${got}, expected ${members.length}\n`);
      process.exitCode = 1;
    }
  }
  return out;
}

async function main(): Promise<void> {
  const backends: ('embedded' | 'postgres')[] =
    backendArg === 'embedded'
      ? ['embedded']
      : backendArg === 'postgres'
        ? ['postgres']
        : ['embedded', 'postgres'];
  const results = new Map<string, Record<string, string>>();
  for (const backend of backends) {
    process.stderr.write(`running ${backend}...\n`);
    results.set(backend, await bench(backend));
  }
  const rows = [...new Set([...results.values()].flatMap((r) => Object.keys(r)))];
  const header = ['measure', ...backends];
  const width = Math.max(...rows.map((r) => r.length), 10);
  const lines = [
    `| ${header[0]?.padEnd(width)} | ${backends.map((b) => b.padStart(10)).join(' | ')} |`,
    `|${'-'.repeat(width + 2)}|${backends.map(() => '-'.repeat(12)).join('|')}|`,
    ...rows.map(
      (row) =>
        `| ${row.padEnd(width)} | ${backends.map((b) => (results.get(b)?.[row] ?? '').padStart(10)).join(' | ')} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
