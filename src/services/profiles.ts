/** User profiles: display name and avatar (spec: client-server-api, Profiles). */
import type { Kysely } from 'kysely';
import { MatrixError, forbidden, notFound } from '../errors.js';
import { isMxcUri } from '../matrix/ids.js';
import type { DB } from '../storage/schema.js';
import { getUser, updateProfile } from '../storage/users.js';
import type { Membership } from './membership.js';

export interface Profile {
  displayname?: string;
  avatar_url?: string;
}

/** The longest display name accepted, in characters. */
const MAX_DISPLAYNAME_LENGTH = 256;

export class Profiles {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly membership: Membership,
  ) {}

  /** The profile of a local user; 404 when there is no such user. */
  async get(userId: string): Promise<Profile> {
    const user = await getUser(this.db, userId);
    if (!user) throw notFound('Profile not found');
    return {
      ...(user.displayname !== null ? { displayname: user.displayname } : {}),
      ...(user.avatar_url !== null ? { avatar_url: user.avatar_url } : {}),
    };
  }

  /** Sets one's own display name or avatar; `null` clears it. */
  async set(
    requesterId: string,
    targetId: string,
    field: 'displayname' | 'avatar_url',
    value: string | null,
  ): Promise<void> {
    if (requesterId !== targetId) throw forbidden('You cannot change the profile of another user');
    if (field === 'displayname' && value !== null && value.length > MAX_DISPLAYNAME_LENGTH) {
      throw new MatrixError('M_INVALID_PARAM', 'Display name is too long');
    }
    if (field === 'avatar_url' && value !== null && value !== '' && !isMxcUri(value)) {
      throw new MatrixError('M_INVALID_PARAM', 'avatar_url must be an mxc:// URI');
    }
    await updateProfile(this.db, targetId, { [field]: value === '' ? null : value });
    await this.membership.propagateProfile(targetId);
  }
}
