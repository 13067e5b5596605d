/**
 * The sanitization pipeline every uploaded file passes before anyone can download it: the real
 * type is read from the bytes, dangerous content is removed or the file is blocked.
 *
 * In order: encrypted attachments are passed or refused as the policy says; the type is detected
 * from the bytes; a name or declared type naming a program, script or active document is refused;
 * the policy's type lists apply; the optional virus scanner runs; then each kind of file gets its
 * treatment (see {@link sanitizeUpload}).
 */

import { randomUUID } from 'node:crypto';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { inspectArchive } from './archive-inspector.js';
import { ScannerUnavailableError, scanWithClamd } from './clamd-scanner.js';
import {
  bareType,
  extensionOf,
  isBlockedDeclaredType,
  isBlockedExtension,
} from './dangerous-names.js';
import { SNIFF_BYTES, detectType } from './detect-type.js';
import type { DetectedType } from './detect-type.js';
import { reencodeImage } from './image-reencoder.js';
import { cleanOfficePackage } from './office-cleaner.js';
import { neutralisePdf } from './pdf-neutraliser.js';

/** What the server's configuration allows, as the pipeline needs it. */
export interface MediaPolicy {
  /** Content types accepted at all (after detection); empty means every type not blocked. */
  allowedTypes: string[];
  /** Content types refused even if allowed above. */
  blockedTypes: string[];
  /** What to do with end-to-end encrypted attachments, which cannot be inspected. */
  encryptedAttachments: 'allow' | 'refuse';
  /** Whether macro-enabled and legacy binary Office files are refused (true) or passed. */
  blockMacroDocuments: boolean;
  /** Most bytes an archive may expand to before it is refused as a zip bomb. */
  maxArchiveExpandedBytes: number;
  /** A clamd endpoint (`tcp://host:port` or a socket path), or null for no virus scanner. */
  clamd: string | null;
}

/** One uploaded file waiting for its verdict. */
export interface SanitizeInput {
  /** The uploaded bytes, on disk. */
  path: string;
  /** The Content-Type the client declared, if any. */
  declaredType: string | undefined;
  /** The file name the client gave, if any. */
  fileName: string | undefined;
  size: number;
  /** The client marked the upload as an encrypted attachment. */
  encrypted: boolean;
}

/** The verdict on an upload: passed as it is, passed after cleaning, or refused. */
export type SanitizeResult =
  | { outcome: 'clean'; path: string; contentType: string; changes: [] }
  | { outcome: 'sanitized'; path: string; contentType: string; changes: string[] }
  | { outcome: 'blocked'; reason: string };

/** Text types a client may declare for a file that is plain text; anything else becomes text/plain. */
const TEXT_TYPES = new Set([
  'text/plain',
  'text/csv',
  'text/tab-separated-values',
  'text/markdown',
  'text/x-markdown',
  'text/calendar',
  'text/vcard',
  'text/x-vcard',
  'application/json',
]);

/** Legacy Office and Outlook files by extension, for when the policy lets them through. */
const OLE2_TYPES: Record<string, string> = {
  doc: 'application/msword',
  dot: 'application/msword',
  xls: 'application/vnd.ms-excel',
  xlt: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  pps: 'application/vnd.ms-powerpoint',
  pot: 'application/vnd.ms-powerpoint',
  msg: 'application/vnd.ms-outlook',
};

function blocked(reason: string): SanitizeResult {
  return { outcome: 'blocked', reason };
}

function clean(path: string, contentType: string): SanitizeResult {
  return { outcome: 'clean', path, contentType, changes: [] };
}

async function readHead(path: string, length: number, position = 0): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Whether an OLE2 compound file is a Windows Installer database (msi, msp, mst), from the class
 * id of its root directory entry.
 */
async function isInstaller(path: string, header: Buffer): Promise<boolean> {
  if (header.length < 0x34) return true;
  const sectorShift = header.readUInt16LE(0x1e);
  if (sectorShift !== 9 && sectorShift !== 12) return true;
  const firstDirectorySector = header.readUInt32LE(0x30);
  const rootEntry = (firstDirectorySector + 1) * 2 ** sectorShift;
  const clsid = await readHead(path, 16, rootEntry + 0x50);
  if (clsid.length < 16) return true;
  // {000C1084-…}, {000C1086-…}, {000C1082-…}: installer, patch, transform.
  const tail = Buffer.from([
    0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
  ]);
  return (
    [0x82, 0x84, 0x86].includes(clsid[0] ?? 0) &&
    clsid[1] === 0x10 &&
    clsid[2] === 0x0c &&
    clsid[3] === 0x00 &&
    clsid.subarray(4).equals(tail)
  );
}

