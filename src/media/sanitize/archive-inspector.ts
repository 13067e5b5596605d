/**
 * Looks inside zip, tar and gzip archives, archives within them up to a fixed depth, and refuses
 * any that holds something the server would refuse on its own, or expands too far.
 */

import { createGunzip } from 'node:zlib';
import { isBlockedExtension, extensionOf, isUnsafeEntryName } from './dangerous-names.js';
import { detectType, SNIFF_BYTES } from './detect-type.js';
import { findActivePdfContent } from './pdf-neutraliser.js';
import {
  ExpansionLimitError,
  UnreadableArchiveError,
  inflateBounded,
  inflateEntry,
  readZipEntries,
} from './zip-reader.js';

/** An archive at the top is level 1; one inside it level 2; anything deeper is refused. */
export const MAX_ARCHIVE_DEPTH = 2;

/** Shared state of one inspection: the policy and how many expanded bytes are still allowed. */
export interface InspectionContext {
  allowMacros: boolean;
  /**
   * The archive is an Office document, whose pictures Office draws itself: SVG parts are then
   * harmless and allowed. Elsewhere an SVG could be opened in a browser and is refused.
   */
  officeDocument?: boolean;
  /** Expanded bytes left before the whole upload counts as a zip bomb; spent as entries expand. */
  remainingBytes: number;
  /** The limit the budget started from, for messages. */
  limitBytes: number;
}

/** A member of an archive: its name, first bytes, and a way to get all of them when needed. */
interface Member {
  name: string;
  head: Buffer;
  load(): Promise<Buffer>;
}

/**
 * Inspects an archive of the given family at nesting level `depth` (1 for an upload itself).
 * Resolves to a reason to refuse it, or undefined if everything inside is acceptable.
 */
export async function inspectArchive(
  bytes: Buffer,
  family: 'zip' | 'tar' | 'gzip',
  depth: number,
  context: InspectionContext,
): Promise<string | undefined> {
  try {
    if (family === 'zip') return await inspectZip(bytes, depth, context);
    if (family === 'tar') return await inspectTar(bytes, depth, context);
    return await inspectGzip(bytes, depth, context);
  } catch (error) {
    if (error instanceof ExpansionLimitError) return expansionReason(context);
    if (error instanceof UnreadableArchiveError)
      return `archive cannot be inspected: ${error.message}`;
    throw error;
  }
}

function expansionReason(context: InspectionContext): string {
  return `archive expands to more than ${context.limitBytes} bytes`;
}

async function inspectZip(
  zip: Buffer,
  depth: number,
  context: InspectionContext,
): Promise<string | undefined> {
  const entries = readZipEntries(zip);
  const declared = entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
  if (declared > context.remainingBytes) return expansionReason(context);

  for (const entry of entries) {
    if (isUnsafeEntryName(entry.name)) return `archive entry has an unsafe path: ${entry.name}`;
    if (entry.isDirectory) continue;
    const { head, size } = await inflateEntry(zip, entry, context.remainingBytes, SNIFF_BYTES);
    context.remainingBytes -= size;
    const reason = await checkMember(
      {
        name: entry.name,
        head,
        // Already paid for above: expanding a second time only to keep every byte.
        load: async () => (await inflateEntry(zip, entry, size, size)).head,
      },
      depth,
      context,
    );
    if (reason !== undefined) return reason;
  }
  return undefined;
}

function tarString(block: Buffer, at: number, length: number): string {
  const raw = block.subarray(at, at + length);
  const end = raw.indexOf(0);
  return raw.toString('utf8', 0, end === -1 ? length : end);
}

