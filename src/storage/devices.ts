/** Devices and their access tokens. A token belongs to one device; deleting the device revokes it. */
import type { Executor } from './database.js';
import type { Device } from './schema.js';

/**
 * Creates the device, or keeps an existing one of the same id; a non-null name renames it
 * (callers pass null for a known device, whose name must stay).
 */
export async function upsertDevice(
  db: Executor,
  device: { user_id: string; device_id: string; display_name: string | null; created_ts: number },
): Promise<void> {
  await db
    .insertInto('devices')
    .values(device)
    .onConflict((oc) =>
      oc.columns(['user_id', 'device_id']).doUpdateSet((eb) => ({
        display_name: eb.fn.coalesce(
          eb.ref('excluded.display_name'),
          eb.ref('devices.display_name'),
        ),
      })),
    )
    .execute();
}

export async function getDevice(
  db: Executor,
  userId: string,
  deviceId: string,
): Promise<Device | undefined> {
  return db
    .selectFrom('devices')
    .selectAll()
    .where('user_id', '=', userId)
    .where('device_id', '=', deviceId)
    .executeTakeFirst();
}

export async function listDevices(db: Executor, userId: string): Promise<Device[]> {
  return db
    .selectFrom('devices')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('device_id')
    .execute();
}

export async function updateDeviceDisplayName(
  db: Executor,
  userId: string,
  deviceId: string,
  displayName: string | null,
): Promise<boolean> {
  const result = await db
    .updateTable('devices')
    .set({ display_name: displayName })
    .where('user_id', '=', userId)
    .where('device_id', '=', deviceId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Records when and from where a device was last used. */
export async function touchDevice(
  db: Executor,
  userId: string,
  deviceId: string,
  ts: number,
  ip: string,
): Promise<void> {
  await db
    .updateTable('devices')
    .set({ last_seen_ts: ts, last_seen_ip: ip })
    .where('user_id', '=', userId)
    .where('device_id', '=', deviceId)
    .execute();
}

/** Deletes devices (all of the user's when `deviceIds` is absent), revoking their tokens. */
export async function deleteDevices(
  db: Executor,
  userId: string,
  deviceIds?: readonly string[],
): Promise<number> {
  if (deviceIds && deviceIds.length === 0) return 0;
  let query = db.deleteFrom('devices').where('user_id', '=', userId);
  if (deviceIds) query = query.where('device_id', 'in', deviceIds);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Deletes every device of the user except `keepDeviceId`. */
export async function deleteOtherDevices(
  db: Executor,
  userId: string,
  keepDeviceId: string,
): Promise<void> {
  await db
    .deleteFrom('devices')
    .where('user_id', '=', userId)
    .where('device_id', '!=', keepDeviceId)
    .execute();
}

export async function insertAccessToken(
  db: Executor,
  token: { token_hash: string; user_id: string; device_id: string; created_ts: number },
): Promise<void> {
  await db.insertInto('access_tokens').values(token).execute();
}

/** The owner of a token hash, with the account flags auth needs, in one query. */
export async function getTokenOwner(
  db: Executor,
  tokenHash: string,
): Promise<
  | {
      user_id: string;
      device_id: string;
      is_admin: boolean;
      deactivated: boolean;
      last_seen_ts: number | null;
    }
  | undefined
> {
  return db
    .selectFrom('access_tokens as t')
    .innerJoin('users as u', 'u.user_id', 't.user_id')
    .innerJoin('devices as d', (join) =>
      join.onRef('d.user_id', '=', 't.user_id').onRef('d.device_id', '=', 't.device_id'),
    )
    .select(['t.user_id', 't.device_id', 'u.is_admin', 'u.deactivated', 'd.last_seen_ts'])
    .where('t.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function deleteAccessToken(db: Executor, tokenHash: string): Promise<void> {
  await db.deleteFrom('access_tokens').where('token_hash', '=', tokenHash).execute();
}

/** Revokes every token of one device (used when a login reuses the device id). */
export async function deleteDeviceTokens(
  db: Executor,
  userId: string,
  deviceId: string,
): Promise<void> {
  await db
    .deleteFrom('access_tokens')
    .where('user_id', '=', userId)
    .where('device_id', '=', deviceId)
    .execute();
}
