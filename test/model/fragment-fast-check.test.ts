/**
 * The hand-written fast path in front of the `Fragment` model check (src/model/fragment-fast-check.ts)
 * only ever says yes, and only where zod says yes with the same output: whenever it answers, zod's
 * ordinary (uncompiled) parser accepts the same input and returns a deep-equal fragment with the same
 * key order. `Fragment` itself still refuses exactly what zod refuses, with zod's issues. And the
 * fast path does answer for every fragment the mappings make from generated records, so it is the
 * path the sync takes. No test here prints a CPR number.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { dfdgMappings } from '../../mappings/dfdg';
import { educationMappings } from '../../mappings/education';
import { healthMappingsByRecordType } from '../../mappings/health';
import { runMapping, type Mapping } from '../../mappings/mapping';
import { socialMappingsByRecordType } from '../../mappings/social';
import { generateDfdgRecordXml, readDfdgRecordXml } from '../../adapters/dfdg';
import { generateEducationRecordXml, readEducationRecordXml } from '../../adapters/education';
import { generateHealthRecords } from '../../adapters/health/records';
import { generateSocialRecords } from '../../adapters/social/records';
import { Coordinator, Fragment, IsoDate, IsoDateTime, LegalBasis, Topic } from '../../src/model';
import { fastFragment, fragmentFormatChecks } from '../../src/model/fragment-fast-check';

const context = { now: '2026-07-01T00:00:00Z', ruleVersion: 'rules-2026.11' };
/** zod's ordinary parser for the same union: the reference. */
const RuntimeFragment = z.discriminatedUnion('kind', Fragment.options);
const issuesOf = (result: { success: boolean; error?: z.ZodError }) => result.error?.issues.map((i) => ({ code: i.code, path: i.path, message: i.message })) ?? [];

/** Same keys in the same order, all the way down (isDeepStrictEqual does not look at the order). */
function sameKeyOrder(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameKeyOrder(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameKeyOrder((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return true;
}

/** The property every input must have: the fast path answers only as zod does. */
function expectFastPathSound(input: unknown): boolean {
  const fast = fastFragment(input);
  if (fast === undefined) return false;
  const reference = RuntimeFragment.safeParse(input);
  expect(reference.success).toBe(true);
  expect(isDeepStrictEqual(fast, reference.data)).toBe(true);
  expect(sameKeyOrder(fast, reference.data)).toBe(true);
  // A fresh output, as zod's: no object or array of the input handed on.
  expect(fast).not.toBe(input);
  expect((fast as { content: unknown }).content).not.toBe((input as { content: unknown }).content);
  return true;
}

/** `Fragment` (fast path, compiled zod, zod) answers exactly as zod's ordinary parser. */
function expectSameAsZod(input: unknown) {
  const a = Fragment.safeParse(input);
  const b = RuntimeFragment.safeParse(input);
  expect(a.success).toBe(b.success);
  expect(issuesOf(a)).toEqual(issuesOf(b));
  if (a.success) {
    expect(isDeepStrictEqual(a.data, b.data)).toBe(true);
    expect(sameKeyOrder(a.data, b.data)).toBe(true);
  }
}

// ---------------------------------------------------------------------------------------------
// Generated fragments: valid ones of every kind the fast path handles, optional keys absent, present
// or present-but-undefined.

const ABSENT = Symbol('absent');
/** A value, undefined, or no key at all. */
const absentOr = <T,>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.constant(undefined), fc.constant(ABSENT));
/** A record without the keys whose value is the `absent` marker. */
const build = (entries: Record<string, unknown>) => Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== ABSENT));

const text = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('Praktik', 'æøå', '😀', ' x ', 'a'.repeat(129)));
const id = fc.oneof(fc.stringMatching(/^[a-z]+:[a-z-]+:[0-9a-f-]{1,40}$/), fc.constantFrom('x', 'a'.repeat(128), 'a'.repeat(129), '😀'));
const date = fc.oneof(
  fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2100-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  fc.constantFrom('2024-02-29', '2023-02-29', '1900-02-29', '2000-02-29', '2026-04-31', '2026-13-01', '2026-1-01', '0000-02-29'),
);
const dateTime = fc.oneof(
  fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2026-03-29T02:30:00+02:00', '2026-03-29T00:00:00+01:00', '2026-10-25T00:00:00.5-23:59', '2026-01-01T24:00:00Z', '2026-01-01T00:00:60Z', '2026-01-01T00:00Z', '2026-01-01T00:00:00+2400', '2026-01-01T00:00:00.Z'),
);
const topic = fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,12}$/), fc.constantFrom('job-goal', 'health', 'Health', '', 'a b'));
const sector = fc.constantFrom('employment', 'education', 'social', 'children', 'health', 'integration');
const category = fc.constantFrom('plan-core', 'goals', 'interventions', 'employment', 'education', 'social', 'health', 'family');
const email = fc.oneof(fc.emailAddress(), fc.constantFrom('a@b.dk', 'a..b@c.dk', '.a@b.dk', 'a@b', 'not an address'));
const coding = fc.record({ system: text, code: text, display: absentOr(fc.string()) }).map(build);
const list = <T,>(arb: fc.Arbitrary<T>) => absentOr(fc.array(arb, { maxLength: 3 }));

