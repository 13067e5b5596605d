/**
 * Accounts: registration (open, token-gated, by the CLI or by shared secret), password changes
 * and deactivation.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { MatrixError, forbidden } from '../errors.js';
import type { Config } from '../config/config.js';
import { localpartProblem, userIdFromLocalpart } from '../matrix/ids.js';
import type { DB } from '../storage/schema.js';
import { deleteDevices, deleteOtherDevices } from '../storage/devices.js';
import { insertNonce, takeNonce } from '../storage/uia.js';
import {
  countAdmins,
  getUser,
  insertUser,
  listUsers,
  markDeactivated,
  updateAdmin,
  updatePasswordHash,
  userExists,
} from '../storage/users.js';
import type { Membership } from './membership.js';
import { hashPassword, randomString } from './secrets.js';

/** A password longer than this is refused before hashing (it would only cost CPU). */
const MAX_PASSWORD_LENGTH = 512;

/** How long a shared-secret registration nonce stays valid. */
const NONCE_LIFETIME_MS = 60_000;

export class Accounts {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly config: Config,
    private readonly membership: Membership,
  ) {}

  /**
   * Checks that a localpart may be registered: throws M_INVALID_USERNAME or M_USER_IN_USE.
   * Returns the user id it would have.
   */
  async checkUsernameAvailable(localpart: string): Promise<string> {
    const problem = localpartProblem(localpart, this.config.server_name);
    if (problem) throw new MatrixError('M_INVALID_USERNAME', problem);
    const userId = userIdFromLocalpart(localpart, this.config.server_name);
    if (await userExists(this.db, userId)) {
      throw new MatrixError('M_USER_IN_USE', 'User ID already taken');
    }
    return userId;
  }

  /** Creates an account; the caller has already decided it is allowed. */
  async createAccount(request: {
    localpart: string;
    password: string | null;
    admin?: boolean;
    displayname?: string;
  }): Promise<string> {
    const userId = await this.checkUsernameAvailable(request.localpart);
    const passwordHash =
      request.password === null ? null : await hashPassword(checkPassword(request.password));
    const inserted = await insertUser(this.db, {
      user_id: userId,
      localpart: request.localpart,
      password_hash: passwordHash,
      is_admin: request.admin ?? false,
      displayname: request.displayname ?? request.localpart,
      avatar_url: null,
      created_ts: Date.now(),
    });
    if (!inserted) throw new MatrixError('M_USER_IN_USE', 'User ID already taken');
    return userId;
  }

  /** Sets a new password; with `logoutDevices`, deletes every device but `keepDeviceId`. */
  async changePassword(
    userId: string,
    newPassword: string,
    logoutDevices: boolean,
    keepDeviceId: string | null,
  ): Promise<void> {
    const passwordHash = await hashPassword(checkPassword(newPassword));
    await this.db.transaction().execute(async (trx) => {
      await updatePasswordHash(trx, userId, passwordHash);
      if (!logoutDevices) return;
      if (keepDeviceId === null) await deleteDevices(trx, userId);
      else await deleteOtherDevices(trx, userId, keepDeviceId);
    });
  }

  /** Deactivates an account for good: it can no longer log in and all its sessions end. */
  async deactivate(userId: string): Promise<void> {
    // Leave every room first: leaving is a membership event the user must still be able to send.
    for (const roomId of await this.membership.roomsWithMembership(userId)) {
      await this.membership.leave(userId, roomId);
    }
    await this.db.transaction().execute(async (trx) => {
      await markDeactivated(trx, userId);
      await deleteDevices(trx, userId);
    });
  }

  /** Every account, for admin tools. */
  async list(): Promise<
    { userId: string; admin: boolean; deactivated: boolean; displayname: string | null }[]
  > {
    return (await listUsers(this.db)).map((u) => ({
      userId: u.user_id,
      admin: u.is_admin,
      deactivated: u.deactivated,
      displayname: u.displayname,
    }));
  }

  async exists(userId: string): Promise<boolean> {
    return userExists(this.db, userId);
  }

  /** How many active admin accounts exist (the startup log says how to make the first). */
  async countAdmins(): Promise<number> {
    return countAdmins(this.db);
  }

  /** The local user id for what an admin typed: a localpart or a full user id. */
  resolveLocalUser(input: string): string {
    return input.startsWith('@')
      ? input
      : userIdFromLocalpart(input.toLowerCase(), this.config.server_name);
  }

  async setAdmin(userId: string, isAdmin: boolean): Promise<void> {
    if (!(await getUser(this.db, userId))) throw new MatrixError('M_NOT_FOUND', 'No such user');
    await updateAdmin(this.db, userId, isAdmin);
  }

  /** A fresh nonce for shared-secret registration. */
  async createRegistrationNonce(): Promise<string> {
    const nonce = randomString(24);
    await insertNonce(this.db, nonce, Date.now());
    return nonce;
  }

  /**
   * Shared-secret registration for admin tools: the request's `mac` must be the HMAC-SHA1, keyed
   * with the shared secret, of nonce, username, password and "admin"/"notadmin" (and the user
   * type when given), joined by NUL bytes.
   */
  async registerWithSharedSecret(request: {
    nonce: string;
    username: string;
    password: string;
    admin: boolean;
    userType?: string | null;
    displayname?: string;
    mac: string;
  }): Promise<string> {
    const secret = this.config.registration.shared_secret;
    if (!secret) throw forbidden('Shared secret registration is not enabled');
    const fresh = await takeNonce(this.db, request.nonce, Date.now() - NONCE_LIFETIME_MS);
    if (!fresh) throw forbidden('Unrecognised nonce');
    const hmac = createHmac('sha1', secret);
    hmac.update(request.nonce);
    hmac.update('\x00');
    hmac.update(request.username);
    hmac.update('\x00');
    hmac.update(request.password);
    hmac.update('\x00');
    hmac.update(request.admin ? 'admin' : 'notadmin');
    if (request.userType) {
      hmac.update('\x00');
      hmac.update(request.userType);
    }
    const expected = hmac.digest();
    const given = Buffer.from(request.mac, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw forbidden('HMAC incorrect');
    }
    return this.createAccount({
      localpart: request.username.toLowerCase(),
      password: request.password,
      admin: request.admin,
      ...(request.displayname !== undefined ? { displayname: request.displayname } : {}),
    });
  }
}

function checkPassword(password: string): string {
  if (password.length === 0) throw new MatrixError('M_WEAK_PASSWORD', 'Password is empty');
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new MatrixError('M_INVALID_PARAM', 'Password is too long');
  }
  return password;
}
