/** Account rows: creation, lookup, password, admin flag, deactivation and profile fields. */
import type { Executor } from './database.js';
import type { NewUser, User } from './schema.js';

/** Inserts an account; returns false when the user id is already taken. */
export async function insertUser(db: Executor, user: NewUser): Promise<boolean> {
  const result = await db
    .insertInto('users')
    .values(user)
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export async function getUser(db: Executor, userId: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

/** Whether a user id exists, deactivated accounts included (their ids are never reused). */
export async function userExists(db: Executor, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('user_id')
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function listUsers(db: Executor): Promise<User[]> {
  return db.selectFrom('users').selectAll().orderBy('user_id').execute();
}

export async function updatePasswordHash(
  db: Executor,
  userId: string,
  passwordHash: string | null,
): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash })
    .where('user_id', '=', userId)
    .execute();
}

export async function updateAdmin(db: Executor, userId: string, isAdmin: boolean): Promise<void> {
  await db.updateTable('users').set({ is_admin: isAdmin }).where('user_id', '=', userId).execute();
}

/** Marks the account deactivated and clears what could identify or authenticate it. */
export async function markDeactivated(db: Executor, userId: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ deactivated: true, password_hash: null, displayname: null, avatar_url: null })
    .where('user_id', '=', userId)
    .execute();
}

export async function updateProfile(
  db: Executor,
  userId: string,
  fields: { displayname?: string | null; avatar_url?: string | null },
): Promise<void> {
  await db.updateTable('users').set(fields).where('user_id', '=', userId).execute();
}

export async function countAdmins(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('is_admin', '=', true)
    .where('deactivated', '=', false)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
