/**
 * Room version 11 event authorization (spec: rooms v11, Authorization rules): whether an event may
 * enter a room given the room state before it, and the power-level lookups built on that state.
 * Pure: the caller supplies the state and verifies signatures.
 */
import { stateKey } from './event.js';
import type { Pdu } from './event.js';
import { parseUserId } from './ids.js';

/**
 * The room state an event is authorized against, keyed by `stateKey(type, state_key)`: either the
 * full state before the event or just its auth events.
 */
export type AuthState = ReadonlyMap<string, Pdu>;

/** The verdict on an event: allowed, or refused with a reason fit for a log or an M_FORBIDDEN. */
export type AuthResult = { allowed: true } | { allowed: false; reason: string };

/** The fields of an event that decide which state entries authorize it. */
export type AuthEventSelector = Pick<Pdu, 'type' | 'sender' | 'state_key' | 'content'>;

/** Room versions whose `m.room.create` these rules accept: the only version this server runs. */
const RECOGNISED_ROOM_VERSIONS: ReadonlySet<string> = new Set(['11']);

/** Top-level `m.room.power_levels` keys that hold a single level. */
const LEVEL_KEYS = [
  'users_default',
  'events_default',
  'state_default',
  'ban',
  'redact',
  'kick',
  'invite',
] as const;

/** `m.room.power_levels` keys that map names (event types, notification kinds) to levels. */
const LEVEL_MAP_KEYS = ['events', 'notifications'] as const;

const ALLOWED = { allowed: true } as const;

function refuse(reason: string): AuthResult {
  return { allowed: false, reason };
}

/**
 * Decides whether an event is allowed by the room version 11 authorization rules, given the room
 * state before it (spec: rooms v11, Authorization rules).
 *
 * The auth-events checks are reduced to the state: the room must have a create event and every
 * state entry the event depends on must belong to the same room. Signatures are not checked here.
 * The redact level plays no part: a redaction needs only the level for sending
 * `m.room.redaction`; whether it takes effect is {@link canApplyRedaction}'s question.
 */
export function authorizeEvent(event: Pdu, state: AuthState): AuthResult {
  if (event.type === 'm.room.create') return authorizeCreate(event);

  const create = stateEvent(state, 'm.room.create');
  if (!create) return refuse('the room has no m.room.create event');
  const foreign = selectAuthEventKeys(event)
    .map((key) => state.get(key))
    .find((authEvent) => authEvent !== undefined && authEvent.room_id !== event.room_id);
  if (foreign) return refuse(`auth event ${foreign.type} belongs to another room`);
  if (create.content['m.federate'] === false && !sameServer(event.sender, create.sender)) {
    return refuse('the room does not federate and the sender is on another server');
  }

  if (event.type === 'm.room.member') return authorizeMembership(event, create, state);

  if (membershipOf(state, event.sender) !== 'join') {
    return refuse('the sender is not joined to the room');
  }
  const senderLevel = powerLevelOf(state, event.sender);
  if (event.type === 'm.room.third_party_invite') {
    return atLeast(senderLevel, inviteLevel(state), 'sending a third-party invite');
  }
  const required = requiredLevelForEvent(state, event.type, event.state_key !== undefined);
  if (required > senderLevel) {
    return refuse(`sending ${event.type} needs power level ${required}; sender has ${senderLevel}`);
  }
  if (event.state_key?.startsWith('@') && event.state_key !== event.sender) {
    return refuse('a state key that is a user ID may only be set by that user');
  }
  if (event.type === 'm.room.power_levels') {
    return authorizePowerLevels(event, state, senderLevel);
  }
  return ALLOWED;
}

/**
 * The power level of a user in a room: their entry in `users`, else `users_default` (0). With no
 * power levels event, the room's creator (the sender of `m.room.create`) has 100 and everyone
 * else 0 (spec: rooms v11, Authorization rules; m.room.power_levels).
 */
export function powerLevelOf(state: AuthState, userId: string): number {
  const powerLevels = stateEvent(state, 'm.room.power_levels');
  if (!powerLevels) return stateEvent(state, 'm.room.create')?.sender === userId ? 100 : 0;
  const level = ownValue(asObject(powerLevels.content['users']), userId);
  return isPowerLevel(level) ? level : levelIn(powerLevels.content, 'users_default', 0);
}

