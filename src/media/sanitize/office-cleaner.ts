/**
 * Cleans Office Open XML packages (docx, xlsx, pptx and their macro-enabled and template
 * variants): removes VBA macros, ActiveX controls, external workbook links and relationships that
 * make Office fetch a template or object from elsewhere. OpenDocument packages are recognised
 * and refused if they carry macros.
 */

import { posix } from 'node:path';
import { zipSync } from 'fflate';
import {
  ExpansionLimitError,
  UnreadableArchiveError,
  inflateEntry,
  readZipEntries,
} from './zip-reader.js';
import type { ZipEntry } from './zip-reader.js';

const OOXML = 'application/vnd.openxmlformats-officedocument';

/** A main part's content type, the package's content type, and the macro-free equivalent. */
interface MainPart {
  main: string;
  file: string;
  /** For macro-enabled kinds: the main part content type to switch to once macros are gone. */
  macroFree?: string;
  /** Add-ins are nothing but code, so they cannot be made macro-free. */
  addIn?: boolean;
}

const MAIN_PARTS: readonly MainPart[] = [
  {
    main: `${OOXML}.wordprocessingml.document.main+xml`,
    file: `${OOXML}.wordprocessingml.document`,
  },
  {
    main: `${OOXML}.wordprocessingml.template.main+xml`,
    file: `${OOXML}.wordprocessingml.template`,
  },
  { main: `${OOXML}.spreadsheetml.sheet.main+xml`, file: `${OOXML}.spreadsheetml.sheet` },
  { main: `${OOXML}.spreadsheetml.template.main+xml`, file: `${OOXML}.spreadsheetml.template` },
  {
    main: `${OOXML}.presentationml.presentation.main+xml`,
    file: `${OOXML}.presentationml.presentation`,
  },
  { main: `${OOXML}.presentationml.slideshow.main+xml`, file: `${OOXML}.presentationml.slideshow` },
  { main: `${OOXML}.presentationml.template.main+xml`, file: `${OOXML}.presentationml.template` },
  {
    main: 'application/vnd.ms-word.document.macroEnabled.main+xml',
    file: 'application/vnd.ms-word.document.macroEnabled.12',
    macroFree: `${OOXML}.wordprocessingml.document.main+xml`,
  },
  {
    main: 'application/vnd.ms-word.template.macroEnabledTemplate.main+xml',
    file: 'application/vnd.ms-word.template.macroEnabled.12',
    macroFree: `${OOXML}.wordprocessingml.template.main+xml`,
  },
  {
    main: 'application/vnd.ms-excel.sheet.macroEnabled.main+xml',
    file: 'application/vnd.ms-excel.sheet.macroEnabled.12',
    macroFree: `${OOXML}.spreadsheetml.sheet.main+xml`,
  },
  {
    main: 'application/vnd.ms-excel.template.macroEnabled.main+xml',
    file: 'application/vnd.ms-excel.template.macroEnabled.12',
    macroFree: `${OOXML}.spreadsheetml.template.main+xml`,
  },
  {
    main: 'application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml',
    file: 'application/vnd.ms-powerpoint.presentation.macroEnabled.12',
    macroFree: `${OOXML}.presentationml.presentation.main+xml`,
  },
  {
    main: 'application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml',
    file: 'application/vnd.ms-powerpoint.slideshow.macroEnabled.12',
    macroFree: `${OOXML}.presentationml.slideshow.main+xml`,
  },
  {
    main: 'application/vnd.ms-powerpoint.template.macroEnabled.main+xml',
    file: 'application/vnd.ms-powerpoint.template.macroEnabled.12',
    macroFree: `${OOXML}.presentationml.template.main+xml`,
  },
  {
    main: 'application/vnd.ms-excel.addin.macroEnabled.main+xml',
    file: 'application/vnd.ms-excel.addin.macroEnabled.12',
    addIn: true,
  },
  {
    main: 'application/vnd.ms-powerpoint.addin.macroEnabled.main+xml',
    file: 'application/vnd.ms-powerpoint.addin.macroEnabled.12',
    addIn: true,
  },
];

