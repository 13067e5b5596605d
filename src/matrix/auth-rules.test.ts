import { describe, expect, it } from 'vitest';
import {
  authorizeEvent,
  banLevel,
  canApplyRedaction,
  inviteLevel,
  kickLevel,
  powerLevelOf,
  redactLevel,
  requiredLevelForEvent,
  selectAuthEventKeys,
} from './auth-rules.js';
import type { AuthState } from './auth-rules.js';
import { stateKey } from './event.js';
import type { Pdu } from './event.js';

const ROOM_ID = '!room:hs1.test';
const alice = '@alice:hs1.test';
const bob = '@bob:hs1.test';
const charlie = '@charlie:hs1.test';
const dave = '@dave:hs1.test';
const zoe = '@zoe:hs2.test';

function pdu(
  type: string,
  sender: string,
  content: Record<string, unknown>,
  key?: string,
  overrides: Partial<Pdu> = {},
): Pdu {
  return {
    room_id: ROOM_ID,
    sender,
    type,
    ...(key === undefined ? {} : { state_key: key }),
    content,
    origin_server_ts: 1_700_000_000_000,
    depth: 10,
    prev_events: ['$previous'],
    auth_events: [],
    hashes: { sha256: 'hash' },
    signatures: {},
    ...overrides,
  };
}

function member(
  target: string,
  membership: string,
  sender = target,
  content: Record<string, unknown> = {},
): Pdu {
  return pdu('m.room.member', sender, { membership, ...content }, target);
}

function message(sender: string, type = 'm.room.message'): Pdu {
  return pdu(type, sender, { msgtype: 'm.text', body: 'hello' });
}

function powerLevels(sender: string, content: Record<string, unknown>): Pdu {
  return pdu('m.room.power_levels', sender, content, '');
}

const createEvent = pdu('m.room.create', alice, { room_version: '11' }, '', {
  prev_events: [],
  depth: 1,
});

/** Power levels as a room starts with: alice 100, charlie and dave moderators at 50. */
function levels(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    users: { [alice]: 100, [charlie]: 50, [dave]: 50 },
    users_default: 0,
    events: { 'm.room.name': 50, 'm.room.power_levels': 50 },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    invite: 0,
    ...overrides,
  };
}

function withoutKey(content: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(content).filter(([name]) => name !== key));
}

interface RoomOptions {
  /** `null` leaves the join rules event out. */
  joinRule?: string | null;
  /** `null` leaves the power levels event out. */
  powerLevels?: Record<string, unknown> | null;
  /** Memberships besides alice's join. */
  members?: Record<string, string>;
  createContent?: Record<string, unknown>;
  extra?: Pdu[];
}

/** A room created and joined by alice, by default invite-only with {@link levels}. */
function room(options: RoomOptions = {}): AuthState {
  const create = options.createContent
    ? { ...createEvent, content: { ...createEvent.content, ...options.createContent } }
    : createEvent;
  const events = [create, member(alice, 'join')];
  if (options.powerLevels !== null) {
    events.push(powerLevels(alice, options.powerLevels ?? levels()));
  }
  if (options.joinRule !== null) {
    events.push(pdu('m.room.join_rules', alice, { join_rule: options.joinRule ?? 'invite' }, ''));
  }
  for (const [userId, membership] of Object.entries(options.members ?? {})) {
    events.push(member(userId, membership));
  }
  events.push(...(options.extra ?? []));
  return new Map(events.map((event) => [stateKey(event.type, event.state_key ?? ''), event]));
}

const justCreated: AuthState = new Map([[stateKey('m.room.create', ''), createEvent]]);
const mods = { [charlie]: 'join', [dave]: 'join' };
const thirdPartyInvite = pdu(
  'm.room.third_party_invite',
  alice,
  { display_name: 'b...@example.org', public_key: 'AAAA', key_validity_url: 'https://id.test' },
  'tok',
);

function thirdPartyMember(signed: Record<string, unknown> | undefined): Pdu {
  return member(bob, 'invite', alice, {
    third_party_invite: { display_name: 'b...@example.org', ...(signed ? { signed } : {}) },
  });
}