/**
 * The power level needed to send an event of a type: its entry in `events`, else
 * `state_default` (50) for state events or `events_default` (0) for the rest. Membership events
 * follow the invite, kick and ban levels instead (spec: m.room.power_levels).
 */
export function requiredLevelForEvent(state: AuthState, type: string, isState: boolean): number {
  const content = stateEvent(state, 'm.room.power_levels')?.content ?? {};
  const level = ownValue(asObject(content['events']), type);
  if (isPowerLevel(level)) return level;
  return isState ? levelIn(content, 'state_default', 50) : levelIn(content, 'events_default', 0);
}

/** The power level needed to redact another user's event: `redact`, default 50. */
export function redactLevel(state: AuthState): number {
  return levelIn(powerLevelsContent(state), 'redact', 50);
}

/** The power level needed to invite a user: `invite`, default 0. */
export function inviteLevel(state: AuthState): number {
  return levelIn(powerLevelsContent(state), 'invite', 0);
}

/** The power level needed to kick a user (and, with the ban level, to unban): default 50. */
export function kickLevel(state: AuthState): number {
  return levelIn(powerLevelsContent(state), 'kick', 50);
}

/** The power level needed to ban or unban a user: `ban`, default 50. */
export function banLevel(state: AuthState): number {
  return levelIn(powerLevelsContent(state), 'ban', 50);
}

/**
 * Whether a server should apply an authorized redaction to the event it names: the redaction's
 * sender reaches the redact level, or is on the same server as the original event's sender
 * (spec: rooms v11, Handling redactions).
 *
 * The Client-Server API is stricter for local users: without the redact level a user may only
 * redact their own events, so a client request must compare users, not servers, before this.
 */
export function canApplyRedaction(redaction: Pdu, original: Pdu, state: AuthState): boolean {
  if (powerLevelOf(state, redaction.sender) >= redactLevel(state)) return true;
  return sameServer(redaction.sender, original.sender);
}

/**
 * The state entries (as `stateKey(type, state_key)` keys) whose event ids belong in an event's
 * `auth_events`: the create event, power levels, the sender's membership and, for membership
 * events, the target's membership, the join rules, the third-party invite being redeemed and the
 * authorising user's membership of a restricted join (spec: server-server API, Auth events
 * selection). Callers skip keys absent from the room state.
 */
export function selectAuthEventKeys(event: AuthEventSelector): string[] {
  if (event.type === 'm.room.create') return [];
  const keys = new Set([
    stateKey('m.room.create', ''),
    stateKey('m.room.power_levels', ''),
    stateKey('m.room.member', event.sender),
  ]);
  if (event.type !== 'm.room.member' || event.state_key === undefined) return [...keys];

  keys.add(stateKey('m.room.member', event.state_key));
  const membership = event.content['membership'];
  if (membership === 'join' || membership === 'invite' || membership === 'knock') {
    keys.add(stateKey('m.room.join_rules', ''));
  }
  const token = thirdPartyInviteToken(event.content);
  if (membership === 'invite' && token !== undefined) {
    keys.add(stateKey('m.room.third_party_invite', token));
  }
  const authoriser = event.content['join_authorised_via_users_server'];
  if (membership === 'join' && typeof authoriser === 'string') {
    keys.add(stateKey('m.room.member', authoriser));
  }
  return [...keys];
}

/** The create event is checked on its own: no prev events, a room ID of the sender's server. */
function authorizeCreate(event: Pdu): AuthResult {
  if (event.prev_events.length > 0) return refuse('m.room.create must not have prev_events');
  if (!sameServer(event.room_id, event.sender)) {
    return refuse('the room ID and the sender of m.room.create are on different servers');
  }
  const version = event.content['room_version'];
  const recognised = typeof version === 'string' && RECOGNISED_ROOM_VERSIONS.has(version);
  if (version !== undefined && !recognised) {
    return refuse(`room version ${JSON.stringify(version)} is not recognised`);
  }
  return ALLOWED;
}

