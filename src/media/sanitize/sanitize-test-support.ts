/**
 * Helpers shared by the sanitizer's tests: a scratch folder per test, an upload helper that runs
 * the whole pipeline, and builders for the sample files.
 */

import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, expect } from 'vitest';
import { sanitizeUpload } from './index.js';
import type { MediaPolicy, SanitizeResult } from './index.js';

/** One mebibyte. */
export const MiB = 1024 * 1024;

/** The policy the tests start from: everything on by default, no virus scanner. */
export const defaultPolicy: MediaPolicy = {
  allowedTypes: [],
  blockedTypes: [],
  encryptedAttachments: 'allow',
  blockMacroDocuments: true,
  maxArchiveExpandedBytes: 50 * MiB,
  clamd: null,
};

/** What a test upload claims about itself, and policy changes for it. */
export interface UploadOptions {
  fileName?: string;
  declaredType?: string;
  encrypted?: boolean;
  policy?: Partial<MediaPolicy>;
}

/**
 * Gives each test of the calling file a scratch folder, removed after it, and returns helpers
 * that upload into it.
 */
export function useUploads() {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sanitize-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes `bytes` to a new file and runs the pipeline on it. */
  async function upload(bytes: Uint8Array | string, options: UploadOptions = {}) {
    const path = join(dir, `upload-${randomUUID()}`);
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    await writeFile(path, data);
    const result = await sanitizeUpload(
      {
        path,
        declaredType: options.declaredType,
        fileName: options.fileName,
        size: data.length,
        encrypted: options.encrypted ?? false,
      },
      { ...defaultPolicy, ...options.policy },
    );
    return { path, result };
  }

  /** Only the inputs themselves may remain after files are blocked. */
  async function expectOnlyInputLeft(): Promise<void> {
    const files = await readdir(dir);
    expect(files.filter((f) => f.includes('.sanitized-'))).toEqual([]);
  }

  return { upload, expectOnlyInputLeft };
}

/** Asserts a file was blocked, with a reason matching `pattern` if given. */
export function expectBlocked(result: SanitizeResult, pattern?: RegExp): void {
  expect(result.outcome).toBe('blocked');
  if (pattern && result.outcome === 'blocked') expect(result.reason).toMatch(pattern);
}

/** The bytes a passed file ended up with. */
export async function outputOf(result: SanitizeResult): Promise<Buffer> {
  if (result.outcome === 'blocked') throw new Error(`blocked: ${result.reason}`);
  return readFile(result.path);
}

/** A small plain PNG. */
export function png(width = 8, height = 8): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer();
}

/** The start of a Windows program: a DOS header pointing at a PE header. */
export const PE_HEADER = Buffer.concat([
  Buffer.from('MZ'),
  Buffer.alloc(58),
  Buffer.from([0x40, 0, 0, 0]),
  Buffer.from('PE\0\0'),
  Buffer.alloc(64),
]);

/** Bytes with no structure, as an encrypted attachment has. */
export const CIPHERTEXT = Buffer.concat(
  Array.from({ length: 128 }, (_, i) => createHash('sha256').update(`block ${i}`).digest()),
);
