/** The bounded map behind the FHIR adapters' Patient → CPR cache: at most `limit` entries, least recently used forgotten first. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../adapters/shared/bounded-map';

describe('BoundedMap', () => {
  it('forgets the least recently used entry once over its limit; a read counts as a use', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2);
    expect(map.get('a')).toBe(1); // a is now the most recent
    map.set('c', 3);
    expect([map.has('a'), map.has('b'), map.has('c')]).toEqual([true, false, true]);
    map.set('a', 10); // a write is a use too, and replaces the value
    map.set('d', 4);
    expect([map.get('a'), map.has('c'), map.get('d'), map.size]).toEqual([10, false, 4, 2]);
  });

  it('never holds more than its limit, and holds the most recent keys (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 12 })), { maxLength: 200 }), (limit, operations) => {
        const map = new BoundedMap<number, number>(limit);
        const recency: number[] = []; // a model: keys from least to most recently used
        for (const [write, key] of operations) {
          if (write) map.set(key, key);
          else if (map.get(key) === undefined) continue;
          const at = recency.indexOf(key);
          if (at >= 0) recency.splice(at, 1);
          recency.push(key);
          if (recency.length > limit) recency.shift();
          expect(map.size).toBeLessThanOrEqual(limit);
        }
        for (const key of recency) expect(map.has(key)).toBe(true);
        expect(map.size).toBe(recency.length);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a limit below one', () => {
    expect(() => new BoundedMap(0)).toThrow(RangeError);
    expect(() => new BoundedMap(1.5)).toThrow(RangeError);
  });
});
