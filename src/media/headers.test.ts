import { describe, expect, it } from 'vitest';
import { contentDisposition, isInlineSafe, parseRange } from './headers.js';

describe('contentDisposition', () => {
  it('quotes a plain ASCII name', () => {
    expect(contentDisposition('inline', 'photo.png')).toBe('inline; filename="photo.png"');
  });

  it('gives a Japanese name as filename* with an ASCII fallback', () => {
    expect(contentDisposition('attachment', '会議資料.pdf')).toBe(
      `attachment; filename="____.pdf"; filename*=UTF-8''%E4%BC%9A%E8%AD%B0%E8%B3%87%E6%96%99.pdf`,
    );
  });

  it('escapes quotes and drops control characters', () => {
    expect(contentDisposition('attachment', 'a"b\\c\r\nd.txt')).toBe(
      'attachment; filename="a\\"b\\\\cd.txt"',
    );
  });

  it('percent-encodes characters outside attr-char in filename*', () => {
    expect(contentDisposition('attachment', "é (1)'.txt")).toBe(
      `attachment; filename="_ (1)'.txt"; filename*=UTF-8''%C3%A9%20%281%29%27.txt`,
    );
  });

  it('leaves the name out when there is none', () => {
    expect(contentDisposition('attachment', null)).toBe('attachment');
  });
});

describe('isInlineSafe', () => {
  it.each([
    ['image/png', true],
    ['Text/Plain; charset=utf-8', true],
    ['video/mp4', true],
    ['image/svg+xml', false],
    ['text/html', false],
    ['application/pdf', false],
    ['application/octet-stream', false],
  ])('%s → %s', (type, inline) => {
    expect(isInlineSafe(type)).toBe(inline);
  });
});

describe('parseRange', () => {
  it.each([
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=90-', { start: 90, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=95-200', { start: 95, end: 99 }],
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=0-1,5-6', undefined],
    ['items=0-1', undefined],
    ['bytes=9-3', undefined],
    [undefined, undefined],
  ] as const)('%s of 100 bytes', (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });
});