const contents: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  goal: fc
    .record({
      level: fc.constantFrom('overall', 'sub', 'progression'),
      parentGoalId: absentOr(id),
      title: text,
      description: absentOr(fc.string()),
      sector,
      status: fc.constantFrom('proposed', 'active', 'achieved', 'abandoned'),
      targetDate: absentOr(date),
      code: absentOr(coding),
      topics: list(topic),
    })
    .map(build),
  intervention: fc
    .record({
      sector,
      legalBasis: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('SEL §85', ' LAB §32 ', 'x', ' x ', '😀', '😀😀', 'a😀', 'a'.repeat(120), 'a'.repeat(121), ` ${'a'.repeat(120)} `)),
      type: coding,
      title: text,
      responsibleUnit: text,
      contact: fc.record({ name: text, unit: absentOr(text), phone: absentOr(fc.string()), email: absentOr(email) }).map(build),
      period: fc.record({ start: date, end: absentOr(date) }).map(build),
      order: fc.oneof(fc.nat(), fc.constantFrom(-0, -1, 0.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN)),
      dependsOn: list(id),
      status: fc.constantFrom('planned', 'active', 'ended', 'cancelled'),
      goalIds: list(id),
      providerId: absentOr(fc.string({ maxLength: 4 })),
      hoursPerWeek: absentOr(fc.oneof(fc.double({ min: -1, max: 90 }), fc.constantFrom(-0, 80, 80.0001, Number.POSITIVE_INFINITY))),
      confidentiality: absentOr(fc.constantFrom('normal', 'anonymous-treatment', 'secret')),
      topics: list(topic),
    })
    .map(build),
  agreement: fc
    .record({ text, sector: absentOr(sector), agreedAt: date, parties: absentOr(fc.array(text, { maxLength: 3 })), topics: list(topic) })
    .map(build),
  followUp: fc
    .record({ due: date, text, elementId: absentOr(id), done: absentOr(fc.oneof(fc.boolean(), fc.constant('yes'))), doneAt: absentOr(dateTime) })
    .map(build),
  situation: fc.record({ summary: text, barriers: list(text), resources: list(fc.oneof(text, fc.constant(''))) }).map(build),
  coordinator: fc
    .record({
      kind: fc.constantFrom('caseworker', 'team'),
      name: text,
      sector,
      unit: text,
      phone: absentOr(fc.string()),
      email: absentOr(email),
      teamMembers: list(text),
      since: dateTime,
    })
    .map(build),
};

const fragment = fc
  .constantFrom(...Object.keys(contents))
  .chain((kind) =>
    fc
      .record({
        kind: fc.constant(kind),
        elementId: fc.oneof(id, fc.constant('')),
        category,
        content: contents[kind]!,
        sequence: absentOr(fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom('', 'a'.repeat(64), 'a'.repeat(65), '😀'.repeat(32), '😀'.repeat(33), '2026-06-20#000000048213', 7))),
        formerElementId: absentOr(fc.oneof(id, fc.constantFrom('', 7))),
        extra: absentOr(fc.anything()),
      })
      .map(build),
  );

/** Values that are awkward somewhere: wrong types, empty, odd objects and arrays. */
const awkward = fc.oneof(
  fc.anything(),
  fc.constantFrom(
    undefined,
    null,
    '',
    ' ',
    0,
    -0,
    Number.NaN,
    [],
    [undefined],
    // eslint-disable-next-line no-sparse-arrays
    [, 'a'],
    {},
    Object.create(null),
    new Date(0),
    new (class Thing {
      name = 'x';
    })(),
  ),
);

