/**
 * Server signing keys and signed JSON: ed25519 signatures over canonical JSON, as servers put on
 * events, key responses and federation requests.
 * https://spec.matrix.org/v1.16/appendices/#signing-json
 */
import {
  createPrivateKey,
  createPublicKey,
  randomBytes,
  randomInt,
  sign,
  verify,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** A server's ed25519 signing key with the key id it is published under. */
export interface SigningKey {
  /** Algorithm and version, as in `ed25519:a_AbCd`. */
  keyId: string;
  privateKey: KeyObject;
  /** The 32-byte public key in unpadded base64, as `/_matrix/key/v2/server` publishes it. */
  publicKeyBase64: string;
}

/** The `signatures` property of signed JSON: server name, then key id, then signature. */
export type Signatures = Record<string, Record<string, string>>;

const ED25519_PREFIX = 'ed25519:';
/** Key versions are limited to `[a-zA-Z0-9_]` by the spec's key id grammar. */
const KEY_VERSION_PATTERN = /^[A-Za-z0-9_]+$/;
const SEED_BYTES = 32;

// DER headers that wrap a raw 32-byte ed25519 seed (PKCS#8) or public key (SPKI), so node:crypto
// can import them (RFC 8410).
const PKCS8_ED25519_HEADER = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_HEADER = Buffer.from('302a300506032b6570032100', 'hex');

/** Encodes bytes as unpadded base64 (standard alphabet), the spec's encoding for binary data. */
export function encodeUnpaddedBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}

/** Encodes bytes as URL-safe unpadded base64 (`-` and `_`), as event ids of room v4+ use. */
export function encodeUnpaddedBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

/**
 * Decodes standard base64, padded or not, as the spec asks decoders to accept both.
 * Throws on characters outside the alphabet or an impossible length.
 */
export function decodeBase64(text: string): Buffer {
  return decodeChecked(text, /^[A-Za-z0-9+/]*={0,2}$/, 'base64');
}

/** Decodes URL-safe base64, padded or not. Throws on characters outside its alphabet. */
export function decodeBase64Url(text: string): Buffer {
  return decodeChecked(text, /^[A-Za-z0-9_-]*={0,2}$/, 'base64url');
}

function decodeChecked(text: string, alphabet: RegExp, encoding: 'base64' | 'base64url'): Buffer {
  const unpadded = text.replace(/=+$/, '');
  // Padding, when present, must bring the length to a multiple of four; one leftover character
  // cannot encode a byte.
  const paddingOk = unpadded.length === text.length || text.length % 4 === 0;
  if (!alphabet.test(text) || !paddingOk || unpadded.length % 4 === 1) {
    throw new TypeError(`Not valid ${encoding}`);
  }
  return Buffer.from(unpadded, encoding);
}

/** Creates a new ed25519 signing key with a random key id such as `ed25519:a_AbCd`. */
export function generateSigningKey(): SigningKey {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let version = 'a_';
  for (let i = 0; i < 4; i++) version += letters[randomInt(letters.length)];
  return signingKeyFromSeed(`${ED25519_PREFIX}${version}`, randomBytes(SEED_BYTES));
}

/** Builds the ed25519 signing key whose 32-byte private seed is given. */
export function signingKeyFromSeed(keyId: string, seed: Uint8Array): SigningKey {
  if (!keyId.startsWith(ED25519_PREFIX)) throw new TypeError(`Not an ed25519 key id: ${keyId}`);
  if (!KEY_VERSION_PATTERN.test(keyId.slice(ED25519_PREFIX.length))) {
    throw new TypeError(`Key version may only hold a-z, A-Z, 0-9 and _: ${keyId}`);
  }
  if (seed.length !== SEED_BYTES) {
    throw new TypeError(`An ed25519 seed is ${SEED_BYTES} bytes, got ${seed.length}`);
  }
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_HEADER, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKeyBase64 = encodeUnpaddedBase64(spki.subarray(SPKI_ED25519_HEADER.length));
  return { keyId, privateKey, publicKeyBase64 };
}

