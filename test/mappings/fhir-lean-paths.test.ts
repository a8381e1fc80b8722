/**
 * The leaner paths of the FHIR record check and mappings give what the code they replaced gave (kept
 * here as the reference), on generated and on awkward input:
 * - the nesting bound walks with a stack of its own instead of recursing, with the same answers;
 * - the FHIR id, instant, date and dateTime checks read characters instead of running the patterns;
 * - code-list look-ups go through `CodeIndex` instead of maps of maps;
 * - `firstCoding` / `codingIn` loop instead of `find`, `firstText` takes named parameters, goal ids
 *   are collected in one loop, the notes sort their ignored fields by insertion;
 * - a collector kept alive for its hidden class never shows in a record's notes.
 * No test here prints a CPR number.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fhirFormatChecks, FhirDate, FhirDateTime, FhirId, FhirInstant, type CodeableConcept, type Coding } from '../../adapters/fhir/contract';
import { codingIn, danishDate, firstCoding, isDateShaped, referencedId } from '../../adapters/fhir/fhir-values';
import { firstText, MappingNotesCollector, referencedElementIds, sortedCopy } from '../../adapters/fhir/mapping-support';
import { MAX_RECORD_DEPTH, nestsDeeperThan } from '../../adapters/fhir/nesting';
import { CodeIndex } from '../../mappings/code-index';
import { careSocialCodes, ffb, fsiii, goalCategoryRule, goalTopics, lookupCode, topicsForGoalType } from '../../mappings/social/codes';

/** The recursive walk the nesting bound used before. */
function nestsDeeperByRecursion(value: unknown, limit: number = MAX_RECORD_DEPTH): boolean {
  const deeper = (node: object, levels: number): boolean => {
    if (levels === 0) return true;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item: unknown = node[i];
        if (typeof item === 'object' && item !== null && deeper(item, levels - 1)) return true;
      }
      return false;
    }
    for (const key in node) {
      const item: unknown = (node as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null && deeper(item, levels - 1)) return true;
    }
    return false;
  };
  return typeof value === 'object' && value !== null && deeper(value, limit);
}

describe('the nesting bound', () => {
  it('answers as the recursive walk did, for any value and limit (property)', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 7, withNullPrototype: true, withSparseArray: true }), fc.integer({ min: 0, max: 8 }), (value, limit) => {
        expect(nestsDeeperThan(value, limit)).toBe(nestsDeeperByRecursion(value, limit));
      }),
      { numRuns: 5_000 },
    );
  });

  it('bounds deep, cyclic and wide values without recursing, and again after a walk that threw', () => {
    let deep: unknown = { leaf: 1 };
    for (let i = 0; i < 20_000; i++) deep = { a: [deep] };
    expect(nestsDeeperThan(deep)).toBe(true);
    let exact: unknown = {};
    for (let i = 1; i < MAX_RECORD_DEPTH; i++) exact = { a: exact };
    expect(nestsDeeperThan(exact)).toBe(false);
    expect(nestsDeeperThan({ b: exact })).toBe(true);
    const cycle: Record<string, unknown> = { x: 1 };
    cycle.self = cycle;
    expect(nestsDeeperThan(cycle)).toBe(true);
    const wide = Array.from({ length: 10_000 }, () => ({ a: { b: [] } }));
    expect(nestsDeeperThan(wide)).toBe(false);
    expect(nestsDeeperThan(wide, 3)).toBe(true);
    const throwing = { a: {}, get b(): unknown {
      throw new Error('no');
    } };
    expect(() => nestsDeeperThan({ x: [throwing, {}, {}] })).toThrow('no');
    expect(nestsDeeperThan({ a: { b: {} } }, 2)).toBe(true);
    expect(nestsDeeperThan({ a: { b: 1 } }, 2)).toBe(false);
  });

  it('answers a getter that asks again while a walk is under way', () => {
    const inner = { a: { b: { c: {} } } };
    let asked: boolean | undefined;
    const value = {
      get probe() {
        asked = nestsDeeperThan(inner, 2);
        return 1;
      },
      deep: { x: { y: {} } },
    };
    expect(nestsDeeperThan(value, 3)).toBe(nestsDeeperByRecursion({ probe: 1, deep: value.deep }, 3));
    expect(asked).toBe(true);
  });
});