/** Every path to a value inside a fragment (object keys and array indices). */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const found: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((item, i) => found.push(...paths(item, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) found.push(...paths(v, [...prefix, k]));
  return found;
}

describe('the Fragment fast path', () => {
  it('answers for every fragment zod accepts of the kinds the mappings make, with zod’s output (property)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fragment, (candidate) => {
        const answered = expectFastPathSound(candidate);
        expectSameAsZod(candidate);
        // These generators make no value the fast path refers to zod on purpose (an id or legal
        // basis longer in UTF-16 units than zod's limit in code points), so it must answer.
        const valid = RuntimeFragment.safeParse(candidate).success;
        expect(answered).toBe(valid);
        if (valid) accepted++;
      }),
      { numRuns: 4_000 },
    );
    expect(accepted).toBeGreaterThan(400);
  });

  it('never answers where zod refuses or outputs something else, whatever a field holds (property)', () => {
    fc.assert(
      fc.property(fragment, fc.nat(), awkward, fc.boolean(), (candidate, pick, value, remove) => {
        const all = paths(candidate);
        const path = all[pick % all.length]!;
        let target: unknown = candidate;
        if (path.length === 0) target = value;
        else {
          let parent = candidate as Record<string | number, unknown>;
          for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
          if (remove && !Array.isArray(parent)) delete parent[path.at(-1)!];
          else parent[path.at(-1)!] = value;
        }
        expectFastPathSound(target);
        expectSameAsZod(target);
      }),
      { numRuns: 6_000 },
    );
  });

  it('refers what it does not handle to zod: citizen views, unknown kinds, objects that are not plain', () => {
    const goal = { kind: 'goal', elementId: 'g:1', category: 'goals', content: { level: 'sub', title: 'Mål', sector: 'social', status: 'active' } };
    expect(fastFragment(goal)).toBeDefined();
    const view = { kind: 'citizenView', elementId: 'v:1', category: 'plan-core', content: { text: 'Jeg vil', language: 'da', recordedAt: '2026-01-01T00:00:00Z', recordedBy: 'x' } };
    expect(fastFragment(view)).toBeUndefined();
    expect(Fragment.safeParse(view).success).toBe(true);
    const nullProto = Object.assign(Object.create(null), goal);
    expect(fastFragment(nullProto)).toBeUndefined();
    expectSameAsZod(nullProto);
    const inherited = Object.create({ kind: 'goal' });
    Object.assign(inherited, { elementId: 'g:1', category: 'goals', content: goal.content });
    expect(fastFragment(inherited)).toBeUndefined();
    expectSameAsZod(inherited);
    expect(fastFragment({ ...goal, kind: 'nonsense' })).toBeUndefined();
    for (const value of [undefined, null, 'goal', 1, [goal]]) {
      expect(fastFragment(value)).toBeUndefined();
      expectSameAsZod(value);
    }
    // Fragment.parse takes the fast path too, and throws zod's error for the rest.
    expect(Fragment.parse(goal)).toEqual(RuntimeFragment.parse(goal));
    expect(() => Fragment.parse({ ...goal, category: 'everything' })).toThrow(z.ZodError);
  });

  it('keeps optional keys that are present but undefined, as zod does, and fills in defaults', () => {
    const input = {
      kind: 'intervention',
      elementId: 'x:1',
      category: 'interventions',
      content: {
        topics: ['a'],
        sector: 'social',
        legalBasis: '  SEL §85 ',
        type: { system: 's', code: 'c', display: undefined },
        title: 't',
        responsibleUnit: 'u',
        contact: { name: 'n', phone: undefined },
        period: { start: '2026-01-01', end: undefined },
        order: 0,
        status: 'active',
        providerId: undefined,
        extra: 1,
      },
    };
    expect(expectFastPathSound(input)).toBe(true);
    const out = fastFragment(input)!.content as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['sector', 'legalBasis', 'type', 'title', 'responsibleUnit', 'contact', 'period', 'order', 'dependsOn', 'status', 'goalIds', 'providerId', 'confidentiality', 'topics']);
    expect(out).toMatchObject({ legalBasis: 'SEL §85', dependsOn: [], goalIds: [], confidentiality: 'normal' });
    expect(out.topics).not.toBe(input.content.topics);
  });
});

