/**
 * Row types of every table, as Kysely reads them. Columns keep the SQL names; `bigint` columns are
 * parsed to numbers by the pool (every stored value is a millisecond time or a counter far below
 * 2^53).
 */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

export interface UsersTable {
  user_id: string;
  localpart: string;
  password_hash: string | null;
  is_admin: Generated<boolean>;
  deactivated: Generated<boolean>;
  displayname: string | null;
  avatar_url: string | null;
  created_ts: number;
}
export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;

export interface DevicesTable {
  user_id: string;
  device_id: string;
  display_name: string | null;
  last_seen_ts: number | null;
  last_seen_ip: string | null;
  created_ts: number;
}
export type Device = Selectable<DevicesTable>;

export interface AccessTokensTable {
  token_hash: string;
  user_id: string;
  device_id: string;
  created_ts: number;
}

export interface UiaSessionsTable {
  session_id: string;
  action: string;
  user_id: string | null;
  completed: ColumnType<string[], string | undefined, string>;
  result: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  created_ts: number;
}
export type UiaSession = Selectable<UiaSessionsTable>;

export interface RegistrationNoncesTable {
  nonce: string;
  created_ts: number;
}

export interface SchemaMigrationsTable {
  name: string;
  applied_ts: number;
}

export interface DB {
  users: UsersTable;
  devices: DevicesTable;
  access_tokens: AccessTokensTable;
  uia_sessions: UiaSessionsTable;
  registration_nonces: RegistrationNoncesTable;
  schema_migrations: SchemaMigrationsTable;
}