/**
 * Writes a signing key as one line, `ed25519 <version> <seed in unpadded base64>`: the layout of
 * the signing key files Matrix servers commonly keep, so a key can be carried over between them.
 * The line is the private key: store it as a secret.
 */
export function serializeSigningKey(key: SigningKey): string {
  const pkcs8 = key.privateKey.export({ format: 'der', type: 'pkcs8' });
  const seed = pkcs8.subarray(PKCS8_ED25519_HEADER.length);
  const version = key.keyId.slice(ED25519_PREFIX.length);
  return `ed25519 ${version} ${encodeUnpaddedBase64(seed)}`;
}

/** Reads a signing key written by {@link serializeSigningKey}; throws on anything else. */
export function parseSigningKey(text: string): SigningKey {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 3 || parts[0] !== 'ed25519') {
    throw new TypeError('Expected a signing key as "ed25519 <version> <base64 seed>"');
  }
  const [, version = '', seed = ''] = parts;
  return signingKeyFromSeed(`${ED25519_PREFIX}${version}`, decodeBase64(seed));
}

/**
 * Signs JSON as a server: returns a copy of `object` with this server's signature added under
 * `signatures[serverName][keyId]`, keeping the signatures already there.
 *
 * What is signed is the canonical JSON of the object without `signatures` and `unsigned`, so
 * either may change later without breaking the signature. To sign an event, sign its redacted
 * form (see `finalizeEvent` in event-hash.ts), not the event itself.
 */
export function signJson<T extends object>(
  object: T,
  serverName: string,
  keyId: string,
  privateKey: KeyObject,
): T & { signatures: Signatures } {
  const signature = sign(null, signedBytes(object), privateKey);
  const existing = (object as { signatures?: Signatures }).signatures ?? {};
  const signatures: Signatures = {
    ...existing,
    [serverName]: { ...existing[serverName], [keyId]: encodeUnpaddedBase64(signature) },
  };
  return { ...object, signatures };
}

/**
 * Checks that `object` carries a valid signature by `serverName` with the ed25519 key `keyId`
 * whose public key is given in unpadded base64. False when the signature is missing, malformed
 * or wrong, or when the key id is not ed25519.
 */
export function verifyJsonSignature(
  object: object,
  serverName: string,
  keyId: string,
  publicKeyBase64: string,
): boolean {
  if (!keyId.startsWith(ED25519_PREFIX)) return false;
  const signatures = (object as { signatures?: unknown }).signatures;
  const signature = readSignature(signatures, serverName, keyId);
  if (signature === undefined) return false;
  try {
    const publicKey = publicKeyFromBase64(publicKeyBase64);
    return verify(null, signedBytes(object), publicKey, decodeBase64(signature));
  } catch {
    // Malformed base64, a public key of the wrong length, or JSON that is not canonical-encodable.
    return false;
  }
}

/** The bytes a signature covers: canonical JSON without `signatures` and `unsigned`. */
function signedBytes(object: object): Buffer {
  const rest: Record<string, unknown> = { ...object };
  delete rest.signatures;
  delete rest.unsigned;
  return Buffer.from(canonicalJson(rest), 'utf8');
}

function readSignature(signatures: unknown, serverName: string, keyId: string): string | undefined {
  if (!isObject(signatures)) return undefined;
  const byServer = signatures[serverName];
  if (!isObject(byServer)) return undefined;
  const signature = byServer[keyId];
  return typeof signature === 'string' ? signature : undefined;
}

function publicKeyFromBase64(publicKeyBase64: string): KeyObject {
  const raw = decodeBase64(publicKeyBase64);
  if (raw.length !== 32) throw new TypeError('An ed25519 public key is 32 bytes');
  return createPublicKey({
    key: Buffer.concat([SPKI_ED25519_HEADER, raw]),
    format: 'der',
    type: 'spki',
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
