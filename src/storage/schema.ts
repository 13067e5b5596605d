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

export interface StreamPositionTable {
  id: Generated<boolean>;
  position: number;
}

export interface ServerSigningKeysTable {
  key_id: string;
  secret: string;
  created_ts: number;
}

export interface RoomsTable {
  room_id: string;
  room_version: string;
  creator: string;
  is_public: Generated<boolean>;
  last_event_id: string | null;
  last_depth: number;
  created_ts: number;
}
export type Room = Selectable<RoomsTable>;

export interface EventsTable {
  stream: number;
  event_id: string;
  room_id: string;
  type: string;
  state_key: string | null;
  sender: string;
  depth: number;
  origin_server_ts: number;
  membership: string | null;
  relates_to: string | null;
  rel_type: string | null;
  redacted_by: string | null;
  txn_device_id: string | null;
  txn_id: string | null;
  txn_scope: string | null;
  pdu: string;
  unsigned: string | null;
}
export type EventRow = Selectable<EventsTable>;

export interface CurrentStateTable {
  room_id: string;
  type: string;
  state_key: string;
  event_id: string;
  stream: number;
  membership: string | null;
}

export interface RoomAliasesTable {
  alias: string;
  room_id: string;
  creator: string;
  created_ts: number;
}

export interface ForgottenRoomsTable {
  user_id: string;
  room_id: string;
}

export interface AccountDataTable {
  user_id: string;
  room_id: string;
  type: string;
  content: string;
  stream: number;
}

export interface FiltersTable {
  filter_id: Generated<number>;
  user_id: string;
  filter: string;
}

export interface PushRulesTable {
  user_id: string;
  kind: string;
  rule_id: string;
  rule: string | null;
  enabled: boolean | null;
  actions: string | null;
  priority: Generated<number>;
}

export interface ReceiptsTable {
  room_id: string;
  user_id: string;
  receipt_type: string;
  thread_id: string;
  event_id: string;
  event_stream: number;
  ts: number;
  stream: number;
}

export interface EventPushActionsTable {
  user_id: string;
  room_id: string;
  stream: number;
  event_id: string;
  thread_id: string;
  highlight: boolean;
  actions: string;
  ts: number;
}

export interface MediaTable {
  media_id: string;
  uploader: string;
  created_ts: number;
  unused_expires_ts: number | null;
  upload_name: string | null;
  content_type: string | null;
  size: number | null;
  sha256: string | null;
  uploaded_ts: number | null;
  sanitize_outcome: string | null;
  sanitize_changes: string | null;
}
export type MediaRow = Selectable<MediaTable>;

export interface MediaThumbnailsTable {
  media_id: string;
  width: number;
  height: number;
  method: string;
  animated: boolean;
  content_type: string;
  size: number;
  sha256: string;
  created_ts: number;
}
export type MediaThumbnailRow = Selectable<MediaThumbnailsTable>;

export interface DB {
  media: MediaTable;
  media_thumbnails: MediaThumbnailsTable;
  receipts: ReceiptsTable;
  event_push_actions: EventPushActionsTable;
  stream_position: StreamPositionTable;
  server_signing_keys: ServerSigningKeysTable;
  rooms: RoomsTable;
  events: EventsTable;
  current_state: CurrentStateTable;
  room_aliases: RoomAliasesTable;
  account_data: AccountDataTable;
  forgotten_rooms: ForgottenRoomsTable;
  filters: FiltersTable;
  push_rules: PushRulesTable;
  users: UsersTable;
  devices: DevicesTable;
  access_tokens: AccessTokensTable;
  uia_sessions: UiaSessionsTable;
  registration_nonces: RegistrationNoncesTable;
  schema_migrations: SchemaMigrationsTable;
}
