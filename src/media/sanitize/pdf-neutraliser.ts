/**
 * Makes a PDF's active content inert without rewriting its structure: every name that starts
 * an action, a script or an attachment is overwritten in place by a meaningless name of the same
 * length, so byte offsets and the cross-reference table stay valid. Readers ignore unknown keys
 * and action types, so what is left is a plain document.
 */

import { deflateSync, inflateSync } from 'node:zlib';

/** Names whose presence makes a PDF do something beyond showing pages. */
const ACTIVE_NAMES = new Set([
  'JS',
  'JavaScript',
  'OpenAction',
  'AA',
  'Launch',
  'EmbeddedFiles',
  'EmbeddedFile',
  'FileAttachment',
  'RichMedia',
  'XFA',
  'SubmitForm',
  'ImportData',
  'GoToE',
  'GoToR',
]);

/** A name token: a slash, then regular characters (anything but white space and delimiters). */
const NAME_PATTERN = /\/[^\s()<>[\]{}/%]*/g;

/** Object streams larger than this when expanded are not inspected, and the PDF is refused. */
const MAX_OBJECT_STREAM_BYTES = 64 * 1024 * 1024;

/** Decodes a PDF name's `#xx` escapes, so `/J#53` is seen as `/JS`. */
function decodeName(token: string): string {
  return token
    .slice(1)
    .replace(/#([0-9a-fA-F]{2})/g, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
}

interface NameHit {
  at: number;
  length: number;
  name: string;
}

function findActiveNames(text: string): NameHit[] {
  const hits: NameHit[] = [];
  for (const match of text.matchAll(NAME_PATTERN)) {
    const name = decodeName(match[0]);
    if (ACTIVE_NAMES.has(name)) hits.push({ at: match.index, length: match[0].length, name });
  }
  return hits;
}

function hasName(text: string, wanted: string): boolean {
  for (const match of text.matchAll(NAME_PATTERN)) {
    if (decodeName(match[0]) === wanted) return true;
  }
  return false;
}

/** The byte range of the stream data that follows the `stream` keyword at `keywordAt`. */
function streamData(text: string, dictionary: string, keywordAt: number): [number, number] {
  let start = keywordAt + 'stream'.length;
  if (text[start] === '\r') start++;
  if (text[start] === '\n') start++;
  const direct = /\/Length\s+(\d+)(?!\s+\d+\s+R)/.exec(dictionary);
  const indirect = /\/Length\s+(\d+)\s+(\d+)\s+R/.exec(dictionary);
  let length: number | undefined;
  if (direct?.[1] !== undefined) length = Number(direct[1]);
  else if (indirect) {
    const target = new RegExp(
      `(?:^|\\s)${indirect[1]}\\s+${indirect[2]}\\s+obj\\s*(\\d+)\\s*endobj`,
    );
    const value = target.exec(text)?.[1];
    if (value !== undefined) length = Number(value);
  }
  if (
    length !== undefined &&
    /^\s*endstream/.test(text.slice(start + length, start + length + 16))
  ) {
    return [start, start + length];
  }
  const end = text.indexOf('endstream', start);
  return [start, end === -1 ? text.length : end];
}

interface StreamObject {
  dictionary: string;
  start: number;
  end: number;
  /** The data is compressed, so names in it are chance bytes, not PDF syntax. */
  compressed: boolean;
}

/** Every stream of the file, in order, with its data range; `stream` inside data is skipped. */
function allStreams(text: string): StreamObject[] {
  const streams: StreamObject[] = [];
  const keyword = /\bstream(?=\r?\n|\r)/g;
  let previousEnd = 0;
  for (const match of text.matchAll(keyword)) {
    if (match.index < previousEnd) continue;
    const objectStart = text.lastIndexOf(' obj', match.index);
    if (objectStart === -1) continue;
    const dictionary = text.slice(objectStart, match.index);
    const [start, end] = streamData(text, dictionary, match.index);
    // An object header inside the data means a reader may see objects there that a scan
    // skipping the data would miss; such data is treated as PDF syntax, not compressed bytes.
    const hidesObjects = /\d+\s+\d+\s+obj\b/.test(text.slice(start, end));
    const compressed = hasName(dictionary, 'Filter') && !hidesObjects;
    streams.push({ dictionary, start, end, compressed });
    previousEnd = end;
  }
  return streams;
}

/** Streams whose dictionary contains the name `wanted`, with their data ranges. */
function findStreams(text: string, wanted: string): StreamObject[] {
  return allStreams(text).filter((stream) => hasName(stream.dictionary, wanted));
}

/**
 * Active names in the file's own syntax: everywhere except inside compressed stream data,
 * where a match is chance bytes and overwriting it would corrupt a picture or a page.
 */
function findActiveSyntax(text: string): NameHit[] {
  const compressed = allStreams(text).filter((stream) => stream.compressed);
  return findActiveNames(text).filter(
    (hit) => !compressed.some((stream) => hit.at >= stream.start && hit.at < stream.end),
  );
}

/** An object stream's decoded contents, or why it cannot be decoded. */
function decodeObjectStream(
  pdf: Buffer,
  stream: StreamObject,
): { bytes: Buffer; compressed: boolean } | string {
  const raw = pdf.subarray(stream.start, stream.end);
  const filters = [...stream.dictionary.matchAll(NAME_PATTERN)]
    .map((m) => decodeName(m[0]))
    .filter((name) => name.endsWith('Decode'));
  if (filters.length === 0) return { bytes: raw, compressed: false };
  if (
    filters.length > 1 ||
    filters[0] !== 'FlateDecode' ||
    stream.dictionary.includes('/DecodeParms')
  ) {
    return `PDF object stream uses filters that are not supported (${filters.join(', ')})`;
  }
  try {
    return {
      bytes: inflateSync(raw, { maxOutputLength: MAX_OBJECT_STREAM_BYTES }),
      compressed: true,
    };
  } catch {
    return 'PDF object stream cannot be decoded';
  }
}

/**
 * Looks inside the PDF's object streams. Returns a reason to refuse the file if any of them
 * holds active content or cannot be decoded.
 */
function checkObjectStreams(pdf: Buffer, text: string): string | undefined {
  for (const stream of findStreams(text, 'ObjStm')) {
    const decoded = decodeObjectStream(pdf, stream);
    if (typeof decoded === 'string') return decoded;
    const hit = findActiveNames(decoded.bytes.toString('latin1'))[0];
    if (hit) return `PDF has /${hit.name} inside an object stream`;
  }
  return undefined;
}

/**
 * Neutralises active names inside compressed object streams: the stream is expanded, the names
 * overwritten, and the result compressed again into the same bytes, padded after the compressed
 * data (decoders stop at its end), so no offset moves. Returns a reason to refuse the file when
 * a stream cannot be decoded or its new form does not fit.
 */
function rewriteObjectStreams(
  pdf: Buffer,
  text: string,
  out: Buffer,
  counts: Map<string, number>,
): string | undefined {
  for (const stream of findStreams(text, 'ObjStm')) {
    const decoded = decodeObjectStream(pdf, stream);
    if (typeof decoded === 'string') return decoded;
    const hits = findActiveNames(decoded.bytes.toString('latin1'));
    // Names in an uncompressed object stream are reached by the pass over the whole file.
    if (hits.length === 0 || !decoded.compressed) continue;
    const rewritten = Buffer.from(decoded.bytes);
    for (const hit of hits) {
      rewritten.write(`/${'X'.repeat(hit.length - 1)}`, hit.at, 'latin1');
      counts.set(hit.name, (counts.get(hit.name) ?? 0) + 1);
    }
    const packed = deflateSync(rewritten, { level: 9 });
    if (packed.length > stream.end - stream.start) {
      // TODO: rewrite the file with a new cross-reference table when a rewritten object stream
      // grows; such PDFs are refused today.
      return `PDF object stream holding /${hits[0]?.name} cannot be rewritten in place`;
    }
    out.fill(0, stream.start, stream.end);
    packed.copy(out, stream.start);
  }
  return undefined;
}

/**
 * Names the first kind of active content found in a PDF, or undefined if it has none; used for
 * PDFs inside archives, which are refused rather than rewritten.
 */
export function findActivePdfContent(pdf: Buffer): string | undefined {
  const text = pdf.toString('latin1');
  if (hasName(text, 'Encrypt')) return 'encryption';
  const hit = findActiveSyntax(text)[0];
  if (hit) return `/${hit.name}`;
  const objectStreams = checkObjectStreams(pdf, text);
  return objectStreams === undefined ? undefined : 'active or undecodable object streams';
}

/** The outcome of {@link neutralisePdf}. */
export type PdfOutcome =
  | { outcome: 'unchanged' }
  | { outcome: 'neutralised'; bytes: Buffer; changes: string[] }
  | { outcome: 'refused'; reason: string };

/**
 * Neutralises scripts, automatic actions, launch actions and attachments in a PDF. Encrypted
 * PDFs, and PDFs whose active content sits in compressed object streams, are refused.
 */
export function neutralisePdf(pdf: Buffer): PdfOutcome {
  const text = pdf.toString('latin1');
  if (!text.startsWith('%PDF-')) return { outcome: 'refused', reason: 'not a PDF file' };
  if (hasName(text, 'Encrypt')) {
    return { outcome: 'refused', reason: 'encrypted PDF cannot be inspected' };
  }

  const out = Buffer.from(pdf);
  const changes: string[] = [];
  // The attachment's bytes stay in the file, unreachable; erasing them removes the payload too.
  const attachments = findStreams(text, 'EmbeddedFile');
  for (const stream of attachments) out.fill(0x20, stream.start, stream.end);
  if (attachments.length > 0) {
    changes.push(`erased the contents of ${attachments.length} embedded file(s) in the PDF`);
  }

  const counts = new Map<string, number>();
  // Names inside uncompressed streams are overwritten too: harmless there, and a stream that is
  // not what it seems cannot hide an object this way.
  for (const hit of findActiveSyntax(text)) {
    out.write(`/${'X'.repeat(hit.length - 1)}`, hit.at, 'latin1');
    counts.set(hit.name, (counts.get(hit.name) ?? 0) + 1);
  }
  const objectStreams = rewriteObjectStreams(pdf, text, out, counts);
  if (objectStreams !== undefined) return { outcome: 'refused', reason: objectStreams };
  for (const [name, count] of counts) changes.push(`neutralised /${name} in the PDF (${count}×)`);
  if (changes.length === 0) return { outcome: 'unchanged' };

  // Whatever the passes above missed, or new compressed bytes that happen to spell a name.
  const leftover = findActivePdfContent(out);
  if (leftover !== undefined) {
    return { outcome: 'refused', reason: `PDF could not be fully neutralised (${leftover})` };
  }
  return { outcome: 'neutralised', bytes: out, changes };
}
