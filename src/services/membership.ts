/**
 * Room membership (spec: client-server-api, Room membership): joining, inviting, leaving,
 * kicking, banning, forgetting, and the member lists. Every change is an m.room.member event
 * through the event pipeline, where the auth rules decide.
 */
import type { Kysely } from 'kysely';
import { MatrixError, forbidden, notFound } from '../errors.js';
import type { Config } from '../config/config.js';
import type { ClientEvent, Pdu } from '../matrix/event.js';
import { parseUserId } from '../matrix/ids.js';
import type { DB } from '../storage/schema.js';
import {
  deleteForgotten,
  getCurrentStateEvents,
  getMembers,
  getMembershipsOfUser,
  getStateAt,
  getEvents,
  insertForgotten,
} from '../storage/events.js';
import { getAlias } from '../storage/rooms.js';
import { getUser } from '../storage/users.js';
import type { EventPipeline, PersistedEvent } from './event-pipeline.js';
import type { RoomReader } from './room-reader.js';

export class Membership {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly config: Config,
    private readonly pipeline: EventPipeline,
    private readonly reader: RoomReader,
  ) {}

  /** Resolves `!room:server` or `#alias:server` to a room id; 404 when unknown. */
  async resolveRoom(roomIdOrAlias: string): Promise<string> {
    if (roomIdOrAlias.startsWith('#')) {
      const alias = await getAlias(this.db, roomIdOrAlias);
      if (!alias) throw notFound('Room alias not found');
      return alias.room_id;
    }
    if (!roomIdOrAlias.startsWith('!')) {
      throw new MatrixError('M_INVALID_PARAM', 'Expected a room id or a room alias');
    }
    return roomIdOrAlias;
  }

  /** The profile fields a member event of this local user carries. */
  async memberProfile(userId: string): Promise<{ displayname?: string; avatar_url?: string }> {
    const user = await getUser(this.db, userId);
    return {
      ...(user?.displayname ? { displayname: user.displayname } : {}),
      ...(user?.avatar_url ? { avatar_url: user.avatar_url } : {}),
    };
  }

  async #change(
    roomId: string,
    sender: string,
    target: string,
    membership: string,
    extra: Record<string, unknown> = {},
  ): Promise<PersistedEvent> {
    return this.pipeline.send(roomId, {
      type: 'm.room.member',
      sender,
      stateKey: target,
      content: { membership, ...extra },
    });
  }

  /** Joins the room (by id or alias); joining a room one is already in changes nothing. */
  async join(userId: string, roomIdOrAlias: string, reason?: string): Promise<string> {
    const roomId = await this.resolveRoom(roomIdOrAlias);
    await this.reader.requireRoom(roomId);
    const profile = await this.memberProfile(userId);
    const current = await this.reader.membershipOf(roomId, userId);
    if (current === 'join') return roomId;
    await this.#change(roomId, userId, userId, 'join', {
      ...profile,
      ...(reason ? { reason } : {}),
    });
    await deleteForgotten(this.db, userId, roomId);
    return roomId;
  }

  /** Invites a local user; the auth rules check the inviter's power and the target's state. */
  async invite(
    sender: string,
    roomId: string,
    target: string,
    options: { reason?: string; isDirect?: boolean } = {},
  ): Promise<void> {
    await this.reader.requireRoom(roomId);
    const parsed = parseUserId(target);
    if (!parsed) throw new MatrixError('M_INVALID_PARAM', 'Invalid user id');
    if (parsed.serverName !== this.config.server_name) {
      throw forbidden('Inviting users of other servers is not supported');
    }
    const user = await getUser(this.db, target);
    if (!user || user.deactivated) throw notFound('Unknown user');
    const current = await this.reader.membershipOf(roomId, target);
    if (current === 'join') throw forbidden(`${target} is already in the room`);
    if (current === 'ban') throw forbidden(`${target} is banned from the room`);
    await this.#change(roomId, sender, target, 'invite', {
      ...(await this.memberProfile(target)),
      ...(options.reason ? { reason: options.reason } : {}),
      ...(options.isDirect ? { is_direct: true } : {}),
    });
  }

  /** Leaves the room, or rejects an invite; leaving a room one is not in changes nothing. */
  async leave(userId: string, roomId: string, reason?: string): Promise<void> {
    await this.reader.requireRoom(roomId);
    const current = await this.reader.membershipOf(roomId, userId);
    if (current === undefined || current === 'leave') return;
    if (current === 'ban') throw forbidden('You are banned from this room');
    await this.#change(roomId, userId, userId, 'leave', reason ? { reason } : {});
  }

  /** Kicks a member (or revokes an invite). */
  async kick(sender: string, roomId: string, target: string, reason?: string): Promise<void> {
    await this.reader.requireRoom(roomId);
    const current = await this.reader.membershipOf(roomId, target);
    if (current !== 'join' && current !== 'invite' && current !== 'knock') {
      throw forbidden(`${target} is not in the room`);
    }
    await this.#change(roomId, sender, target, 'leave', reason ? { reason } : {});
  }

  async ban(sender: string, roomId: string, target: string, reason?: string): Promise<void> {
    await this.reader.requireRoom(roomId);
    if (!parseUserId(target)) throw new MatrixError('M_INVALID_PARAM', 'Invalid user id');
    await this.#change(roomId, sender, target, 'ban', reason ? { reason } : {});
  }

  async unban(sender: string, roomId: string, target: string, reason?: string): Promise<void> {
    await this.reader.requireRoom(roomId);
    if ((await this.reader.membershipOf(roomId, target)) !== 'ban') {
      throw forbidden(`${target} is not banned`);
    }
    await this.#change(roomId, sender, target, 'leave', reason ? { reason } : {});
  }

  /** Forgets a room the user has left; it then no longer appears in their sync. */
  async forget(userId: string, roomId: string): Promise<void> {
    await this.reader.requireRoom(roomId);
    const current = await this.reader.membershipOf(roomId, userId);
    if (current === 'join' || current === 'invite' || current === 'knock') {
      throw new MatrixError('M_UNKNOWN', 'You must leave the room before forgetting it', {
        status: 400,
      });
    }
    if (current === undefined) throw notFound('You have never been in this room');
    await insertForgotten(this.db, userId, roomId);
  }

  /** The rooms the user is joined to, invited to or knocking on. */
  async roomsWithMembership(userId: string): Promise<string[]> {
    const rows = await getMembershipsOfUser(this.db, userId);
    return rows
      .filter(
        (r) => r.membership === 'join' || r.membership === 'invite' || r.membership === 'knock',
      )
      .map((r) => r.room_id);
  }

  /** The rooms the user is joined to. */
  async joinedRooms(userId: string): Promise<string[]> {
    const rows = await getMembershipsOfUser(this.db, userId);
    return rows.filter((r) => r.membership === 'join').map((r) => r.room_id);
  }

  /**
   * Member events of the room: current ones for joined users (or anyone in a world-readable
   * room), those at the time of leaving for users who left, or those at position `at`.
   */
  async members(
    userId: string,
    roomId: string,
    filter: { at?: number; membership?: string; notMembership?: string },
  ): Promise<ClientEvent[]> {
    const history = await this.reader.requireCanRead(roomId, userId);
    const last = history.memberships.at(-1);
    let upto = filter.at;
    if (
      last &&
      last.membership !== 'join' &&
      history.visibilities.at(-1)?.value !== 'world_readable'
    ) {
      upto = upto === undefined ? last.stream : Math.min(upto, last.stream);
    }
    let rows;
    if (upto === undefined) {
      const members = await getMembers(this.db, roomId);
      rows = await getEvents(
        this.db,
        members.map((m) => m.event_id),
      );
    } else {
      rows = await getStateAt(this.db, roomId, upto, ['m.room.member']);
    }
    const wanted = rows.filter((row) => {
      const membership = row.membership ?? 'leave';
      if (filter.membership !== undefined && membership !== filter.membership) return false;
      if (filter.notMembership !== undefined && membership === filter.notMembership) return false;
      return true;
    });
    wanted.sort((a, b) => a.stream - b.stream);
    return this.reader.toClientEvents(wanted, { userId });
  }

  /** `{ joined: { userId: { display_name, avatar_url } } }` for a room the user is joined to. */
  async joinedMembers(
    userId: string,
    roomId: string,
  ): Promise<Record<string, { display_name?: string; avatar_url?: string }>> {
    await this.reader.requireRoom(roomId);
    const history = await this.reader.requireCanRead(roomId, userId);
    const current = history.memberships.at(-1)?.membership;
    if (current !== 'join' && history.visibilities.at(-1)?.value !== 'world_readable') {
      throw forbidden(`${userId} is not in the room`);
    }
    const members = await getMembers(this.db, roomId, ['join']);
    const rows = await getEvents(
      this.db,
      members.map((m) => m.event_id),
    );
    const joined: Record<string, { display_name?: string; avatar_url?: string }> = {};
    for (const row of rows) {
      const content = (JSON.parse(row.pdu) as Pdu).content;
      joined[row.state_key as string] = {
        ...(typeof content.displayname === 'string' ? { display_name: content.displayname } : {}),
        ...(typeof content.avatar_url === 'string' ? { avatar_url: content.avatar_url } : {}),
      };
    }
    return joined;
  }

  /**
   * Sends a new join event with the user's current profile into every room they are joined to,
   * so that a changed display name or avatar shows there too.
   */
  async propagateProfile(userId: string): Promise<void> {
    const profile = await this.memberProfile(userId);
    for (const roomId of await this.joinedRooms(userId)) {
      const [row] = await getCurrentStateEvents(this.db, roomId, [['m.room.member', userId]]);
      const content = row ? (JSON.parse(row.pdu) as Pdu).content : {};
      await this.#change(roomId, userId, userId, 'join', {
        ...Object.fromEntries(
          Object.entries(content).filter(([k]) => k !== 'displayname' && k !== 'avatar_url'),
        ),
        ...profile,
      });
    }
  }
}
