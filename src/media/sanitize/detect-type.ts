/**
 * Reads what a file really is from its first bytes, ignoring what the client says it is.
 */

/**
 * The broad kind of a file, which decides how the pipeline treats it: `image` is re-encoded,
 * `svg` converted, `pdf` neutralised, `zip`/`tar`/`gzip` inspected, `ole2` follows the macro
 * policy, `executable`, `script`, `html` and `opaque-archive` are refused.
 */
export type FileFamily =
  | 'image'
  | 'svg'
  | 'html'
  | 'executable'
  | 'script'
  | 'ole2'
  | 'zip'
  | 'tar'
  | 'gzip'
  | 'opaque-archive'
  | 'pdf'
  | 'media'
  | 'text'
  | 'binary';

/** The outcome of sniffing a file's first bytes. */
export interface DetectedType {
  family: FileFamily;
  /** The content type the bytes show, e.g. `image/png`. */
  type: string;
}

/** How many leading bytes {@link detectType} wants to see. */
export const SNIFF_BYTES = 64 * 1024;

function startsWith(head: Uint8Array, signature: readonly number[], at = 0): boolean {
  if (head.length < at + signature.length) return false;
  return signature.every((byte, i) => head[at + i] === byte);
}

function ascii(head: Uint8Array, at: number, length: number): string {
  return Buffer.from(head.subarray(at, at + length)).toString('latin1');
}

/** ISO base media files (MP4, QuickTime, HEIF, AVIF) tell their flavour in the `ftyp` box. */
function detectIsoMedia(head: Uint8Array): DetectedType | undefined {
  if (ascii(head, 4, 4) !== 'ftyp') return undefined;
  const boxSize = Buffer.from(head).readUInt32BE(0);
  const brands: string[] = [ascii(head, 8, 4)];
  for (let at = 16; at + 4 <= Math.min(boxSize, head.length, 256); at += 4) {
    brands.push(ascii(head, at, 4));
  }
  if (brands.some((b) => b === 'avif' || b === 'avis'))
    return { family: 'image', type: 'image/avif' };
  const heif = ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'];
  if (brands.some((b) => heif.includes(b))) return { family: 'image', type: 'image/heic' };
  if (brands[0] === 'qt  ') return { family: 'media', type: 'video/quicktime' };
  if (brands[0] === 'M4A ') return { family: 'media', type: 'audio/mp4' };
  return { family: 'media', type: 'video/mp4' };
}

const BINARY_SIGNATURES: readonly {
  bytes: readonly number[];
  at?: number;
  detected: DetectedType;
}[] = [
  { bytes: [0xff, 0xd8, 0xff], detected: { family: 'image', type: 'image/jpeg' } },
  {
    bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    detected: { family: 'image', type: 'image/png' },
  },
  { bytes: [0x47, 0x49, 0x46, 0x38], detected: { family: 'image', type: 'image/gif' } },
  { bytes: [0x49, 0x49, 0x2a, 0x00], detected: { family: 'image', type: 'image/tiff' } },
  { bytes: [0x4d, 0x4d, 0x00, 0x2a], detected: { family: 'image', type: 'image/tiff' } },
  { bytes: [0x4d, 0x5a], detected: { family: 'executable', type: 'application/x-msdownload' } },
  {
    bytes: [0x7f, 0x45, 0x4c, 0x46],
    detected: { family: 'executable', type: 'application/x-executable' },
  },
  // Mach-O, 32 and 64 bit, both byte orders, and universal binaries (which share their magic
  // with Java class files; both are refused).
  ...[
    [0xfe, 0xed, 0xfa, 0xce],
    [0xfe, 0xed, 0xfa, 0xcf],
    [0xce, 0xfa, 0xed, 0xfe],
    [0xcf, 0xfa, 0xed, 0xfe],
    [0xca, 0xfe, 0xba, 0xbe],
  ].map((bytes) => ({
    bytes,
    detected: { family: 'executable' as const, type: 'application/x-mach-binary' },
  })),
  { bytes: [0x00, 0x61, 0x73, 0x6d], detected: { family: 'executable', type: 'application/wasm' } },
  {
    bytes: [0x64, 0x65, 0x78, 0x0a],
    detected: { family: 'executable', type: 'application/x-dex' },
  },
  {
    bytes: [0x4c, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00],
    detected: { family: 'executable', type: 'application/x-ms-shortcut' },
  },
  {
    bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
    detected: { family: 'ole2', type: 'application/x-ole-storage' },
  },
  { bytes: [0x50, 0x4b, 0x03, 0x04], detected: { family: 'zip', type: 'application/zip' } },
  { bytes: [0x50, 0x4b, 0x05, 0x06], detected: { family: 'zip', type: 'application/zip' } },
  { bytes: [0x50, 0x4b, 0x07, 0x08], detected: { family: 'zip', type: 'application/zip' } },
  {
    bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c],
    detected: { family: 'opaque-archive', type: 'application/x-7z-compressed' },
  },
  {
    bytes: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07],
    detected: { family: 'opaque-archive', type: 'application/vnd.rar' },
  },
  { bytes: [0x1f, 0x8b, 0x08], detected: { family: 'gzip', type: 'application/gzip' } },
  ...[0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39].map((level) => ({
    bytes: [0x42, 0x5a, 0x68, level],
    detected: { family: 'opaque-archive' as const, type: 'application/x-bzip2' },
  })),
  {
    bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
    detected: { family: 'opaque-archive', type: 'application/x-xz' },
  },
  {
    bytes: [0x28, 0xb5, 0x2f, 0xfd],
    detected: { family: 'opaque-archive', type: 'application/zstd' },
  },
  {
    bytes: [0x4d, 0x53, 0x43, 0x46],
    detected: { family: 'opaque-archive', type: 'application/vnd.ms-cab-compressed' },
  },
  {
    bytes: [0x75, 0x73, 0x74, 0x61, 0x72],
    at: 257,
    detected: { family: 'tar', type: 'application/x-tar' },
  },
  { bytes: [0x1a, 0x45, 0xdf, 0xa3], detected: { family: 'media', type: 'video/webm' } },
  { bytes: [0x4f, 0x67, 0x67, 0x53], detected: { family: 'media', type: 'audio/ogg' } },
  { bytes: [0x66, 0x4c, 0x61, 0x43], detected: { family: 'media', type: 'audio/flac' } },
  { bytes: [0x49, 0x44, 0x33], detected: { family: 'media', type: 'audio/mpeg' } },
];