interface Row {
  name: string;
  event: Pdu;
  state: AuthState;
  /** `true` when allowed; otherwise a pattern the refusal reason must match. */
  expected: true | RegExp;
}

const rows: Row[] = [
  // m.room.create
  {
    name: 'allows a create event without prev_events',
    event: createEvent,
    state: new Map(),
    expected: true,
  },
  {
    name: 'allows a create event without room_version',
    event: { ...createEvent, content: {} },
    state: new Map(),
    expected: true,
  },
  {
    name: 'refuses a create event with prev_events',
    event: { ...createEvent, prev_events: ['$other'] },
    state: new Map(),
    expected: /prev_events/,
  },
  {
    name: 'refuses a create event whose room ID is on another server',
    event: { ...createEvent, room_id: '!room:hs2.test' },
    state: new Map(),
    expected: /different servers/,
  },
  {
    name: 'refuses a create event with an unrecognised room version',
    event: { ...createEvent, content: { room_version: '99' } },
    state: new Map(),
    expected: /not recognised/,
  },
  // auth events reduced to state
  {
    name: 'refuses any first event other than the create event',
    event: member(alice, 'join'),
    state: new Map(),
    expected: /no m\.room\.create/,
  },
  {
    name: 'refuses an event whose auth state belongs to another room',
    event: { ...message(alice), room_id: '!other:hs1.test' },
    state: room(),
    expected: /another room/,
  },
  {
    name: 'refuses a remote sender in a room with m.federate false',
    event: member(zoe, 'join'),
    state: room({ joinRule: 'public', createContent: { 'm.federate': false } }),
    expected: /does not federate/,
  },
  {
    name: 'allows a remote join to a public federating room',
    event: member(zoe, 'join'),
    state: room({ joinRule: 'public' }),
    expected: true,
  },
  // m.room.member join
  {
    name: "allows the creator's join right after the create event",
    event: member(alice, 'join'),
    state: justCreated,
    expected: true,
  },
  {
    name: "refuses another user's join right after the create event",
    event: member(bob, 'join'),
    state: justCreated,
    expected: /invite-only/,
  },
  {
    name: 'refuses a membership event without membership',
    event: pdu('m.room.member', bob, {}, bob),
    state: room({ joinRule: 'public' }),
    expected: /content\.membership/,
  },
  {
    name: 'refuses an unknown membership',
    event: member(bob, 'lurk'),
    state: room({ joinRule: 'public' }),
    expected: /unknown membership/,
  },
  {
    name: 'allows a join to a public room',
    event: member(bob, 'join'),
    state: room({ joinRule: 'public' }),
    expected: true,
  },
  {
    name: 'refuses joining on behalf of someone else',
    event: member(bob, 'join', alice),
    state: room({ joinRule: 'public' }),
    expected: /own behalf/,
  },
  {
    name: 'refuses a join by a banned user to a public room',
    event: member(bob, 'join'),
    state: room({ joinRule: 'public', members: { [bob]: 'ban' } }),
    expected: /banned/,
  },
  {
    name: 'refuses a join to an invite room without an invite',
    event: member(bob, 'join'),
    state: room(),
    expected: /invite-only/,
  },
  {
    name: 'allows a join to an invite room with an invite',
    event: member(bob, 'join'),
    state: room({ members: { [bob]: 'invite' } }),
    expected: true,
  },
  {
    name: 'allows an invited join to a room without join rules',
    event: member(bob, 'join'),
    state: room({ joinRule: null, members: { [bob]: 'invite' } }),
    expected: true,
  },
  {
    name: 'refuses a join to a knock room without an invite',
    event: member(bob, 'join'),
    state: room({ joinRule: 'knock', members: { [bob]: 'knock' } }),
    expected: /knock-only/,
  },
  {
    name: 'allows a join to a knock room with an invite',
    event: member(bob, 'join'),
    state: room({ joinRule: 'knock', members: { [bob]: 'invite' } }),
    expected: true,
  },
  {
    name: 'refuses a join under an unknown join rule',
    event: member(bob, 'join'),
    state: room({ joinRule: 'private' }),
    expected: /does not allow joining/,
  },
  {
    name: 'refuses a restricted join without an authorising user',
    event: member(bob, 'join'),
    state: room({ joinRule: 'restricted' }),
    expected: /join_authorised_via_users_server/,
  },
  {
    name: 'allows a restricted join authorised by a joined user who may invite',
    event: member(bob, 'join', bob, { join_authorised_via_users_server: charlie }),
    state: room({ joinRule: 'restricted', members: mods }),
    expected: true,
  },
  {
    name: 'refuses a restricted join authorised by a user who is not joined',
    event: member(bob, 'join', bob, { join_authorised_via_users_server: charlie }),
    state: room({ joinRule: 'restricted', members: { [charlie]: 'leave' } }),
    expected: /not joined/,
  },
  {
    name: 'refuses a restricted join authorised by a user below the invite level',
    event: member(bob, 'join', bob, { join_authorised_via_users_server: charlie }),
    state: room({ joinRule: 'restricted', members: mods, powerLevels: levels({ invite: 60 }) }),
    expected: /may not invite/,
  },
  {
    name: 'allows an invited join to a knock_restricted room without an authorising user',
    event: member(bob, 'join'),
    state: room({ joinRule: 'knock_restricted', members: { [bob]: 'invite' } }),
    expected: true,
  },
  // m.room.member invite
  {
    name: 'allows an invite by a joined member at the invite level',
    event: member(bob, 'invite', charlie),
    state: room({ members: mods }),
    expected: true,
  },
  {
    name: 'refuses an invite by a user who is not joined',
    event: member(charlie, 'invite', bob),
    state: room({ members: { [bob]: 'invite' } }),
    expected: /not joined/,
  },
  {
    name: 'refuses an invite by a member below the invite level',
    event: member(bob, 'invite', charlie),
    state: room({ members: mods, powerLevels: levels({ invite: 60 }) }),
    expected: /inviting needs power level 60/,
  },
  {
    name: 'refuses inviting a banned user',
    event: member(bob, 'invite', alice),
    state: room({ members: { [bob]: 'ban' } }),
    expected: /banned/,
  },
  {
    name: 'refuses inviting a user who is already joined',
    event: member(bob, 'invite', alice),
    state: room({ members: { [bob]: 'join' } }),
    expected: /already joined/,
  },
  {
    name: 'refuses a third-party invite without a signed object',
    event: thirdPartyMember(undefined),
    state: room({ extra: [thirdPartyInvite] }),
    expected: /no signed object/,
  },
  {
    name: 'refuses a third-party invite whose mxid is not the target',
    event: thirdPartyMember({ mxid: charlie, token: 'tok', signatures: {} }),
    state: room({ extra: [thirdPartyInvite] }),
    expected: /not the invited user/,
  },
  {
    name: 'refuses a third-party invite with no matching token',
    event: thirdPartyMember({ mxid: bob, token: 'other', signatures: {} }),
    state: room({ extra: [thirdPartyInvite] }),
    expected: /matches the token/,
  },
  {
    name: 'refuses a third-party invite redeemed by another sender',
    event: { ...thirdPartyMember({ mxid: bob, token: 'tok', signatures: {} }), sender: charlie },
    state: room({ members: mods, extra: [thirdPartyInvite] }),
    expected: /only the sender/,
  },
  {
    name: 'refuses a matching third-party invite, as signatures are not verified',
    event: thirdPartyMember({ mxid: bob, token: 'tok', signatures: {} }),
    state: room({ extra: [thirdPartyInvite] }),
    expected: /cannot be verified/,
  },
  // m.room.member leave
  {
    name: 'allows a joined user to leave',
    event: member(bob, 'leave'),
    state: room({ members: { [bob]: 'join' } }),
    expected: true,
  },
  {
    name: 'allows an invited user to reject the invite',
    event: member(bob, 'leave'),
    state: room({ members: { [bob]: 'invite' } }),
    expected: true,
  },
  {
    name: 'allows a knocking user to withdraw the knock',
    event: member(bob, 'leave'),
    state: room({ joinRule: 'knock', members: { [bob]: 'knock' } }),
    expected: true,
  },
  {
    name: 'refuses leaving a room one is not in',
    event: member(bob, 'leave'),
    state: room(),
    expected: /cannot leave/,
  },
  {
    name: 'refuses a banned user lifting their own ban',
    event: member(bob, 'leave'),
    state: room({ members: { [bob]: 'ban' } }),
    expected: /cannot leave/,
  },
  {
    name: 'allows a kick by a higher power level',
    event: member(bob, 'leave', charlie),
    state: room({ members: { ...mods, [bob]: 'join' } }),
    expected: true,
  },
  {
    name: 'refuses a kick of a user at an equal power level',
    event: member(dave, 'leave', charlie),
    state: room({ members: mods }),
    expected: /above the target's/,
  },
  {
    name: 'refuses a kick by a member below the kick level',
    event: member(charlie, 'leave', bob),
    state: room({ members: { [bob]: 'join', [charlie]: 'join' } }),
    expected: /kicking needs power level 50/,
  },
  {
    name: 'refuses a kick by a user who is not joined',
    event: member(bob, 'leave', charlie),
    state: room({ members: { [bob]: 'join', [charlie]: 'leave' } }),
    expected: /not joined/,
  },
  {
    name: 'allows an unban at the ban level',
    event: member(bob, 'leave', charlie),
    state: room({ members: { ...mods, [bob]: 'ban' } }),
    expected: true,
  },
  {
    name: 'refuses an unban below the ban level even at the kick level',
    event: member(bob, 'leave', charlie),
    state: room({ members: { ...mods, [bob]: 'ban' }, powerLevels: levels({ ban: 60 }) }),
    expected: /unbanning needs power level 60/,
  },
  // m.room.member ban
  {
    name: 'allows a ban by a higher power level',
    event: member(bob, 'ban', charlie),
    state: room({ members: { ...mods, [bob]: 'join' } }),
    expected: true,
  },
  {
    name: 'allows banning a user who never joined',
    event: member(zoe, 'ban', alice),
    state: room(),
    expected: true,
  },
  {
    name: 'refuses a ban of a higher power level',
    event: member(alice, 'ban', charlie),
    state: room({ members: mods }),
    expected: /above the target's/,
  },
  {
    name: 'refuses a ban below the ban level',
    event: member(charlie, 'ban', bob),
    state: room({ members: { [bob]: 'join' } }),
    expected: /banning needs power level 50/,
  },
  {
    name: 'refuses a ban by a user who is not joined',
    event: member(bob, 'ban', charlie),
    state: room({ members: { [charlie]: 'invite' } }),
    expected: /not joined/,
  },
  // m.room.member knock
  {
    name: 'allows a knock when the join rule is knock',
    event: member(bob, 'knock'),
    state: room({ joinRule: 'knock' }),
    expected: true,
  },
  {
    name: 'allows a knock when the join rule is knock_restricted',
    event: member(bob, 'knock'),
    state: room({ joinRule: 'knock_restricted', members: { [bob]: 'leave' } }),
    expected: true,
  },
  {
    name: 'refuses a knock when the join rule is invite',
    event: member(bob, 'knock'),
    state: room(),
    expected: /does not allow knocking/,
  },
  {
    name: 'refuses a knock when the join rule is public',
    event: member(bob, 'knock'),
    state: room({ joinRule: 'public' }),
    expected: /does not allow knocking/,
  },
  {
    name: 'refuses knocking on behalf of someone else',
    event: member(bob, 'knock', alice),
    state: room({ joinRule: 'knock' }),
    expected: /own behalf/,
  },
  {
    name: 'refuses a knock by a banned user',
    event: member(bob, 'knock'),
    state: room({ joinRule: 'knock', members: { [bob]: 'ban' } }),
    expected: /membership ban/,
  },
  {
    name: 'refuses a knock by an invited user',
    event: member(bob, 'knock'),
    state: room({ joinRule: 'knock', members: { [bob]: 'invite' } }),
    expected: /membership invite/,
  },
  // other events: membership, required levels, state keys
  {
    name: 'allows a message by a joined member',
    event: message(bob),
    state: room({ members: { [bob]: 'join' } }),
    expected: true,
  },
  {
    name: 'refuses a message by a user who is not joined',
    event: message(bob),
    state: room({ members: { [bob]: 'invite' } }),
    expected: /not joined/,
  },
  {
    name: 'refuses a message by a member below events_default',
    event: message(bob),
    state: room({ members: { [bob]: 'join' }, powerLevels: levels({ events_default: 10 }) }),
    expected: /needs power level 10; sender has 0/,
  },
  {
    name: 'refuses a message type whose events entry is above the sender',
    event: message(bob, 'org.example.alert'),
    state: room({
      members: { [bob]: 'join' },
      powerLevels: levels({ events: { 'org.example.alert': 20 } }),
    }),
    expected: /org\.example\.alert needs power level 20/,
  },
  {
    name: 'refuses a state event below state_default',
    event: pdu('m.room.topic', bob, { topic: 'hi' }, ''),
    state: room({ members: { [bob]: 'join' } }),
    expected: /m\.room\.topic needs power level 50/,
  },
  {
    name: 'refuses a state event below its events entry',
    event: pdu('m.room.name', bob, { name: 'x' }, ''),
    state: room({ members: { [bob]: 'join' }, powerLevels: levels({ state_default: 0 }) }),
    expected: /m\.room\.name needs power level 50/,
  },
  {
    name: 'allows a state event at state_default',
    event: pdu('m.room.topic', charlie, { topic: 'hi' }, ''),
    state: room({ members: mods }),
    expected: true,
  },
  {
    name: "refuses a state key naming another user ('@bob' set by alice)",
    event: pdu('org.example.status', alice, {}, bob),
    state: room(),
    expected: /only be set by that user/,
  },
  {
    name: 'allows a state key naming the sender',
    event: pdu('org.example.status', alice, {}, alice),
    state: room(),
    expected: true,
  },
  {
    name: 'allows m.room.third_party_invite at the invite level',
    event: thirdPartyInvite,
    state: room(),
    expected: true,
  },
  {
    name: 'refuses m.room.third_party_invite below the invite level',
    event: { ...thirdPartyInvite, sender: bob },
    state: room({ members: { [bob]: 'join' }, powerLevels: levels({ invite: 10 }) }),
    expected: /third-party invite needs power level 10/,
  },
  {
    name: 'allows a redaction below the redact level (that level is applied later)',
    event: pdu('m.room.redaction', bob, { redacts: '$event' }),
    state: room({ members: { [bob]: 'join' } }),
    expected: true,
  },
  {
    name: 'refuses m.room.redaction below its events entry',
    event: pdu('m.room.redaction', bob, { redacts: '$event' }),
    state: room({
      members: { [bob]: 'join' },
      powerLevels: levels({ events: { 'm.room.redaction': 50 } }),
    }),
    expected: /m\.room\.redaction needs power level 50/,
  },
  // m.room.power_levels
  {
    name: 'allows the first power levels event from the creator',
    event: powerLevels(alice, levels()),
    state: room({ powerLevels: null }),
    expected: true,
  },
  {
    name: 'refuses power levels from a member below their required level',
    event: powerLevels(bob, levels()),
    state: room({ members: { [bob]: 'join' } }),
    expected: /m\.room\.power_levels needs power level 50/,
  },
  {
    name: 'refuses a string level',
    event: powerLevels(alice, levels({ ban: '50' })),
    state: room(),
    expected: /ban must be an integer/,
  },
  {
    name: 'refuses a fractional level',
    event: powerLevels(alice, levels({ users_default: 0.5 })),
    state: room(),
    expected: /users_default must be an integer/,
  },
  {
    name: 'refuses a level beyond the canonical JSON range',
    event: powerLevels(alice, levels({ kick: 2 ** 53 })),
    state: room(),
    expected: /kick must be an integer/,
  },
  {
    name: 'refuses a non-integer events entry',
    event: powerLevels(alice, levels({ events: { 'm.room.name': '50' } })),
    state: room(),
    expected: /events must be an object of integers/,
  },
  {
    name: 'refuses notifications that are not an object',
    event: powerLevels(alice, levels({ notifications: 50 })),
    state: room(),
    expected: /notifications must be an object/,
  },
  {
    name: 'refuses a users key that is not a user ID',
    event: powerLevels(alice, levels({ users: { [alice]: 100, bob: 10 } })),
    state: room(),
    expected: /invalid user ID bob/,
  },
  {
    name: 'refuses a non-integer user level',
    event: powerLevels(alice, levels({ users: { [alice]: 100, [bob]: null } })),
    state: room(),
    expected: /power level of @bob:hs1\.test must be an integer/,
  },
  {
    name: 'refuses raising state_default above the sender',
    event: powerLevels(charlie, levels({ state_default: 60 })),
    state: room({ members: mods }),
    expected: /state_default to 60/,
  },
  {
    name: 'refuses removing a level currently above the sender',
    event: powerLevels(charlie, withoutKey(levels(), 'ban')),
    state: room({ members: mods, powerLevels: levels({ ban: 60 }) }),
    expected: /change ban from 60/,
  },
  {
    name: 'allows lowering a level at the sender',
    event: powerLevels(charlie, levels({ kick: 40 })),
    state: room({ members: mods }),
    expected: true,
  },
  {
    name: 'refuses changing an events entry currently above the sender',
    event: powerLevels(
      charlie,
      levels({ events: { 'm.room.name': 50, 'm.room.power_levels': 40 } }),
    ),
    state: room({
      members: mods,
      powerLevels: levels({ events: { 'm.room.name': 50, 'm.room.power_levels': 0, x: 80 } }),
    }),
    expected: /change events\.x from 80/,
  },
  {
    name: 'refuses adding an events entry above the sender',
    event: powerLevels(charlie, levels({ events: { 'm.room.name': 50, 'm.room.tombstone': 100 } })),
    state: room({ members: mods }),
    expected: /events\.m\.room\.tombstone to 100/,
  },
  {
    name: 'refuses the sender raising their own level',
    event: powerLevels(charlie, levels({ users: { [alice]: 100, [charlie]: 60, [dave]: 50 } })),
    state: room({ members: mods }),
    expected: /above the sender's 50/,
  },
  {
    name: 'refuses promoting another user above the sender',
    event: powerLevels(
      charlie,
      levels({ users: { [alice]: 100, [charlie]: 50, [dave]: 50, [bob]: 70 } }),
    ),
    state: room({ members: mods }),
    expected: /give @bob:hs1\.test a power level above/,
  },
  {
    name: 'allows promoting another user to the level of the sender',
    event: powerLevels(
      charlie,
      levels({ users: { [alice]: 100, [charlie]: 50, [dave]: 50, [bob]: 50 } }),
    ),
    state: room({ members: mods }),
    expected: true,
  },
  {
    name: 'refuses demoting a user of equal level',
    event: powerLevels(charlie, levels({ users: { [alice]: 100, [charlie]: 50, [dave]: 0 } })),
    state: room({ members: mods }),
    expected: /change the power level of @dave:hs1\.test/,
  },
  {
    name: 'allows demoting oneself',
    event: powerLevels(charlie, levels({ users: { [alice]: 100, [charlie]: 0, [dave]: 50 } })),
    state: room({ members: mods }),
    expected: true,
  },
  {
    name: 'allows the creator demoting a lower user',
    event: powerLevels(alice, levels({ users: { [alice]: 100, [dave]: 50 } })),
    state: room({ members: mods }),
    expected: true,
  },
];

