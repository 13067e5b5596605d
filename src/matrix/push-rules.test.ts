import { describe, expect, it } from 'vitest';
import {
  actionsProblem,
  conditionMatches,
  defaultPushRules,
  evaluatePushRules,
  mergeUserRules,
  splitPropertyPath,
  stripLegacyActions,
  type PushContext,
  type PushEvent,
  type StoredPushRule,
} from './push-rules.js';

const ALICE = '@alice:hs1.test';
const BOB = '@bob:hs1.test';
const ROOM = '!room:hs1.test';

/** A text message from Bob; `content` is merged into a plain body. */
function message(body: string, content: Record<string, unknown> = {}): PushEvent {
  return {
    type: 'm.room.message',
    sender: BOB,
    room_id: ROOM,
    content: { msgtype: 'm.text', body, ...content },
  };
}

/** Alice in a group room (three members) where Bob has power level 0. */
function context(overrides: Partial<PushContext> = {}): PushContext {
  return {
    userId: ALICE,
    displayName: 'Alice',
    memberCount: 3,
    senderPowerLevel: 0,
    roomPowerLevels: undefined,
    ...overrides,
  };
}

const defaults = () => defaultPushRules(ALICE);

describe('defaultPushRules', () => {
  it('lists every server-default rule of the spec, in its order', () => {
    const ruleset = defaults();
    const ids = (kind: keyof typeof ruleset) => ruleset[kind].map((rule) => rule.rule_id);
    expect(ids('override')).toEqual([
      '.m.rule.master',
      '.m.rule.suppress_notices',
      '.m.rule.invite_for_me',
      '.m.rule.member_event',
      '.m.rule.is_user_mention',
      '.m.rule.contains_display_name',
      '.m.rule.is_room_mention',
      '.m.rule.roomnotif',
      '.m.rule.tombstone',
      '.m.rule.reaction',
      '.m.rule.room.server_acl',
      '.m.rule.suppress_edits',
    ]);
    expect(ids('content')).toEqual(['.m.rule.contains_user_name']);
    expect(ids('room')).toEqual([]);
    expect(ids('sender')).toEqual([]);
    expect(ids('underride')).toEqual([
      '.m.rule.call',
      '.m.rule.encrypted_room_one_to_one',
      '.m.rule.room_one_to_one',
      '.m.rule.message',
      '.m.rule.encrypted',
    ]);
  });

  it('marks every rule default, enabled except the master rule', () => {
    const rules = Object.values(defaults()).flat();
    expect(rules.every((rule) => rule.default)).toBe(true);
    expect(rules.filter((rule) => !rule.enabled).map((rule) => rule.rule_id)).toEqual([
      '.m.rule.master',
    ]);
  });

  it("fills in the user's id and localpart", () => {
    const ruleset = defaults();
    expect(ruleset.content[0]?.pattern).toBe('alice');
    const invite = ruleset.override.find((rule) => rule.rule_id === '.m.rule.invite_for_me');
    expect(invite?.conditions).toContainEqual({
      kind: 'event_match',
      key: 'state_key',
      pattern: ALICE,
    });
    const mention = ruleset.override.find((rule) => rule.rule_id === '.m.rule.is_user_mention');
    expect(mention?.conditions).toEqual([
      { kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: ALICE },
    ]);
  });
});

describe('mergeUserRules', () => {
  const row = (fields: Partial<StoredPushRule>): StoredPushRule => ({
    kind: 'override',
    rule_id: 'mine',
    rule: '{"conditions":[]}',
    enabled: null,
    actions: '["notify"]',
    priority: 0,
    ...fields,
  });

  it('puts user rules after the master rule and before the other defaults, by priority', () => {
    const merged = mergeUserRules(defaults(), [
      row({ rule_id: 'low', priority: 1 }),
      row({ rule_id: 'high', priority: 2 }),
    ]);
    expect(merged.override.slice(0, 4).map((rule) => rule.rule_id)).toEqual([
      '.m.rule.master',
      'high',
      'low',
      '.m.rule.suppress_notices',
    ]);
    expect(merged.override[1]).toEqual({
      rule_id: 'high',
      default: false,
      enabled: true,
      actions: ['notify'],
      conditions: [],
    });
  });

  it('shapes each kind as the spec does: pattern for content, neither for room rules', () => {
    const merged = mergeUserRules(defaults(), [
      row({ kind: 'content', rule_id: 'cake', rule: '{"pattern":"cake"}' }),
      row({ kind: 'room', rule_id: ROOM, rule: '{}', actions: '[]', enabled: false }),
    ]);
    expect(merged.content[0]).toEqual({
      rule_id: 'cake',
      default: false,
      enabled: true,
      actions: ['notify'],
      pattern: 'cake',
    });
    expect(merged.content[1]?.rule_id).toBe('.m.rule.contains_user_name');
    expect(merged.room).toEqual([{ rule_id: ROOM, default: false, enabled: false, actions: [] }]);
  });

  it('applies changes to enabled and actions of default rules', () => {
    const merged = mergeUserRules(defaults(), [
      row({ rule_id: '.m.rule.master', rule: null, enabled: true, actions: null }),
      row({ kind: 'underride', rule_id: '.m.rule.message', rule: null, actions: '[]' }),
    ]);
    expect(merged.override[0]).toMatchObject({ rule_id: '.m.rule.master', enabled: true });
    expect(merged.underride[3]).toMatchObject({
      rule_id: '.m.rule.message',
      enabled: true,
      actions: [],
      default: true,
    });
  });
});

