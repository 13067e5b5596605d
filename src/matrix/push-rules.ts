/**
 * Push rules (spec: client-server-api, Push Notifications, Push Rules): the server-default
 * ruleset, how a user's own rules and changes are merged into it, and how a ruleset decides
 * whether an event notifies. Pure: the caller loads rows and room state.
 *
 * The defaults follow v1.16 of the spec, which still lists the legacy mention rules
 * (`.m.rule.contains_display_name`, `.m.rule.roomnotif`, `.m.rule.contains_user_name`); v1.17
 * removed them. Clients that do not send `m.mentions` rely on them, and, as v1.16 says, they are
 * skipped for events that carry `m.mentions`.
 * https://spec.matrix.org/v1.16/client-server-api/#predefined-rules
 */

/** The kinds of push rule, in the order they are checked. */
export const PUSH_RULE_KINDS = ['override', 'content', 'room', 'sender', 'underride'] as const;

export type PushRuleKind = (typeof PUSH_RULE_KINDS)[number];

/** `notify`, or a tweak such as `{ "set_tweak": "sound", "value": "default" }`. */
export type PushAction = string | Record<string, unknown>;

/** A condition of an override or underride rule (spec schema `PushCondition`). */
export interface PushCondition {
  kind: string;
  key?: string;
  pattern?: string;
  is?: string;
  value?: string | number | boolean | null;
}

/** One rule as clients see it (spec schema `PushRule`). */
export interface PushRule {
  rule_id: string;
  default: boolean;
  enabled: boolean;
  actions: PushAction[];
  /** Override and underride rules only. */
  conditions?: PushCondition[];
  /** Content rules only: the glob matched against `content.body`. */
  pattern?: string;
}

/** All of a user's rules by kind, each list most important first (spec schema `Ruleset`). */
export type PushRuleset = Record<PushRuleKind, PushRule[]>;

/** Whether `kind` names a kind of push rule. */
export function isPushRuleKind(kind: string): kind is PushRuleKind {
  return (PUSH_RULE_KINDS as readonly string[]).includes(kind);
}

const SOUND_DEFAULT = { set_tweak: 'sound', value: 'default' };
const HIGHLIGHT = { set_tweak: 'highlight' };

/** An `event_match` condition. */
const match = (key: string, pattern: string): PushCondition => ({
  kind: 'event_match',
  key,
  pattern,
});

/** A server-default rule, enabled unless said otherwise. */
function serverDefault(
  ruleId: string,
  actions: PushAction[],
  matching: { conditions: PushCondition[] } | { pattern: string },
  enabled = true,
): PushRule {
  return { rule_id: ruleId, default: true, enabled, ...matching, actions };
}

/**
 * The spec's server-default rules for `userId`, in the spec's order. Fresh objects on every
 * call, so callers may change them.
 */
