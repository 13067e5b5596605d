import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../log.js';
import type { Database } from '../storage/database.js';
import type { Notifier } from './notifier.js';
import type { RoomReader } from './room-reader.js';
import { Typing } from './typing.js';

const START = 1_800_000_000_000;
const running: Typing[] = [];

/**
 * A typing service fed by hand: `deliver` plays a NOTIFY payload to it, `clock.nowMs` is its
 * time, and `woken` records the rooms it asked the notifier to wake.
 */
async function typingWithClock() {
  const clock = { nowMs: START };
  let deliver: (payload: string) => void = () => undefined;
  let reconnect: () => void = () => undefined;
  const database = {
    listen: async (_channel: string, onPayload: (p: string) => void, onReconnect: () => void) => {
      deliver = onPayload;
      reconnect = onReconnect;
      return async () => undefined;
    },
  } as unknown as Database;
  const woken: (readonly string[] | undefined)[] = [];
  const notifier = {
    wakeEphemeral: (roomIds?: readonly string[]) => woken.push(roomIds),
  } as unknown as Notifier;
  const log = { warn: () => undefined } as unknown as Logger;
  const typing = new Typing(
    undefined as never,
    undefined as unknown as RoomReader,
    notifier,
    log,
    () => clock.nowMs,
  );
  await typing.start(database);
  running.push(typing);
  const change = (r: string, u: string, t: number, e: number) =>
    deliver(JSON.stringify({ r, u, t, e, i: 'other:1' }));
  return { typing, clock, woken, change, reconnect: () => reconnect() };
}

afterEach(async () => {
  for (const typing of running.splice(0)) await typing.stop();
});

describe('Typing', () => {
  it('gives a change the time it carries as its serial, or one more than the previous', async () => {
    const { typing, change } = await typingWithClock();
    change('!a', '@x', START + 10, START + 5000);
    expect(typing.serial).toBe(START + 10);
    // A change stamped no later than the previous one still comes after it.
    change('!a', '@y', START + 10, START + 5000);
    expect(typing.serial).toBe(START + 11);
    expect(typing.forSync(['!a'], undefined).rooms.get('!a')).toEqual(['@x', '@y']);
  });

  it('agrees with another process fed the same notifications, whenever each started', async () => {
    const one = await typingWithClock();
    const other = await typingWithClock();
    for (const p of [one, other]) {
      p.change('!a', '@x', START + 10, START + 1000);
      p.change('!b', '@y', START + 20, START + 1000);
      p.change('!a', '@x', START + 30, 0);
    }
    one.clock.nowMs = START + 2000;
    // Only one of them has looked at the time since; the next change settles the expiries.
    one.typing.forSync(['!a', '!b'], undefined);
    for (const p of [one, other]) p.change('!c', '@z', START + 2500, START + 9000);
    expect(one.typing.serial).toBe(other.typing.serial);
    const seen = START + 25;
    expect([...one.typing.forSync(['!a', '!b', '!c'], seen).rooms]).toEqual([
      ...other.typing.forSync(['!a', '!b', '!c'], seen).rooms,
    ]);
  });

  it('ends typing at the expiry the change carries, and wakes the room', async () => {
    vi.useFakeTimers({ now: START, toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { typing, clock, woken, change } = await typingWithClock();
      change('!a', '@x', START, START + 1500);
      expect(woken).toEqual([['!a']]);
      const seen = typing.serial;
      clock.nowMs = START + 1500;
      vi.advanceTimersByTime(1500);
      expect(woken).toEqual([['!a'], ['!a']]);
      expect(typing.changedSince(['!a'], seen)).toBe(true);
      expect(typing.forSync(['!a'], seen)).toEqual({
        rooms: new Map([['!a', []]]),
        serial: START + 1500,
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it('wakes nobody when someone already typing renews it', async () => {
    const { typing, woken, change } = await typingWithClock();
    change('!a', '@x', START + 1, START + 1000);
    const seen = typing.serial;
    change('!a', '@x', START + 2, START + 30_000);
    expect(woken).toHaveLength(1);
    expect(typing.changedSince(['!a'], seen)).toBe(false);
    expect(typing.forSync(['!a'], seen).rooms.size).toBe(0);
  });

  it('sends only rooms with someone typing on an initial sync, changed rooms after', async () => {
    const { typing, change } = await typingWithClock();
    change('!a', '@x', START + 1, START + 1000);
    change('!b', '@y', START + 2, START + 1000);
    const seen = typing.serial;
    change('!b', '@y', START + 3, 0);
    expect([...typing.forSync(['!a', '!b', '!c'], undefined).rooms.keys()]).toEqual(['!a']);
    expect([...typing.forSync(['!a', '!b', '!c'], seen).rooms]).toEqual([['!b', []]]);
    expect([...typing.forSync(['!a', '!b'], seen, true).rooms.keys()]).toEqual(['!a', '!b']);
  });

  it('sends every room to a token older than its start or its last reconnection', async () => {
    const { typing, clock, woken, reconnect } = await typingWithClock();
    const before = typing.serial - 1;
    expect(typing.forSync(['!a', '!b'], before).rooms).toEqual(
      new Map([
        ['!a', []],
        ['!b', []],
      ]),
    );
    const seen = typing.serial;
    expect(typing.forSync(['!a'], seen).rooms.size).toBe(0);
    clock.nowMs += 1000;
    reconnect();
    expect(woken.at(-1)).toBeUndefined();
    expect(typing.changedSince(['!a'], seen)).toBe(true);
  });

  it('ignores a malformed notification', async () => {
    const { typing, change } = await typingWithClock();
    const serial = typing.serial;
    change('!a', '@x', Number.NaN, START + 1000);
    expect(typing.serial).toBe(serial);
  });
});
