/**
 * The deprecated event-stream endpoints older tools and bots still call (spec: client-server-api,
 * old_sync and room_initial_sync): thin layers over the same sync and timeline machinery.
 */
import type { Kysely } from 'kysely';
import type { ClientEvent } from '../matrix/event.js';
import type { DB } from '../storage/schema.js';
import { getEvents, getRoom } from '../storage/events.js';
import { MatrixError, notFound } from '../errors.js';
import type { AccountData } from './account-data.js';
import type { Messages } from './messages.js';
import type { Notifier } from './notifier.js';
import type { Reader, RoomReader } from './room-reader.js';
import type { Sync } from './sync.js';
import type { Timeline } from './timeline.js';
import { formatToken } from './stream-token.js';

/** Events per room in the legacy event stream; it was never paginated per room. */
const STREAM_ROOM_LIMIT = 100;

export class LegacySync {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly notifier: Notifier,
    private readonly sync: Sync,
    private readonly timeline: Timeline,
    private readonly reader: RoomReader,
    private readonly messages: Messages,
    private readonly accountData: AccountData,
  ) {}

  /** `GET /events`: events after `from` in every room of the user, waiting up to `timeoutMs`. */
  async events(reader: Reader, from: number | undefined, timeoutMs: number, signal?: AbortSignal) {
    const since = from ?? this.notifier.position;
    const response = await this.sync.sync(
      reader,
      {
        since,
        timeoutMs,
        fullState: false,
        // The chunk carries room events only: receipts and typing must not end the wait.
        filter: { room: { timeline: { limit: STREAM_ROOM_LIMIT }, ephemeral: { types: [] } } },
      },
      signal,
    );
    const chunk: ClientEvent[] = [];
    for (const room of Object.values(response.rooms.join)) chunk.push(...room.timeline.events);
    for (const room of Object.values(response.rooms.leave) as {
      timeline: { events: ClientEvent[] };
    }[]) {
      chunk.push(...room.timeline.events);
    }
    for (const [roomId, room] of Object.entries(response.rooms.invite)) {
      const invite = room.invite_state.events.find(
        (e) =>
          (e as ClientEvent).type === 'm.room.member' &&
          (e as ClientEvent).state_key === reader.userId,
      ) as ClientEvent | undefined;
      if (invite) chunk.push({ ...invite, room_id: roomId });
    }
    chunk.sort((a, b) => a.origin_server_ts - b.origin_server_ts);
    return { start: formatToken(since), end: response.next_batch, chunk };
  }

  /** `GET /initialSync`: every room of the user with recent messages and current state. */
  async initialSync(reader: Reader, limit: number, archived: boolean) {
    const response = await this.sync.sync(reader, {
      timeoutMs: 0,
      fullState: true,
      filter: { room: { timeline: { limit }, include_leave: archived } },
    });
    const rooms: Record<string, unknown>[] = [];
    const sections = [
      ['join', response.rooms.join],
      ['leave', response.rooms.leave],
    ] as const;
    for (const [membership, map] of sections) {
      for (const [roomId, room] of Object.entries(map)) {
        const section = room as {
          timeline: { events: ClientEvent[]; prev_batch: string };
          account_data?: { events: unknown[] };
        };
        rooms.push({
          room_id: roomId,
          membership,
          messages: {
            chunk: section.timeline.events,
            start: section.timeline.prev_batch,
            end: response.next_batch,
          },
          state: await this.messages.visibleState(reader.userId, roomId),
          visibility: await this.#visibility(roomId),
          account_data: section.account_data?.events ?? [],
        });
      }
    }
    for (const [roomId, room] of Object.entries(response.rooms.invite)) {
      const invite = room.invite_state.events.find(
        (e) =>
          (e as ClientEvent).type === 'm.room.member' &&
          (e as ClientEvent).state_key === reader.userId,
      );
      rooms.push({
        room_id: roomId,
        membership: 'invite',
        ...(invite ? { invite: { ...(invite as object), room_id: roomId } } : {}),
        state: room.invite_state.events,
      });
    }
    return {
      end: response.next_batch,
      rooms,
      presence: [],
      account_data: response.account_data.events,
    };
  }

  /** `GET /rooms/{roomId}/initialSync`: one room's recent messages, state and membership. */
  async roomInitialSync(reader: Reader, roomId: string) {
    await this.reader.requireCanRead(roomId, reader.userId);
    const page = await this.timeline.messages(reader, roomId, { dir: 'b', limit: 10 });
    const chunk = [...page.chunk].reverse();
    return {
      room_id: roomId,
      membership: (await this.reader.membershipOf(roomId, reader.userId)) ?? 'leave',
      messages: {
        chunk,
        start: page.end ?? page.start,
        end: formatToken(this.notifier.position),
      },
      state: await this.messages.visibleState(reader.userId, roomId),
      visibility: await this.#visibility(roomId),
      presence: [],
      account_data: [],
    };
  }

  /**
   * `GET /events/{eventId}`: one event by id, wherever it is, if the user may see it. An event
   * the user may not see is a 404 like an unknown one (spec v1.16: old_sync, the only error).
   */
  async event(reader: Reader, eventId: string): Promise<ClientEvent> {
    const [row] = await getEvents(this.db, [eventId]);
    if (!row) throw notFound('Event not found');
    const visible = await this.reader
      .getVisibleEvent(row.room_id, eventId, reader.userId)
      .catch((err: unknown) => {
        if (err instanceof MatrixError && err.errcode === 'M_FORBIDDEN') {
          throw notFound('Event not found');
        }
        throw err;
      });
    const [event] = await this.reader.toClientEvents([visible], reader);
    return event as ClientEvent;
  }

  async #visibility(roomId: string): Promise<'public' | 'private'> {
    return (await getRoom(this.db, roomId))?.is_public ? 'public' : 'private';
  }
}