/** Tags that make a browser treat a document as HTML when it starts with them. */
const HTML_OPENINGS = [
  '<!doctype html',
  '<html',
  '<head',
  '<body',
  '<script',
  '<iframe',
  '<style',
  '<title',
  '<table',
  '<div',
  '<font',
  '<h1',
  '<a ',
  '<a>',
  '<b>',
  '<br',
  '<p>',
  '<p ',
  '<img',
  '<object',
  '<embed',
  '<form',
  '<meta',
  '<link',
  '<base',
  '<!--',
];

/** Markers that show active markup anywhere in the first bytes of a text file. */
const ACTIVE_MARKUP = ['<script', '<iframe', '<html', '<!doctype html'];

function isProbablyText(head: Uint8Array): boolean {
  if (head.length === 0) return true;
  if (head.includes(0)) return false;
  // A cut at the end of the sniffed window may split one multi-byte character.
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const replacements = text.split('\uFFFD').length - 1;
  return replacements <= 1;
}

function detectText(head: Uint8Array): DetectedType {
  const text = new TextDecoder('utf-8').decode(head).replace(/^\uFEFF/, '');
  const trimmed = text.trimStart();
  const lower = trimmed.toLowerCase();
  if (lower.startsWith('#!')) return { family: 'script', type: 'text/x-shellscript' };
  if (/^@?echo\s+off\b/.test(lower)) return { family: 'script', type: 'application/x-bat' };
  if (lower.startsWith('<?xml') || lower.startsWith('<svg') || lower.startsWith('<!doctype svg')) {
    if (lower.includes('<svg')) return { family: 'svg', type: 'image/svg+xml' };
  }
  if (lower.includes('<svg') && /xmlns\s*=\s*["']http:\/\/www\.w3\.org\/2000\/svg/.test(lower)) {
    return { family: 'svg', type: 'image/svg+xml' };
  }
  if (HTML_OPENINGS.some((tag) => lower.startsWith(tag)))
    return { family: 'html', type: 'text/html' };
  if (ACTIVE_MARKUP.some((marker) => lower.includes(marker))) {
    return { family: 'html', type: 'text/html' };
  }
  if (lower.includes('http://www.w3.org/1999/xhtml')) return { family: 'html', type: 'text/html' };
  return { family: 'text', type: 'text/plain' };
}

/**
 * Detects a file's type from its first {@link SNIFF_BYTES} bytes. The result never depends on
 * the declared type or the file name, so a client cannot talk its way past the checks.
 */
export function detectType(head: Uint8Array): DetectedType {
  // Readers accept a PDF header anywhere in the first kilobyte; only one at the very start is
  // taken as a PDF here, so a script or page cannot pass itself off as one by mentioning it.
  if (ascii(head, 0, 5) === '%PDF-') return { family: 'pdf', type: 'application/pdf' };
  if (ascii(head, 0, 4) === 'RIFF') {
    const form = ascii(head, 8, 4);
    if (form === 'WEBP') return { family: 'image', type: 'image/webp' };
    if (form === 'WAVE') return { family: 'media', type: 'audio/wav' };
    if (form === 'AVI ') return { family: 'media', type: 'video/x-msvideo' };
  }
  const iso = detectIsoMedia(head);
  if (iso) return iso;
  for (const { bytes, at, detected } of BINARY_SIGNATURES) {
    if (startsWith(head, bytes, at)) return detected;
  }
  if (isProbablyText(head)) return detectText(head);
  return { family: 'binary', type: 'application/octet-stream' };
}