function authorizeMembership(event: Pdu, create: Pdu, state: AuthState): AuthResult {
  const target = event.state_key;
  const membership = event.content['membership'];
  if (target === undefined || membership === undefined) {
    return refuse('m.room.member needs a state_key and content.membership');
  }
  // TODO: check that an event carrying join_authorised_via_users_server is signed by that
  // user's server; the claim is taken as given here, so federated events need the check first.
  switch (membership) {
    case 'join':
      return authorizeJoin(event, target, create, state);
    case 'invite':
      return authorizeInvite(event, target, state);
    case 'leave':
      return authorizeLeave(event, target, state);
    case 'ban':
      return authorizeBan(event, target, state);
    case 'knock':
      return authorizeKnock(event, target, state);
    default:
      return refuse(`unknown membership ${JSON.stringify(membership)}`);
  }
}

function authorizeJoin(event: Pdu, target: string, create: Pdu, state: AuthState): AuthResult {
  if (isCreatorsFirstJoin(event, target, create, state)) return ALLOWED;
  if (event.sender !== target) return refuse('a user can only join on their own behalf');
  const current = membershipOf(state, target);
  if (current === 'ban') return refuse('the sender is banned from the room');

  const invitedOrJoined = current === 'invite' || current === 'join';
  const joinRule = joinRuleOf(state);
  switch (joinRule) {
    case 'public':
      return ALLOWED;
    case 'invite':
    case 'knock':
      if (invitedOrJoined) return ALLOWED;
      return refuse(`the room is ${joinRule}-only; sender is not invited`);
    case 'restricted':
    case 'knock_restricted':
      return invitedOrJoined ? ALLOWED : authorizeRestrictedJoin(event, state);
    default:
      return refuse(`join rule ${JSON.stringify(joinRule)} does not allow joining`);
  }
}

/**
 * The creator may join straight after creating the room: the create event is the only one before
 * the join, so the state holds nothing else.
 */
function isCreatorsFirstJoin(event: Pdu, target: string, create: Pdu, state: AuthState): boolean {
  if (target !== create.sender || event.prev_events.length !== 1) return false;
  const createKey = stateKey('m.room.create', '');
  return [...state.keys()].every((key) => key === createKey);
}

/** A restricted join is vouched for by a joined member who may invite. */
function authorizeRestrictedJoin(event: Pdu, state: AuthState): AuthResult {
  const authoriser = event.content['join_authorised_via_users_server'];
  if (typeof authoriser !== 'string') {
    return refuse('joining a restricted room needs join_authorised_via_users_server');
  }
  if (membershipOf(state, authoriser) !== 'join') {
    return refuse(`the authorising user ${authoriser} is not joined to the room`);
  }
  if (powerLevelOf(state, authoriser) < inviteLevel(state)) {
    return refuse(`the authorising user ${authoriser} may not invite`);
  }
  return ALLOWED;
}

function authorizeInvite(event: Pdu, target: string, state: AuthState): AuthResult {
  if (event.content['third_party_invite'] !== undefined) {
    return authorizeThirdPartyInvite(event, target, state);
  }
  if (membershipOf(state, event.sender) !== 'join') {
    return refuse('the sender is not joined to the room');
  }
  const targetMembership = membershipOf(state, target);
  if (targetMembership === 'join') return refuse(`${target} is already joined`);
  if (targetMembership === 'ban') return refuse(`${target} is banned from the room`);
  return atLeast(powerLevelOf(state, event.sender), inviteLevel(state), 'inviting');
}

/** An invite redeeming an `m.room.third_party_invite` sent earlier by the same user. */
function authorizeThirdPartyInvite(event: Pdu, target: string, state: AuthState): AuthResult {
  if (membershipOf(state, target) === 'ban') return refuse(`${target} is banned from the room`);
  const signed = asObject(asObject(event.content['third_party_invite'])?.['signed']);
  if (!signed) return refuse('third_party_invite has no signed object');
  const mxid = signed['mxid'];
  const token = signed['token'];
  if (typeof mxid !== 'string' || typeof token !== 'string') {
    return refuse('third_party_invite.signed needs mxid and token');
  }
  if (mxid !== target) return refuse('third_party_invite.signed.mxid is not the invited user');
  const thirdPartyInvite = stateEvent(state, 'm.room.third_party_invite', token);
  if (!thirdPartyInvite) return refuse('no m.room.third_party_invite matches the token');
  if (thirdPartyInvite.sender !== event.sender) {
    return refuse('only the sender of the third-party invite may redeem it');
  }
  // NOTSPEC: the signatures in `signed` are not verified against the invite's public keys, so a
  // third-party invite is always refused; identity-server invites cannot be redeemed yet.
  return refuse('third-party invite signatures cannot be verified');
}