describe('evaluatePushRules', () => {
  it('highlights a message that mentions the user in m.mentions', () => {
    const event = message('hello', { 'm.mentions': { user_ids: [ALICE] } });
    expect(evaluatePushRules(defaults(), event, context())).toEqual({
      notify: true,
      highlight: true,
      sound: 'default',
    });
  });

  it('highlights a message containing the display name at word boundaries', () => {
    const outcome = evaluatePushRules(defaults(), message('Hi ALICE, lunch?'), context());
    expect(outcome).toMatchObject({ notify: true, highlight: true });
  });

  it('does not find the display name inside a longer word', () => {
    const outcome = evaluatePushRules(defaults(), message('malice aforethought'), context());
    expect(outcome).toEqual({ notify: true, highlight: false });
  });

  it('finds a Japanese display name followed by more Japanese text', () => {
    const event = message('山田さん、会議です');
    const outcome = evaluatePushRules(defaults(), event, context({ displayName: '山田' }));
    expect(outcome).toMatchObject({ notify: true, highlight: true });
  });

  it('skips the legacy body mention rules when the event has m.mentions', () => {
    const event = message('Alice: see alice', { 'm.mentions': {} });
    expect(evaluatePushRules(defaults(), event, context())).toEqual({
      notify: true,
      highlight: false,
    });
  });

  it('highlights the localpart through .m.rule.contains_user_name', () => {
    const event = message('ping alice');
    const outcome = evaluatePushRules(defaults(), event, context({ displayName: 'A' }));
    expect(outcome).toMatchObject({ highlight: true });
  });

  it('suppresses m.notice messages', () => {
    const event = message('Alice: build passed', { msgtype: 'm.notice' });
    expect(evaluatePushRules(defaults(), event, context())).toEqual({
      notify: false,
      highlight: false,
    });
  });

  it('notifies with sound for a message in a one-to-one room', () => {
    const outcome = evaluatePushRules(defaults(), message('hi'), context({ memberCount: 2 }));
    expect(outcome).toEqual({ notify: true, highlight: false, sound: 'default' });
  });

  it('notifies without sound for a message in a group room', () => {
    expect(evaluatePushRules(defaults(), message('hi'), context())).toEqual({
      notify: true,
      highlight: false,
    });
  });

  it('suppresses edits', () => {
    // Clients send edits with `m.mentions`, which turns off the legacy body mention rules that
    // come before .m.rule.suppress_edits.
    const event = message('* Alice, fixed', {
      'm.mentions': {},
      'm.new_content': { msgtype: 'm.text', body: 'Alice, fixed', 'm.mentions': {} },
      'm.relates_to': { rel_type: 'm.replace', event_id: '$original' },
    });
    expect(evaluatePushRules(defaults(), event, context({ memberCount: 2 }))).toEqual({
      notify: false,
      highlight: false,
    });
  });

  it('skips a disabled rule', () => {
    const ruleset = mergeUserRules(defaults(), [
      {
        kind: 'override',
        rule_id: '.m.rule.suppress_notices',
        rule: null,
        enabled: false,
        actions: null,
        priority: 0,
      },
    ]);
    const event = message('build passed', { msgtype: 'm.notice' });
    expect(evaluatePushRules(ruleset, event, context())).toEqual({
      notify: true,
      highlight: false,
    });
  });

  it('silences everything once the master rule is enabled', () => {
    const ruleset = defaults();
    ruleset.override[0]!.enabled = true;
    const event = message('hi', { 'm.mentions': { user_ids: [ALICE] } });
    expect(evaluatePushRules(ruleset, event, context())).toEqual({
      notify: false,
      highlight: false,
    });
  });

  it('notifies an invite for the user with sound, and ignores other membership', () => {
    const invite: PushEvent = {
      type: 'm.room.member',
      sender: BOB,
      room_id: ROOM,
      state_key: ALICE,
      content: { membership: 'invite' },
    };
    expect(evaluatePushRules(defaults(), invite, context())).toEqual({
      notify: true,
      highlight: false,
      sound: 'default',
    });
    const join = { ...invite, state_key: BOB, content: { membership: 'join' } };
    expect(evaluatePushRules(defaults(), join, context())).toEqual({
      notify: false,
      highlight: false,
    });
  });

  it('lets @room highlight only from senders with the notification level', () => {
    const event = message('@room fire drill at noon');
    const powerLevels = { notifications: { room: 20 } };
    expect(evaluatePushRules(defaults(), event, context({ roomPowerLevels: powerLevels }))).toEqual(
      { notify: true, highlight: false },
    );
    expect(
      evaluatePushRules(
        defaults(),
        event,
        context({ roomPowerLevels: powerLevels, senderPowerLevel: 20 }),
      ),
    ).toEqual({ notify: true, highlight: true });
  });

  it('never notifies users of their own events', () => {
    const event = { ...message('hi', { 'm.mentions': { user_ids: [ALICE] } }), sender: ALICE };
    expect(evaluatePushRules(defaults(), event, context())).toBeUndefined();
  });

  it('returns undefined when no rule matches', () => {
    const event: PushEvent = { type: 'm.room.topic', sender: BOB, room_id: ROOM, content: {} };
    expect(evaluatePushRules(defaults(), event, context())).toBeUndefined();
  });
});

