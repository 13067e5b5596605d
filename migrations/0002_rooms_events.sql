-- Rooms and their events, the global stream every client syncs on, and the per-user data that
-- rides on the same stream (account data, filters, push rule changes).
--
-- Each room has one authoritative order: events are appended one at a time under a lock on the
-- room's row, each building on the previous one. Every change a client syncs on takes the next
-- value of the single counter in stream_position, in commit order, so a sync that has seen
-- position P has seen everything at or below P.

CREATE TABLE stream_position (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  position bigint NOT NULL
);
INSERT INTO stream_position (id, position) VALUES (true, 0);
COMMENT ON TABLE stream_position IS 'the last position handed out; updated as the last step of a writing transaction';

CREATE TABLE server_signing_keys (
  key_id text PRIMARY KEY,
  secret text NOT NULL,
  created_ts bigint NOT NULL
);
COMMENT ON COLUMN server_signing_keys.secret IS 'ed25519 seed, unpadded base64';

CREATE TABLE rooms (
  room_id text PRIMARY KEY,
  room_version text NOT NULL,
  creator text NOT NULL,
  is_public boolean NOT NULL DEFAULT false,
  last_event_id text,
  last_depth bigint NOT NULL DEFAULT 0,
  created_ts bigint NOT NULL
);
COMMENT ON COLUMN rooms.is_public IS 'published in the room directory';
COMMENT ON COLUMN rooms.last_event_id IS 'the newest event: the only forward extremity, and prev_events of the next one';

CREATE TABLE events (
  stream bigint PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  room_id text NOT NULL REFERENCES rooms (room_id),
  type text NOT NULL,
  state_key text,
  sender text NOT NULL,
  depth bigint NOT NULL,
  origin_server_ts bigint NOT NULL,
  membership text,
  relates_to text,
  rel_type text,
  redacted_by text,
  txn_device_id text,
  txn_id text,
  txn_scope text,
  pdu text NOT NULL,
  unsigned text
);
COMMENT ON COLUMN events.stream IS 'position in the global stream; also the order within the room';
COMMENT ON COLUMN events.pdu IS 'the signed event as JSON; replaced by its redacted form when redacted';
COMMENT ON COLUMN events.txn_id IS 'the client transaction id of the send, so a retry returns this event instead of a second one';
COMMENT ON COLUMN events.unsigned IS 'unsigned data fixed at persist time: prev_content and replaces_state of state events';
COMMENT ON COLUMN events.relates_to IS 'content.m.relates_to.event_id, for relations and aggregations';
CREATE INDEX events_room_stream ON events (room_id, stream);
CREATE INDEX events_room_state ON events (room_id, type, state_key, stream) WHERE state_key IS NOT NULL;
COMMENT ON COLUMN events.txn_scope IS 'the request the transaction id belongs to (such as the send path), as ids are scoped to device and endpoint';
CREATE UNIQUE INDEX events_txn ON events (sender, txn_device_id, txn_scope, txn_id)
  WHERE txn_id IS NOT NULL;
CREATE INDEX events_relations ON events (relates_to, rel_type, stream) WHERE relates_to IS NOT NULL;

CREATE TABLE current_state (
  room_id text NOT NULL REFERENCES rooms (room_id),
  type text NOT NULL,
  state_key text NOT NULL,
  event_id text NOT NULL,
  stream bigint NOT NULL,
  membership text,
  PRIMARY KEY (room_id, type, state_key)
);
CREATE INDEX current_state_members ON current_state (state_key, room_id) WHERE type = 'm.room.member';

CREATE TABLE room_aliases (
  alias text PRIMARY KEY,
  room_id text NOT NULL REFERENCES rooms (room_id),
  creator text NOT NULL,
  created_ts bigint NOT NULL
);
CREATE INDEX room_aliases_room ON room_aliases (room_id);

CREATE TABLE forgotten_rooms (
  user_id text NOT NULL,
  room_id text NOT NULL,
  PRIMARY KEY (user_id, room_id)
);
COMMENT ON TABLE forgotten_rooms IS 'rooms a user has left and asked to forget; they no longer show in sync';

CREATE TABLE account_data (
  user_id text NOT NULL,
  room_id text NOT NULL DEFAULT '',
  type text NOT NULL,
  content text NOT NULL,
  stream bigint NOT NULL,
  PRIMARY KEY (user_id, room_id, type)
);
COMMENT ON COLUMN account_data.room_id IS 'empty for global account data';
CREATE INDEX account_data_stream ON account_data (user_id, stream);

CREATE TABLE filters (
  filter_id bigserial PRIMARY KEY,
  user_id text NOT NULL,
  filter text NOT NULL
);

CREATE TABLE push_rules (
  user_id text NOT NULL,
  kind text NOT NULL,
  rule_id text NOT NULL,
  rule text,
  enabled boolean,
  actions text,
  priority bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, kind, rule_id)
);
COMMENT ON TABLE push_rules IS 'a user''s own rules, and their changes to the server-default rules (enabled, actions)';
COMMENT ON COLUMN push_rules.rule IS 'the whole rule as JSON for user-defined rules; NULL for a change to a default rule';
