/**
 * The admin CLI: `npm run admin -- [--config FILE] <command> ...`. With the embedded database and
 * a server running, commands go through the server's local admin socket; otherwise the CLI opens
 * the database itself.
 */
import { createInterface } from 'node:readline';
import { ConfigError, configPathFromArgs, loadConfig, type Config } from './config/config.js';
import { adminSocketPath, sendAdminCommand } from './http/admin-socket.js';
import { createLogger } from './log.js';
import { runAdminCommand, type AdminCommand } from './services/admin-commands.js';
import { loadSigningKey } from './services/keys.js';
import type { ReadStatusReport } from './services/receipts.js';
import { createServices } from './services/services.js';
import { DataDirLockedError } from './storage/data-dir-lock.js';
import { openDatabase } from './storage/database.js';
import { migrate } from './storage/migrate.js';

const USAGE = `usage: npm run admin -- [--config FILE] <command> [arguments]

commands:
  create-user <localpart> [--admin] [--password PW] [--displayname NAME]
                              create an account (prompts for the password when not given)
  set-admin <user> [--revoke] grant (or with --revoke, take away) the server admin flag
  reset-password <user> [--password PW]
                              set a new password and log out all the user's devices
  deactivate <user>           deactivate an account for good
  list-users                  list every account
  read-status <roomId> <eventId>
                              who of the room's members has read an event (public receipts)
  migrate                     apply pending database migrations (also done at server start)

<user> is a localpart (alice) or a full user id (@alice:example.org).
`;

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const valued = new Set(['--config', '--password', '--displayname']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) flags.set(arg.slice(0, eq), arg.slice(eq + 1));
      else if (valued.has(arg)) {
        const value = argv[++i];
        if (value === undefined) throw new UsageError(`${arg} needs a value`);
        flags.set(arg, value);
      } else flags.set(arg, true);
    } else positional.push(arg);
  }
  return { positional, flags };
}

async function readLine(prompt: string, hidden: boolean): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: hidden });
  if (hidden) {
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    out._writeToOutput = (s: string) => {
      if (s.includes(prompt)) process.stdout.write(prompt);
    };
  }
  // Ctrl-D closes the interface without an answer; without the close handler the CLI would exit
  // silently with Node's unsettled-await code 13.
  const answer = await new Promise<string | undefined>((done) => {
    rl.once('close', () => done(undefined));
    rl.question(prompt, done);
  });
  rl.close();
  if (hidden) process.stdout.write('\n');
  if (answer === undefined) throw new UsageError('no password given');
  return answer;
}

/**
 * The first line of piped standard input, or undefined when it ends before any character. Read
 * directly because readline drops a last line that has no newline when a question is pending.
 */
async function firstStdinLine(): Promise<string | undefined> {
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) {
    text += chunk as string;
    if (text.includes('\n')) break;
  }
  return text.length > 0 ? text.split(/\r?\n/)[0] : undefined;
}

/** The password from --password, a hidden prompt on a terminal, or the first line of stdin. */
async function passwordFrom(flags: Parsed['flags']): Promise<string> {
  const given = flags.get('--password');
  if (typeof given === 'string') return given;
  if (!process.stdin.isTTY) {
    const line = await firstStdinLine();
    if (line === undefined) {
      throw new UsageError('no password given: use --password or write it to standard input');
    }
    return line.trim();
  }
  const first = await readLine('Password: ', true);
  const second = await readLine('Confirm password: ', true);
  if (first !== second) throw new UsageError('the passwords do not match');
  return first;
}

async function commandFrom(parsed: Parsed): Promise<AdminCommand | 'migrate'> {
  const [name, target] = parsed.positional;
  const needTarget = () => {
    if (!target) throw new UsageError(`${name} needs a user`);
    return target;
  };
  switch (name) {
    case 'create-user': {
      const localpart = needTarget();
      const displayname = parsed.flags.get('--displayname');
      return {
        command: 'create-user',
        localpart,
        password: await passwordFrom(parsed.flags),
        admin: parsed.flags.has('--admin'),
        ...(typeof displayname === 'string' ? { displayname } : {}),
      };
    }
    case 'set-admin':
      return { command: 'set-admin', user: needTarget(), admin: !parsed.flags.has('--revoke') };
    case 'reset-password':
      return {
        command: 'reset-password',
        user: needTarget(),
        password: await passwordFrom(parsed.flags),
      };
    case 'deactivate':
      return { command: 'deactivate', user: needTarget() };
    case 'list-users':
      return { command: 'list-users' };
    case 'read-status': {
      const [, roomId, eventId] = parsed.positional;
      if (!roomId || !eventId) throw new UsageError('read-status needs a room id and an event id');
      return { command: 'read-status', roomId, eventId };
    }
    case 'migrate':
      return 'migrate';
    default:
      throw new UsageError(name ? `unknown command ${name}` : 'no command given');
  }
}

/** A read-status report as a table: one member a line, then the privacy note. */
function printReadStatus(report: ReadStatusReport): void {
  const rows = [
    ...report.read.map((r) => [r.user_id, 'read', new Date(r.ts).toISOString()]),
    ...report.unread.map((r) => [r.user_id, 'unread', '-']),
  ];
  const table = [['USER', 'STATUS', 'READ AT'], ...rows];
  const width = Math.max(...table.map((row) => (row[0] as string).length));
  const total = report.read.length + report.unread.length;
  process.stdout.write(
    [
      `read status of ${report.event_id} in ${report.room_id}`,
      '',
      ...table.map(([user, status, at]) => `${user?.padEnd(width)}  ${status?.padEnd(6)}  ${at}`),
      '',
      `${report.read.length} of ${total} members have read it.`,
      report.privacy,
      '',
    ].join('\n'),
  );
}

function print(cmd: AdminCommand, result: unknown): void {
  if (cmd.command === 'read-status') {
    printReadStatus(result as ReadStatusReport);
    return;
  }
  if (Array.isArray(result)) {
    for (const row of result as Record<string, unknown>[]) {
      const flags = [row.admin ? 'admin' : '', row.deactivated ? 'deactivated' : '']
        .filter(Boolean)
        .join(',');
      process.stdout.write(`${row.userId}\t${flags || '-'}\t${row.displayname ?? ''}\n`);
    }
    return;
  }
  const r = result as Record<string, unknown>;
  process.stdout.write(`ok: ${r.userId}${r.admin === true ? ' (admin)' : ''}\n`);
}

async function run(config: Config, cmd: AdminCommand | 'migrate'): Promise<void> {
  const log = createLogger('silent');
  let database;
  try {
    database = await openDatabase(config.database, log);
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    if (cmd === 'migrate') {
      process.stdout.write('the server is running and has applied every migration at start\n');
      return;
    }
    print(cmd, await sendAdminCommand(adminSocketPath(config.database.data_dir), cmd));
    return;
  }
  try {
    const applied = await migrate(database.db);
    if (cmd === 'migrate') {
      process.stdout.write(
        applied.length ? `applied: ${applied.join(', ')}\n` : 'nothing to apply\n',
      );
      return;
    }
    const key = await loadSigningKey(database.db);
    print(cmd, await runAdminCommand(createServices(config, database.db, log, key), cmd));
  } finally {
    await database.close();
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  try {
    const parsed = parseArgs(argv);
    if (parsed.flags.has('--help') || parsed.positional.length === 0) {
      process.stdout.write(USAGE);
      return parsed.positional.length === 0 && !parsed.flags.has('--help') ? 2 : 0;
    }
    const config = loadConfig(configPathFromArgs(argv));
    await run(config, await commandFrom(parsed));
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
}

process.exit(await main());
