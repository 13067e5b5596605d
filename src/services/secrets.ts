/** Passwords (argon2id) and access tokens (256 random bits, stored as a SHA-256 hash). */
import { createHash, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** Hashes a password with argon2id (the library's default algorithm and recommended cost). */
export async function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** A hash of a random password, verified against when the account does not exist, so that
 * a failed login takes as long whether or not the user id is taken. */
let decoyHash: Promise<string> | undefined;

/** Checks a password against a stored hash; a missing hash never matches. */
export async function verifyPassword(
  passwordHash: string | null,
  password: string,
): Promise<boolean> {
  if (passwordHash === null) {
    decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
    await verify(await decoyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** A new opaque access token. */
export function generateAccessToken(): string {
  return `mct_${randomBytes(32).toString('base64url')}`;
}

/** The form in which a token is stored and looked up. */
export function hashAccessToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A random identifier of `length` upper-case letters (device ids, as clients expect them). */
export function randomDeviceId(length = 10): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const bytes = randomBytes(length);
  let id = '';
  for (const b of bytes) id += letters[b % 26];
  return id;
}

/** A random url-safe string with `bytes` bytes of entropy. */
export function randomString(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}