function matchesType(type: string, patterns: string[]): boolean {
  return patterns.some((pattern) => {
    const wanted = pattern.trim().toLowerCase();
    if (wanted.endsWith('/*')) return type.startsWith(wanted.slice(0, -1));
    return type === wanted;
  });
}

/** Why the policy's type lists refuse these content types, if they do. */
function policyTypeReason(types: string[], policy: MediaPolicy): string | undefined {
  const bare = types.map((type) => bareType(type) ?? type);
  const refused = bare.find((type) => matchesType(type, policy.blockedTypes));
  if (refused !== undefined) return `content type ${refused} is not accepted`;
  if (
    policy.allowedTypes.length > 0 &&
    !bare.some((type) => matchesType(type, policy.allowedTypes))
  ) {
    return `content type ${bare[0]} is not accepted`;
  }
  return undefined;
}

/**
 * Refuses a file whose name or declared type names a program, script, installer or active
 * document, whatever the bytes are: a user's system may act on the name alone.
 */
function claimReason(
  input: SanitizeInput,
  detected: DetectedType,
  policy: MediaPolicy,
): string | undefined {
  const extension = extensionOf(input.fileName);
  const declared = bareType(input.declaredType);
  const isSvg = detected.family === 'svg';
  if (
    isBlockedExtension(extension, !policy.blockMacroDocuments) &&
    !(isSvg && extension === 'svg')
  ) {
    return `files named .${extension} are not accepted`;
  }
  if (isBlockedDeclaredType(declared) && !(isSvg && declared === 'image/svg+xml')) {
    return `declared type ${declared} is not accepted`;
  }
  return undefined;
}

function dangerousReason(input: SanitizeInput, detected: DetectedType): string | undefined {
  const kinds: Partial<Record<DetectedType['family'], string>> = {
    executable: 'a program',
    script: 'a script',
    html: 'an HTML document',
    'opaque-archive': 'an archive that cannot be inspected',
  };
  const kind = kinds[detected.family];
  if (kind === undefined) return undefined;
  const claims = [extensionOf(input.fileName), bareType(input.declaredType)]
    .filter((claim) => claim !== undefined)
    .join(', ');
  return `file is ${kind} (${detected.type})${claims ? `, whatever it claims to be (${claims})` : ''}`;
}

/**
 * Whether bytes marked as an encrypted attachment could be ciphertext: no format is recognised
 * in them, or only one so weakly marked that random bytes show it now and then (audio and video
 * headers, a bare `MZ` without the `PE` header every current Windows program has).
 */
function looksLikeCiphertext(head: Buffer): boolean {
  const detected = detectType(head);
  if (detected.family === 'binary' || detected.family === 'media') return true;
  if (detected.type !== 'application/x-msdownload' || head.length < 0x40) return false;
  const peOffset = head.readUInt32LE(0x3c);
  return !(
    peOffset + 4 <= head.length && head.toString('latin1', peOffset, peOffset + 4) === 'PE\0\0'
  );
}

/** A path beside the input for cleaned bytes; the caller removes it after storing it. */
function outputPath(input: SanitizeInput): string {
  return join(dirname(input.path), `${basename(input.path)}.sanitized-${randomUUID()}`);
}

/**
 * Decides what happens to an upload. A `sanitized` result's `path` is a new file beside the
 * input holding the cleaned bytes; the caller stores it and removes both temporary files. A
 * `clean` result's content type is the detected one, which corrects harmless mismatches with the
 * declared type. Nothing this function creates stays on disk when it blocks a file, and any
 * unexpected failure blocks rather than passes.
 *
 * - Images are re-encoded (metadata dropped, orientation applied); SVG is converted to PNG.
 * - PDFs have scripts, automatic actions and attachments neutralised in place.
 * - Office Open XML loses macros, ActiveX controls and external links; legacy binary Office
 *   files are refused unless the policy lets macro documents through.
 * - Zip, tar and gzip archives are inspected; other archives, programs, scripts and HTML are
 *   refused.
 */
export async function sanitizeUpload(
  input: SanitizeInput,
  policy: MediaPolicy,
): Promise<SanitizeResult> {
  if (input.encrypted && policy.encryptedAttachments === 'refuse') {
    return blocked('encrypted attachments are not accepted');
  }
  const output = outputPath(input);
  try {
    // Ciphertext has no structure. Bytes that do are not what the upload claims, and get the
    // same treatment as any other upload; only real ciphertext passes untouched.
    if (input.encrypted && looksLikeCiphertext(await readHead(input.path, SNIFF_BYTES))) {
      return clean(input.path, 'application/octet-stream');
    }
    const result = await sanitizeFile(input, policy, output);
    if (result.outcome !== 'sanitized') await rm(output, { force: true });
    return result;
  } catch {
    await rm(output, { force: true });
    return blocked('file could not be inspected');
  }
}

