/**
 * Canonical JSON: the one byte sequence every server produces for the same JSON value, which is
 * what hashes and signatures are computed over.
 * https://spec.matrix.org/v1.16/appendices/#canonical-json
 */

/**
 * Encodes a value as Matrix canonical JSON: object keys sorted by Unicode code point, no
 * insignificant whitespace, non-ASCII characters written as themselves rather than `\u` escapes.
 *
 * Numbers must be integers in [-(2^53)+1, (2^53)-1]; anything else throws, as does a string
 * holding a lone surrogate (it has no UTF-8 form) and any value JSON cannot hold (undefined in
 * an array, bigint, functions, class instances such as Date). Object properties whose value is
 * undefined are left out, as `JSON.stringify` does, so optional fields may be set to undefined.
 * `-0` is written as `0`.
 *
 * Encode the result with `Buffer.from(json, 'utf8')` before hashing or signing it.
 */
export function canonicalJson(value: unknown): string {
  return encodeValue(value, '');
}

/** Matches a UTF-16 surrogate that is not part of a pair (in `u` mode pairs count as one). */
const LONE_SURROGATE = /\p{Cs}/u;

function encodeValue(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return encodeNumber(value, path);
    case 'string':
      return encodeString(value, path);
    case 'object':
      if (Array.isArray(value)) return encodeArray(value, path);
      if (isPlainObject(value)) return encodeObject(value, path);
      throw new TypeError(`Canonical JSON cannot encode a ${typeName(value)} at ${at(path)}`);
    default:
      throw new TypeError(`Canonical JSON cannot encode a ${typeof value} at ${at(path)}`);
  }
}

function encodeNumber(value: number, path: string): string {
  if (!Number.isInteger(value)) {
    throw new RangeError(`Canonical JSON allows only integers, got ${value} at ${at(path)}`);
  }
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`Integer ${value} at ${at(path)} is outside [-(2^53)+1, (2^53)-1]`);
  }
  // Safe integers print without exponent or fraction; String(-0) is '0'.
  return String(value);
}

function encodeString(value: string, path: string): string {
  if (LONE_SURROGATE.test(value)) {
    throw new TypeError(`String at ${at(path)} holds a lone surrogate, which has no UTF-8 form`);
  }
  // JSON.stringify escapes exactly what the canonical grammar requires: `"`, `\`, and control
  // characters (as \b \t \n \f \r or lower-case \u00XX); everything else stays as it is.
  return JSON.stringify(value);
}

function encodeArray(values: readonly unknown[], path: string): string {
  const parts = values.map((item, index) => {
    if (item === undefined) {
      throw new TypeError(`Canonical JSON cannot encode undefined at ${at(`${path}[${index}]`)}`);
    }
    return encodeValue(item, `${path}[${index}]`);
  });
  return `[${parts.join(',')}]`;
}

function encodeObject(object: Record<string, unknown>, path: string): string {
  const keys = Object.keys(object)
    .filter((key) => object[key] !== undefined)
    .sort(compareCodePoints);
  const members = keys.map((key) => {
    const valuePath = `${path}.${key}`;
    return `${encodeString(key, valuePath)}:${encodeValue(object[key], valuePath)}`;
  });
  return `{${members.join(',')}}`;
}

/**
 * Orders strings by Unicode code point. The default sort compares UTF-16 code units, which puts
 * characters above U+FFFF (stored as surrogates, 0xD800-0xDFFF) before U+E000-U+FFFF.
 */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a.charCodeAt(i) !== b.charCodeAt(i)) {
      // At the first differing unit, codePointAt reads a whole surrogate pair when there is one.
      return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0);
    }
  }
  return a.length - b.length;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function typeName(value: object): string {
  const constructor: unknown = (value as { constructor?: unknown }).constructor;
  return typeof constructor === 'function' && constructor.name !== '' ? constructor.name : 'object';
}

function at(path: string): string {
  return path === '' ? 'the top level' : path.slice(path.startsWith('.') ? 1 : 0);
}
