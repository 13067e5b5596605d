import { gzipSync } from 'node:zlib';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { MiB, useUploads, expectBlocked, PE_HEADER } from './sanitize-test-support.js';

const { upload } = useUploads();

describe('sanitizeUpload: archives', () => {
  it('refuses a zip bomb by its declared size', async () => {
    const bomb = zipSync({ 'zeros.bin': new Uint8Array(200 * MiB) }, { level: 9 });
    expect(bomb.length).toBeLessThan(MiB);

    const { result } = await upload(bomb, { fileName: 'data.zip' });

    expectBlocked(result, /expands to more than/);
  });

  it('refuses a zip whose central directory understates the expanded size', async () => {
    const zip = Buffer.from(zipSync({ 'zeros.bin': new Uint8Array(60 * MiB) }, { level: 9 }));
    // Make both headers claim 1000 bytes; the inflation cap must still stop it.
    const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    zip.writeUInt32LE(1000, central + 24);
    zip.writeUInt32LE(1000, 22);

    const { result } = await upload(zip, { fileName: 'small.zip' });

    expectBlocked(result, /expands to more than/);
  });

  it('refuses a zip containing an .exe', async () => {
    const zip = zipSync({ 'docs/readme.txt': strToU8('hi'), 'docs/setup.exe': PE_HEADER });
    expectBlocked((await upload(zip, { fileName: 'docs.zip' })).result, /setup\.exe/);
  });

  it('refuses a zip containing a program under a harmless name', async () => {
    const zip = zipSync({ 'readme.txt': PE_HEADER });
    expectBlocked((await upload(zip, { fileName: 'docs.zip' })).result, /program/);
  });

  it('passes zips nested two deep and refuses three', async () => {
    const inner = zipSync({ 'a.txt': strToU8('a') });
    const two = zipSync({ 'inner.zip': inner });
    const { result } = await upload(two, { fileName: 'two.zip' });
    expect(result.outcome !== 'blocked' && result.contentType).toBe('application/zip');

    const three = zipSync({ 'two.zip': two });
    expectBlocked((await upload(three, { fileName: 'three.zip' })).result, /nested/);
  });

  it('refuses a tar.gz holding a script and passes one holding text', async () => {
    function tar(name: string, body: string, type = '0'): Buffer {
      const header = Buffer.alloc(512);
      header.write(name, 0);
      header.write('0000644\0', 100);
      header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
      header.write(type, 156);
      header.write('ustar\0', 257);
      const data = Buffer.alloc(Math.ceil(body.length / 512) * 512);
      data.write(body);
      return Buffer.concat([header, data, Buffer.alloc(1024)]);
    }
    const bad = gzipSync(tar('install.sh', '#!/bin/sh\nrm -rf ~\n'));
    expectBlocked((await upload(bad, { fileName: 'x.tar.gz' })).result, /install\.sh/);

    const record = ' path=evil.exe\n';
    const pax = `${record.length + 2}${record}`;
    const hidden = Buffer.concat([
      tar('PaxHeader', pax, 'x').subarray(0, 1024),
      tar('notes.txt', 'plain words\n'),
    ]);
    expectBlocked((await upload(gzipSync(hidden), { fileName: 'x.tgz' })).result, /evil\.exe/);

    const good = gzipSync(tar('notes.txt', 'plain words\n'));
    const { result } = await upload(good, { fileName: 'notes.tar.gz' });
    expect(result.outcome !== 'blocked' && result.contentType).toBe('application/gzip');
  });

  it('refuses archives it cannot inspect', async () => {
    const sevenZip = Buffer.concat([
      Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]),
      Buffer.alloc(32),
    ]);
    expectBlocked((await upload(sevenZip, { fileName: 'a.7z' })).result, /cannot be inspected/);
  });
});
