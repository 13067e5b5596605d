/**
 * Creating and upgrading rooms (spec: client-server-api, Creation; Room Upgrades). A new room's
 * first events are written in one transaction through the event pipeline.
 */
import type { Kysely } from 'kysely';
import { MatrixError, forbidden } from '../errors.js';
import type { Config } from '../config/config.js';
import { powerLevelOf, requiredLevelForEvent } from '../matrix/auth-rules.js';
import type { Pdu } from '../matrix/event.js';
import { localpartProblem, parseUserId } from '../matrix/ids.js';
import type { DB } from '../storage/schema.js';
import { setRoomPublic } from '../storage/events.js';
import { getAlias, insertAlias, listAliases, moveAliases } from '../storage/rooms.js';
import { getUser } from '../storage/users.js';
import type { EventDraft, EventPipeline } from './event-pipeline.js';
import type { Membership } from './membership.js';
import { randomString } from './secrets.js';

/** Room versions this server creates rooms in. */
export const SUPPORTED_ROOM_VERSIONS = ['11'];
export const DEFAULT_ROOM_VERSION = '11';

export interface CreateRoomRequest {
  visibility?: 'public' | 'private';
  room_alias_name?: string;
  name?: string;
  topic?: string;
  invite?: string[];
  room_version?: string;
  creation_content?: Record<string, unknown>;
  initial_state?: { type: string; state_key?: string; content: Record<string, unknown> }[];
  preset?: 'private_chat' | 'public_chat' | 'trusted_private_chat';
  is_direct?: boolean;
  power_level_content_override?: Record<string, unknown>;
}

/** State events copied into the replacement room on an upgrade. */
const UPGRADE_COPIED_STATE = [
  'm.room.server_acl',
  'm.room.encryption',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.guest_access',
  'm.room.history_visibility',
  'm.room.join_rules',
  'm.room.power_levels',
];

function defaultPowerLevels(creator: string, extraAdmins: string[]): Record<string, unknown> {
  const users: Record<string, number> = { [creator]: 100 };
  for (const u of extraAdmins) users[u] = 100;
  return {
    users,
    users_default: 0,
    events: {
      'm.room.name': 50,
      'm.room.power_levels': 100,
      'm.room.history_visibility': 100,
      'm.room.canonical_alias': 50,
      'm.room.avatar': 50,
      'm.room.tombstone': 100,
      'm.room.server_acl': 100,
      'm.room.encryption': 100,
    },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    invite: 0,
    notifications: { room: 50 },
  };
}