/** Leaving oneself, kicking someone else, or unbanning them. */
function authorizeLeave(event: Pdu, target: string, state: AuthState): AuthResult {
  const senderMembership = membershipOf(state, event.sender);
  if (event.sender === target) {
    const canLeave =
      senderMembership === 'invite' || senderMembership === 'join' || senderMembership === 'knock';
    if (canLeave) return ALLOWED;
    return refuse(`cannot leave with membership ${senderMembership ?? 'none'}`);
  }
  if (senderMembership !== 'join') return refuse('the sender is not joined to the room');
  const senderLevel = powerLevelOf(state, event.sender);
  const ban = banLevel(state);
  if (membershipOf(state, target) === 'ban' && senderLevel < ban) {
    return refuse(`unbanning needs power level ${ban}; sender has ${senderLevel}`);
  }
  return outranks(event.sender, target, kickLevel(state), state, 'kicking');
}

function authorizeBan(event: Pdu, target: string, state: AuthState): AuthResult {
  if (membershipOf(state, event.sender) !== 'join') {
    return refuse('the sender is not joined to the room');
  }
  return outranks(event.sender, target, banLevel(state), state, 'banning');
}

function authorizeKnock(event: Pdu, target: string, state: AuthState): AuthResult {
  const joinRule = joinRuleOf(state);
  if (joinRule !== 'knock' && joinRule !== 'knock_restricted') {
    return refuse('the room does not allow knocking');
  }
  if (event.sender !== target) return refuse('a user can only knock on their own behalf');
  const current = membershipOf(state, event.sender);
  if (current === 'ban' || current === 'invite' || current === 'join') {
    return refuse(`cannot knock with membership ${current}`);
  }
  return ALLOWED;
}

/** Kicks and bans need the action's level and a power level above the target's. */
function outranks(
  sender: string,
  target: string,
  required: number,
  state: AuthState,
  action: string,
): AuthResult {
  const senderLevel = powerLevelOf(state, sender);
  if (senderLevel < required) {
    return refuse(`${action} needs power level ${required}; sender has ${senderLevel}`);
  }
  if (powerLevelOf(state, target) >= senderLevel) {
    return refuse(`${action} needs a power level above the target's`);
  }
  return ALLOWED;
}

function atLeast(level: number, required: number, action: string): AuthResult {
  if (level >= required) return ALLOWED;
  return refuse(`${action} needs power level ${required}; sender has ${level}`);
}

/** A new power levels event must hold integers only and change nothing above the sender. */
function authorizePowerLevels(event: Pdu, state: AuthState, senderLevel: number): AuthResult {
  const problem = powerLevelsContentProblem(event.content);
  if (problem !== undefined) return refuse(problem);
  const previous = stateEvent(state, 'm.room.power_levels');
  if (!previous) return ALLOWED;
  const { sender, content } = event;
  const change = powerLevelsChangeProblem(previous.content, content, sender, senderLevel);
  return change === undefined ? ALLOWED : refuse(change);
}

/** Why power levels content is malformed (a level that is not an integer), if it is. */
function powerLevelsContentProblem(content: Record<string, unknown>): string | undefined {
  for (const key of LEVEL_KEYS) {
    if (Object.hasOwn(content, key) && !isPowerLevel(content[key])) {
      return `power levels ${key} must be an integer`;
    }
  }
  for (const key of LEVEL_MAP_KEYS) {
    if (!Object.hasOwn(content, key)) continue;
    const levels = asObject(content[key]);
    if (!levels || !Object.values(levels).every(isPowerLevel)) {
      return `power levels ${key} must be an object of integers`;
    }
  }
  // An absent `users` is read as empty, as the other keys may be absent too.
  if (!Object.hasOwn(content, 'users')) return undefined;
  const users = asObject(content['users']);
  if (!users) return 'power levels users must be an object';
  for (const [userId, level] of Object.entries(users)) {
    if (!parseUserId(userId)) return `power levels users has an invalid user ID ${userId}`;
    if (!isPowerLevel(level)) return `power level of ${userId} must be an integer`;
  }
  return undefined;
}

