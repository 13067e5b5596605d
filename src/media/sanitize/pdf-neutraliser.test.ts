import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { useUploads, expectBlocked, outputOf } from './sanitize-test-support.js';

const { upload } = useUploads();

/** Builds a PDF with a correct cross-reference table from numbered object bodies. */
function pdf(objects: string[], trailer = '/Root 1 0 R'): Buffer {
  let body = '%PDF-1.7\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} ${trailer} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

describe('sanitizeUpload: PDF', () => {
  it('neutralises /OpenAction and /JS and keeps a valid file', async () => {
    const input = pdf([
      '<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R /Names << /JavaScript 5 0 R >> >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /AA << /O 4 0 R >> >>',
      '<< /Type /Action /S /JavaScript /JS (app.alert\\("hi"\\)) >>',
      '<< /Names [(a) 4 0 R] >>',
    ]);

    const { result } = await upload(input, {
      fileName: 'form.pdf',
      declaredType: 'application/pdf',
    });

    expect(result.outcome).toBe('sanitized');
    if (result.outcome !== 'sanitized') return;
    const out = await outputOf(result);
    const text = out.toString('latin1');
    expect(text.startsWith('%PDF')).toBe(true);
    expect(text).not.toMatch(/\/JavaScript|\/OpenAction|\/JS\b|\/AA\b/);
    expect(out.length).toBe(input.length);
    // Offsets are unchanged, so the cross-reference table still points at each object.
    expect(text.indexOf('3 0 obj')).toBe(input.toString('latin1').indexOf('3 0 obj'));
    expect(result.changes.join('\n')).toMatch(/\/OpenAction/);
    expect(result.changes.join('\n')).toMatch(/\/JS/);
  });

  it('sees through #-escaped names', async () => {
    const input = pdf([
      '<< /Type /Catalog /Open#41ction 2 0 R >>',
      '<< /S /J#61vaScript /JS (x) >>',
    ]);
    const { result } = await upload(input, { fileName: 'a.pdf' });
    const text = (await outputOf(result)).toString('latin1');
    expect(text).not.toMatch(/Open#41ction|J#61vaScript/);
  });

  it('leaves chance bytes inside compressed streams alone', async () => {
    const input = pdf([
      '<< /Type /Catalog >>',
      '<< /Filter /FlateDecode /Length 12 >>\nstream\n\x01/JS \x02/AA\x03\x04\nendstream',
    ]);
    const { result } = await upload(input, { fileName: 'a.pdf' });
    expect(result.outcome).toBe('clean');
  });

  it('does not let a stream hide an object from the scan', async () => {
    const input = pdf([
      '<< /Type /Catalog >>',
      '<< /Filter /FlateDecode /Length 99999 >>\nstream\n\x01\n6 0 obj << /OpenAction 7 0 R >> endobj\nendstream',
    ]);
    const { result } = await upload(input, { fileName: 'a.pdf' });
    expect((await outputOf(result)).toString('latin1')).not.toContain('/OpenAction');
  });

  it('erases embedded files', async () => {
    const input = pdf([
      '<< /Type /Catalog /Names << /EmbeddedFiles << /Names [(x.exe) 2 0 R] >> >> >>',
      '<< /Type /Filespec /F (x.exe) /EF << /F 3 0 R >> >>',
      '<< /Type /EmbeddedFile /Length 10 >>\nstream\nMZpayload!\nendstream',
    ]);
    const { result } = await upload(input, { fileName: 'a.pdf' });
    const text = (await outputOf(result)).toString('latin1');
    expect(text).not.toContain('MZpayload');
    expect(text).not.toMatch(/\/EmbeddedFiles?\b/);
  });

  it('passes a PDF without active content as it is', async () => {
    const input = pdf([
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [] /Count 0 >>',
    ]);
    const { result } = await upload(input, { fileName: 'a.pdf' });
    expect(result.outcome).toBe('clean');
  });

  it('blocks an encrypted PDF', async () => {
    const input = pdf(
      ['<< /Type /Catalog >>', '<< /Filter /Standard /V 2 >>'],
      '/Root 1 0 R /Encrypt 2 0 R',
    );
    expectBlocked((await upload(input, { fileName: 'a.pdf' })).result, /encrypted/);
  });

  function withObjectStream(content: Buffer, dictionary: string): Buffer {
    return Buffer.concat([
      pdf(['<< /Type /Catalog >>']),
      Buffer.from(
        `2 0 obj\n<< /Type /ObjStm /N 1 /First 4 ${dictionary} /Length ${content.length} >>\nstream\n`,
      ),
      content,
      Buffer.from('\nendstream\nendobj\n'),
    ]);
  }

  it('rewrites JavaScript hidden in a compressed object stream in place', async () => {
    const objects = Buffer.from('4 0 << /S /JavaScript /JS (x) >> 5 0 << /OpenAction 4 0 R >>');
    const input = withObjectStream(deflateSync(objects, { level: 1 }), '/Filter /FlateDecode');

    const { result } = await upload(input, { fileName: 'a.pdf' });

    expect(result.outcome).toBe('sanitized');
    const out = await outputOf(result);
    expect(out.length).toBe(input.length);
    const start = out.indexOf('stream\n', out.indexOf('/ObjStm')) + 'stream\n'.length;
    const end = out.indexOf('\nendstream', start);
    const decoded = inflateSync(out.subarray(start, end)).toString('latin1');
    expect(decoded).toHaveLength(objects.length);
    expect(decoded).not.toMatch(/\/JavaScript|\/JS\b|\/OpenAction/);
  });

  it('blocks an object stream it cannot decode', async () => {
    const input = withObjectStream(Buffer.from('00ff'), '/Filter /ASCIIHexDecode');
    expectBlocked((await upload(input, { fileName: 'a.pdf' })).result, /object stream/);
  });
});