describe('the FHIR format checks', () => {
  const near = fc.oneof(
    fc.string(),
    fc.stringMatching(/^\d{4}(-\d{1,2}(-\d{1,2}(T\d{1,2}:\d{2}:\d{2}(\.\d{0,3})?(Z|z|[+-]\d{2}:\d{2}|[+-]\d{4})?)?)?)?$/),
    fc.stringMatching(/^[0-9T:+\-.Z]{0,30}$/),
    fc.stringMatching(/^[A-Za-z0-9\-._ ]{0,70}$/),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  );
  const suffix = fc.constantFrom('', '', 'x', 'Z', ':00', '0', ' ', '+14:00', '-14:01', '+13:59');

  it('match exactly what the patterns of FhirId, FhirInstant, FhirDate and FhirDateTime match (property)', () => {
    fc.assert(
      fc.property(near, suffix, (stem, end) => {
        const value = stem + end;
        expect(fhirFormatChecks.isFhirId(value)).toBe(FhirId.safeParse(value).success);
        expect(fhirFormatChecks.isFhirInstant(value)).toBe(FhirInstant.safeParse(value).success);
        expect(fhirFormatChecks.isFhirDate(value)).toBe(FhirDate.safeParse(value).success);
        expect(fhirFormatChecks.isFhirDateTime(value)).toBe(FhirDateTime.safeParse(value).success);
      }),
      { numRuns: 20_000 },
    );
  });

  it('match every hour, minute, second and zone boundary, and every month and day 00–39', () => {
    const pad = (n: number) => String(n).padStart(2, '0');
    let mismatches = 0;
    for (let h = 0; h < 26; h++)
      for (const m of [0, 5, 59, 60, 99])
        for (const s of [0, 59, 60, 61])
          for (const zone of ['Z', '+00:00', '+13:59', '+14:00', '+14:01', '-12:60', '+1:00', '', '.5Z', '.Z', '.123+01:00']) {
            const value = `2024-02-29T${pad(h)}:${pad(m)}:${pad(s)}${zone}`;
            if (fhirFormatChecks.isFhirDateTime(value) !== FhirDateTime.safeParse(value).success) mismatches++;
            if (fhirFormatChecks.isFhirInstant(value) !== FhirInstant.safeParse(value).success) mismatches++;
          }
    for (let month = 0; month < 14; month++)
      for (let day = 0; day < 40; day++) {
        const value = `2026-${pad(month)}-${pad(day)}`;
        for (const v of [value, value.slice(0, 7)])
          if (fhirFormatChecks.isFhirDate(v) !== FhirDate.safeParse(v).success || fhirFormatChecks.isFhirDateTime(v) !== FhirDateTime.safeParse(v).success) mismatches++;
      }
    for (const value of [undefined, null, 2026, {}, ['2026']]) {
      expect(fhirFormatChecks.isFhirDate(value) || fhirFormatChecks.isFhirDateTime(value) || fhirFormatChecks.isFhirInstant(value) || fhirFormatChecks.isFhirId(value)).toBe(false);
    }
    expect(fhirFormatChecks.isFhirId('a'.repeat(64))).toBe(true);
    expect(fhirFormatChecks.isFhirId('a'.repeat(65))).toBe(false);
    expect(mismatches).toBe(0);
  });
});

