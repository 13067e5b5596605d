/**
 * Login sessions: password login, access tokens, and the lookup that turns a token into the
 * requester of an authenticated request.
 */
import type { Kysely } from 'kysely';
import { MatrixError, forbidden, invalidParam, unknownToken } from '../errors.js';
import type { Config } from '../config/config.js';
import { resolveLoginUser } from '../matrix/ids.js';
import type { DB } from '../storage/schema.js';
import { getUser } from '../storage/users.js';
import {
  deleteAccessToken,
  deleteDeviceTokens,
  deleteDevices,
  getDevice,
  getTokenOwner,
  insertAccessToken,
  touchDevice,
  upsertDevice,
} from '../storage/devices.js';
import type { RateLimiter } from './rate-limiter.js';
import { generateAccessToken, hashAccessToken, randomDeviceId, verifyPassword } from './secrets.js';

/** The authenticated caller of a request. */
export interface Requester {
  userId: string;
  deviceId: string;
  isAdmin: boolean;
  tokenHash: string;
}

/** A device's last-seen time is written at most this often. */
const LAST_SEEN_INTERVAL_MS = 60_000;

/** The identifying part of a login or UIA password request (spec: Identifier types). */
export interface LoginIdentifier {
  identifier?: { type?: string; user?: string; [key: string]: unknown };
  user?: string;
}

export class Sessions {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly config: Config,
    private readonly limiter: RateLimiter,
  ) {}

  /** The local user id a login names, or throws for identifiers this server does not support. */
  resolveIdentifier(login: LoginIdentifier): string {
    let input: string | undefined;
    if (login.identifier !== undefined) {
      if (login.identifier.type !== 'm.id.user') {
        throw invalidParam(`Unsupported identifier type: ${String(login.identifier.type)}`);
      }
      input = login.identifier.user;
    } else {
      input = login.user;
    }
    if (typeof input !== 'string') {
      throw new MatrixError('M_MISSING_PARAM', 'Missing identifier.user');
    }
    const userId = resolveLoginUser(input, this.config.server_name);
    if (!userId) throw forbidden('Invalid username or password');
    return userId;
  }

  /**
   * Verifies a user's password, under the per-account failure limit; throws 403 M_FORBIDDEN on a
   * wrong password, an unknown account or a deactivated one.
   */
  async checkPassword(userId: string, password: string): Promise<void> {
    const limit = this.config.rate_limits.login_failures_per_account;
    this.limiter.take(`login-failure:${userId}`, limit, { consume: false });
    const user = await getUser(this.db, userId);
    const ok = await verifyPassword(user?.password_hash ?? null, password);
    if (!ok || !user || user.deactivated) {
      this.limiter.penalize(`login-failure:${userId}`, limit);
      throw forbidden('Invalid username or password');
    }
  }

  /** `POST /login` with `m.login.password`: returns the new session. */
  async loginWithPassword(request: {
    login: LoginIdentifier;
    password: string;
    deviceId: string | undefined;
    initialDeviceDisplayName: string | undefined;
    ip: string;
  }): Promise<{ userId: string; deviceId: string; accessToken: string }> {
    this.limiter.take(`login:${request.ip}`, this.config.rate_limits.login_per_address);
    const userId = this.resolveIdentifier(request.login);
    await this.checkPassword(userId, request.password);
    const session = await this.createSession(
      userId,
      request.deviceId,
      request.initialDeviceDisplayName,
    );
    return { userId, ...session };
  }

  /**
   * Issues an access token on a device, creating the device (named `displayName`) if needed.
   * Reusing a device id revokes the tokens that device had before and keeps its name.
   */
  async createSession(
    userId: string,
    deviceId: string | undefined,
    displayName: string | undefined,
  ): Promise<{ deviceId: string; accessToken: string }> {
    const id = deviceId ?? randomDeviceId();
    const accessToken = generateAccessToken();
    const now = Date.now();
    await this.db.transaction().execute(async (trx) => {
      // The initial display name only names a new device; a known device keeps its name.
      const known = await getDevice(trx, userId, id);
      await upsertDevice(trx, {
        user_id: userId,
        device_id: id,
        display_name: known ? null : (displayName ?? null),
        created_ts: now,
      });
      await deleteDeviceTokens(trx, userId, id);
      await insertAccessToken(trx, {
        token_hash: hashAccessToken(accessToken),
        user_id: userId,
        device_id: id,
        created_ts: now,
      });
    });
    return { deviceId: id, accessToken };
  }

  /** Resolves an access token to its requester, or throws 401 M_UNKNOWN_TOKEN. */
  async authenticate(accessToken: string, ip: string): Promise<Requester> {
    const tokenHash = hashAccessToken(accessToken);
    const owner = await getTokenOwner(this.db, tokenHash);
    if (!owner || owner.deactivated) throw unknownToken('Unknown access token');
    const now = Date.now();
    if (owner.last_seen_ts === null || now - owner.last_seen_ts > LAST_SEEN_INTERVAL_MS) {
      await touchDevice(this.db, owner.user_id, owner.device_id, now, ip);
    }
    return {
      userId: owner.user_id,
      deviceId: owner.device_id,
      isAdmin: owner.is_admin,
      tokenHash,
    };
  }

  /** `POST /logout`: revokes the token and deletes its device. */
  async logout(requester: Requester): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await deleteAccessToken(trx, requester.tokenHash);
      await deleteDevices(trx, requester.userId, [requester.deviceId]);
    });
  }

  /** `POST /logout/all`: revokes every token and deletes every device of the user. */
  async logoutAll(userId: string): Promise<void> {
    await deleteDevices(this.db, userId);
  }
}
