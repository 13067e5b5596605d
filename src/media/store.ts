/**
 * The content-addressed file store of the media repository. Every stored file is named by the
 * sha256 of its bytes (`content/ab/cd/abcd…`), so the same bytes are kept once however often they
 * are uploaded. Uploads arrive in `tmp/` first and are moved into place only when complete.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { tooLarge } from '../errors.js';

/** A file received into the temporary folder, not yet in the store. */
export interface ReceivedFile {
  path: string;
  size: number;
  sha256: string;
}

const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** The files of the media repository under `media.store_path`; knows nothing of media ids. */
export class MediaStore {
  readonly root: string;
  readonly tmpDir: string;
  readonly contentDir: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.tmpDir = join(this.root, 'tmp');
    this.contentDir = join(this.root, 'content');
  }

  /** Where the file with this sha256 is (or would be) stored. */
  pathOf(sha256: string): string {
    // The name comes from our own database, but a path must never be built from anything else.
    if (!SHA256_PATTERN.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.contentDir, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  /** A fresh name in the temporary folder (created if missing). */
  async tempPath(prefix: string): Promise<string> {
    await mkdir(this.tmpDir, { recursive: true });
    return join(this.tmpDir, `${prefix}-${randomBytes(12).toString('hex')}`);
  }

  /**
   * Writes `body` to a temporary file as it arrives, hashing it on the way. Past `maxBytes` it
   * stops, deletes what was written, discards the rest of the body and throws 413 M_TOO_LARGE;
   * any other failure (the client going away) also leaves no file behind.
   */
  async receive(body: Readable, maxBytes: number): Promise<ReceivedFile> {
    const path = await this.tempPath('upload');
    const hash = createHash('sha256');
    const file = await open(path, 'wx', 0o600);
    let size = 0;
    let complete = false;
    try {
      // `destroyOnReturn: false`: leaving the loop early must not destroy the request (and with
      // it the connection) before the 413 is sent; the rest of the body is drained instead.
      for await (const chunk of body.iterator({ destroyOnReturn: false })) {
        const bytes = chunk as Buffer;
        size += bytes.length;
        if (size > maxBytes) {
          body.resume();
          throw tooLarge(`Upload is larger than the limit of ${maxBytes} bytes`);
        }
        hash.update(bytes);
        await file.write(bytes);
      }
      complete = true;
    } finally {
      await file.close();
      if (!complete) await rm(path, { force: true });
    }
    return { path, size, sha256: hash.digest('hex') };
  }

  /** Hashes a file already on disk (one the sanitizer rewrote). */
  async hashFile(path: string): Promise<{ size: number; sha256: string }> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { size, sha256: hash.digest('hex') };
  }

  /**
   * Moves a complete temporary file into the store under its sha256. When those bytes are
   * already stored the temporary file is simply deleted.
   */
  async commit(tempPath: string, sha256: string): Promise<void> {
    const target = this.pathOf(sha256);
    if (await exists(target)) {
      await rm(tempPath, { force: true });
      return;
    }
    await mkdir(join(target, '..'), { recursive: true });
    // Same folder tree, so the rename is atomic: readers see the whole file or none.
    await rename(tempPath, target);
  }

  /** Writes bytes produced by the server itself (thumbnails) into the store; returns the sha256. */
  async put(bytes: Buffer): Promise<string> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (await exists(this.pathOf(sha256))) return sha256;
    const temp = await this.tempPath('put');
    const file = await open(temp, 'wx', 0o600);
    try {
      await file.write(bytes);
    } finally {
      await file.close();
    }
    await this.commit(temp, sha256);
    return sha256;
  }

  /** Reads a stored file, or the inclusive byte range `[start, end]` of it. */
  read(sha256: string, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.pathOf(sha256), range);
  }

  /** Deletes a stored file (the caller checked that nothing refers to it any more). */
  async remove(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }

  /**
   * Deletes temporary files older than `maxAgeMs`, left behind by a server that stopped in the
   * middle of an upload. Younger ones may belong to another process sharing the store.
   */
  async sweepTemp(maxAgeMs: number): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.tmpDir);
    } catch {
      return 0;
    }
    let removed = 0;
    const cutoff = Date.now() - maxAgeMs;
    for (const name of names) {
      const path = join(this.tmpDir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) {
        await rm(path, { force: true });
        removed += 1;
      }
    }
    return removed;
  }

  /** Deletes a temporary file, if it is still there. */
  async discard(path: string): Promise<void> {
    await rm(path, { force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
