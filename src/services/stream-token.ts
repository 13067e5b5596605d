/**
 * Stream tokens: the opaque strings clients get as `next_batch`, `prev_batch`, `start` and `end`.
 * Today a token is one stream position written `s<position>`; parsing accepts only that.
 */
import { MatrixError } from '../errors.js';

export function formatToken(position: number): string {
  return `s${position}`;
}

/** Reads a token; anything this server did not issue is a 400, never a crash. */
export function parseToken(token: string, name = 'token'): number {
  const match = /^s(\d{1,15})(?:_.*)?$/.exec(token);
  if (!match) throw new MatrixError('M_INVALID_PARAM', `Invalid ${name}`);
  return Number(match[1]);
}