export function defaultPushRules(userId: string): PushRuleset {
  const localpart = userId.startsWith('@') ? userId.slice(1).split(':')[0]! : userId;
  return {
    override: [
      serverDefault('.m.rule.master', [], { conditions: [] }, false),
      serverDefault('.m.rule.suppress_notices', [], {
        conditions: [match('content.msgtype', 'm.notice')],
      }),
      serverDefault('.m.rule.invite_for_me', ['notify', { ...SOUND_DEFAULT }], {
        conditions: [
          match('type', 'm.room.member'),
          match('content.membership', 'invite'),
          match('state_key', userId),
        ],
      }),
      serverDefault('.m.rule.member_event', [], { conditions: [match('type', 'm.room.member')] }),
      serverDefault('.m.rule.is_user_mention', ['notify', { ...SOUND_DEFAULT }, { ...HIGHLIGHT }], {
        conditions: [
          { kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: userId },
        ],
      }),
      serverDefault(
        '.m.rule.contains_display_name',
        ['notify', { ...SOUND_DEFAULT }, { ...HIGHLIGHT }],
        { conditions: [{ kind: 'contains_display_name' }] },
      ),
      serverDefault('.m.rule.is_room_mention', ['notify', { ...HIGHLIGHT }], {
        conditions: [
          { kind: 'event_property_is', key: 'content.m\\.mentions.room', value: true },
          { kind: 'sender_notification_permission', key: 'room' },
        ],
      }),
      serverDefault('.m.rule.roomnotif', ['notify', { ...HIGHLIGHT }], {
        conditions: [
          match('content.body', '@room'),
          { kind: 'sender_notification_permission', key: 'room' },
        ],
      }),
      serverDefault('.m.rule.tombstone', ['notify', { ...HIGHLIGHT }], {
        conditions: [match('type', 'm.room.tombstone'), match('state_key', '')],
      }),
      serverDefault('.m.rule.reaction', [], { conditions: [match('type', 'm.reaction')] }),
      serverDefault('.m.rule.room.server_acl', [], {
        conditions: [match('type', 'm.room.server_acl'), match('state_key', '')],
      }),
      serverDefault('.m.rule.suppress_edits', [], {
        conditions: [
          { kind: 'event_property_is', key: 'content.m\\.relates_to.rel_type', value: 'm.replace' },
        ],
      }),
    ],
    content: [
      serverDefault(
        '.m.rule.contains_user_name',
        ['notify', { ...SOUND_DEFAULT }, { ...HIGHLIGHT }],
        { pattern: localpart },
      ),
    ],
    room: [],
    sender: [],
    underride: [
      serverDefault('.m.rule.call', ['notify', { set_tweak: 'sound', value: 'ring' }], {
        conditions: [match('type', 'm.call.invite')],
      }),
      serverDefault('.m.rule.encrypted_room_one_to_one', ['notify', { ...SOUND_DEFAULT }], {
        conditions: [{ kind: 'room_member_count', is: '2' }, match('type', 'm.room.encrypted')],
      }),
      serverDefault('.m.rule.room_one_to_one', ['notify', { ...SOUND_DEFAULT }], {
        conditions: [{ kind: 'room_member_count', is: '2' }, match('type', 'm.room.message')],
      }),
      serverDefault('.m.rule.message', ['notify'], {
        conditions: [match('type', 'm.room.message')],
      }),
      serverDefault('.m.rule.encrypted', ['notify'], {
        conditions: [match('type', 'm.room.encrypted')],
      }),
    ],
  };
}

/** The default rule that outranks even the user's own override rules. */
const MASTER_RULE_ID = '.m.rule.master';

/** Legacy rules that look for mentions in `content.body`, skipped when `m.mentions` is given. */
const LEGACY_MENTION_RULE_IDS: ReadonlySet<string> = new Set([
  '.m.rule.contains_display_name',
  '.m.rule.contains_user_name',
  '.m.rule.roomnotif',
]);

/**
 * One stored row of a user's push rules: a rule of their own, or their change to a
 * server-default rule (whose id starts with a dot).
 */
export interface StoredPushRule {
  kind: string;
  rule_id: string;
  /**
   * A user-defined rule's matching part as JSON: `{"conditions": [...]}` for override and
   * underride rules, `{"pattern": "..."}` for content rules, `{}` for room and sender rules.
   * Null for a change to a server-default rule.
   */
  rule: string | null;
  /** Null: unchanged (server-default rules) or enabled (user-defined rules). */
  enabled: boolean | null;
  /** The actions as a JSON array; null leaves a server-default rule's actions as they are. */
  actions: string | null;
  /** Order among the user's rules of one kind: higher is more important. */
  priority: number;
}

function parseJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The user-defined rule a row stores, shaped as clients see it for its kind. */
function userRule(kind: PushRuleKind, row: StoredPushRule): PushRule | undefined {
  const definition = parseJson(row.rule);
  if (definition === null || typeof definition !== 'object') return undefined;
  const actions = parseJson(row.actions);
  const rule: PushRule = {
    rule_id: row.rule_id,
    default: false,
    enabled: row.enabled ?? true,
    actions: Array.isArray(actions) ? (actions as PushAction[]) : [],
  };
  const { conditions, pattern } = definition as { conditions?: unknown; pattern?: unknown };
  if (kind === 'override' || kind === 'underride') {
    rule.conditions = Array.isArray(conditions) ? (conditions as PushCondition[]) : [];
  } else if (kind === 'content') {
    if (typeof pattern !== 'string') return undefined;
    rule.pattern = pattern;
  }
  return rule;
}

/**
 * The ruleset a user sees: their own rules of each kind (most important first, by priority)
 * ahead of the server-default rules of that kind, except `.m.rule.master`, which stays above
 * everything; and their changes to server-default rules (enabled, actions) applied.
 * `userRows` may come in any order; rows of unknown kinds or defaults are ignored.
 */
export function mergeUserRules(
  defaults: PushRuleset,
  userRows: readonly StoredPushRule[],
): PushRuleset {
  const own: Record<PushRuleKind, { rule: PushRule; priority: number }[]> = {
    override: [],
    content: [],
    room: [],
    sender: [],
    underride: [],
  };
  const changes = new Map<string, StoredPushRule>();
  for (const row of userRows) {
    if (!isPushRuleKind(row.kind)) continue;
    if (row.rule === null) {
      changes.set(`${row.kind}/${row.rule_id}`, row);
      continue;
    }
    const rule = userRule(row.kind, row);
    if (rule) own[row.kind].push({ rule, priority: row.priority });
  }

  const changed = (kind: PushRuleKind, rule: PushRule): PushRule => {
    const change = changes.get(`${kind}/${rule.rule_id}`);
    const copy: PushRule = { ...rule };
    if (change?.enabled !== null && change?.enabled !== undefined) copy.enabled = change.enabled;
    const actions = parseJson(change?.actions ?? null);
    if (Array.isArray(actions)) copy.actions = actions as PushAction[];
    return copy;
  };

  const merged = {} as PushRuleset;
  for (const kind of PUSH_RULE_KINDS) {
    const mine = own[kind].sort((a, b) => b.priority - a.priority).map((entry) => entry.rule);
    const serverDefaults = defaults[kind].map((rule) => changed(kind, rule));
    const first = serverDefaults.filter((rule) => rule.rule_id === MASTER_RULE_ID);
    const rest = serverDefaults.filter((rule) => rule.rule_id !== MASTER_RULE_ID);
    merged[kind] = [...first, ...mine, ...rest];
  }
  return merged;
}

/** Actions older spec versions defined, which clients and servers must now ignore. */
const LEGACY_ACTIONS: ReadonlySet<string> = new Set(['dont_notify', 'coalesce']);

/**
 * Why `actions` cannot be stored, or undefined when they can: each must be `notify`, a legacy
 * action, or a `set_tweak` object (whose other keys pass through, as tweaks are for clients
 * and push gateways to agree on).
 */
export function actionsProblem(actions: readonly unknown[]): string | undefined {
  for (const action of actions) {
    if (typeof action === 'string') {
      if (action !== 'notify' && !LEGACY_ACTIONS.has(action)) return `Unknown action: ${action}`;
    } else if (action === null || typeof action !== 'object' || Array.isArray(action)) {
      return 'Each action must be a string or an object';
    } else if (typeof (action as Record<string, unknown>).set_tweak !== 'string') {
      return 'An action object must have a string set_tweak';
    }
  }
  return undefined;
}

/** `actions` without the legacy `dont_notify` and `coalesce`, which mean nothing now. */
export function stripLegacyActions(actions: readonly PushAction[]): PushAction[] {
  return actions.filter((action) => typeof action !== 'string' || !LEGACY_ACTIONS.has(action));
}

/** The event fields push rules look at. */
export interface PushEvent {
  type: string;
  content: Record<string, unknown>;
  sender: string;
  state_key?: string;
  room_id: string;
}

