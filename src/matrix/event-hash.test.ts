import { describe, expect, it } from 'vitest';
import type { Pdu, UnsignedPdu } from './event.js';
import {
  computeContentHash,
  computeEventId,
  computeReferenceHash,
  finalizeEvent,
} from './event-hash.js';
import { redactEventJson, redactPdu } from './redaction.js';
import {
  decodeBase64,
  generateSigningKey,
  signingKeyFromSeed,
  signJson,
  verifyJsonSignature,
} from './signing.js';

const SERVER = 'hs1.test';
const key = generateSigningKey();

/** A message event as this server would build it before hashing and signing. */
function message(overrides: Partial<UnsignedPdu> = {}): UnsignedPdu {
  return {
    room_id: '!room:hs1.test',
    sender: '@alice:hs1.test',
    type: 'm.room.message',
    content: { msgtype: 'm.text', body: 'Budget meeting at ten' },
    origin_server_ts: 1_700_000_000_000,
    depth: 7,
    prev_events: ['$prev'],
    auth_events: ['$create', '$power', '$alice'],
    ...overrides,
  };
}

/** The same fields in the opposite order. */
function reversed<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).reverse()) as T;
}

describe('spec event signing test vectors', () => {
  // appendices, Cryptographic Test Vectors, Event Signing. The vectors predate room version 11:
  // their signatures cover `origin`, which the version 11 redaction algorithm removes. The hashes
  // do not depend on redaction and must match exactly; the signatures are reproduced by signing
  // the redacted event with `origin` put back, as older room versions keep it.
  const specKey = signingKeyFromSeed(
    'ed25519:1',
    decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1'),
  );

  it.each([
    [
      'a minimally-sized event',
      {
        room_id: '!x:domain',
        sender: '@a:domain',
        origin: 'domain',
        origin_server_ts: 1000000,
        signatures: {},
        hashes: {},
        type: 'X',
        content: {},
        prev_events: [],
        auth_events: [],
        depth: 3,
        unsigned: { age_ts: 1000000 },
      },
      '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos',
      'KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg',
    ],
    [
      'an event with redactable content',
      {
        content: { body: 'Here is the message content' },
        event_id: '$0:domain',
        origin: 'domain',
        origin_server_ts: 1000000,
        type: 'm.room.message',
        room_id: '!r:domain',
        sender: '@u:domain',
        signatures: {},
        unsigned: { age_ts: 1000000 },
      },
      'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g',
      'Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA',
    ],
  ])('reproduces the hash and signature of %s', (_what, event, sha256, signature) => {
    expect(computeContentHash(event)).toBe(sha256);

    const hashed = { ...event, hashes: { sha256 } };
    const preV11Redacted = { ...redactEventJson(hashed), origin: 'domain' };
    const signed = signJson(preV11Redacted, 'domain', 'ed25519:1', specKey.privateKey);
    expect(signed.signatures).toEqual({ domain: { 'ed25519:1': signature } });
  });
});

describe('computeContentHash', () => {
  it('ignores unsigned, signatures and hashes', () => {
    const hash = computeContentHash(message());
    const decorated = {
      ...message(),
      unsigned: { age: 10 },
      signatures: { [SERVER]: { [key.keyId]: 'c2ln' } },
      hashes: { sha256: 'b2xk' },
    };
    expect(computeContentHash(decorated)).toBe(hash);
  });

  it('covers content that redaction would remove', () => {
    const other = message({ content: { msgtype: 'm.text', body: 'Budget meeting at eleven' } });
    expect(computeContentHash(other)).not.toBe(computeContentHash(message()));
  });

  it('is 32 bytes in unpadded base64', () => {
    const hash = computeContentHash(message());
    expect(hash).toMatch(/^[A-Za-z0-9+/]{43}$/);
    expect(decodeBase64(hash)).toHaveLength(32);
  });
});

describe('computeReferenceHash', () => {
  it('is a 32-byte SHA-256 digest', () => {
    const { pdu } = finalizeEvent(message(), SERVER, key.keyId, key.privateKey);
    expect(computeReferenceHash(pdu)).toHaveLength(32);
  });

  it('ignores signatures, unsigned and keys redaction removes', () => {
    const { pdu } = finalizeEvent(message(), SERVER, key.keyId, key.privateKey);
    const decorated = {
      ...pdu,
      signatures: { ...pdu.signatures, 'hs2.test': { 'ed25519:x': 'c2ln' } },
      unsigned: { age: 10 },
      origin: 'hs1.test',
    };
    expect(computeReferenceHash(decorated)).toEqual(computeReferenceHash(pdu));
  });
});