describe('authorizeEvent', () => {
  it.each(rows)('$name', ({ event, state, expected }) => {
    const result = authorizeEvent(event, state);
    if (expected === true) {
      expect(result).toEqual({ allowed: true });
      return;
    }
    expect(result.allowed).toBe(false);
    const reason = result.allowed ? '' : result.reason;
    expect(reason.length).toBeGreaterThan(0);
    expect(reason).toMatch(expected);
  });
});

describe('powerLevelOf', () => {
  it.each([
    { name: 'a listed user', state: room(), userId: charlie, level: 50 },
    { name: 'an unlisted user at users_default', state: room(), userId: bob, level: 0 },
    {
      name: 'an unlisted user at a raised users_default',
      state: room({ powerLevels: levels({ users_default: 5 }) }),
      userId: bob,
      level: 5,
    },
    {
      name: 'the creator without a power levels event',
      state: room({ powerLevels: null }),
      userId: alice,
      level: 100,
    },
    {
      name: 'anyone else without a power levels event',
      state: room({ powerLevels: null }),
      userId: bob,
      level: 0,
    },
  ])('gives $name level $level', ({ state, userId, level }) => {
    expect(powerLevelOf(state, userId)).toBe(level);
  });
});

describe('requiredLevelForEvent and the membership levels', () => {
  it('reads the events entry, then state_default or events_default', () => {
    const state = room({ powerLevels: levels({ events_default: 1, state_default: 2 }) });
    expect(requiredLevelForEvent(state, 'm.room.name', true)).toBe(50);
    expect(requiredLevelForEvent(state, 'm.room.topic', true)).toBe(2);
    expect(requiredLevelForEvent(state, 'm.room.message', false)).toBe(1);
    expect(requiredLevelForEvent(state, 'constructor', false)).toBe(1);
  });

  it('falls back to the spec defaults without a power levels event', () => {
    const state = room({ powerLevels: null });
    expect(requiredLevelForEvent(state, 'm.room.topic', true)).toBe(50);
    expect(requiredLevelForEvent(state, 'm.room.message', false)).toBe(0);
    expect([inviteLevel(state), kickLevel(state), banLevel(state), redactLevel(state)]).toEqual([
      0, 50, 50, 50,
    ]);
  });

  it('reads invite, kick, ban and redact from the power levels event', () => {
    const state = room({ powerLevels: levels({ invite: 1, kick: 2, ban: 3, redact: 4 }) });
    expect([inviteLevel(state), kickLevel(state), banLevel(state), redactLevel(state)]).toEqual([
      1, 2, 3, 4,
    ]);
  });
});

