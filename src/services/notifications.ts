/**
 * Notifications (spec: client-server-api, Push notifications, Receiving notifications): each new
 * event is evaluated against every joined member's push rules inside the event's transaction, and
 * the outcome is stored; unread counts and GET /notifications read those records against the
 * users' receipts.
 */
import type { Kysely, Transaction } from 'kysely';
import { powerLevelOf } from '../matrix/auth-rules.js';
import type { ClientEvent, Pdu } from '../matrix/event.js';
import {
  defaultPushRules,
  evaluatePushRules,
  mergeUserRules,
  type PushRuleset,
} from '../matrix/push-rules.js';
import type { DB } from '../storage/schema.js';
import { getCurrentStateOfRooms, getEvents } from '../storage/events.js';
import {
  advanceReceipt,
  countUnread,
  getPushRuleRowsOfUsers,
  insertPushActions,
  listNotifications,
  type PushActionRow,
} from '../storage/receipts.js';
import type { RoomStateView } from './event-pipeline.js';
import { threadOf } from './receipts.js';
import type { Reader, RoomReader } from './room-reader.js';
import { formatToken, parseToken } from './stream-token.js';

export interface UnreadCounts {
  notification_count: number;
  highlight_count: number;
}

/** A newly stored event, as the pipeline hands it over inside its transaction. */
export interface AppendedEvent {
  pdu: Pdu;
  eventId: string;
  stream: number;
  relType: string | null;
  relatesTo: string | null;
  state: RoomStateView;
}

export class Notifications {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Records, inside the event's transaction, which joined members the event notifies or
   * highlights, and moves the sender's own read receipt to it (sending a message reads it).
   */
  async onAppend(trx: Transaction<DB>, event: AppendedEvent): Promise<void> {
    const { pdu, eventId, stream } = event;
    const threadId = threadOf({ rel_type: event.relType, relates_to: event.relatesTo });
    if (pdu.state_key === undefined) {
      await advanceReceipt(trx, {
        room_id: pdu.room_id,
        user_id: pdu.sender,
        receipt_type: 'm.read',
        thread_id: threadId,
        event_id: eventId,
        event_stream: stream,
        ts: pdu.origin_server_ts,
        stream,
      });
    }

    const memberRows = await getCurrentStateOfRooms(trx, [pdu.room_id], ['m.room.member']);
    const joined = memberRows.filter((r) => r.membership === 'join');
    const others = joined.filter((r) => r.state_key !== pdu.sender);
    if (others.length === 0) return;
    const rulesets = await this.#rulesets(
      trx,
      others.map((r) => r.state_key as string),
    );
    const powerLevels = event.state.get('m.room.power_levels')?.content;
    const senderPowerLevel = powerLevelOf(event.state.auth, pdu.sender);
    const rows: PushActionRow[] = [];
    for (const member of others) {
      const userId = member.state_key as string;
      const content = (JSON.parse(member.pdu) as Pdu).content;
      const outcome = evaluatePushRules(
        rulesets.get(userId) as PushRuleset,
        {
          type: pdu.type,
          content: pdu.content,
          sender: pdu.sender,
          room_id: pdu.room_id,
          ...(pdu.state_key !== undefined ? { state_key: pdu.state_key } : {}),
        },
        {
          userId,
          displayName: typeof content.displayname === 'string' ? content.displayname : undefined,
          memberCount: joined.length,
          senderPowerLevel,
          roomPowerLevels: powerLevels,
        },
      );
      if (!outcome || (!outcome.notify && !outcome.highlight)) continue;
      const actions: unknown[] = ['notify'];
      if (outcome.sound) actions.push({ set_tweak: 'sound', value: outcome.sound });
      if (outcome.highlight) actions.push({ set_tweak: 'highlight' });
      rows.push({
        user_id: userId,
        room_id: pdu.room_id,
        stream,
        event_id: eventId,
        thread_id: threadId,
        highlight: outcome.highlight,
        actions: JSON.stringify(actions),
        ts: pdu.origin_server_ts,
      });
    }
    await insertPushActions(trx, rows);
  }

  async #rulesets(trx: Transaction<DB>, userIds: string[]): Promise<Map<string, PushRuleset>> {
    const rows = await getPushRuleRowsOfUsers(trx, userIds);
    const result = new Map<string, PushRuleset>();
    for (const userId of userIds) {
      result.set(
        userId,
        mergeUserRules(
          defaultPushRules(userId),
          rows.filter((r) => r.user_id === userId),
        ),
      );
    }
    return result;
  }

  /**
   * Unread counts per room: the main timeline and, separately, each thread (when a client asks
   * for per-thread counts), or everything together.
   */
  async unreadCounts(
    userId: string,
    roomIds: readonly string[],
  ): Promise<
    Map<string, { total: UnreadCounts; main: UnreadCounts; threads: Map<string, UnreadCounts> }>
  > {
    const result = new Map<
      string,
      { total: UnreadCounts; main: UnreadCounts; threads: Map<string, UnreadCounts> }
    >();
    for (const roomId of roomIds) {
      result.set(roomId, {
        total: { notification_count: 0, highlight_count: 0 },
        main: { notification_count: 0, highlight_count: 0 },
        threads: new Map(),
      });
    }
    for (const row of await countUnread(this.db, userId, roomIds)) {
      const entry = result.get(row.room_id);
      if (!entry) continue;
      entry.total.notification_count += row.notifications;
      entry.total.highlight_count += row.highlights;
      const target =
        row.thread_id === 'main'
          ? entry.main
          : { notification_count: row.notifications, highlight_count: row.highlights };
      if (row.thread_id === 'main') {
        target.notification_count += row.notifications;
        target.highlight_count += row.highlights;
      } else {
        entry.threads.set(row.thread_id, target);
      }
    }
    return result;
  }

  /** `GET /notifications`: the user's notifications, newest first. */
  async list(
    reader: Reader,
    roomReader: RoomReader,
    page: { from?: string; limit: number; only?: string },
  ): Promise<{ notifications: unknown[]; next_token?: string }> {
    const before = page.from !== undefined ? parseToken(page.from, 'from') : undefined;
    const rows = await listNotifications(this.db, reader.userId, {
      ...(before !== undefined ? { before } : {}),
      limit: page.limit,
      onlyHighlight: page.only === 'highlight',
    });
    const events = await roomReader.toClientEvents(
      await getEvents(
        this.db,
        rows.map((r) => r.event_id),
      ),
      reader,
    );
    const byId = new Map<string, ClientEvent>(events.map((e) => [e.event_id, e]));
    const notifications = rows
      .filter((r) => byId.has(r.event_id))
      .map((r) => ({
        actions: JSON.parse(r.actions) as unknown[],
        event: byId.get(r.event_id),
        read: r.read,
        room_id: r.room_id,
        ts: r.ts,
      }));
    const last = rows.at(-1);
    return {
      notifications,
      ...(rows.length === page.limit && last ? { next_token: formatToken(last.stream) } : {}),
    };
  }
}
