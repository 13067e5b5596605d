import { describe, expect, it } from 'vitest';
import {
  decodeBase64,
  decodeBase64Url,
  encodeUnpaddedBase64,
  encodeUnpaddedBase64Url,
  generateSigningKey,
  parseSigningKey,
  serializeSigningKey,
  signingKeyFromSeed,
  signJson,
  verifyJsonSignature,
} from './signing.js';

/** The key of the spec's cryptographic test vectors (appendices, Signing Key). */
const SPEC_SEED = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';
const specKey = signingKeyFromSeed('ed25519:1', decodeBase64(SPEC_SEED));

describe('encodeUnpaddedBase64', () => {
  it.each([
    ['', ''],
    ['f', 'Zg'],
    ['fo', 'Zm8'],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg'],
    ['fooba', 'Zm9vYmE'],
    ['foobar', 'Zm9vYmFy'],
  ])('encodes %j as the spec example %j', (text, expected) => {
    expect(encodeUnpaddedBase64(Buffer.from(text))).toBe(expected);
  });

  it('uses + and / where the URL-safe form uses - and _', () => {
    const bytes = Uint8Array.from([0xfb, 0xff, 0xbf]);
    expect(encodeUnpaddedBase64(bytes)).toBe('+/+/');
    expect(encodeUnpaddedBase64Url(bytes)).toBe('-_-_');
    expect(encodeUnpaddedBase64Url(Uint8Array.from([0xfb]))).toBe('-w');
  });
});

describe('decodeBase64', () => {
  it('accepts input with and without padding', () => {
    expect(decodeBase64('Zm9vYg').toString()).toBe('foob');
    expect(decodeBase64('Zm9vYg==').toString()).toBe('foob');
    expect(decodeBase64('Zm9vYmE=').toString()).toBe('fooba');
  });

  it.each([
    ['a URL-safe character', '-w'],
    ['a space', 'Zm 9v'],
    ['an impossible length', 'Zm9vY'],
    ['partial padding', 'Zg='],
    ['padding in the middle', 'Zg==Zg'],
  ])('refuses %s', (_what, text) => {
    expect(() => decodeBase64(text)).toThrow(/Not valid base64/);
  });
});

describe('decodeBase64Url', () => {
  it('decodes the URL-safe alphabet and refuses the standard one', () => {
    expect([...decodeBase64Url('-_-_')]).toEqual([0xfb, 0xff, 0xbf]);
    expect(() => decodeBase64Url('+/+/')).toThrow(/Not valid base64url/);
  });
});

describe('generateSigningKey', () => {
  it('makes an ed25519 key with an a_XXXX version and a 32-byte public key', () => {
    const key = generateSigningKey();
    expect(key.keyId).toMatch(/^ed25519:a_[A-Za-z]{4}$/);
    expect(decodeBase64(key.publicKeyBase64)).toHaveLength(32);
    expect(key.publicKeyBase64).not.toContain('=');
  });

  it('makes a different key each time', () => {
    expect(generateSigningKey().publicKeyBase64).not.toBe(generateSigningKey().publicKeyBase64);
  });
});

describe('signingKeyFromSeed', () => {
  it('refuses a key id of another algorithm, a bad version, or a seed of the wrong size', () => {
    const seed = decodeBase64(SPEC_SEED);
    expect(() => signingKeyFromSeed('curve25519:1', seed)).toThrow(/ed25519/);
    expect(() => signingKeyFromSeed('ed25519:a-b', seed)).toThrow(/Key version/);
    expect(() => signingKeyFromSeed('ed25519:1', seed.subarray(1))).toThrow(/32 bytes/);
  });
});

describe('serializeSigningKey / parseSigningKey', () => {
  it('writes the key version and the seed in unpadded base64', () => {
    // The spec's seed sets two unused trailing bits in its last character; re-encoding clears them.
    expect(serializeSigningKey(specKey)).toBe(`ed25519 1 ${SPEC_SEED.slice(0, -1)}0`);
  });

  it('reads back the same key', () => {
    const key = generateSigningKey();
    const parsed = parseSigningKey(`${serializeSigningKey(key)}\n`);
    expect(parsed.keyId).toBe(key.keyId);
    expect(parsed.publicKeyBase64).toBe(key.publicKeyBase64);
    const signed = signJson({ a: 1 }, 'hs1.test', parsed.keyId, parsed.privateKey);
    expect(verifyJsonSignature(signed, 'hs1.test', key.keyId, key.publicKeyBase64)).toBe(true);
  });

  it.each([
    ['an empty string', ''],
    ['a missing seed', 'ed25519 a_AbCd'],
    ['another algorithm', `curve25519 a_AbCd ${SPEC_SEED}`],
    ['a seed that is not base64', 'ed25519 a_AbCd not*base64'],
    ['a short seed', 'ed25519 a_AbCd Zm9vYmFy'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseSigningKey(text)).toThrow();
  });
});