describe('conditionMatches', () => {
  const event: PushEvent = {
    type: 'm.room.topic',
    sender: BOB,
    room_id: ROOM,
    state_key: '',
    content: {
      topic: 'Lunch plans',
      body: 'An exciting triple-whammy',
      'm.federate': true,
      count: 1,
      aliases: ['#a:hs1.test', 2, null],
      'm\\foo': 'backslash',
    },
  };
  const holds = (condition: Parameters<typeof conditionMatches>[0], memberCount = 3) =>
    conditionMatches(condition, event, context({ memberCount }));

  it.each([
    ['lunc?*', true],
    ['LUNCH*', true],
    ['lunc', false],
    [' lunch*', false],
  ])('event_match on content.topic with %j: %s', (pattern, expected) => {
    expect(holds({ kind: 'event_match', key: 'content.topic', pattern })).toBe(expected);
  });

  it.each([
    ['ex*ple', true],
    ['exciting', true],
    ['citing', false],
    ['triple', true],
  ])('event_match on content.body with %j: %s', (pattern, expected) => {
    expect(holds({ kind: 'event_match', key: 'content.body', pattern })).toBe(expected);
  });

  it('does not match an absent or non-string property, even with *', () => {
    expect(holds({ kind: 'event_match', key: 'content.missing', pattern: '*' })).toBe(false);
    expect(holds({ kind: 'event_match', key: 'content.count', pattern: '*' })).toBe(false);
    expect(holds({ kind: 'event_match', key: 'content.toString', pattern: '*' })).toBe(false);
  });

  it('compares event_property_is exactly, without casting', () => {
    const is = (value: string | number | boolean | null) =>
      holds({ kind: 'event_property_is', key: 'content.m\\.federate', value });
    expect(is(true)).toBe(true);
    expect(is('true')).toBe(false);
    expect(is(1)).toBe(false);
  });

  it('looks for whole values with event_property_contains', () => {
    const contains = (value: string | number | null) =>
      holds({ kind: 'event_property_contains', key: 'content.aliases', value });
    expect(contains('#a:hs1.test')).toBe(true);
    expect(contains(':hs1.test')).toBe(false);
    expect(contains(2)).toBe(true);
    expect(contains(null)).toBe(true);
  });

  it.each([
    ['3', true],
    ['==3', true],
    ['<3', false],
    ['<=3', true],
    ['>2', true],
    ['>=4', false],
    ['three', false],
  ])('room_member_count %j with 3 members: %s', (is, expected) => {
    expect(holds({ kind: 'room_member_count', is })).toBe(expected);
  });

  it('never matches an unrecognised condition', () => {
    expect(holds({ kind: 'org.example.always' })).toBe(false);
  });
});

describe('splitPropertyPath', () => {
  it.each([
    ['content.body', ['content', 'body']],
    ['content.m\\.relates_to.rel_type', ['content', 'm.relates_to', 'rel_type']],
    ['content.m\\\\foo', ['content', 'm\\foo']],
    ['content.a\\xb', ['content', 'a\\xb']],
  ])('splits %j', (path, parts) => {
    expect(splitPropertyPath(path)).toEqual(parts);
  });
});

describe('actions', () => {
  it('accepts notify, legacy actions and tweaks, and refuses anything else', () => {
    expect(actionsProblem(['notify', 'dont_notify', { set_tweak: 'sound', value: 'x' }])).toBe(
      undefined,
    );
    expect(actionsProblem(['explode'])).toMatch(/Unknown action/);
    expect(actionsProblem([{ value: 1 }])).toMatch(/set_tweak/);
    expect(actionsProblem([3])).toMatch(/string or an object/);
  });

  it('strips dont_notify and coalesce', () => {
    expect(stripLegacyActions(['dont_notify', 'notify', 'coalesce'])).toEqual(['notify']);
  });
});