/** Why the change from one power levels content to the next is beyond the sender, if it is. */
function powerLevelsChangeProblem(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  sender: string,
  senderLevel: number,
): string | undefined {
  for (const key of LEVEL_KEYS) {
    const [old, next] = [ownLevel(before, key), ownLevel(after, key)];
    const problem = levelChangeProblem(key, old, next, senderLevel);
    if (problem !== undefined) return problem;
  }
  for (const key of LEVEL_MAP_KEYS) {
    const old = asObject(before[key]) ?? {};
    const next = asObject(after[key]) ?? {};
    for (const name of unionOfKeys(old, next)) {
      const [oldLevel, newLevel] = [ownLevel(old, name), ownLevel(next, name)];
      const problem = levelChangeProblem(`${key}.${name}`, oldLevel, newLevel, senderLevel);
      if (problem !== undefined) return problem;
    }
  }
  const oldUsers = asObject(before['users']) ?? {};
  const newUsers = asObject(after['users']) ?? {};
  for (const userId of unionOfKeys(oldUsers, newUsers)) {
    const old = ownLevel(oldUsers, userId);
    const next = ownLevel(newUsers, userId);
    if (old === next) continue;
    if (userId !== sender && old !== undefined && old >= senderLevel) {
      return `cannot change the power level of ${userId}, which is not below the sender's`;
    }
    if (next !== undefined && next > senderLevel) {
      return `cannot give ${userId} a power level above the sender's ${senderLevel}`;
    }
  }
  return undefined;
}

/** A level may be added, changed or removed only if neither old nor new value tops the sender. */
function levelChangeProblem(
  label: string,
  old: number | undefined,
  next: number | undefined,
  senderLevel: number,
): string | undefined {
  if (old === next) return undefined;
  if (old !== undefined && old > senderLevel) {
    return `cannot change ${label} from ${old}, above the sender's ${senderLevel}`;
  }
  if (next !== undefined && next > senderLevel) {
    return `cannot set ${label} to ${next}, above the sender's ${senderLevel}`;
  }
  return undefined;
}

function stateEvent(state: AuthState, type: string, key = ''): Pdu | undefined {
  return state.get(stateKey(type, key));
}

/** A user's current membership, or undefined when they have no member event. */
function membershipOf(state: AuthState, userId: string): string | undefined {
  const membership = stateEvent(state, 'm.room.member', userId)?.content['membership'];
  return typeof membership === 'string' ? membership : undefined;
}

/**
 * The room's join rule. A room without a join rules event is treated as invite-only, as the
 * spec gives no default and other servers read it that way.
 */
function joinRuleOf(state: AuthState): string | undefined {
  const joinRules = stateEvent(state, 'm.room.join_rules');
  if (!joinRules) return 'invite';
  const joinRule = joinRules.content['join_rule'];
  return typeof joinRule === 'string' ? joinRule : undefined;
}

function thirdPartyInviteToken(content: Record<string, unknown>): string | undefined {
  const signed = asObject(asObject(content['third_party_invite'])?.['signed']);
  const token = signed?.['token'];
  return typeof token === 'string' ? token : undefined;
}

function powerLevelsContent(state: AuthState): Record<string, unknown> {
  return stateEvent(state, 'm.room.power_levels')?.content ?? {};
}

function levelIn(content: Record<string, unknown>, key: string, fallback: number): number {
  return ownLevel(content, key) ?? fallback;
}

function ownLevel(record: Record<string, unknown>, key: string): number | undefined {
  const value = ownValue(record, key);
  return isPowerLevel(value) ? value : undefined;
}

/** Power levels are integers in canonical JSON's range, which is exactly JS's safe integers. */
function isPowerLevel(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function ownValue(record: Record<string, unknown> | undefined, key: string): unknown {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}

function unionOfKeys(a: Record<string, unknown>, b: Record<string, unknown>): Set<string> {
  return new Set([...Object.keys(a), ...Object.keys(b)]);
}

/** Whether two Matrix IDs (`@user:server`, `!room:server`) name the same server. */
function sameServer(a: string, b: string): boolean {
  const server = serverNameOf(a);
  return server !== undefined && server === serverNameOf(b);
}

function serverNameOf(id: string): string | undefined {
  const colon = id.indexOf(':');
  return colon < 0 || colon === id.length - 1 ? undefined : id.slice(colon + 1);
}