describe('finalizeEvent', () => {
  it('adds the content hash and a signature by this server', () => {
    const { pdu } = finalizeEvent(message(), SERVER, key.keyId, key.privateKey);
    expect(pdu.hashes).toEqual({ sha256: computeContentHash(message()) });
    expect(Object.keys(pdu.signatures)).toEqual([SERVER]);
    expect(Object.keys(pdu.signatures[SERVER] ?? {})).toEqual([key.keyId]);
    expect(pdu).toMatchObject(message());
  });

  it('signs the redacted event, so the signature still verifies after a redaction', () => {
    const { pdu } = finalizeEvent(message(), SERVER, key.keyId, key.privateKey);
    const redacted = redactPdu(pdu);
    expect(redacted.content).toEqual({});
    expect(verifyJsonSignature(redacted, SERVER, key.keyId, key.publicKeyBase64)).toBe(true);
    // The signature covers the redacted form, not the full event with its message body.
    expect(verifyJsonSignature(pdu, SERVER, key.keyId, key.publicKeyBase64)).toBe(false);
  });

  it('covers the hashes with the signature, so altered content is detectable', () => {
    const { pdu } = finalizeEvent(message(), SERVER, key.keyId, key.privateKey);
    const tampered: Pdu = { ...pdu, hashes: { sha256: computeContentHash(message({ depth: 8 })) } };
    expect(verifyJsonSignature(redactPdu(tampered), SERVER, key.keyId, key.publicKeyBase64)).toBe(
      false,
    );
  });

  it('signs content.redacts of a room version 11 redaction event', () => {
    const redaction = message({ type: 'm.room.redaction', content: { redacts: '$spam' } });
    const { pdu } = finalizeEvent(redaction, SERVER, key.keyId, key.privateKey);
    const retargeted = redactPdu({ ...pdu, content: { redacts: '$other' } });
    expect(verifyJsonSignature(redactPdu(pdu), SERVER, key.keyId, key.publicKeyBase64)).toBe(true);
    expect(verifyJsonSignature(retargeted, SERVER, key.keyId, key.publicKeyBase64)).toBe(false);
  });

  it('keeps unsigned on the event, outside hash and signature', () => {
    const withUnsigned = message({ unsigned: { transaction_id: 'txn1' } });
    const { pdu, eventId } = finalizeEvent(withUnsigned, SERVER, key.keyId, key.privateKey);
    expect(pdu.unsigned).toEqual({ transaction_id: 'txn1' });
    expect(pdu.hashes.sha256).toBe(computeContentHash(message()));
    expect(eventId).toBe(finalizeEvent(message(), SERVER, key.keyId, key.privateKey).eventId);
  });

  it('replaces the signatures of a Pdu that is finalized again', () => {
    const { pdu } = finalizeEvent(message(), SERVER, key.keyId, key.privateKey);
    const stale: Pdu = { ...pdu, signatures: { 'hs2.test': { 'ed25519:x': 'c2ln' } } };
    const again = finalizeEvent(stale, SERVER, key.keyId, key.privateKey);
    expect(Object.keys(again.pdu.signatures)).toEqual([SERVER]);
    expect(again.eventId).toBe(computeEventId(pdu));
  });

  it('does not change the event it was given', () => {
    const unsigned = message();
    finalizeEvent(unsigned, SERVER, key.keyId, key.privateKey);
    expect(unsigned).toEqual(message());
  });
});

describe('computeEventId', () => {
  const { pdu, eventId } = finalizeEvent(message(), SERVER, key.keyId, key.privateKey);

  it('is $ and the URL-safe unpadded base64 of the reference hash', () => {
    expect(eventId).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
    expect(computeEventId(pdu)).toBe(eventId);
  });

  it('does not depend on the order of keys', () => {
    const reordered = finalizeEvent(
      reversed({ ...message(), content: reversed(message().content) }),
      SERVER,
      key.keyId,
      key.privateKey,
    );
    expect(reordered.eventId).toBe(eventId);
    expect(computeEventId(reversed(pdu))).toBe(eventId);
  });

  it('changes when the content changes, though redaction removes that content', () => {
    const other = message({ content: { msgtype: 'm.text', body: 'Budget meeting at eleven' } });
    expect(finalizeEvent(other, SERVER, key.keyId, key.privateKey).eventId).not.toBe(eventId);
  });

  it('does not change when unsigned or the signatures change', () => {
    expect(computeEventId({ ...pdu, unsigned: { age: 1234 } })).toBe(eventId);
    const other = generateSigningKey();
    const cosigned = signJson(redactPdu(pdu), 'hs2.test', other.keyId, other.privateKey);
    expect(computeEventId({ ...pdu, signatures: cosigned.signatures })).toBe(eventId);
  });

  it('stays the same once the event is redacted', () => {
    expect(computeEventId(redactPdu(pdu))).toBe(eventId);
  });
});
