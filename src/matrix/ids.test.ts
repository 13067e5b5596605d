import { describe, expect, it } from 'vitest';
import {
  isMxcUri,
  localpartProblem,
  parseUserId,
  resolveLoginUser,
  userIdFromLocalpart,
} from './ids.js';

describe('localpartProblem', () => {
  it.each(['alice', 'bob2', 'a.b_c=d-e/f+g', '0', 'x'.repeat(200)])('accepts %s', (localpart) => {
    expect(localpartProblem(localpart, 'hs1.test')).toBeUndefined();
  });

  it.each([
    ['an empty localpart', '', /empty/],
    ['upper case', 'Alice', /may only contain/],
    ['a space', 'al ice', /may only contain/],
    ['a colon', 'al:ice', /may only contain/],
    ['an @', '@alice', /may only contain/],
    ['non-ASCII', 'yamada太郎', /may only contain/],
    ['a leading underscore', '_bridge_bot', /underscore/],
  ])('refuses %s', (_what, localpart, message) => {
    expect(localpartProblem(localpart, 'hs1.test')).toMatch(message);
  });

  it('refuses a user id longer than 255 bytes, counting the server name', () => {
    const server = 'hs1.test';
    // `@` + localpart + `:` + server name
    const fits = 'a'.repeat(255 - 2 - server.length);
    expect(localpartProblem(fits, server)).toBeUndefined();
    expect(localpartProblem(`${fits}a`, server)).toMatch(/255 bytes/);
  });
});

describe('userIdFromLocalpart', () => {
  it('builds @localpart:server', () => {
    expect(userIdFromLocalpart('alice', 'hs1.test')).toBe('@alice:hs1.test');
  });
});

describe('parseUserId', () => {
  it('splits at the first colon, so the server name may carry a port', () => {
    expect(parseUserId('@alice:hs1.test')).toEqual({ localpart: 'alice', serverName: 'hs1.test' });
    expect(parseUserId('@alice:hs1.test:8448')).toEqual({
      localpart: 'alice',
      serverName: 'hs1.test:8448',
    });
  });

  it.each(['alice', 'alice:hs1.test', '@:hs1.test', '@alice', '@alice:', '!room:hs1.test'])(
    'refuses %s',
    (input) => {
      expect(parseUserId(input)).toBeUndefined();
    },
  );
});

describe('resolveLoginUser', () => {
  it('turns a localpart into a local user id', () => {
    expect(resolveLoginUser('alice', 'hs1.test')).toBe('@alice:hs1.test');
  });

  it('lower-cases what the user typed, as only lower-case localparts are registered', () => {
    expect(resolveLoginUser('Alice', 'hs1.test')).toBe('@alice:hs1.test');
    expect(resolveLoginUser('@ALICE:hs1.test', 'hs1.test')).toBe('@alice:hs1.test');
  });

  it('accepts a full user id on this server', () => {
    expect(resolveLoginUser('@alice:hs1.test', 'hs1.test')).toBe('@alice:hs1.test');
  });

  it('refuses a user id of another server', () => {
    expect(resolveLoginUser('@alice:hs2.test', 'hs1.test')).toBeUndefined();
  });

  it('refuses empty input and malformed user ids', () => {
    expect(resolveLoginUser('', 'hs1.test')).toBeUndefined();
    expect(resolveLoginUser('@', 'hs1.test')).toBeUndefined();
    expect(resolveLoginUser('@alice', 'hs1.test')).toBeUndefined();
  });
});

describe('isMxcUri', () => {
  it.each([
    'mxc://hs1.test/AbCdEf123',
    'mxc://hs1.test:8448/media_id-1',
    'mxc://127.0.0.1/abc',
    'mxc://[::1]:8008/abc',
  ])('accepts %s', (uri) => {
    expect(isMxcUri(uri)).toBe(true);
  });

  it.each([
    'mxc://',
    'mxc://hs1.test',
    'mxc://hs1.test/',
    'mxc:///abc',
    'mxc://hs1.test/abc/def',
    'mxc://hs1.test/abc def',
    'mxc://hs1 test/abc',
    'https://hs1.test/abc',
    'MXC://hs1.test/abc',
  ])('refuses %s', (uri) => {
    expect(isMxcUri(uri)).toBe(false);
  });
});
