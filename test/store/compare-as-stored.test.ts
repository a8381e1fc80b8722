import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareAsStored } from '../../src/store/query';

describe('compareAsStored', () => {
  it('orders strings as SQLite orders text: by their UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareAsStored(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))));
      }),
      { numRuns: 5000 },
    );
  });

  it('puts characters above U+FFFF after U+E000–U+FFFF, where UTF-16 order would not', () => {
    expect('\u{1F600}' < '\uFFFD').toBe(true);
    expect(compareAsStored('\u{1F600}', '\uFFFD')).toBeGreaterThan(0);
    expect(compareAsStored('abc', 'abc\u0000')).toBeLessThan(0);
  });
});
