import { describe, expect, it } from 'vitest';
import type { Pdu } from './event.js';
import { redactContent, redactEventJson, redactPdu } from './redaction.js';

/** Keys no event type protects, mixed into every content below. */
const EXTRA = { body: 'secret', displayname: 'Alice', creator: '@alice:hs1.test', origin: 'x' };

describe('redactContent', () => {
  // One row per event type of the room version 11 algorithm: content with extra keys, and what
  // must be left.
  it.each([
    [
      'm.room.member',
      {
        ...EXTRA,
        membership: 'join',
        join_authorised_via_users_server: '@bob:hs1.test',
        avatar_url: 'mxc://hs1.test/a',
        reason: 'hello',
        is_direct: true,
      },
      { membership: 'join', join_authorised_via_users_server: '@bob:hs1.test' },
    ],
    [
      'm.room.create',
      { ...EXTRA, room_version: '11', 'm.federate': false, predecessor: { room_id: '!old' } },
      { ...EXTRA, room_version: '11', 'm.federate': false, predecessor: { room_id: '!old' } },
    ],
    [
      'm.room.join_rules',
      { ...EXTRA, join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: '!a' }] },
      { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: '!a' }] },
    ],
    [
      'm.room.power_levels',
      {
        ...EXTRA,
        ban: 50,
        events: { 'm.room.name': 50 },
        events_default: 0,
        invite: 0,
        kick: 50,
        redact: 50,
        state_default: 50,
        users: { '@alice:hs1.test': 100 },
        users_default: 0,
        notifications: { room: 50 },
      },
      {
        ban: 50,
        events: { 'm.room.name': 50 },
        events_default: 0,
        invite: 0,
        kick: 50,
        redact: 50,
        state_default: 50,
        users: { '@alice:hs1.test': 100 },
        users_default: 0,
      },
    ],
    [
      'm.room.history_visibility',
      { ...EXTRA, history_visibility: 'shared' },
      { history_visibility: 'shared' },
    ],
    ['m.room.redaction', { ...EXTRA, redacts: '$abc', reason: 'spam' }, { redacts: '$abc' }],
    ['m.room.message', { ...EXTRA, msgtype: 'm.text' }, {}],
    ['m.room.name', { ...EXTRA, name: 'Town hall' }, {}],
    ['m.room.topic', { ...EXTRA, topic: 'Budgets' }, {}],
    ['m.room.canonical_alias', { ...EXTRA, alias: '#a:hs1.test' }, {}],
    ['m.room.guest_access', { ...EXTRA, guest_access: 'can_join' }, {}],
    ['m.room.third_party_invite', { ...EXTRA, public_key: 'abc', display_name: 'a' }, {}],
    ['m.room.encryption', { ...EXTRA, algorithm: 'm.megolm.v1.aes-sha2' }, {}],
    ['m.room.aliases', { ...EXTRA, aliases: ['#a:hs1.test'] }, {}],
  ])('keeps only the protected keys of %s', (type, content, expected) => {
    expect(redactContent(type, content)).toEqual(expected);
  });

  it('keeps only `signed` of a member event third_party_invite', () => {
    const signed = { mxid: '@carol:hs1.test', token: 'abc', signatures: {} };
    const content = {
      membership: 'invite',
      third_party_invite: { display_name: 'carol@example.org', signed },
    };
    expect(redactContent('m.room.member', content)).toEqual({
      membership: 'invite',
      third_party_invite: { signed },
    });
  });

  it('drops a member event third_party_invite that has no `signed`', () => {
    const content = { membership: 'invite', third_party_invite: { display_name: 'carol' } };
    expect(redactContent('m.room.member', content)).toEqual({ membership: 'invite' });
  });

  it('keeps protected keys whatever their value, but does not invent absent ones', () => {
    expect(redactContent('m.room.join_rules', { join_rule: null })).toEqual({ join_rule: null });
    expect(redactContent('m.room.power_levels', { ban: 50 })).toEqual({ ban: 50 });
  });

  it('copies kept values, so changing the result leaves the event alone', () => {
    const content = { users: { '@alice:hs1.test': 100 } };
    const redacted = redactContent('m.room.power_levels', content);
    (redacted.users as Record<string, number>)['@alice:hs1.test'] = 0;
    expect(content.users['@alice:hs1.test']).toBe(100);
  });
});

describe('redactPdu', () => {
  const pdu: Pdu = {
    room_id: '!room:hs1.test',
    sender: '@alice:hs1.test',
    type: 'm.room.member',
    state_key: '@alice:hs1.test',
    content: { membership: 'join', displayname: 'Alice' },
    origin_server_ts: 1_700_000_000_000,
    depth: 4,
    prev_events: ['$prev'],
    auth_events: ['$create', '$power'],
    hashes: { sha256: 'aGFzaA' },
    signatures: { 'hs1.test': { 'ed25519:a_AbCd': 'c2ln' } },
    unsigned: { age: 5, prev_content: { membership: 'invite' } },
    redacts: '$old-style',
  };

  it('keeps the protected top-level keys and drops unsigned and a top-level redacts', () => {
    expect(redactPdu(pdu)).toEqual({
      room_id: '!room:hs1.test',
      sender: '@alice:hs1.test',
      type: 'm.room.member',
      state_key: '@alice:hs1.test',
      content: { membership: 'join' },
      origin_server_ts: 1_700_000_000_000,
      depth: 4,
      prev_events: ['$prev'],
      auth_events: ['$create', '$power'],
      hashes: { sha256: 'aGFzaA' },
      signatures: { 'hs1.test': { 'ed25519:a_AbCd': 'c2ln' } },
    });
  });

  it('does not change the event it was given', () => {
    const copy = structuredClone(pdu);
    redactPdu(pdu);
    expect(pdu).toEqual(copy);
  });
});

describe('redactEventJson', () => {
  it('drops the keys room version 11 no longer protects: origin, membership, prev_state', () => {
    const event = {
      event_id: '$0:domain',
      type: 'm.room.member',
      room_id: '!r:domain',
      sender: '@u:domain',
      state_key: '@u:domain',
      content: { membership: 'join' },
      origin: 'domain',
      membership: 'join',
      prev_state: [],
      origin_server_ts: 1,
      custom: { a: 1 },
    };
    expect(redactEventJson(event)).toEqual({
      event_id: '$0:domain',
      type: 'm.room.member',
      room_id: '!r:domain',
      sender: '@u:domain',
      state_key: '@u:domain',
      content: { membership: 'join' },
      origin_server_ts: 1,
    });
  });

  it('gives an event without usable content an empty content', () => {
    expect(redactEventJson({ type: 'm.room.create' })).toEqual({
      type: 'm.room.create',
      content: {},
    });
    expect(redactEventJson({ type: 'm.room.create', content: ['x'] })).toEqual({
      type: 'm.room.create',
      content: {},
    });
  });
});
