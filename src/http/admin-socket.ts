/**
 * A local admin channel for the embedded database. While the server holds the data directory,
 * no other process may open it, so the admin CLI sends its commands here instead: a Unix socket
 * readable by the server's own user only.
 */
import { createHash } from 'node:crypto';
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MatrixError } from '../errors.js';
import type { Logger } from '../log.js';
import { runAdminCommand, type AdminCommand } from '../services/admin-commands.js';
import type { Services } from '../services/services.js';

/** The socket path for a data directory; short enough for the 108-byte Unix socket limit. */
export function adminSocketPath(dataDir: string): string {
  const digest = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16);
  return join(tmpdir(), `machi-admin-${digest}.sock`);
}

/** Serves admin commands on the socket until the returned server is closed. */
export async function startAdminSocket(
  path: string,
  services: Services,
  log: Logger,
): Promise<Server> {
  try {
    unlinkSync(path);
  } catch {
    // no stale socket to remove
  }
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let status = 200;
    let payload: unknown;
    try {
      const cmd = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdminCommand;
      payload = { result: await runAdminCommand(services, cmd) };
      log.info({ command: cmd.command }, 'admin command run');
    } catch (err) {
      status = 400;
      payload = { error: err instanceof MatrixError ? err.message : 'command failed' };
      if (!(err instanceof MatrixError)) log.error({ err }, 'admin command failed');
    }
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(payload));
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(path, () => done());
  });
  chmodSync(path, 0o600);
  return server;
}

/** Sends one command to a running server's admin socket. */
export async function sendAdminCommand(path: string, cmd: AdminCommand): Promise<unknown> {
  const body = JSON.stringify(cmd);
  const reply = await new Promise<{ status: number; text: string }>((done, fail) => {
    const req = request({ socketPath: path, method: 'POST', path: '/' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        done({ status: res.statusCode ?? 500, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', fail);
    req.end(body);
  });
  const parsed = JSON.parse(reply.text) as { result?: unknown; error?: string };
  if (reply.status !== 200) throw new Error(parsed.error ?? 'command failed');
  return parsed.result;
}
