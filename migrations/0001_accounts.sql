-- Accounts, devices and access tokens: what a client needs to register, log in and manage its
-- sessions. Profiles live on the account row because every account has exactly one.

CREATE TABLE users (
  user_id text PRIMARY KEY,
  localpart text NOT NULL UNIQUE,
  password_hash text,
  is_admin boolean NOT NULL DEFAULT false,
  deactivated boolean NOT NULL DEFAULT false,
  displayname text,
  avatar_url text,
  created_ts bigint NOT NULL
);
COMMENT ON COLUMN users.password_hash IS 'argon2id PHC string; NULL for accounts that cannot log in with a password';
COMMENT ON COLUMN users.deactivated IS 'deactivated accounts keep their row so the user id is never reused';

CREATE TABLE devices (
  user_id text NOT NULL REFERENCES users (user_id),
  device_id text NOT NULL,
  display_name text,
  last_seen_ts bigint,
  last_seen_ip text,
  created_ts bigint NOT NULL,
  PRIMARY KEY (user_id, device_id)
);

CREATE TABLE access_tokens (
  token_hash text PRIMARY KEY,
  user_id text NOT NULL,
  device_id text NOT NULL,
  created_ts bigint NOT NULL,
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);
COMMENT ON COLUMN access_tokens.token_hash IS 'SHA-256 of the token, hex; the token itself is never stored';
CREATE INDEX access_tokens_device ON access_tokens (user_id, device_id);

-- User-interactive authentication sessions (spec: client-server-api, User-Interactive
-- Authentication API). Kept in the database so any server process can continue a session.
CREATE TABLE uia_sessions (
  session_id text PRIMARY KEY,
  action text NOT NULL,
  user_id text,
  completed jsonb NOT NULL DEFAULT '[]',
  result jsonb,
  created_ts bigint NOT NULL
);
COMMENT ON COLUMN uia_sessions.action IS 'the request the session authorises (method and path); a session cannot be reused for another';
COMMENT ON COLUMN uia_sessions.result IS 'data a completed stage hands to the request, such as the registration token used';

-- Nonces for shared-secret registration by admin tools; each is used once.
CREATE TABLE registration_nonces (
  nonce text PRIMARY KEY,
  created_ts bigint NOT NULL
);
