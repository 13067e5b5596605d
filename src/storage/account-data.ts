/** Per-user account data (global and per room), filters and push rule changes. */
import type { Executor } from './database.js';

export interface AccountDataRow {
  room_id: string;
  type: string;
  content: string;
  stream: number;
}

/** Stores one account data item at stream position `stream`. */
export async function upsertAccountData(
  trx: Executor,
  row: { user_id: string; room_id: string; type: string; content: string; stream: number },
): Promise<void> {
  await trx
    .insertInto('account_data')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['user_id', 'room_id', 'type']).doUpdateSet({
        content: row.content,
        stream: row.stream,
      }),
    )
    .execute();
}

export async function getAccountData(
  db: Executor,
  userId: string,
  roomId: string,
  type: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('account_data')
    .select('content')
    .where('user_id', '=', userId)
    .where('room_id', '=', roomId)
    .where('type', '=', type)
    .executeTakeFirst();
  return row?.content;
}

/** The user's account data changed in (`after`, `upto`] (everything when `after` is 0). */
export async function getAccountDataSince(
  db: Executor,
  userId: string,
  after: number,
  upto: number,
): Promise<AccountDataRow[]> {
  return db
    .selectFrom('account_data')
    .select(['room_id', 'type', 'content', 'stream'])
    .where('user_id', '=', userId)
    .where('stream', '>', after)
    .where('stream', '<=', upto)
    .orderBy('stream')
    .execute();
}

export async function insertFilter(db: Executor, userId: string, filter: string): Promise<number> {
  const row = await db
    .insertInto('filters')
    .values({ user_id: userId, filter })
    .returning('filter_id')
    .executeTakeFirstOrThrow();
  return row.filter_id;
}

export async function getFilter(
  db: Executor,
  userId: string,
  filterId: number,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('filters')
    .select('filter')
    .where('user_id', '=', userId)
    .where('filter_id', '=', filterId)
    .executeTakeFirst();
  return row?.filter;
}

export interface PushRuleRow {
  kind: string;
  rule_id: string;
  rule: string | null;
  enabled: boolean | null;
  actions: string | null;
  priority: number;
}

export async function getPushRuleRows(db: Executor, userId: string): Promise<PushRuleRow[]> {
  return db
    .selectFrom('push_rules')
    .select(['kind', 'rule_id', 'rule', 'enabled', 'actions', 'priority'])
    .where('user_id', '=', userId)
    .orderBy('priority', 'desc')
    .execute();
}

export async function upsertPushRuleRow(
  trx: Executor,
  userId: string,
  row: {
    kind: string;
    rule_id: string;
    rule?: string | null;
    enabled?: boolean | null;
    actions?: string | null;
    priority?: number;
  },
): Promise<void> {
  const { kind, rule_id, ...changes } = row;
  await trx
    .insertInto('push_rules')
    .values({ user_id: userId, kind, rule_id, ...changes })
    .onConflict((oc) => oc.columns(['user_id', 'kind', 'rule_id']).doUpdateSet(changes))
    .execute();
}

export async function deletePushRuleRow(
  trx: Executor,
  userId: string,
  kind: string,
  ruleId: string,
): Promise<boolean> {
  const result = await trx
    .deleteFrom('push_rules')
    .where('user_id', '=', userId)
    .where('kind', '=', kind)
    .where('rule_id', '=', ruleId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
