/**
 * Sends a file to a ClamAV daemon with the INSTREAM command and reads its verdict.
 */

import { createReadStream } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** The daemon's verdict on one file. */
export type ScanVerdict = { infected: false } | { infected: true; signature: string };

/** The daemon could not be reached, did not answer in time, or answered something unexpected. */
export class ScannerUnavailableError extends Error {}

/** How long a whole scan may take before the scanner counts as unavailable. */
export const CLAMD_TIMEOUT_MS = 30_000;

const CHUNK_BYTES = 64 * 1024;

function openSocket(endpoint: string): Socket {
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(endpoint);
  if (tcp?.[1] !== undefined && tcp[2] !== undefined) {
    return connect({ host: tcp[1].replace(/^\[|\]$/g, ''), port: Number(tcp[2]) });
  }
  const path = endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : endpoint;
  return connect({ path });
}

function parseReply(reply: string): ScanVerdict {
  const text = reply.replace(/\0+$/, '').trim();
  if (/^stream:\s*OK$/.test(text)) return { infected: false };
  const found = /^stream:\s*(.+)\s+FOUND$/.exec(text);
  if (found?.[1] !== undefined) return { infected: true, signature: found[1] };
  throw new ScannerUnavailableError(`unexpected scanner reply: ${text.slice(0, 200)}`);
}

async function sendFile(socket: Socket, path: string): Promise<void> {
  const write = (data: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      socket.write(data, (error) => (error ? reject(error) : resolve()));
    });
  await write(Buffer.from('zINSTREAM\0', 'latin1'));
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
    const data = chunk as Buffer;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    await write(Buffer.concat([length, data]));
  }
  await write(Buffer.alloc(4));
}

/**
 * Scans the file at `path` with the clamd at `endpoint` (`tcp://host:port`, or a Unix socket
 * path). Throws {@link ScannerUnavailableError} when no verdict arrives, so callers can fail
 * closed.
 */
export function scanWithClamd(
  endpoint: string,
  path: string,
  timeoutMs = CLAMD_TIMEOUT_MS,
): Promise<ScanVerdict> {
  return new Promise((resolve, reject) => {
    const socket = openSocket(endpoint);
    const replies: Buffer[] = [];
    let settled = false;
    const finish = (outcome: () => ScanVerdict): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve(outcome());
      } catch (error) {
        reject(error);
      }
    };
    const fail = (message: string): void =>
      finish(() => {
        throw new ScannerUnavailableError(message);
      });
    const timer = setTimeout(() => fail('scanner timed out'), timeoutMs);

    socket.on('error', (error) => fail(`scanner connection failed: ${error.message}`));
    socket.on('data', (chunk: Buffer) => {
      replies.push(chunk);
      if (chunk.includes(0)) finish(() => parseReply(Buffer.concat(replies).toString('utf8')));
    });
    socket.on('end', () => {
      if (replies.length === 0) fail('scanner closed the connection without a verdict');
      else finish(() => parseReply(Buffer.concat(replies).toString('utf8')));
    });
    socket.on('connect', () => {
      sendFile(socket, path).catch((error: unknown) => {
        // The daemon may answer (a size limit, say) and close before the file is sent; the
        // reply handlers above then decide.
        if (replies.length === 0) fail(`scanner write failed: ${String(error)}`);
      });
    });
  });
}
