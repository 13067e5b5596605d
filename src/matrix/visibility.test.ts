import { describe, expect, it } from 'vitest';
import { canSeeEvent, type VisibilityHistory } from './visibility.js';

const bob = '@bob:hs1.test';
const msg = (stream: number) => ({ stream, type: 'm.room.message', state_key: null });

/** A room whose visibility is `value` from position 1, where bob's memberships are given. */
function room(value: string, memberships: [number, string][]): VisibilityHistory {
  return {
    visibilities: [{ stream: 1, value }],
    memberships: memberships.map(([stream, membership]) => ({ stream, membership })),
  };
}

describe('canSeeEvent', () => {
  it.each([
    // [visibility, bob's memberships, event position, visible?]
    ['shared', [[10, 'join']], 5, true],
    ['shared', [[10, 'join']], 15, true],
    [
      'shared',
      [
        [10, 'join'],
        [20, 'leave'],
      ],
      25,
      false,
    ],
    ['shared', [[10, 'invite']], 15, false],
    ['shared', [], 5, false],
    ['joined', [[10, 'join']], 5, false],
    ['joined', [[10, 'join']], 15, true],
    [
      'joined',
      [
        [10, 'join'],
        [20, 'leave'],
      ],
      15,
      true,
    ],
    [
      'joined',
      [
        [10, 'join'],
        [20, 'leave'],
      ],
      25,
      false,
    ],
    [
      'invited',
      [
        [10, 'invite'],
        [20, 'join'],
      ],
      5,
      false,
    ],
    [
      'invited',
      [
        [10, 'invite'],
        [20, 'join'],
      ],
      15,
      true,
    ],
    ['invited', [[10, 'invite']], 15, true],
    [
      'invited',
      [
        [10, 'invite'],
        [12, 'leave'],
      ],
      15,
      false,
    ],
    ['world_readable', [], 5, true],
    ['nonsense', [[10, 'join']], 5, true],
  ] as [string, [number, string][], number, boolean][])(
    '%s with memberships %j: event at %i visible=%s',
    (value, memberships, stream, visible) => {
      expect(canSeeEvent(room(value, memberships), msg(stream), bob)).toBe(visible);
    },
  );

  it("shows the user's own join even when visibility is joined", () => {
    const history = room('joined', [[10, 'join']]);
    expect(canSeeEvent(history, { stream: 10, type: 'm.room.member', state_key: bob }, bob)).toBe(
      true,
    );
  });

  it("shows the user's own leave (or kick) event", () => {
    const history = room('joined', [
      [10, 'join'],
      [20, 'leave'],
    ]);
    expect(canSeeEvent(history, { stream: 20, type: 'm.room.member', state_key: bob }, bob)).toBe(
      true,
    );
  });

  it("hides another user's member event after the user left", () => {
    const history = room('joined', [
      [10, 'join'],
      [20, 'leave'],
    ]);
    const other = { stream: 30, type: 'm.room.member', state_key: '@carol:hs1.test' };
    expect(canSeeEvent(history, other, bob)).toBe(false);
  });

  it('shows a history_visibility change to world_readable to anyone', () => {
    const history: VisibilityHistory = {
      visibilities: [
        { stream: 1, value: 'joined' },
        { stream: 30, value: 'world_readable' },
      ],
      memberships: [],
    };
    const change = { stream: 30, type: 'm.room.history_visibility', state_key: '' };
    expect(canSeeEvent(history, change, bob)).toBe(true);
    expect(canSeeEvent(history, msg(20), bob)).toBe(false);
    expect(canSeeEvent(history, msg(31), bob)).toBe(true);
  });
});
