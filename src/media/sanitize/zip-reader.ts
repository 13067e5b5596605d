/**
 * A small zip reader that trusts nothing: sizes come from the central directory, and inflation
 * stops as soon as an entry produces more than it declared or than the caller's budget.
 */

import type { Transform } from 'node:stream';
import { createInflateRaw } from 'node:zlib';

/** One file inside a zip, as its central directory describes it. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate; other methods are refused. */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  encrypted: boolean;
  isDirectory: boolean;
}

/** A zip that cannot be read safely; the message says why, in words fit for a block reason. */
export class UnreadableArchiveError extends Error {}

/** Inflation went past what the entry declared or what the caller allowed. */
export class ExpansionLimitError extends Error {}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

function findEndOfCentralDirectory(zip: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const earliest = Math.max(0, zip.length - 22 - 0xffff);
  for (let at = zip.length - 22; at >= earliest; at--) {
    if (zip.readUInt32LE(at) === EOCD_SIGNATURE) return at;
  }
  throw new UnreadableArchiveError('zip central directory not found');
}

/** Lists a zip's entries from its central directory, without inflating anything. */
export function readZipEntries(zip: Buffer): ZipEntry[] {
  if (zip.length < 22) throw new UnreadableArchiveError('zip too short');
  const eocd = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(eocd + 10);
  const size = zip.readUInt32LE(eocd + 12);
  const offset = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    // TODO: read Zip64 archives (over 4 GiB or 65535 entries); such archives are refused today.
    throw new UnreadableArchiveError('Zip64 archives are not supported');
  }
  if (offset + size > eocd) throw new UnreadableArchiveError('zip central directory out of range');

  const entries: ZipEntry[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || zip.readUInt32LE(at) !== CENTRAL_SIGNATURE) {
      throw new UnreadableArchiveError('zip central directory is corrupt');
    }
    const flags = zip.readUInt16LE(at + 8);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const compressedSize = zip.readUInt32LE(at + 20);
    const uncompressedSize = zip.readUInt32LE(at + 24);
    const localHeaderOffset = zip.readUInt32LE(at + 42);
    if ([compressedSize, uncompressedSize, localHeaderOffset].includes(0xffffffff)) {
      throw new UnreadableArchiveError('Zip64 archives are not supported');
    }
    const name = zip.toString(flags & 0x800 ? 'utf8' : 'latin1', at + 46, at + 46 + nameLength);
    entries.push({
      name,
      method: zip.readUInt16LE(at + 10),
      compressedSize,
      uncompressedSize,
      localHeaderOffset,
      encrypted: (flags & 0x1) !== 0,
      isDirectory: name.endsWith('/'),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function entryData(zip: Buffer, entry: ZipEntry): Buffer {
  const at = entry.localHeaderOffset;
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== LOCAL_SIGNATURE) {
    throw new UnreadableArchiveError(`zip entry ${entry.name} has no local header`);
  }
  const nameLength = zip.readUInt16LE(at + 26);
  const localName = zip.subarray(at + 30, at + 30 + nameLength);
  // Extractors that walk local headers would see another name than the one inspected.
  if (localName.toString('utf8') !== entry.name && localName.toString('latin1') !== entry.name) {
    throw new UnreadableArchiveError(`zip entry ${entry.name} has a different local name`);
  }
  const start = at + 30 + nameLength + zip.readUInt16LE(at + 28);
  const end = start + entry.compressedSize;
  if (end > zip.length) throw new UnreadableArchiveError(`zip entry ${entry.name} is truncated`);
  return zip.subarray(start, end);
}

/** What {@link inflateEntry} produced: the first `keep` bytes and the true expanded size. */
export interface InflatedEntry {
  head: Buffer;
  size: number;
}

/**
 * Expands one entry, counting every byte. Throws {@link ExpansionLimitError} as soon as the
 * output passes `limit` or the entry's declared size, so a lying or hostile zip costs at most
 * `limit` bytes of work; only the first `keep` bytes are held in memory.
 */
export async function inflateEntry(
  zip: Buffer,
  entry: ZipEntry,
  limit: number,
  keep: number,
): Promise<InflatedEntry> {
  if (entry.encrypted) throw new UnreadableArchiveError(`zip entry ${entry.name} is encrypted`);
  const data = entryData(zip, entry);
  const cap = Math.min(limit, entry.uncompressedSize);
  if (entry.method === 0) {
    if (data.length > cap) throw new ExpansionLimitError(`zip entry ${entry.name} is too large`);
    return { head: data.subarray(0, keep), size: data.length };
  }
  if (entry.method !== 8) {
    throw new UnreadableArchiveError(
      `zip entry ${entry.name} uses compression method ${entry.method}`,
    );
  }
  return inflateBounded(createInflateRaw(), data, cap, keep, entry.name);
}

/**
 * Runs a zlib decompressor over `data`, stopping with {@link ExpansionLimitError} past `cap`
 * output bytes and keeping only the first `keep` of them.
 */
export function inflateBounded(
  inflater: Transform,
  data: Buffer,
  cap: number,
  keep: number,
  label: string,
): Promise<InflatedEntry> {
  return new Promise((resolve, reject) => {
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let size = 0;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      inflater.destroy();
      reject(error);
    };
    inflater.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) {
        fail(new ExpansionLimitError(`${label} expands beyond its limit`));
        return;
      }
      if (keptBytes < keep) {
        const part = chunk.subarray(0, keep - keptBytes);
        kept.push(part);
        keptBytes += part.length;
      }
    });
    inflater.on('error', () =>
      fail(new UnreadableArchiveError(`${label} is not valid compressed data`)),
    );
    inflater.on('end', () => {
      if (settled) return;
      settled = true;
      resolve({ head: Buffer.concat(kept), size });
    });
    inflater.end(data);
  });
}
