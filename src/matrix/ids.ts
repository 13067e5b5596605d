/**
 * Matrix identifiers (spec: appendices, Identifier Grammar): parsing and the rules a new user id
 * must follow.
 */

/** Characters allowed in the localpart of a new user id. */
const LOCALPART_PATTERN = /^[a-z0-9._=\-/+]+$/;

/** The whole user id may be at most this many bytes. */
const MAX_USER_ID_BYTES = 255;

/** Why a localpart cannot be registered, or undefined when it can. */
export function localpartProblem(localpart: string, serverName: string): string | undefined {
  if (localpart.length === 0) return 'User ID cannot be empty';
  if (!LOCALPART_PATTERN.test(localpart)) {
    return 'User ID may only contain a-z, 0-9, and the characters . _ = - / +';
  }
  if (/^_/.test(localpart)) return 'User ID may not begin with an underscore';
  if (Buffer.byteLength(`@${localpart}:${serverName}`) > MAX_USER_ID_BYTES) {
    return `User ID may not be longer than ${MAX_USER_ID_BYTES} bytes`;
  }
  return undefined;
}

/** Builds the full user id of a local account. */
export function userIdFromLocalpart(localpart: string, serverName: string): string {
  return `@${localpart}:${serverName}`;
}

/** Splits `@localpart:server` into its parts, or returns undefined for anything else. */
export function parseUserId(userId: string): { localpart: string; serverName: string } | undefined {
  if (!userId.startsWith('@')) return undefined;
  const colon = userId.indexOf(':');
  if (colon < 2 || colon === userId.length - 1) return undefined;
  return { localpart: userId.slice(1, colon), serverName: userId.slice(colon + 1) };
}

/**
 * Resolves what a user typed at login (a localpart or a full user id) to a local user id.
 * Localparts are matched lower-cased, as registration only creates lower-case ones.
 */
export function resolveLoginUser(input: string, serverName: string): string | undefined {
  if (input.startsWith('@')) {
    const parsed = parseUserId(input);
    if (!parsed || parsed.serverName !== serverName) return undefined;
    return userIdFromLocalpart(parsed.localpart.toLowerCase(), serverName);
  }
  if (input.length === 0) return undefined;
  return userIdFromLocalpart(input.toLowerCase(), serverName);
}

/**
 * `mxc://<server-name>/<media-id>` (spec: client-server-api, Matrix Content (mxc://) URIs): the
 * server name as in the identifier grammar, the media id of `[A-Za-z0-9_-]` only.
 */
const MXC_URI_PATTERN =
  /^mxc:\/\/(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,255})(?::[0-9]{1,5})?\/[A-Za-z0-9_-]+$/;

/** Whether `uri` is a well-formed content URI, such as an avatar_url must be. */
export function isMxcUri(uri: string): boolean {
  return MXC_URI_PATTERN.test(uri);
}
