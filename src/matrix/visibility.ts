/**
 * History visibility (spec: client-server-api, Room History Visibility): which events of a room a
 * user may see, decided from the room's history_visibility changes and the user's membership
 * changes, both as ordered lists of stream positions.
 */

export type HistoryVisibility = 'world_readable' | 'shared' | 'invited' | 'joined';

/** What the decision needs to know about one room and one user. */
export interface VisibilityHistory {
  /** The user's membership events in the room, oldest first. */
  memberships: readonly { stream: number; membership: string }[];
  /** The room's history_visibility events, oldest first. */
  visibilities: readonly { stream: number; value: string }[];
}

/** An event being checked: its position and, for state events, its type and state key. */
export interface VisibleCandidate {
  stream: number;
  type: string;
  state_key: string | null;
}

/** Reads a history_visibility value, treating anything unknown as `shared`. */
export function parseVisibility(value: unknown): HistoryVisibility {
  return value === 'world_readable' || value === 'invited' || value === 'joined' ? value : 'shared';
}

/** The last entry at or before (`inclusive`) or strictly before `stream`. */
function lastBefore<T extends { stream: number }>(
  list: readonly T[],
  stream: number,
  inclusive: boolean,
): T | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const s = (list[mid] as T).stream;
    if (s < stream || (inclusive && s === stream)) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? list[lo - 1] : undefined;
}

function allowed(
  history: VisibilityHistory,
  stream: number,
  visibility: HistoryVisibility,
  membership: string,
): boolean {
  if (visibility === 'world_readable') return true;
  if (membership === 'join') return true;
  if (visibility === 'shared') {
    return history.memberships.some((m) => m.membership === 'join' && m.stream > stream);
  }
  return visibility === 'invited' && membership === 'invite';
}

/**
 * Whether the user may see the event. The state that decides is the state before the event;
 * for history_visibility events and the user's own member events, the state after it counts too.
 */
export function canSeeEvent(
  history: VisibilityHistory,
  event: VisibleCandidate,
  userId: string,
): boolean {
  const before = {
    visibility: parseVisibility(lastBefore(history.visibilities, event.stream, false)?.value),
    membership: lastBefore(history.memberships, event.stream, false)?.membership ?? 'leave',
  };
  if (allowed(history, event.stream, before.visibility, before.membership)) return true;
  const isOwnMember = event.type === 'm.room.member' && event.state_key === userId;
  const isVisibility = event.type === 'm.room.history_visibility' && event.state_key === '';
  if (!isOwnMember && !isVisibility) return false;
  const after = {
    visibility: parseVisibility(lastBefore(history.visibilities, event.stream, true)?.value),
    membership: lastBefore(history.memberships, event.stream, true)?.membership ?? 'leave',
  };
  return allowed(history, event.stream, after.visibility, after.membership);
}
