import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { MediaStore } from './store.js';

const root = mkdtempSync(join(tmpdir(), 'machi-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const store = new MediaStore(root);

describe('MediaStore.receive', () => {
  it('stores received bytes once under their sha256', async () => {
    const first = await store.receive(Readable.from([Buffer.from('ab'), Buffer.from('c')]), 10);
    await store.commit(first.path, first.sha256);
    const second = await store.receive(Readable.from([Buffer.from('abc')]), 10);
    await store.commit(second.path, second.sha256);
    expect(first.sha256).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(readFileSync(store.pathOf(first.sha256), 'utf8')).toBe('abc');
    expect(readdirSync(store.tmpDir)).toEqual([]);
  });

  it('refuses a body over the limit with M_TOO_LARGE and keeps nothing', async () => {
    const body = Readable.from([Buffer.alloc(6), Buffer.alloc(6)]);
    await expect(store.receive(body, 10)).rejects.toMatchObject({ errcode: 'M_TOO_LARGE' });
    expect(readdirSync(store.tmpDir)).toEqual([]);
  });

  it('keeps nothing of a body cut off half way', async () => {
    const body = new Readable({ read() {} });
    body.push(Buffer.from('partial'));
    setTimeout(() => body.destroy(new Error('client went away')), 10);
    await expect(store.receive(body, 1000)).rejects.toThrow('client went away');
    expect(readdirSync(store.tmpDir)).toEqual([]);
  });

  it('refuses to build a path from anything but a sha256', () => {
    expect(() => store.pathOf('../../etc/passwd')).toThrow();
    expect(existsSync(join(root, 'content'))).toBe(true);
  });
});
