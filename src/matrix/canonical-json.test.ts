import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  // The examples of the spec's appendix, given as the JSON text it shows (parsed here, as a
  // server would parse a request body), with the canonical form it expects.
  it.each([
    ['{}', '{}'],
    ['{\n    "one": 1,\n    "two": "Two"\n}', '{"one":1,"two":"Two"}'],
    ['{\n    "b": "2",\n    "a": "1"\n}', '{"a":"1","b":"2"}'],
    ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
    [
      `{
        "auth": {
          "success": true,
          "mxid": "@john.doe:example.com",
          "profile": {
            "display_name": "John Doe",
            "three_pids": [
              { "medium": "email", "address": "john.doe@example.org" },
              { "medium": "msisdn", "address": "123456789" }
            ]
          }
        }
      }`,
      '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe",' +
        '"three_pids":[{"address":"john.doe@example.org","medium":"email"},' +
        '{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    ],
    ['{\n    "a": "日本語"\n}', '{"a":"日本語"}'],
    ['{\n    "本": 2,\n    "日": 1\n}', '{"日":1,"本":2}'],
    ['{\n    "a": "\\u65E5"\n}', '{"a":"日"}'],
    ['{\n    "a": null\n}', '{"a":null}'],
    ['{\n    "a": -0,\n    "b": 1e10\n}', '{"a":0,"b":10000000000}'],
  ])('encodes the spec example %s', (input, expected) => {
    expect(canonicalJson(JSON.parse(input))).toBe(expected);
  });

  it('sorts keys by code point, not by UTF-16 code unit', () => {
    // U+FFFF sorts before U+1F600 by code point; as UTF-16 the emoji starts with 0xD83D < 0xFFFF.
    expect(canonicalJson({ '😀': 2, '\uffff': 1, a: 0 })).toBe('{"a":0,"\uffff":1,"😀":2}');
  });

  it('sorts a key before the longer keys it prefixes', () => {
    expect(canonicalJson({ ab: 2, a: 1, b: 3 })).toBe('{"a":1,"ab":2,"b":3}');
  });

  it('escapes only quotes, backslashes and control characters', () => {
    const value = 'q" b\\ \b\t\n\f\r \u0000 \u001f \u007f / é \u2028 😀';
    expect(canonicalJson(value)).toBe(
      '"q\\" b\\\\ \\b\\t\\n\\f\\r \\u0000 \\u001f \u007f / é \u2028 😀"',
    );
  });

  it('escapes control characters in keys too', () => {
    expect(canonicalJson({ 'a\nb': true })).toBe('{"a\\nb":true}');
  });

  it('writes arrays in order and booleans as literals', () => {
    expect(canonicalJson([3, 1, [false, true], {}, []])).toBe('[3,1,[false,true],{},[]]');
  });

  it('accepts the extreme integers of the allowed range', () => {
    expect(canonicalJson([2 ** 53 - 1, -(2 ** 53) + 1])).toBe(
      '[9007199254740991,-9007199254740991]',
    );
  });

  it.each([
    ['a fraction', 1.5, /only integers/],
    ['NaN', Number.NaN, /only integers/],
    ['Infinity', Number.POSITIVE_INFINITY, /only integers/],
    ['2^53', 2 ** 53, /outside/],
    ['-(2^53)', -(2 ** 53), /outside/],
  ])('refuses %s', (_what, value, message) => {
    expect(() => canonicalJson({ depth: value })).toThrow(message);
  });

  it('names the path of a refused value', () => {
    expect(() => canonicalJson({ content: { list: [1, 0.5] } })).toThrow(/content\.list\[1\]/);
  });

  it('refuses a string with a lone surrogate', () => {
    expect(() => canonicalJson({ body: 'a\ud800b' })).toThrow(/lone surrogate/);
    expect(() => canonicalJson({ '\udc00': 1 })).toThrow(/lone surrogate/);
  });

  it.each([
    ['undefined at the top level', undefined],
    ['undefined in an array', [undefined]],
    ['a bigint', 1n],
    ['a function', () => 1],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
  ])('refuses %s', (_what, value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });

  it('leaves out properties whose value is undefined', () => {
    expect(canonicalJson({ a: 1, state_key: undefined })).toBe('{"a":1}');
  });

  it('accepts objects without a prototype', () => {
    const object = Object.create(null) as Record<string, unknown>;
    object.b = 1;
    object.a = 2;
    expect(canonicalJson(object)).toBe('{"a":2,"b":1}');
  });
});