/** Relationship types (the last segment of the type URI) that carry or fetch code. */
const CODE_RELATIONSHIPS = new Set(['vbaProject', 'wordVbaData', 'keyMapCustomizations']);
const ACTIVEX_RELATIONSHIPS = new Set(['control', 'activeXControl', 'activeXControlBinary']);
const EXTERNAL_LINK_RELATIONSHIPS = new Set(['externalLink', 'externalLinkPath']);
/** External targets of these types make Office fetch something when the file opens. */
const FETCHING_RELATIONSHIPS = new Set([
  'attachedTemplate',
  'oleObject',
  'frame',
  'subDocument',
  'externalLinkPath',
  'package',
]);

/** The outcome of {@link cleanOfficePackage}. */
export type OfficeOutcome =
  | { outcome: 'not-office' }
  | { outcome: 'unchanged'; contentType: string }
  | { outcome: 'cleaned'; bytes: Uint8Array; contentType: string; changes: string[] }
  | { outcome: 'refused'; reason: string };

/** Options of {@link cleanOfficePackage}. */
export interface OfficeOptions {
  /** Keep VBA macros (policy `blockMacroDocuments: false`). */
  allowMacros: boolean;
  /** Most bytes the package may expand to. */
  limitBytes: number;
}

function isMacroPart(name: string): boolean {
  const base = posix.basename(name).toLowerCase();
  return /^vbaproject.*\.bin$/.test(base) || base === 'vbadata.xml';
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(tag);
  return match?.[1] ?? match?.[2];
}