describe('signJson', () => {
  // The spec's JSON signing test vectors (appendices, Cryptographic Test Vectors).
  const EMPTY_OBJECT_SIGNATURE =
    'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ';
  const DATA_VALUES_SIGNATURE =
    'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw';

  it('reproduces the spec signature of an empty object', () => {
    expect(signJson({}, 'domain', specKey.keyId, specKey.privateKey)).toEqual({
      signatures: { domain: { 'ed25519:1': EMPTY_OBJECT_SIGNATURE } },
    });
  });

  it('reproduces the spec signature of an object with data values', () => {
    expect(signJson({ one: 1, two: 'Two' }, 'domain', specKey.keyId, specKey.privateKey)).toEqual({
      one: 1,
      signatures: { domain: { 'ed25519:1': DATA_VALUES_SIGNATURE } },
      two: 'Two',
    });
  });

  it('leaves signatures and unsigned out of what it signs, and keeps both', () => {
    const plain = signJson({ one: 1, two: 'Two' }, 'domain', specKey.keyId, specKey.privateKey);
    const object = {
      one: 1,
      two: 'Two',
      unsigned: { age_ts: 5 },
      signatures: { other: { 'ed25519:x': 'sig' } },
    };
    const signed = signJson(object, 'domain', specKey.keyId, specKey.privateKey);
    expect(signed.signatures).toEqual({
      other: { 'ed25519:x': 'sig' },
      domain: plain.signatures.domain,
    });
    expect(signed.unsigned).toEqual({ age_ts: 5 });
  });

  it('adds a second key of the same server beside the first', () => {
    const other = generateSigningKey();
    const once = signJson({ a: 1 }, 'domain', specKey.keyId, specKey.privateKey);
    const twice = signJson(once, 'domain', other.keyId, other.privateKey);
    expect(Object.keys(twice.signatures.domain ?? {}).sort()).toEqual(
      [specKey.keyId, other.keyId].sort(),
    );
  });

  it('does not change the object it was given', () => {
    const object = { a: 1 };
    signJson(object, 'domain', specKey.keyId, specKey.privateKey);
    expect(object).toEqual({ a: 1 });
  });
});

describe('verifyJsonSignature', () => {
  const signed = signJson({ one: 1, two: 'Two' }, 'domain', specKey.keyId, specKey.privateKey);
  const publicKey = specKey.publicKeyBase64;

  it('accepts a valid signature, whatever unsigned holds', () => {
    expect(verifyJsonSignature(signed, 'domain', 'ed25519:1', publicKey)).toBe(true);
    const withUnsigned = { ...signed, unsigned: { age: 1 } };
    expect(verifyJsonSignature(withUnsigned, 'domain', 'ed25519:1', publicKey)).toBe(true);
  });

  it('refuses an object changed after signing', () => {
    expect(verifyJsonSignature({ ...signed, one: 2 }, 'domain', 'ed25519:1', publicKey)).toBe(
      false,
    );
  });

  it('refuses another server, another key id, or another public key', () => {
    expect(verifyJsonSignature(signed, 'other', 'ed25519:1', publicKey)).toBe(false);
    expect(verifyJsonSignature(signed, 'domain', 'ed25519:2', publicKey)).toBe(false);
    const stranger = generateSigningKey().publicKeyBase64;
    expect(verifyJsonSignature(signed, 'domain', 'ed25519:1', stranger)).toBe(false);
  });

  it.each([
    ['no signatures', { one: 1 }],
    ['signatures that are not an object', { one: 1, signatures: 'x' }],
    ['a signature that is not a string', { one: 1, signatures: { domain: { 'ed25519:1': 5 } } }],
    ['a signature that is not base64', { one: 1, signatures: { domain: { 'ed25519:1': '*' } } }],
    ['a truncated signature', { one: 1, signatures: { domain: { 'ed25519:1': 'Zm9v' } } }],
  ])('returns false for %s', (_what, object) => {
    expect(verifyJsonSignature(object, 'domain', 'ed25519:1', publicKey)).toBe(false);
  });

  it('returns false for a malformed public key or a non-ed25519 key id', () => {
    expect(verifyJsonSignature(signed, 'domain', 'ed25519:1', 'Zm9v')).toBe(false);
    expect(verifyJsonSignature(signed, 'domain', 'ed25519:1', '!')).toBe(false);
    expect(verifyJsonSignature(signed, 'domain', 'curve25519:1', publicKey)).toBe(false);
  });

  it('returns false when the object holds a value canonical JSON refuses', () => {
    expect(verifyJsonSignature({ ...signed, n: 0.5 }, 'domain', 'ed25519:1', publicKey)).toBe(
      false,
    );
  });
});
