/** The user directory (spec: client-server-api, User directory). */
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import type { DB } from '../storage/schema.js';
import { searchUserDirectory } from '../storage/user-directory.js';

/** A user as a directory search returns them (spec: `POST /user_directory/search`, `User`). */
export interface UserDirectoryEntry {
  user_id: string;
  display_name?: string;
  avatar_url?: string;
}

/** The most results one search returns, whatever the client asks for. */
const MAX_SEARCH_LIMIT = 100;

export class UserDirectory {
  /** The configuration is taken as every service takes it; no directory setting exists yet. */
  constructor(
    private readonly db: Kysely<DB>,
    _config: Config,
  ) {}

  /**
   * `POST /user_directory/search`: users who share a joined room with the requester, or are
   * joined to a room that is published, publicly joinable or world readable, whose localpart
   * or display name contains the term, ignoring case. Exact and prefix matches come first.
   * Deactivated users are never returned.
   *
   * TODO: order by the collation of the client's Accept-Language; today matching folds case
   * only as the database's lower() does, and ordering is by user id.
   */
  async search(
    requesterId: string,
    term: string,
    limit: number,
  ): Promise<{ results: UserDirectoryEntry[]; limited: boolean }> {
    const capped = Math.min(Math.max(Math.trunc(limit), 0), MAX_SEARCH_LIMIT);
    const needle = term.trim();
    const rows = await searchUserDirectory(this.db, requesterId, needle, capped + 1);
    const results = rows.slice(0, capped).map((row) => {
      const displayName = row.profile_displayname ?? row.member_displayname;
      const avatarUrl = row.profile_avatar_url ?? row.member_avatar_url;
      return {
        user_id: row.user_id,
        ...(displayName ? { display_name: displayName } : {}),
        ...(avatarUrl?.startsWith('mxc://') ? { avatar_url: avatarUrl } : {}),
      };
    });
    return { results, limited: rows.length > capped };
  }
}