describe('the fast path’s format checks', () => {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');

  it('IsoDate: every month 00–13 and day 00–32 of years around every leap-year rule, and arbitrary text', () => {
    let mismatches = 0;
    for (const year of [0, 1, 4, 100, 400, 1600, 1700, 1899, 1900, 1996, 2000, 2023, 2024, 2100, 2400, 9996, 9999])
      for (let month = 0; month < 14; month++)
        for (let day = 0; day < 33; day++) {
          const value = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
          if (fragmentFormatChecks.isIsoDate(value) !== IsoDate.safeParse(value).success) mismatches++;
        }
    expect(mismatches).toBe(0);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\d{4}-\d{2}-\d{2}$/), fc.stringMatching(/^[\d-]{8,12}$/)), (value) => {
        expect(fragmentFormatChecks.isIsoDate(value)).toBe(IsoDate.safeParse(value).success);
      }),
      { numRuns: 5_000 },
    );
  });

  it('IsoDateTime (offsets allowed): timestamps near and far from valid, and arbitrary text', () => {
    const near = fc.stringMatching(/^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-6]\d:[0-6]\d(\.\d{0,4})?(Z|z|[+-][0-2]\d:[0-6]\d|[+-]\d{4}|[+-]\d\d)?$/);
    fc.assert(
      fc.property(fc.oneof(fc.string(), near, dateTime), fc.constantFrom('', '', '', 'x', 'Z', ':00', '0', ' '), (stem, suffix) => {
        const value = stem + suffix;
        expect(fragmentFormatChecks.isIsoDateTime(value)).toBe(IsoDateTime.safeParse(value).success);
      }),
      { numRuns: 10_000 },
    );
  });

  it('Topic, e-mail and the legal basis', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), topic), (value) => {
        expect(fragmentFormatChecks.isTopic(value)).toBe(Topic.safeParse(value).success);
      }),
      { numRuns: 3_000 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string(), email), (value) => {
        expect(fragmentFormatChecks.isEmail(value)).toBe(Coordinator.shape.email.safeParse(value).success);
      }),
      { numRuns: 3_000 },
    );
    const basis = fc.oneof(fc.string({ maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 4 }), fc.constantFrom('😀', ' 😀 ', '😀a', '\ud800a', 'a\udc00', 'a'.repeat(120), ` ${'a'.repeat(120)}\n`));
    fc.assert(
      fc.property(basis, (value) => {
        const fast = fragmentFormatChecks.legalBasis(value);
        const reference = LegalBasis.safeParse(value);
        if (fast !== undefined) expect(reference).toEqual({ success: true, data: fast });
        else if (value.trim().length <= 120) expect(reference.success).toBe(false);
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('the fragments the mappings make from generated records', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Every candidate a mapping hands to the model check, by spying on `Fragment.safeParse`. */
  function candidatesOf(run: () => void): unknown[] {
    const seen: unknown[] = [];
    const original = Fragment.safeParse;
    vi.spyOn(Fragment, 'safeParse').mockImplementation((data, params) => {
      seen.push(structuredClone(data));
      return original(data, params);
    });
    run();
    vi.restoreAllMocks();
    return seen;
  }

  const sources: { name: string; run: () => void }[] = [
    {
      name: 'social',
      run: () => {
        for (const r of generateSocialRecords(600, 11)) expect(runMapping(socialMappingsByRecordType[r.recordType]!, r.resource, context).ok).toBe(true);
      },
    },
    {
      name: 'health',
      run: () => {
        for (const r of generateHealthRecords(600, 11)) expect(runMapping(healthMappingsByRecordType[r.recordType]!, r.resource, context).ok).toBe(true);
      },
    },
    {
      name: 'dfdg',
      run: () => {
        for (const r of generateDfdgRecordXml(400, { seed: 11 })) {
          const read = readDfdgRecordXml(r.xml);
          if (!read.ok) throw new Error('a generated DFDG record did not read');
          const mapping = (dfdgMappings as Record<string, Mapping<unknown>>)[read.record.recordType]!;
          expect(runMapping(mapping, read.record.payload, context, undefined, { checkedByAdapter: true }).ok).toBe(true);
        }
      },
    },
    {
      name: 'education',
      run: () => {
        for (const r of generateEducationRecordXml(400, { seed: 11 })) {
          const read = readEducationRecordXml(r.xml);
          if (!read.ok) throw new Error('a generated education record did not read');
          const mapping = (educationMappings as Record<string, Mapping<unknown>>)[read.record.recordType]!;
          expect(runMapping(mapping, read.record.payload, context, undefined, { checkedByAdapter: true }).ok).toBe(true);
        }
      },
    },
  ];

  it.each(sources)('$name: every fragment is answered by the fast path, exactly as zod parses it', ({ run }) => {
    const candidates = candidatesOf(run);
    expect(candidates.length).toBeGreaterThan(100);
    let answered = 0;
    for (const candidate of candidates) if (expectFastPathSound(candidate)) answered++;
    expect(answered).toBe(candidates.length);
  });
});
