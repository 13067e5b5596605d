/** Read receipts and notification records (unread counts, GET /notifications). */
import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import type { Executor } from './database.js';
import type { ReceiptsTable } from './schema.js';

/** A stored receipt. */
export type ReceiptRow = Selectable<ReceiptsTable>;

/**
 * Moves a receipt forward: stores it unless the user already has one of the same type and thread
 * at a later event. Returns whether it moved.
 */
export async function advanceReceipt(trx: Executor, row: ReceiptRow): Promise<boolean> {
  const result = await trx
    .insertInto('receipts')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['room_id', 'user_id', 'receipt_type', 'thread_id'])
        .doUpdateSet({
          event_id: row.event_id,
          event_stream: row.event_stream,
          ts: row.ts,
          stream: row.stream,
        })
        .where('receipts.event_stream', '<', row.event_stream),
    )
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/**
 * Receipts of the rooms that a user may see: everyone's public `m.read` and the user's own
 * `m.read.private`, changed in (`after`, `upto`] (all of them when `after` is 0).
 */
export async function getVisibleReceipts(
  db: Executor,
  roomIds: readonly string[],
  userId: string,
  after: number,
  upto: number,
): Promise<ReceiptRow[]> {
  if (roomIds.length === 0) return [];
  return db
    .selectFrom('receipts')
    .selectAll()
    .where('room_id', 'in', roomIds)
    .where('stream', '>', after)
    .where('stream', '<=', upto)
    .where((eb) =>
      eb.or([
        eb('receipt_type', '=', 'm.read'),
        eb.and([eb('receipt_type', '=', 'm.read.private'), eb('user_id', '=', userId)]),
      ]),
    )
    .execute();
}

/** Public main-timeline receipts (unthreaded or `main`) of a room, for the read-status report. */
export async function getPublicMainReceipts(db: Executor, roomId: string): Promise<ReceiptRow[]> {
  return db
    .selectFrom('receipts')
    .selectAll()
    .where('room_id', '=', roomId)
    .where('receipt_type', '=', 'm.read')
    .where('thread_id', 'in', ['', 'main'])
    .execute();
}

export interface PushActionRow {
  user_id: string;
  room_id: string;
  stream: number;
  event_id: string;
  thread_id: string;
  highlight: boolean;
  actions: string;
  ts: number;
}

export async function insertPushActions(trx: Executor, rows: PushActionRow[]): Promise<void> {
  if (rows.length === 0) return;
  await trx
    .insertInto('event_push_actions')
    .values(rows)
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/**
 * Unread notification and highlight counts of a user per room and thread: notifying events after
 * the user's read-up-to mark. An unthreaded receipt covers every thread; a threaded one (`main`
 * or a thread root) covers its thread; `m.read` and `m.read.private` both count.
 */
export async function countUnread(
  db: Executor,
  userId: string,
  roomIds: readonly string[],
): Promise<{ room_id: string; thread_id: string; notifications: number; highlights: number }[]> {
  if (roomIds.length === 0) return [];
  const result = await sql<{
    room_id: string;
    thread_id: string;
    notifications: string;
    highlights: string;
  }>`
    SELECT a.room_id, a.thread_id, count(*) AS notifications,
      count(*) FILTER (WHERE a.highlight) AS highlights
    FROM event_push_actions a
    WHERE a.user_id = ${userId} AND a.room_id IN (${sql.join([...roomIds])})
      AND a.stream > coalesce((
        SELECT max(r.event_stream) FROM receipts r
        WHERE r.room_id = a.room_id AND r.user_id = ${userId}
          AND (r.thread_id = '' OR r.thread_id = a.thread_id)
      ), 0)
    GROUP BY a.room_id, a.thread_id`.execute(db);
  return result.rows.map((r) => ({
    room_id: r.room_id,
    thread_id: r.thread_id,
    notifications: Number(r.notifications),
    highlights: Number(r.highlights),
  }));
}

/** A user's notifications, newest first, with whether each has been read. */
export async function listNotifications(
  db: Executor,
  userId: string,
  page: { before?: number; limit: number; onlyHighlight: boolean },
): Promise<(PushActionRow & { read: boolean })[]> {
  const before = page.before ?? Number.MAX_SAFE_INTEGER;
  const result = await sql<PushActionRow & { read: boolean }>`
    SELECT a.*, a.stream <= coalesce((
      SELECT max(r.event_stream) FROM receipts r
      WHERE r.room_id = a.room_id AND r.user_id = a.user_id
        AND (r.thread_id = '' OR r.thread_id = a.thread_id)
    ), 0) AS read
    FROM event_push_actions a
    WHERE a.user_id = ${userId} AND a.stream < ${before}
      ${page.onlyHighlight ? sql`AND a.highlight` : sql``}
    ORDER BY a.stream DESC LIMIT ${page.limit}`.execute(db);
  return result.rows;
}

/** Stored push rules of several users at once, for evaluating an event for every member. */
export async function getPushRuleRowsOfUsers(
  db: Executor,
  userIds: readonly string[],
): Promise<
  {
    user_id: string;
    kind: string;
    rule_id: string;
    rule: string | null;
    enabled: boolean | null;
    actions: string | null;
    priority: number;
  }[]
> {
  if (userIds.length === 0) return [];
  return db
    .selectFrom('push_rules')
    .select(['user_id', 'kind', 'rule_id', 'rule', 'enabled', 'actions', 'priority'])
    .where('user_id', 'in', userIds)
    .orderBy('priority', 'desc')
    .execute();
}