describe('selectAuthEventKeys', () => {
  const create = stateKey('m.room.create', '');
  const power = stateKey('m.room.power_levels', '');
  const joinRules = stateKey('m.room.join_rules', '');
  const memberOf = (userId: string): string => stateKey('m.room.member', userId);

  it.each([
    { name: 'nothing for the create event', event: createEvent, keys: [] },
    {
      name: 'create, power levels and sender for a message',
      event: message(bob),
      keys: [create, power, memberOf(bob)],
    },
    {
      name: 'the join rules for a join',
      event: member(bob, 'join'),
      keys: [create, power, memberOf(bob), joinRules],
    },
    {
      name: 'the target and join rules for an invite',
      event: member(bob, 'invite', alice),
      keys: [create, power, memberOf(alice), memberOf(bob), joinRules],
    },
    {
      name: 'the join rules for a knock',
      event: member(bob, 'knock'),
      keys: [create, power, memberOf(bob), joinRules],
    },
    {
      name: 'no join rules for a kick',
      event: member(bob, 'leave', alice),
      keys: [create, power, memberOf(alice), memberOf(bob)],
    },
    {
      name: 'the third-party invite for an invite redeeming one',
      event: thirdPartyMember({ mxid: bob, token: 'tok', signatures: {} }),
      keys: [
        create,
        power,
        memberOf(alice),
        memberOf(bob),
        joinRules,
        stateKey('m.room.third_party_invite', 'tok'),
      ],
    },
    {
      name: 'the authorising member for a restricted join',
      event: member(bob, 'join', bob, { join_authorised_via_users_server: charlie }),
      keys: [create, power, memberOf(bob), joinRules, memberOf(charlie)],
    },
  ])('selects $name', ({ event, keys }) => {
    expect(selectAuthEventKeys(event)).toEqual(keys);
  });
});

describe('canApplyRedaction', () => {
  const original = message(bob);
  const remoteOriginal = message(zoe);
  const redaction = (sender: string): Pdu => pdu('m.room.redaction', sender, { redacts: '$x' });

  it.each([
    { name: 'a redaction at the redact level', sender: charlie, target: remoteOriginal, ok: true },
    { name: 'a redaction from the same server', sender: bob, target: original, ok: true },
    { name: 'a low redaction of a remote event', sender: bob, target: remoteOriginal, ok: false },
  ])('decides $name: $ok', ({ sender, target, ok }) => {
    expect(canApplyRedaction(redaction(sender), target, room({ members: mods }))).toBe(ok);
  });
});
