/** The user directory: users a searcher may find through the rooms they can see. */
import { sql } from 'kysely';
import type { Executor } from './database.js';

/** A user found by a directory search, with both the profile and a room's view of their name. */
export interface UserDirectoryMatch {
  user_id: string;
  /** From the account of a local user. */
  profile_displayname: string | null;
  profile_avatar_url: string | null;
  /** From the member event the match was made on. */
  member_displayname: string | null;
  member_avatar_url: string | null;
}

/** Escapes `%`, `_` and the escape character itself, so a term matches only literally. */
function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Users joined to a room the searcher can see (one the searcher is joined to, one published in
 * the directory, one with a public join rule or world-readable history) whose localpart or
 * display name (the account's, or the one in a member event) contains `term`, case-insensitively.
 * Deactivated accounts are left out. Up to `limit` users, best first: an exact match, then a
 * prefix match, then the rest, each group by user id.
 *
 * Written with the `sql` template because the visible rooms, the JSON content of member events
 * and the ranking read much more plainly as one SQL statement:
 *
 *   WITH visible_rooms AS (... UNION ...), candidates AS (member x users x events)
 *   SELECT DISTINCT ON (user_id) ... ORDER BY user_id, rank  -- then ORDER BY rank, user_id
 */
export async function searchUserDirectory(
  db: Executor,
  searcherId: string,
  term: string,
  limit: number,
): Promise<UserDirectoryMatch[]> {
  const lowered = term.toLowerCase();
  const contains = `%${escapeLike(term)}%`;
  const prefix = `${escapeLike(term)}%`;
  // A term shaped like a user id (`@name`, `name:server`) is also matched against whole ids.
  const matchWholeId = term.includes('@') || term.includes(':');
  const result = await sql<UserDirectoryMatch>`
    WITH visible_rooms AS (
      SELECT room_id FROM current_state
      WHERE type = 'm.room.member' AND state_key = ${searcherId} AND membership = 'join'
      UNION
      SELECT room_id FROM rooms WHERE is_public
      UNION
      SELECT s.room_id FROM current_state s JOIN events e ON e.event_id = s.event_id
      WHERE s.type = 'm.room.join_rules' AND s.state_key = ''
        AND e.pdu::jsonb -> 'content' ->> 'join_rule' = 'public'
      UNION
      SELECT s.room_id FROM current_state s JOIN events e ON e.event_id = s.event_id
      WHERE s.type = 'm.room.history_visibility' AND s.state_key = ''
        AND e.pdu::jsonb -> 'content' ->> 'history_visibility' = 'world_readable'
    ),
    candidates AS (
      SELECT
        m.state_key AS user_id,
        split_part(substr(m.state_key, 2), ':', 1) AS localpart,
        u.displayname AS profile_displayname,
        u.avatar_url AS profile_avatar_url,
        e.pdu::jsonb -> 'content' ->> 'displayname' AS member_displayname,
        e.pdu::jsonb -> 'content' ->> 'avatar_url' AS member_avatar_url
      FROM current_state m
      JOIN visible_rooms v ON v.room_id = m.room_id
      JOIN events e ON e.event_id = m.event_id
      LEFT JOIN users u ON u.user_id = m.state_key
      WHERE m.type = 'm.room.member' AND m.membership = 'join'
        AND u.deactivated IS NOT TRUE
    ),
    matches AS (
      SELECT DISTINCT ON (user_id)
        user_id, profile_displayname, profile_avatar_url, member_displayname, member_avatar_url,
        CASE
          WHEN lower(localpart) = ${lowered}
            OR lower(coalesce(profile_displayname, member_displayname)) = ${lowered} THEN 0
          WHEN localpart ILIKE ${prefix}
            OR coalesce(profile_displayname, member_displayname) ILIKE ${prefix} THEN 1
          ELSE 2
        END AS rank
      FROM candidates
      WHERE localpart ILIKE ${contains}
        OR profile_displayname ILIKE ${contains}
        OR member_displayname ILIKE ${contains}
        OR (${matchWholeId} AND user_id ILIKE ${contains})
      ORDER BY user_id, rank
    )
    SELECT user_id, profile_displayname, profile_avatar_url, member_displayname, member_avatar_url
    FROM matches
    ORDER BY rank, user_id
    LIMIT ${limit}`.execute(db);
  return result.rows;
}
