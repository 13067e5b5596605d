import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScannerUnavailableError, scanWithClamd } from './clamd-scanner.js';
import { sanitizeUpload } from './index.js';
import type { MediaPolicy } from './index.js';

let dir: string;
const servers: Server[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clamd-'));
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
  await rm(dir, { recursive: true, force: true });
});

/**
 * A stand-in clamd: reads one INSTREAM command and its chunks, records the bytes received, and
 * answers `reply` (or nothing at all when `reply` is undefined).
 */
async function fakeClamd(
  reply: string | undefined,
): Promise<{ endpoint: string; received: Buffer[] }> {
  const received: Buffer[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 10) return;
      expect(buffer.subarray(0, 10).toString('latin1')).toBe('zINSTREAM\0');
      let at = 10;
      const parts: Buffer[] = [];
      while (at + 4 <= buffer.length) {
        const length = buffer.readUInt32BE(at);
        if (length === 0) {
          received.push(Buffer.concat(parts));
          if (reply !== undefined) socket.end(`${reply}\0`);
          return;
        }
        if (at + 4 + length > buffer.length) return;
        parts.push(buffer.subarray(at + 4, at + 4 + length));
        at += 4 + length;
      }
    });
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `tcp://127.0.0.1:${port}`, received };
}

async function uploadText(clamd: string) {
  const path = join(dir, `upload-${randomUUID()}`);
  await writeFile(path, 'an ordinary note\n');
  const policy: MediaPolicy = {
    allowedTypes: [],
    blockedTypes: [],
    encryptedAttachments: 'allow',
    blockMacroDocuments: true,
    maxArchiveExpandedBytes: 1024 * 1024,
    clamd,
  };
  return sanitizeUpload(
    { path, declaredType: 'text/plain', fileName: 'note.txt', size: 17, encrypted: false },
    policy,
  );
}

describe('clamd hook', () => {
  it('passes a file the scanner answers OK for, after sending it whole', async () => {
    const clamd = await fakeClamd('stream: OK');
    const result = await uploadText(clamd.endpoint);
    expect(result.outcome).toBe('clean');
    expect(clamd.received.map((b) => b.toString())).toEqual(['an ordinary note\n']);
  });

  it('blocks a file the scanner finds a signature in, naming it', async () => {
    const clamd = await fakeClamd('stream: Eicar-Test-Signature FOUND');
    const result = await uploadText(clamd.endpoint);
    expect(result).toEqual({ outcome: 'blocked', reason: 'virus found: Eicar-Test-Signature' });
  });

  it('fails closed when the scanner is unreachable', async () => {
    const clamd = await fakeClamd('stream: OK');
    const server = servers.pop();
    await new Promise((done) => server?.close(done));
    const result = await uploadText(clamd.endpoint);
    expect(result).toEqual({ outcome: 'blocked', reason: 'virus scanner unavailable' });
  });

  it('fails closed on an unexpected reply', async () => {
    const clamd = await fakeClamd('INSTREAM size limit exceeded. ERROR');
    const result = await uploadText(clamd.endpoint);
    expect(result).toEqual({ outcome: 'blocked', reason: 'virus scanner unavailable' });
  });

  it('gives up when the scanner does not answer in time', async () => {
    const clamd = await fakeClamd(undefined);
    const path = join(dir, 'file');
    await writeFile(path, 'x');
    await expect(scanWithClamd(clamd.endpoint, path, 200)).rejects.toBeInstanceOf(
      ScannerUnavailableError,
    );
  });
});
