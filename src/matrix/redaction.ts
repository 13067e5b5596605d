/**
 * The redaction algorithm of room version 11: what is left of an event once it is redacted, and
 * the form of an event that its signatures and event id cover.
 * https://spec.matrix.org/v1.16/rooms/v11/#redactions
 */
import type { Pdu } from './event.js';

/** Top-level event keys that survive redaction; all others are removed. */
const KEPT_TOP_LEVEL_KEYS: ReadonlySet<string> = new Set([
  'event_id',
  'type',
  'room_id',
  'sender',
  'state_key',
  'content',
  'hashes',
  'signatures',
  'depth',
  'prev_events',
  'auth_events',
  'origin_server_ts',
]);

/**
 * Content keys that survive redaction, per event type. Types not listed lose all content;
 * `m.room.create` keeps all of it, and `m.room.member` also keeps part of `third_party_invite`.
 */
const KEPT_CONTENT_KEYS: Readonly<Record<string, readonly string[]>> = {
  'm.room.member': ['membership', 'join_authorised_via_users_server'],
  'm.room.join_rules': ['join_rule', 'allow'],
  'm.room.power_levels': [
    'ban',
    'events',
    'events_default',
    'invite',
    'kick',
    'redact',
    'state_default',
    'users',
    'users_default',
  ],
  'm.room.history_visibility': ['history_visibility'],
  'm.room.redaction': ['redacts'],
};

/**
 * Redacts the content of an event of the given type as room version 11 does: keeps only the keys
 * the algorithm protects for that type. Returns a new object; kept values are deep copies.
 */
export function redactContent(
  type: string,
  content: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  if (type === 'm.room.create') return structuredClone({ ...content });

  const kept: Record<string, unknown> = {};
  for (const key of KEPT_CONTENT_KEYS[type] ?? []) {
    if (Object.hasOwn(content, key)) kept[key] = structuredClone(content[key]);
  }
  if (type === 'm.room.member') {
    // Only `signed` of a third-party invite is protected. The spec does not say what becomes of a
    // `third_party_invite` without `signed`; it is dropped, which leaves no empty object behind.
    const invite = content.third_party_invite;
    if (isObject(invite) && Object.hasOwn(invite, 'signed')) {
      kept.third_party_invite = { signed: structuredClone(invite.signed) };
    }
  }
  return kept;
}

/**
 * Redacts a room event as room version 11 does: drops every top-level key but the protected
 * ones (so `unsigned`, `origin`, `membership`, `prev_state` and the old top-level `redacts` go)
 * and strips `content` with {@link redactContent}. Returns a new event.
 */
export function redactPdu(event: Pdu): Pdu {
  return redactEventJson(event) as unknown as Pdu;
}

/**
 * Applies the room version 11 redaction algorithm to event JSON of any shape, such as an event
 * received over federation that has not been checked yet, or one built in an older format.
 * `content` is always present in the result (empty when the event had none).
 */
export function redactEventJson(event: object): Record<string, unknown> {
  const redacted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (key !== 'content' && KEPT_TOP_LEVEL_KEYS.has(key)) redacted[key] = structuredClone(value);
  }
  const { type, content } = event as { type?: unknown; content?: unknown };
  const typeName = typeof type === 'string' ? type : '';
  redacted.content = isObject(content) ? redactContent(typeName, content) : {};
  return redacted;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