async function inspectTar(
  tar: Buffer,
  depth: number,
  context: InspectionContext,
): Promise<string | undefined> {
  let at = 0;
  let longName: string | undefined;
  while (at + 512 <= tar.length) {
    const header = tar.subarray(at, at + 512);
    if (header.every((byte) => byte === 0)) break;
    const size = Number.parseInt(tarString(header, 124, 12).trim() || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0)
      return 'archive cannot be inspected: bad tar header';
    const typeFlag = String.fromCharCode(header[156] ?? 0);
    const dataStart = at + 512;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.length) return 'archive cannot be inspected: truncated tar entry';
    const data = tar.subarray(dataStart, dataEnd);
    at = dataStart + Math.ceil(size / 512) * 512;

    if (typeFlag === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (typeFlag === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (typeFlag === 'g') continue;
    const prefix = tarString(header, 345, 155);
    const plainName = prefix ? `${prefix}/${tarString(header, 0, 100)}` : tarString(header, 0, 100);
    const name = longName ?? plainName;
    longName = undefined;
    // Extractors differ in which name they honour, so both must be acceptable.
    for (const candidate of new Set([name, plainName])) {
      if (isUnsafeEntryName(candidate)) return `archive entry has an unsafe path: ${candidate}`;
      if (isBlockedExtension(extensionOf(candidate), context.allowMacros)) {
        return `archive contains a blocked file type: ${candidate}`;
      }
    }
    if (typeFlag === '1' || typeFlag === '2') return `archive contains a link: ${name}`;
    if (typeFlag === '5') continue;
    if (typeFlag !== '0' && typeFlag !== '\0' && typeFlag !== '7') {
      return `archive contains a special file: ${name}`;
    }
    const reason = await checkMember(
      { name, head: data.subarray(0, SNIFF_BYTES), load: () => Promise.resolve(data) },
      depth,
      context,
    );
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** The `path` record of a pax extended header, if it has one. */
function paxPath(data: Buffer): string | undefined {
  let path: string | undefined;
  let at = 0;
  // Each record reads `<length> <key>=<value>\n`, the length counting the whole record.
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number(data.toString('latin1', at, space));
    if (!Number.isSafeInteger(length) || length <= 0) break;
    const record = data.toString('utf8', space + 1, at + length).replace(/\n$/, '');
    const equals = record.indexOf('=');
    if (record.slice(0, equals) === 'path') path = record.slice(equals + 1);
    at += length;
  }
  return path;
}

async function inspectGzip(
  gzip: Buffer,
  depth: number,
  context: InspectionContext,
): Promise<string | undefined> {
  // TODO: inspect a tar inside gzip as a stream; today the whole expansion, bounded by the
  // archive limit, is held in memory while it is inspected.
  const { head: inner, size } = await inflateBounded(
    createGunzip(),
    gzip,
    context.remainingBytes,
    context.remainingBytes,
    'gzip stream',
  );
  context.remainingBytes -= size;
  const detected = detectType(inner.subarray(0, SNIFF_BYTES));
  // A gzip is a wrapper around one file, not a level of nesting of its own.
  if (detected.family === 'tar') return inspectTar(inner, depth, context);
  const name = gzipMemberName(gzip) ?? 'compressed file';
  return checkMember(
    { name, head: inner.subarray(0, SNIFF_BYTES), load: () => Promise.resolve(inner) },
    depth,
    context,
  );
}

/** The original file name a gzip stream carries in its header, if any. */
function gzipMemberName(gzip: Buffer): string | undefined {
  const flags = gzip[3] ?? 0;
  if ((flags & 0x08) === 0) return undefined;
  let at = 10;
  if (flags & 0x04) at += 2 + gzip.readUInt16LE(10);
  const end = gzip.indexOf(0, at);
  return end === -1 ? undefined : gzip.toString('latin1', at, end);
}

async function checkMember(
  member: Member,
  depth: number,
  context: InspectionContext,
): Promise<string | undefined> {
  const { name } = member;
  const baseName = name.split('/').pop() ?? name;
  const extension = extensionOf(name);
  const officeSvg = context.officeDocument === true && extension === 'svg';
  if (!officeSvg && isBlockedExtension(extension, context.allowMacros)) {
    return `archive contains a blocked file type: ${name}`;
  }
  if (!context.allowMacros && /^vbaproject.*\.bin$|^vbadata\.xml$/i.test(baseName)) {
    return `archive contains macros: ${name}`;
  }
  const detected = detectType(member.head);
  switch (detected.family) {
    case 'svg':
      if (officeSvg) return undefined;
      return `archive contains ${describe(detected.family)}: ${name}`;
    case 'executable':
    case 'script':
    case 'html':
      return `archive contains ${describe(detected.family)}: ${name}`;
    case 'opaque-archive':
      return `archive contains an archive that cannot be inspected (${detected.type}): ${name}`;
    case 'ole2':
      if (!context.allowMacros) {
        return `archive contains a legacy Office or installer file: ${name}`;
      }
      return undefined;
    case 'pdf': {
      const active = findActivePdfContent(await member.load());
      return active === undefined ? undefined : `archive contains a PDF with ${active}: ${name}`;
    }
    case 'zip':
    case 'tar':
    case 'gzip':
      if (depth + 1 > MAX_ARCHIVE_DEPTH) {
        return `archives nested more than ${MAX_ARCHIVE_DEPTH} levels deep: ${name}`;
      }
      return inspectNested(await member.load(), detected.family, depth + 1, context);
    default:
      return undefined;
  }
}

async function inspectNested(
  bytes: Buffer,
  family: 'zip' | 'tar' | 'gzip',
  depth: number,
  context: InspectionContext,
): Promise<string | undefined> {
  if (family === 'zip') return inspectZip(bytes, depth, context);
  if (family === 'tar') return inspectTar(bytes, depth, context);
  return inspectGzip(bytes, depth, context);
}

function describe(family: 'executable' | 'script' | 'html' | 'svg'): string {
  switch (family) {
    case 'executable':
      return 'a program';
    case 'script':
      return 'a script';
    case 'html':
      return 'an HTML document';
    case 'svg':
      return 'an SVG image';
  }
}