/** What the evaluator needs to know about the user and the room, beyond the event. */
export interface PushContext {
  /** The user whose rules these are. */
  userId: string;
  /** The user's display name in the room, if any. */
  displayName: string | null | undefined;
  /** The number of joined members of the room. */
  memberCount: number;
  senderPowerLevel: number;
  /** The content of the room's `m.room.power_levels`, if it has one. */
  roomPowerLevels: Record<string, unknown> | undefined;
}

/** What a matching rule asks for. */
export interface PushOutcome {
  notify: boolean;
  highlight: boolean;
  sound?: string;
}

/**
 * Runs `ruleset` against an event for one user: the first enabled rule that matches, checking
 * kinds in order, decides. Undefined when no rule matches (so nothing notifies) and for the
 * user's own events, which never notify them.
 */
export function evaluatePushRules(
  ruleset: PushRuleset,
  event: PushEvent,
  context: PushContext,
): PushOutcome | undefined {
  if (event.sender === context.userId) return undefined;
  const hasMentions = Object.hasOwn(event.content, 'm.mentions');
  for (const kind of PUSH_RULE_KINDS) {
    for (const rule of ruleset[kind]) {
      if (!rule.enabled) continue;
      if (hasMentions && rule.default && LEGACY_MENTION_RULE_IDS.has(rule.rule_id)) continue;
      if (ruleMatches(kind, rule, event, context)) return outcomeOf(rule.actions);
    }
  }
  return undefined;
}

function outcomeOf(actions: readonly PushAction[]): PushOutcome {
  const outcome: PushOutcome = { notify: false, highlight: false };
  for (const action of actions) {
    if (action === 'notify') outcome.notify = true;
    if (typeof action !== 'object') continue;
    // A highlight tweak without a value means true (spec: Actions, `highlight`).
    if (action.set_tweak === 'highlight') outcome.highlight = (action.value ?? true) === true;
    if (action.set_tweak === 'sound' && typeof action.value === 'string') {
      outcome.sound = action.value;
    }
  }
  return outcome;
}

function ruleMatches(
  kind: PushRuleKind,
  rule: PushRule,
  event: PushEvent,
  context: PushContext,
): boolean {
  switch (kind) {
    case 'override':
    case 'underride':
      return (rule.conditions ?? []).every((c) => conditionMatches(c, event, context));
    case 'content': {
      const body = event.content.body;
      return (
        typeof rule.pattern === 'string' &&
        typeof body === 'string' &&
        globRegExp(rule.pattern, true).test(body)
      );
    }
    case 'room':
      return rule.rule_id === event.room_id;
    case 'sender':
      return rule.rule_id === event.sender;
  }
}

/** Whether one condition holds; unrecognised or incomplete conditions never do. */
export function conditionMatches(
  condition: PushCondition,
  event: PushEvent,
  context: PushContext,
): boolean {
  switch (condition.kind) {
    case 'event_match': {
      if (typeof condition.key !== 'string' || typeof condition.pattern !== 'string') return false;
      const value = propertyAt(event, condition.key);
      if (typeof value !== 'string') return false;
      return globRegExp(condition.pattern, condition.key === 'content.body').test(value);
    }
    case 'event_property_is': {
      if (typeof condition.key !== 'string' || !isScalar(condition.value)) return false;
      const value = propertyAt(event, condition.key);
      return isScalar(value) && value === condition.value;
    }
    case 'event_property_contains': {
      if (typeof condition.key !== 'string' || !isScalar(condition.value)) return false;
      const value = propertyAt(event, condition.key);
      return Array.isArray(value) && value.some((v) => isScalar(v) && v === condition.value);
    }
    case 'contains_display_name': {
      const body = event.content.body;
      const name = context.displayName;
      if (typeof body !== 'string' || !name) return false;
      return wordRegExp(escapeRegExp(name)).test(body);
    }
    case 'room_member_count':
      return typeof condition.is === 'string' && countMatches(condition.is, context.memberCount);
    case 'sender_notification_permission':
      if (typeof condition.key !== 'string') return false;
      return context.senderPowerLevel >= notificationLevel(context, condition.key);
    default:
      return false;
  }
}

