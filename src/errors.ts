/**
 * The Matrix error model: every failure a client sees is a `MatrixError`, whose HTTP status is
 * derived from its errcode in one table (spec: client-server-api, Standard error response).
 */

/** The errcodes this server sends. */
export type Errcode =
  | 'M_FORBIDDEN'
  | 'M_UNKNOWN_TOKEN'
  | 'M_MISSING_TOKEN'
  | 'M_USER_LOCKED'
  | 'M_USER_SUSPENDED'
  | 'M_BAD_JSON'
  | 'M_NOT_JSON'
  | 'M_NOT_FOUND'
  | 'M_LIMIT_EXCEEDED'
  | 'M_UNRECOGNIZED'
  | 'M_UNKNOWN'
  | 'M_UNAUTHORIZED'
  | 'M_USER_DEACTIVATED'
  | 'M_USER_IN_USE'
  | 'M_INVALID_USERNAME'
  | 'M_ROOM_IN_USE'
  | 'M_INVALID_ROOM_STATE'
  | 'M_UNSUPPORTED_ROOM_VERSION'
  | 'M_INCOMPATIBLE_ROOM_VERSION'
  | 'M_BAD_STATE'
  | 'M_GUEST_ACCESS_FORBIDDEN'
  | 'M_MISSING_PARAM'
  | 'M_INVALID_PARAM'
  | 'M_TOO_LARGE'
  | 'M_EXCLUSIVE'
  | 'M_CANNOT_LEAVE_SERVER_NOTICE_ROOM'
  | 'M_THREEPID_IN_USE'
  | 'M_THREEPID_NOT_FOUND'
  | 'M_WEAK_PASSWORD'
  | 'M_NOT_YET_UPLOADED'
  | 'M_CANNOT_OVERWRITE_MEDIA'
  | 'M_UNKNOWN_POS'
  | 'M_BAD_ALIAS';

/** The status each errcode is sent with unless a call site has a spec reason to differ. */
const STATUS: Record<Errcode, number> = {
  M_FORBIDDEN: 403,
  M_UNKNOWN_TOKEN: 401,
  M_MISSING_TOKEN: 401,
  M_USER_LOCKED: 401,
  M_USER_SUSPENDED: 403,
  M_BAD_JSON: 400,
  M_NOT_JSON: 400,
  M_NOT_FOUND: 404,
  M_LIMIT_EXCEEDED: 429,
  M_UNRECOGNIZED: 404,
  M_UNKNOWN: 500,
  M_UNAUTHORIZED: 401,
  M_USER_DEACTIVATED: 403,
  M_USER_IN_USE: 400,
  M_INVALID_USERNAME: 400,
  M_ROOM_IN_USE: 400,
  M_INVALID_ROOM_STATE: 400,
  M_UNSUPPORTED_ROOM_VERSION: 400,
  M_INCOMPATIBLE_ROOM_VERSION: 400,
  M_BAD_STATE: 400,
  M_GUEST_ACCESS_FORBIDDEN: 403,
  M_MISSING_PARAM: 400,
  M_INVALID_PARAM: 400,
  M_TOO_LARGE: 413,
  M_EXCLUSIVE: 400,
  M_CANNOT_LEAVE_SERVER_NOTICE_ROOM: 403,
  M_THREEPID_IN_USE: 400,
  M_THREEPID_NOT_FOUND: 400,
  M_WEAK_PASSWORD: 400,
  M_NOT_YET_UPLOADED: 504,
  M_CANNOT_OVERWRITE_MEDIA: 409,
  M_UNKNOWN_POS: 400,
  M_BAD_ALIAS: 400,
};

/** An error that reaches the client as `{"errcode", "error", ...extra}` with `status`. */
export class MatrixError extends Error {
  readonly errcode: Errcode;
  readonly status: number;
  readonly extra: Record<string, unknown>;

  constructor(
    errcode: Errcode,
    message: string,
    options: { status?: number; extra?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = 'MatrixError';
    this.errcode = errcode;
    this.status = options.status ?? STATUS[errcode];
    this.extra = options.extra ?? {};
  }

  /** The response body the spec defines for this error. */
  toJSON(): Record<string, unknown> {
    return { ...this.extra, errcode: this.errcode, error: this.message };
  }
}

export const forbidden = (message: string) => new MatrixError('M_FORBIDDEN', message);
export const notFound = (message: string) => new MatrixError('M_NOT_FOUND', message);
export const badJson = (message: string) => new MatrixError('M_BAD_JSON', message);
export const invalidParam = (message: string) => new MatrixError('M_INVALID_PARAM', message);
export const missingParam = (message: string) => new MatrixError('M_MISSING_PARAM', message);
export const unrecognized = (message: string, status = 404) =>
  new MatrixError('M_UNRECOGNIZED', message, { status });
export const unknownToken = (message: string, softLogout = false) =>
  new MatrixError('M_UNKNOWN_TOKEN', message, { extra: { soft_logout: softLogout } });
export const missingToken = () => new MatrixError('M_MISSING_TOKEN', 'Missing access token');
export const tooLarge = (message: string) => new MatrixError('M_TOO_LARGE', message);

/** 429 with the wait the client should observe before retrying. */
export const limitExceeded = (retryAfterMs: number) =>
  new MatrixError('M_LIMIT_EXCEEDED', 'Too many requests', {
    extra: { retry_after_ms: Math.max(1, Math.ceil(retryAfterMs)) },
  });
