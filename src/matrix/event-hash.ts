/**
 * Event hashes, event ids and event signing for room version 11 (event ids as in room v4+).
 * https://spec.matrix.org/v1.16/server-server-api/#signing-events
 */
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { Pdu, UnsignedPdu } from './event.js';
import { redactEventJson } from './redaction.js';
import { encodeUnpaddedBase64, encodeUnpaddedBase64Url, signJson } from './signing.js';

/**
 * Computes an event's content hash: SHA-256 over the canonical JSON of the whole, unredacted event
 * without `unsigned`, `signatures` and `hashes`, in unpadded base64. This is the value servers put
 * in `hashes.sha256`; it lets a receiver tell whether the content it got was altered or redacted.
 *
 * `event` is event JSON of any shape: a Pdu, an UnsignedPdu, or an event as received.
 */
export function computeContentHash(event: object): string {
  const hashed: Record<string, unknown> = { ...event };
  delete hashed.unsigned;
  delete hashed.signatures;
  delete hashed.hashes;
  return encodeUnpaddedBase64(sha256(canonicalJson(hashed)));
}

/**
 * Computes an event's reference hash: SHA-256 over the canonical JSON of the event redacted by the
 * room version 11 algorithm, without `signatures` and `unsigned`. Returns the raw 32 bytes.
 * It covers `hashes`, so it changes with the content even though redaction strips the content.
 */
export function computeReferenceHash(event: object): Buffer {
  const redacted = redactEventJson(event);
  delete redacted.signatures;
  delete redacted.unsigned;
  return sha256(canonicalJson(redacted));
}

/**
 * Computes the event id of an event in room versions 4 and later: `$` followed by the reference
 * hash in URL-safe unpadded base64. The event must already carry its `hashes`.
 */
export function computeEventId(event: object): string {
  return `$${encodeUnpaddedBase64Url(computeReferenceHash(event))}`;
}

/**
 * Hashes and signs a new event as this server, and computes its event id.
 *
 * Adds `hashes.sha256` (the content hash), then signs the event as redaction leaves it, so the
 * signature stays checkable after a redaction, and copies the signature onto the full event.
 * `unsigned`, if present, is kept but covered by neither hash nor signature.
 */
export function finalizeEvent(
  event: UnsignedPdu,
  serverName: string,
  keyId: string,
  privateKey: KeyObject,
): { pdu: Pdu; eventId: string } {
  // A Pdu also type-checks as an UnsignedPdu; its old signatures would not cover the new hash.
  const { signatures: _stale, ...fields } = event as UnsignedPdu & { signatures?: unknown };
  const hashed = { ...fields, hashes: { sha256: computeContentHash(fields) } };
  const { signatures } = signJson(redactEventJson(hashed), serverName, keyId, privateKey);
  const pdu: Pdu = { ...hashed, signatures };
  return { pdu, eventId: computeEventId(pdu) };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