export class Rooms {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly config: Config,
    private readonly pipeline: EventPipeline,
    private readonly membership: Membership,
  ) {}

  #newRoomId(): string {
    return `!${randomString(18)}:${this.config.server_name}`;
  }

  async #checkAliasFree(localpart: string): Promise<string> {
    if (
      localpartProblem(localpart.toLowerCase(), this.config.server_name) ||
      /[\s:#]/.test(localpart)
    ) {
      throw new MatrixError('M_INVALID_PARAM', 'Invalid room_alias_name');
    }
    const alias = `#${localpart}:${this.config.server_name}`;
    if (await getAlias(this.db, alias)) {
      throw new MatrixError('M_ROOM_IN_USE', 'Room alias already taken');
    }
    return alias;
  }

  /** `POST /createRoom`: the room id of the new room. */
  async createRoom(creator: string, request: CreateRoomRequest): Promise<string> {
    const version = request.room_version ?? DEFAULT_ROOM_VERSION;
    if (!SUPPORTED_ROOM_VERSIONS.includes(version)) {
      throw new MatrixError(
        'M_UNSUPPORTED_ROOM_VERSION',
        `Room version ${version} is not supported`,
      );
    }
    const alias =
      request.room_alias_name !== undefined
        ? await this.#checkAliasFree(request.room_alias_name)
        : undefined;
    const invitees = [...new Set(request.invite ?? [])].filter((u) => u !== creator);
    for (const invitee of invitees) {
      const parsed = parseUserId(invitee);
      if (!parsed) throw new MatrixError('M_INVALID_PARAM', `Invalid user id ${invitee}`);
      const user =
        parsed.serverName === this.config.server_name ? await getUser(this.db, invitee) : undefined;
      if (!user || user.deactivated)
        throw new MatrixError('M_NOT_FOUND', `Unknown user ${invitee}`);
    }

    const preset =
      request.preset ?? (request.visibility === 'public' ? 'public_chat' : 'private_chat');
    const roomId = this.#newRoomId();
    const event = (type: string, content: Record<string, unknown>, stateKey = ''): EventDraft => ({
      type,
      sender: creator,
      stateKey,
      content,
    });

    const drafts: EventDraft[] = [
      event('m.room.create', { ...request.creation_content, room_version: version }),
      event(
        'm.room.member',
        { membership: 'join', ...(await this.membership.memberProfile(creator)) },
        creator,
      ),
      event('m.room.power_levels', {
        ...defaultPowerLevels(creator, preset === 'trusted_private_chat' ? invitees : []),
        ...request.power_level_content_override,
      }),
    ];
    if (alias) drafts.push(event('m.room.canonical_alias', { alias }));
    drafts.push(
      event('m.room.join_rules', { join_rule: preset === 'public_chat' ? 'public' : 'invite' }),
      event('m.room.history_visibility', { history_visibility: 'shared' }),
    );
    drafts.push(
      event('m.room.guest_access', {
        guest_access: preset === 'public_chat' ? 'forbidden' : 'can_join',
      }),
    );
    for (const state of request.initial_state ?? []) {
      drafts.push(event(state.type, state.content, state.state_key ?? ''));
    }
    if (request.name !== undefined) drafts.push(event('m.room.name', { name: request.name }));
    if (request.topic !== undefined) {
      drafts.push(
        event('m.room.topic', {
          topic: request.topic,
          'm.topic': [{ mimetype: 'text/plain', body: request.topic }],
        }),
      );
    }
    for (const invitee of invitees) {
      drafts.push(
        event(
          'm.room.member',
          {
            membership: 'invite',
            ...(await this.membership.memberProfile(invitee)),
            ...(request.is_direct ? { is_direct: true } : {}),
          },
          invitee,
        ),
      );
    }

    await this.pipeline.createRoom(
      { roomId, roomVersion: version, creator },
      drafts,
      async (trx) => {
        if (alias) {
          const inserted = await insertAlias(trx, {
            alias,
            room_id: roomId,
            creator,
            created_ts: Date.now(),
          });
          if (!inserted) throw new MatrixError('M_ROOM_IN_USE', 'Room alias already taken');
        }
        if (request.visibility === 'public') await setRoomPublic(trx, roomId, true);
      },
    );
    return roomId;
  }

  /**
   * `POST /rooms/{roomId}/upgrade`: creates the replacement room with the old room's important
   * state, moves the aliases, and ends the old room with a tombstone that points to it.
   */
  async upgradeRoom(userId: string, roomId: string, newVersion: string): Promise<string> {
    if (!SUPPORTED_ROOM_VERSIONS.includes(newVersion)) {
      throw new MatrixError(
        'M_UNSUPPORTED_ROOM_VERSION',
        `Room version ${newVersion} is not supported`,
      );
    }
    const state = await this.pipeline.loadState(this.db, roomId);
    if (!state.get('m.room.create')) throw new MatrixError('M_NOT_FOUND', 'Unknown room');
    if (state.get('m.room.member', userId)?.content.membership !== 'join') {
      throw forbidden('You are not in the room');
    }
    if (
      powerLevelOf(state.auth, userId) < requiredLevelForEvent(state.auth, 'm.room.tombstone', true)
    ) {
      throw forbidden('You may not upgrade this room');
    }
    const oldCreate = state.get('m.room.create') as Pdu;
    const newRoomId = this.#newRoomId();
    const draft = (type: string, content: Record<string, unknown>, stateKey = ''): EventDraft => ({
      type,
      sender: userId,
      stateKey,
      content,
    });
    const { room_version: _v, predecessor: _p, ...createContent } = oldCreate.content;
    const drafts: EventDraft[] = [
      draft('m.room.create', {
        ...createContent,
        room_version: newVersion,
        predecessor: { room_id: roomId, event_id: state.getId('m.room.create') },
      }),
      draft(
        'm.room.member',
        { membership: 'join', ...(await this.membership.memberProfile(userId)) },
        userId,
      ),
    ];
    for (const type of UPGRADE_COPIED_STATE) {
      const pdu = state.get(type);
      if (!pdu) continue;
      let content = pdu.content;
      if (type === 'm.room.power_levels') {
        const users = { ...(content.users as Record<string, number> | undefined), [userId]: 100 };
        content = { ...content, users };
      }
      drafts.push(draft(type, content));
    }
    const canonical = state.get('m.room.canonical_alias');
    if (canonical) drafts.push(draft('m.room.canonical_alias', canonical.content));
    for (const [key, pdu] of state.events) {
      if (pdu.type === 'm.space.child' || pdu.type === 'm.space.parent') {
        drafts.push(draft(pdu.type, pdu.content, key.split('\u0000')[1]));
      }
    }
    await this.pipeline.createRoom(
      { roomId: newRoomId, roomVersion: newVersion, creator: userId },
      drafts,
      async (trx) => {
        if ((await listAliases(trx, roomId)).length > 0) await moveAliases(trx, roomId, newRoomId);
      },
    );

    // The old room: a tombstone, then only moderators may speak or invite there.
    const oldLevels = state.get('m.room.power_levels')?.content ?? {};
    const restricted = Math.max(50, Number(oldLevels.events_default ?? 0) + 1);
    await this.pipeline.sendMany(roomId, [
      draft('m.room.tombstone', {
        body: 'This room has been replaced',
        replacement_room: newRoomId,
      }),
      draft('m.room.power_levels', {
        ...oldLevels,
        events_default: restricted,
        invite: Math.max(restricted, Number(oldLevels.invite ?? 0)),
      }),
      ...(canonical ? [draft('m.room.canonical_alias', {})] : []),
    ]);
    return newRoomId;
  }
}
