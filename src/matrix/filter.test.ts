import { describe, expect, it } from 'vitest';
import { matchesFilter, roomAllowed } from './filter.js';

const event = { type: 'm.room.message', sender: '@alice:hs1.test', room_id: '!r:hs1.test' };

describe('matchesFilter', () => {
  it.each([
    [undefined, true],
    [{}, true],
    [{ types: ['m.room.message'] }, true],
    [{ types: ['m.room.*'] }, true],
    [{ types: ['m.reaction'] }, false],
    [{ not_types: ['m.room.*'] }, false],
    [{ types: ['m.room.*'], not_types: ['m.room.message'] }, false],
    [{ senders: ['@alice:hs1.test'] }, true],
    [{ senders: ['@bob:hs1.test'] }, false],
    [{ not_senders: ['@alice:hs1.test'] }, false],
    [{ rooms: ['!other:hs1.test'] }, false],
    [{ not_rooms: ['!r:hs1.test'] }, false],
    [{ contains_url: true }, false],
    [{ contains_url: false }, true],
  ])('filter %j matches: %s', (filter, expected) => {
    expect(matchesFilter(filter, event)).toBe(expected);
  });

  it('matches contains_url on events with a url', () => {
    expect(matchesFilter({ contains_url: true }, { ...event, content: { url: 'mxc://a/b' } })).toBe(
      true,
    );
  });
});

describe('roomAllowed', () => {
  it('honours rooms and not_rooms', () => {
    expect(roomAllowed({ rooms: ['!a:x'] }, '!a:x')).toBe(true);
    expect(roomAllowed({ rooms: ['!a:x'] }, '!b:x')).toBe(false);
    expect(roomAllowed({ not_rooms: ['!a:x'] }, '!a:x')).toBe(false);
    expect(roomAllowed(undefined, '!a:x')).toBe(true);
  });
});
