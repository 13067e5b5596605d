-- Read receipts and the per-user notification records behind unread counts and
-- GET /notifications (spec: client-server-api, Receipts; Receiving notifications).

CREATE TABLE receipts (
  room_id text NOT NULL,
  user_id text NOT NULL,
  receipt_type text NOT NULL,
  thread_id text NOT NULL DEFAULT '',
  event_id text NOT NULL,
  event_stream bigint NOT NULL,
  ts bigint NOT NULL,
  stream bigint NOT NULL,
  PRIMARY KEY (room_id, user_id, receipt_type, thread_id)
);
COMMENT ON TABLE receipts IS 'one receipt per room, user, type (m.read or m.read.private) and thread; it only ever moves forward';
COMMENT ON COLUMN receipts.thread_id IS 'empty for an unthreaded receipt, main for the main timeline, or a thread root event id';
COMMENT ON COLUMN receipts.event_stream IS 'position of the event read up to, to compare receipts';
COMMENT ON COLUMN receipts.stream IS 'position of the receipt itself in the stream clients sync on';
CREATE INDEX receipts_stream ON receipts (room_id, stream);

CREATE TABLE event_push_actions (
  user_id text NOT NULL,
  room_id text NOT NULL,
  stream bigint NOT NULL,
  event_id text NOT NULL,
  thread_id text NOT NULL,
  highlight boolean NOT NULL,
  actions text NOT NULL,
  ts bigint NOT NULL,
  PRIMARY KEY (user_id, stream)
);
COMMENT ON TABLE event_push_actions IS 'events that notify a user, by their push rules at the time the event was sent';
COMMENT ON COLUMN event_push_actions.thread_id IS 'main, or the root of the thread the event is in';
CREATE INDEX event_push_actions_room ON event_push_actions (user_id, room_id, stream);