describe('the date shapes', () => {
  it('isDateShaped and danishDate answer as the patterns did (property)', () => {
    const danish = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Copenhagen', year: 'numeric', month: '2-digit', day: '2-digit' });
    const danishDateBefore = (value: string | undefined) => {
      if (!value) return undefined;
      if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
      if (/^\d{4}-\d{2}$/.test(value)) return `${value}-01`;
      if (/^\d{4}$/.test(value)) return `${value}-01-01`;
      const ms = Date.parse(value);
      return Number.isNaN(ms) ? undefined : danish.format(new Date(ms));
    };
    const near = fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^[0-9-]{0,11}$/), fc.stringMatching(/^\d{4}(-\d{2}(-\d{2})?)?$/), fc.constantFrom('2026-01-01T00:30:00+01:00', '２０２６', '2026-1-01', '2026-01-01 '));
    fc.assert(
      fc.property(near, (value) => {
        expect(isDateShaped(value)).toBe(/^\d{4}-\d{2}-\d{2}$/.test(value));
        expect(danishDate(value)).toBe(danishDateBefore(value));
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('code-list look-ups', () => {
  /** The maps of maps the look-ups used before: the last entry of a system and code wins. */
  function mapsOfMaps<E>(entries: readonly (readonly [string, string, E])[]) {
    const index = new Map<string, Map<string, E>>();
    for (const [system, code, entry] of entries) {
      let codes = index.get(system);
      if (!codes) index.set(system, (codes = new Map()));
      codes.set(code, entry);
    }
    return (system: unknown, code: unknown) => (typeof system === 'string' && typeof code === 'string' ? index.get(system)?.get(code) : undefined);
  }

  it('CodeIndex finds exactly what a map of maps finds, with colliding keys and repeated codes (property)', () => {
    // Codes that differ only between the sampled characters collide on purpose.
    const code = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('aXbcXd', 'aYbcYd', 'aZbcZd', 'a', '', 'aXb', 'aYb'));
    const system = fc.constantFrom('s1', 's2', 'urn:oid:1', '');
    fc.assert(
      fc.property(fc.array(fc.tuple(system, code, fc.integer()), { maxLength: 40 }), fc.array(fc.tuple(fc.oneof(system, fc.constant(undefined)), fc.oneof(code, fc.constant(undefined))), { maxLength: 20 }), (entries, probes) => {
        const index = new CodeIndex(entries);
        const reference = mapsOfMaps(entries);
        for (const [s, c] of [...entries.map(([s, c]) => [s, c] as const), ...probes]) expect(index.get(s, c)).toBe(reference(s, c));
        for (const [s] of entries) expect(index.hasSystem(s)).toBe(true);
        expect(index.hasSystem('no such system')).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  it('the social look-ups give what the maps gave, for every listed code and for others', () => {
    const lists = [fsiii, ffb, careSocialCodes];
    const byMaps = mapsOfMaps(lists.flatMap((list) => list.concepts.map((c) => [list.system, c.code, c] as const)));
    const typeTopics = mapsOfMaps(goalTopics.goalTypes.map((g) => [g.system, g.code, g.topics] as const));
    const categoryRules = mapsOfMaps(goalTopics.goalCategories.map((g) => [g.system, g.code, g] as const));
    const probes: [string | undefined, string | undefined][] = [];
    for (const list of lists) for (const c of list.concepts) probes.push([list.system, c.code], [list.system, `${c.code}x`], [list.system, c.code.toUpperCase()]);
    for (const g of [...goalTopics.goalTypes, ...goalTopics.goalCategories]) probes.push([g.system, g.code]);
    probes.push([undefined, undefined], ['', ''], [fsiii.system, undefined], [undefined, fsiii.concepts[0]!.code], [ffb.system, fsiii.concepts[0]!.code]);
    for (const [system, code] of probes) {
      expect(lookupCode(system, code)).toBe(system && code ? byMaps(system, code) : undefined);
      expect(topicsForGoalType(system, code)).toEqual(typeTopics(String(system), String(code)) ?? []);
      expect(goalCategoryRule(system, code)).toBe(categoryRules(String(system), String(code)));
    }
  });
});

describe('the FHIR mapping helpers', () => {
  const codingArb = fc.record(
    { system: fc.constantFrom('s', 'x', '', 'http://a'), code: fc.constantFrom('c', '', 'd'), display: fc.string({ maxLength: 3 }) },
    { requiredKeys: [] },
  );
  const conceptArb = fc.record({ coding: fc.array(codingArb, { maxLength: 3 }), text: fc.string({ maxLength: 3 }) }, { requiredKeys: [] });

  it('firstCoding and codingIn find what find() found (property)', () => {
    const asList = (concepts: CodeableConcept | readonly CodeableConcept[] | undefined): readonly CodeableConcept[] => (!concepts ? [] : Array.isArray(concepts) ? concepts : [concepts as CodeableConcept]);
    const firstBefore = (concepts: CodeableConcept | readonly CodeableConcept[] | undefined): Coding | undefined => {
      for (const concept of asList(concepts)) {
        const coding = concept.coding?.find((c) => c.system && c.code);
        if (coding) return coding;
      }
      return undefined;
    };
    const inBefore = (concepts: CodeableConcept | readonly CodeableConcept[] | undefined, system: string): Coding | undefined => {
      for (const concept of asList(concepts)) {
        const coding = concept.coding?.find((c) => c.system === system && c.code);
        if (coding) return coding;
      }
      return undefined;
    };
    fc.assert(
      fc.property(fc.oneof(conceptArb, fc.array(conceptArb, { maxLength: 3 }), fc.constant(undefined)), fc.constantFrom('s', 'x', ''), (concepts, system) => {
        expect(firstCoding(concepts)).toBe(firstBefore(concepts));
        expect(codingIn(concepts, system)).toBe(inBefore(concepts, system));
      }),
      { numRuns: 3_000 },
    );
  });

  it('firstText, referencedElementIds and sortedCopy give what the rest parameter, map/filter/map and sort gave (property)', () => {
    const before = (...values: (string | undefined | null)[]) => {
      for (const value of values) {
        const text = value?.trim();
        if (text) return text;
      }
      return undefined;
    };
    const text = fc.oneof(fc.constantFrom(undefined, null, '', ' ', ' a ', 'b', '\n'), fc.string({ maxLength: 4 }));
    const reference = fc.record({ reference: fc.constantFrom('Goal/a', 'Goal/', 'Goal', 'x/Goal/b', 'Organization/c', '', 'Goal/a/Goal/b') }, { requiredKeys: [] });
    fc.assert(
      fc.property(text, text, text, text, fc.oneof(fc.array(reference, { maxLength: 4 }), fc.constant(undefined)), fc.uniqueArray(fc.string({ maxLength: 6 }), { maxLength: 12 }), (a, b, c, d, references, strings) => {
        expect(firstText(a, b, c, d)).toBe(before(a, b, c, d));
        expect(firstText(a)).toBe(before(a));
        expect(firstText(a, b)).toBe(before(a, b));
        const ids = (references ?? []).map((g) => referencedId(g, 'Goal')).filter((id): id is string => !!id).map((id) => `social:goal:${id}`);
        expect(referencedElementIds(references, 'Goal', (id) => `social:goal:${id}`)).toEqual(ids);
        expect(sortedCopy(strings)).toEqual(strings.slice().sort());
      }),
      { numRuns: 3_000 },
    );
  });

  it('a new collector starts empty: the one kept alive for its class shows in no record’s notes', () => {
    const notes = new MappingNotesCollector();
    expect(notes.unknownCodes).toEqual([]);
    expect(notes.ignoredFields).toEqual([]);
    expect(notes.ok([])).toEqual({ ok: true, fragments: [], unknownCodes: [], ignoredFields: [] });
  });
});