async function sanitizeFile(
  input: SanitizeInput,
  policy: MediaPolicy,
  output: string,
): Promise<SanitizeResult> {
  const head = await readHead(input.path, SNIFF_BYTES);
  const detected = detectType(head);
  const refusal =
    dangerousReason(input, detected) ??
    claimReason(input, detected, policy) ??
    // A zip's real type (a docx, say) is known only once it is opened; checked below.
    (detected.family === 'zip' ? undefined : policyTypeReason([detected.type], policy));
  if (refusal !== undefined) return blocked(refusal);

  if (policy.clamd !== null) {
    try {
      const verdict = await scanWithClamd(policy.clamd, input.path);
      if (verdict.infected) return blocked(`virus found: ${verdict.signature}`);
    } catch (error) {
      if (error instanceof ScannerUnavailableError) return blocked('virus scanner unavailable');
      throw error;
    }
  }

  const result = await treat(input, detected, head, policy, output);
  if (result.outcome === 'blocked') return result;
  const finalReason = policyTypeReason([result.contentType], policy);
  return finalReason === undefined ? result : blocked(finalReason);
}

/** The treatment each kind of file gets, once the checks common to all have passed. */
async function treat(
  input: SanitizeInput,
  detected: DetectedType,
  head: Buffer,
  policy: MediaPolicy,
  output: string,
): Promise<SanitizeResult> {
  switch (detected.family) {
    case 'image':
    case 'svg': {
      const source = detected.family === 'svg' ? await readFile(input.path) : input.path;
      const image = await reencodeImage(source, detected.type, output);
      if (image.outcome === 'refused') return blocked(image.reason);
      return {
        outcome: 'sanitized',
        path: output,
        contentType: image.contentType,
        changes: image.changes,
      };
    }
    case 'pdf': {
      const pdf = neutralisePdf(await readFile(input.path));
      if (pdf.outcome === 'refused') return blocked(pdf.reason);
      if (pdf.outcome === 'unchanged') return clean(input.path, 'application/pdf');
      await writeFile(output, pdf.bytes);
      return {
        outcome: 'sanitized',
        path: output,
        contentType: 'application/pdf',
        changes: pdf.changes,
      };
    }
    case 'ole2': {
      if (await isInstaller(input.path, head))
        return blocked('installer packages are not accepted');
      if (policy.blockMacroDocuments) {
        return blocked(
          'legacy Office files (doc, xls, ppt) can carry macros that cannot be removed',
        );
      }
      return clean(input.path, OLE2_TYPES[extensionOf(input.fileName) ?? ''] ?? detected.type);
    }
    case 'zip':
      return treatZip(input, policy, output);
    case 'tar':
    case 'gzip': {
      const reason = await inspectArchive(await readFile(input.path), detected.family, 1, {
        allowMacros: !policy.blockMacroDocuments,
        remainingBytes: policy.maxArchiveExpandedBytes,
        limitBytes: policy.maxArchiveExpandedBytes,
      });
      return reason === undefined ? clean(input.path, detected.type) : blocked(reason);
    }
    case 'text': {
      const declared = bareType(input.declaredType);
      const type = declared !== undefined && TEXT_TYPES.has(declared) ? declared : 'text/plain';
      return clean(input.path, `${type}; charset=utf-8`);
    }
    case 'media':
      // TODO: strip metadata (such as a recording location) from audio and video; they pass
      // with their metadata today.
      return clean(input.path, detected.type);
    case 'binary':
      return clean(input.path, detected.type);
    default:
      // Programs, scripts, HTML and opaque archives were refused above; anything new is too.
      return blocked(`files of type ${detected.type} are not accepted`);
  }
}

async function treatZip(
  input: SanitizeInput,
  policy: MediaPolicy,
  output: string,
): Promise<SanitizeResult> {
  const zip = await readFile(input.path);
  const allowMacros = !policy.blockMacroDocuments;
  const limitBytes = policy.maxArchiveExpandedBytes;
  const office = await cleanOfficePackage(zip, { allowMacros, limitBytes });
  if (office.outcome === 'refused') return blocked(office.reason);

  const inspected = office.outcome === 'cleaned' ? Buffer.from(office.bytes) : zip;
  const reason = await inspectArchive(inspected, 'zip', 1, {
    allowMacros,
    officeDocument: office.outcome !== 'not-office',
    remainingBytes: limitBytes,
    limitBytes,
  });
  if (reason !== undefined) return blocked(reason);

  switch (office.outcome) {
    case 'not-office':
      return clean(input.path, 'application/zip');
    case 'unchanged':
      return clean(input.path, office.contentType);
    case 'cleaned':
      await writeFile(output, inspected);
      return {
        outcome: 'sanitized',
        path: output,
        contentType: office.contentType,
        changes: office.changes,
      };
  }
}
