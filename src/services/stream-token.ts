/**
 * Stream tokens: the opaque strings clients get as `next_batch`, `prev_batch`, `start` and `end`.
 * A token is one stream position written `s<position>`. A sync token (`next_batch` of `/sync`)
 * also says how much of the typing notifications the client has seen: `s<position>_t<serial>`.
 * Endpoints that page through events read only the position and ignore anything after `_`.
 */
import { MatrixError } from '../errors.js';

/** What a `/sync` token says the client has seen. */
export interface SyncToken {
  /** Every stream change at or below this position. */
  position: number;
  /** Every typing change up to this serial (see `Typing`); absent when nothing was seen. */
  typing?: number;
}

export function formatToken(position: number): string {
  return `s${position}`;
}

/** Reads a token; anything this server did not issue is a 400, never a crash. */
export function parseToken(token: string, name = 'token'): number {
  const match = /^s(\d{1,15})(?:_.*)?$/.exec(token);
  if (!match) throw new MatrixError('M_INVALID_PARAM', `Invalid ${name}`);
  return Number(match[1]);
}

/** Writes a `/sync` token: the stream position and the typing serial. */
export function formatSyncToken(position: number, typing: number): string {
  return `s${position}_t${typing}`;
}

/**
 * Reads a `/sync` token, with or without its typing part (a token without one, such as a
 * `prev_batch`, means no typing was seen). Anything else is a 400.
 */
export function parseSyncToken(token: string, name = 'since'): SyncToken {
  const match = /^s(\d{1,15})(?:_t(\d{1,15}))?$/.exec(token);
  if (!match) throw new MatrixError('M_INVALID_PARAM', `Invalid ${name}`);
  return {
    position: Number(match[1]),
    ...(match[2] !== undefined ? { typing: Number(match[2]) } : {}),
  };
}