/**
 * The values `event_property_is` and `event_property_contains` compare: strings, integers in
 * canonical JSON's range, booleans and null.
 */
function isScalar(value: unknown): value is string | number | boolean | null {
  if (typeof value === 'number') return Number.isSafeInteger(value);
  return value === null || typeof value === 'string' || typeof value === 'boolean';
}

/**
 * Splits a dot-separated property path (spec: appendices, Dot-separated property paths): `\.`
 * is a literal dot, `\\` a literal backslash, and any other backslash stays as it is.
 */
export function splitPropertyPath(path: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < path.length; i++) {
    const char = path[i]!;
    const next = path[i + 1];
    if (char === '\\' && (next === '.' || next === '\\')) {
      current += next;
      i++;
    } else if (char === '.') {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/** The value at a dotted path of the event, following only an object's own keys. */
function propertyAt(event: PushEvent, path: string): unknown {
  let node: unknown = event;
  for (const part of splitPropertyPath(path)) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    if (!Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/**
 * Matches `source` anywhere in a value, as long as it starts and ends at a word boundary: the
 * start or end of the value, or a character outside `[A-Za-z0-9_]` (spec: Conditions,
 * `event_match` on `content.body`).
 *
 * The spec's boundary is deliberately ASCII, and we keep it so. Scripts written without spaces
 * (Japanese, Chinese, Thai) then have a boundary at every character, so a name such as '山田'
 * is found in '山田さん、会議です': it matches as a plain substring. The price is that a short
 * name also matches inside longer words of those scripts ('田' in '山田さん'); splitting such
 * text into words would need a dictionary, which the spec does not ask for.
 */
function wordRegExp(source: string): RegExp {
  return new RegExp(`(?<![A-Za-z0-9_])(?:${source})(?![A-Za-z0-9_])`, 'isu');
}

const globCache = new Map<string, RegExp>();
const GLOB_CACHE_SIZE = 1000;

/**
 * A glob (spec: appendices, Glob-style matching: `*` any run of characters, `?` exactly one) as a
 * case-insensitive regular expression matching a whole value, or with `words` any run of words
 * within it.
 */
function globRegExp(glob: string, words: boolean): RegExp {
  const cacheKey = `${words ? 'w' : 'v'}${glob}`;
  let regExp = globCache.get(cacheKey);
  if (regExp) return regExp;
  const source = Array.from(glob, (char) =>
    char === '*' ? '.*' : char === '?' ? '.' : escapeRegExp(char),
  ).join('');
  regExp = words ? wordRegExp(source) : new RegExp(`^(?:${source})$`, 'isu');
  if (globCache.size >= GLOB_CACHE_SIZE) globCache.clear();
  globCache.set(cacheKey, regExp);
  return regExp;
}

/** Whether `count` satisfies a `room_member_count` `is`, such as `2`, `==2` or `<=10`. */
function countMatches(is: string, count: number): boolean {
  const parsed = /^(==|<=|>=|<|>)?([0-9]+)$/.exec(is);
  if (!parsed) return false;
  const bound = Number(parsed[2]);
  switch (parsed[1]) {
    case '<':
      return count < bound;
    case '>':
      return count > bound;
    case '<=':
      return count <= bound;
    case '>=':
      return count >= bound;
    default:
      return count === bound;
  }
}

/**
 * The power level a sender needs for a notification kind: its entry in the power levels'
 * `notifications`, else 50 (the spec's default for `room`, used for every kind).
 */
function notificationLevel(context: PushContext, key: string): number {
  const notifications = context.roomPowerLevels?.notifications;
  if (notifications && typeof notifications === 'object' && Object.hasOwn(notifications, key)) {
    const level = (notifications as Record<string, unknown>)[key];
    if (typeof level === 'number' && Number.isInteger(level)) return level;
  }
  return 50;
}