function decodeXmlAttribute(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The part a relationships part belongs to's folder: `word/_rels/document.xml.rels` → `word`. */
function relsBase(relsName: string): string {
  return posix.dirname(posix.dirname(relsName));
}

function resolveTarget(relsName: string, target: string): string {
  let decoded = target;
  try {
    decoded = decodeURIComponent(target);
  } catch {
    // A malformed escape is kept as written; it then matches no part and removes nothing.
  }
  if (decoded.startsWith('/')) return posix.normalize(decoded.slice(1));
  return posix.normalize(posix.join(relsBase(relsName), decoded));
}

/** The part a relationships part describes: `word/_rels/document.xml.rels` → `word/document.xml`. */
function relsSource(relsName: string): string {
  return posix.join(relsBase(relsName), posix.basename(relsName).replace(/\.rels$/, ''));
}

async function readAll(
  zip: Buffer,
  entries: ZipEntry[],
  limitBytes: number,
): Promise<Map<string, Buffer>> {
  let remaining = limitBytes;
  const parts = new Map<string, Buffer>();
  for (const entry of entries) {
    if (entry.isDirectory) continue;
    const { head, size } = await inflateEntry(zip, entry, remaining, entry.uncompressedSize);
    remaining -= size;
    parts.set(entry.name, head);
  }
  return parts;
}

async function checkOpenDocument(
  zip: Buffer,
  entries: ZipEntry[],
  options: OfficeOptions,
): Promise<OfficeOutcome> {
  const mimetype = entries.find((e) => e.name === 'mimetype');
  if (!mimetype || mimetype.uncompressedSize > 200) return { outcome: 'not-office' };
  const type = (await inflateEntry(zip, mimetype, 200, 200)).head.toString('latin1').trim();
  if (!type.startsWith('application/vnd.oasis.opendocument.')) return { outcome: 'not-office' };
  const hasMacros = entries.some((e) => /^(Basic|Scripts)\/.+[^/]$/.test(e.name));
  if (hasMacros && !options.allowMacros) {
    // TODO: strip Basic and script parts from OpenDocument files; those with macros are refused.
    return { outcome: 'refused', reason: 'OpenDocument file contains macros' };
  }
  return { outcome: 'unchanged', contentType: type };
}

/**
 * Cleans an Office Open XML package held in `zip`. Resolves to `not-office` for any other zip,
 * so the caller can inspect it as a plain archive instead.
 */
export async function cleanOfficePackage(
  zip: Buffer,
  options: OfficeOptions,
): Promise<OfficeOutcome> {
  try {
    return await cleanPackage(zip, options);
  } catch (error) {
    if (error instanceof ExpansionLimitError) {
      return {
        outcome: 'refused',
        reason: `document expands to more than ${options.limitBytes} bytes`,
      };
    }
    if (error instanceof UnreadableArchiveError) {
      return { outcome: 'refused', reason: `document cannot be inspected: ${error.message}` };
    }
    throw error;
  }
}

async function cleanPackage(zip: Buffer, options: OfficeOptions): Promise<OfficeOutcome> {
  const entries = readZipEntries(zip);
  if (!entries.some((e) => e.name === '[Content_Types].xml')) {
    return checkOpenDocument(zip, entries, options);
  }
  const declared = entries.reduce((sum, e) => sum + e.uncompressedSize, 0);
  if (declared > options.limitBytes) {
    return {
      outcome: 'refused',
      reason: `document expands to more than ${options.limitBytes} bytes`,
    };
  }
  const parts = await readAll(zip, entries, options.limitBytes);
  const contentTypes = parts.get('[Content_Types].xml')?.toString('utf8') ?? '';
  const mainPart = MAIN_PARTS.find((part) => contentTypes.includes(`"${part.main}"`));
  // Other packages built on the same container (Visio, XPS, 3MF…) are inspected as archives.
  if (!mainPart) return { outcome: 'not-office' };
  if (mainPart.addIn && !options.allowMacros) {
    return { outcome: 'refused', reason: 'Office add-ins are macro code and cannot be cleaned' };
  }
  const names = [...parts.keys()];
  if (!options.allowMacros && names.some((n) => /(^|\/)(macrosheets|dialogsheets)\//i.test(n))) {
    // TODO: remove Excel 4.0 macro sheets with their workbook entries; such files are refused.
    return { outcome: 'refused', reason: 'Excel 4.0 macro sheets cannot be removed' };
  }

  const changes: string[] = [];
  const removed = partsToRemove(names, options.allowMacros, changes);
  cleanRelationships(parts, removed, options.allowMacros, changes);
  for (const name of removed) parts.delete(name);
  const types = rewriteContentTypes(contentTypes, removed, mainPart, options.allowMacros, changes);
  if (!options.allowMacros) {
    const leftover = [...parts.keys()].find(isMacroPart);
    if (leftover !== undefined || /macroEnabled/i.test(types.xml)) {
      return { outcome: 'refused', reason: 'macros could not be removed from the document' };
    }
  }
  if (changes.length === 0) return { outcome: 'unchanged', contentType: types.contentType };

  const files: Record<string, Uint8Array> = { '[Content_Types].xml': Buffer.from(types.xml) };
  for (const [name, data] of parts) files[name] ??= data;
  return {
    outcome: 'cleaned',
    bytes: zipSync(files, { level: 6 }),
    contentType: types.contentType,
    changes,
  };
}

/** The parts that go: macros (unless allowed), ActiveX controls and external workbook links. */
function partsToRemove(names: string[], allowMacros: boolean, changes: string[]): Set<string> {
  const removed = new Set<string>();
  let activeX = 0;
  let links = 0;
  for (const name of names) {
    if (!allowMacros && isMacroPart(name)) {
      removed.add(name);
      changes.push(`removed macros (${name})`);
    } else if (/(^|\/)activeX\//i.test(name)) {
      removed.add(name);
      activeX++;
    } else if (/(^|\/)externalLinks\//i.test(name)) {
      removed.add(name);
      links++;
    }
  }
  if (activeX > 0) changes.push(`removed ${activeX} ActiveX control part(s)`);
  if (links > 0) changes.push(`removed ${links} external workbook link part(s)`);
  return removed;
}

/** Drops relationships to removed parts and to fetched external resources, in place. */
function cleanRelationships(
  parts: Map<string, Buffer>,
  removed: Set<string>,
  allowMacros: boolean,
  changes: string[],
): void {
  const droppedIds = new Map<string, string[]>();
  for (const [name, data] of parts) {
    if (!name.endsWith('.rels') || removed.has(name)) continue;
    const xml = data.toString('utf8');
    const ids: string[] = [];
    const cleaned = xml.replace(/<Relationship\b[^>]*?(?:\/>|>\s*<\/Relationship>)/g, (tag) => {
      const reason = relationshipRemoval(name, tag, removed, allowMacros);
      if (reason === undefined) return tag;
      const id = attribute(tag, 'Id');
      if (id !== undefined) ids.push(id);
      if (reason !== '') changes.push(reason);
      return '';
    });
    if (cleaned !== xml) {
      parts.set(name, Buffer.from(cleaned, 'utf8'));
      droppedIds.set(relsSource(name), ids);
    }
  }
  dropReferences(parts, droppedIds);
}

/**
 * Removes the content-type entries of removed parts and, when macros go, switches the main part
 * to its macro-free type. Returns the new `[Content_Types].xml` and the package's content type.
 */
function rewriteContentTypes(
  original: string,
  removed: Set<string>,
  mainPart: MainPart,
  allowMacros: boolean,
  changes: string[],
): { xml: string; contentType: string } {
  let xml = original;
  for (const name of removed) {
    const partName = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    xml = xml.replace(
      new RegExp(`<Override\\b[^>]*PartName\\s*=\\s*["']/${partName}["'][^>]*/>`, 'gi'),
      '',
    );
  }
  if (allowMacros) return { xml, contentType: mainPart.file };
  xml = xml.replace(
    /<Default\b[^>]*ContentType\s*=\s*["']application\/vnd\.ms-office\.vbaProject["'][^>]*\/>/gi,
    '',
  );
  const target = MAIN_PARTS.find((part) => part.main === mainPart.macroFree);
  if (mainPart.macroFree === undefined || target === undefined) {
    return { xml, contentType: mainPart.file };
  }
  changes.push(`converted the macro-enabled document to a macro-free one (${target.file})`);
  return {
    xml: xml.split(`"${mainPart.main}"`).join(`"${mainPart.macroFree}"`),
    contentType: target.file,
  };
}

/**
 * Why a relationship must go, as a change note ('' when the removal of its target is already
 * noted), or undefined to keep it.
 */
function relationshipRemoval(
  relsName: string,
  tag: string,
  removed: Set<string>,
  allowMacros: boolean,
): string | undefined {
  const type = (attribute(tag, 'Type') ?? '').split('/').pop() ?? '';
  const target = decodeXmlAttribute(attribute(tag, 'Target') ?? '');
  const external = (attribute(tag, 'TargetMode') ?? '').toLowerCase() === 'external';
  if (external) {
    if (FETCHING_RELATIONSHIPS.has(type))
      return `removed external ${type} relationship to ${target}`;
    return undefined;
  }
  if (removed.has(resolveTarget(relsName, target))) return '';
  if (!allowMacros && CODE_RELATIONSHIPS.has(type)) return '';
  if (ACTIVEX_RELATIONSHIPS.has(type) || EXTERNAL_LINK_RELATIONSHIPS.has(type)) return '';
  return undefined;
}

/** Removes the elements that pointed at relationships now gone, where Office would complain. */
function dropReferences(parts: Map<string, Buffer>, droppedIds: Map<string, string[]>): void {
  for (const [source, ids] of droppedIds) {
    const xml = parts.get(source)?.toString('utf8');
    if (xml === undefined || ids.length === 0) continue;
    let cleaned = xml;
    for (const id of ids) {
      const quoted = `r:id\\s*=\\s*["']${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']`;
      cleaned = cleaned
        .replace(new RegExp(`<w:attachedTemplate\\b[^>]*${quoted}[^>]*/>`, 'g'), '')
        .replace(new RegExp(`<externalReference\\b[^>]*${quoted}[^>]*/>`, 'g'), '');
      // TODO: remove the control and object elements that referenced ActiveX parts and external
      // objects; Office offers to repair such a document when it opens today.
    }
    cleaned = cleaned.replace(/<externalReferences>\s*<\/externalReferences>/g, '');
    if (cleaned !== xml) parts.set(source, Buffer.from(cleaned, 'utf8'));
  }
}
