/**
 * The faster paths of mapping are the same paths. Each test holds the cheaper code against what it
 * replaced (kept here as the reference) or against zod's ordinary parser:
 * - a mapping that makes an invalid fragment is still caught and reported as a mapping failure;
 * - the compiled record contracts (DFDG, Ungedatabasen) and FHIR data types parse like the
 *   uncompiled schemas: same output, same issues;
 * - the SOAP ignored-field walk, the FHIR calendar-date test, Danish timestamps, ignored top-level
 *   fields and topic lists give exactly what the old helpers gave.
 * No test here prints a CPR number.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateDfdgRecordXml, parseDfdgRecordXml, dfdgRecordTypes } from '../../adapters/dfdg';
import { generateEducationRecordXml, parseEducationRecordXml, educationRecordTypes } from '../../adapters/education';
import { Annotation, CodeableConcept, Coding, ContactPoint, Identifier, Meta, Period, Reference } from '../../adapters/fhir/contract';
import { danishDate, danishDateTime, ignoredFields } from '../../adapters/fhir/fhir-values';
import { isCalendarDate, MappingNotesCollector, topicsOf } from '../../adapters/fhir/mapping-support';
import { generateHealthRecords } from '../../adapters/health/records';
import { generateSocialRecords } from '../../adapters/social/records';
import { MappingRun, unreadLeafPaths } from '../../adapters/soap/mapping-support';
import { fieldPaths, type XmlObject } from '../../adapters/soap/xml';
import { emptyStats, runMapping, type Mapping } from '../../mappings/mapping';
import { Fragment } from '../../src/model';

const context = { now: '2026-07-01T00:00:00Z', ruleVersion: 'rules-2026.11' };
const RuntimeFragment = z.discriminatedUnion('kind', Fragment.options);
/** The uncompiled twin of a compiled object schema: the same shape, on zod's ordinary parser. */
const runtimeTwin = (schema: z.ZodType) => {
  const object = schema as unknown as z.ZodObject<z.ZodRawShape>;
  return object._zod.def.catchall ? z.looseObject(object.shape) : z.object(object.shape);
};
const issuesOf = (result: { success: boolean; error?: z.ZodError }) => result.error?.issues.map((i) => ({ code: i.code, path: i.path, message: i.message })) ?? [];
/** `z.compile` installs its fast path and keeps zod's own parser for the rest. */
const isCompiled = (schema: z.ZodType) => typeof (schema._zod.bag as { fallbackRun?: unknown }).fallbackRun === 'function';

function expectSameParse(compiled: z.ZodType, runtime: z.ZodType, input: unknown) {
  const a = compiled.safeParse(input);
  const b = runtime.safeParse(input);
  expect(a.success).toBe(b.success);
  expect(issuesOf(a)).toEqual(issuesOf(b));
  if (a.success) {
    // Booleans only: a record holds a (fictitious) CPR number, which must not end up in a message.
    expect(isDeepStrictEqual(a.data, b.data)).toBe(true);
    expect(JSON.stringify(a.data) === JSON.stringify(b.data)).toBe(true);
  }
}

describe('a mapping that makes an invalid fragment', () => {
  const invalid = {
    kind: 'intervention',
    elementId: 'test:activity:1',
    category: 'employment',
    content: {
      sector: 'employment',
      legalBasis: 'LAB',
      type: { system: 'urn:test', code: 'X' },
      title: 'Praktik',
      responsibleUnit: 'Jobcenter Test',
      contact: { name: 'Jobcenter Test' },
      period: { start: '2026-05-01', end: '2026-04-01' },
      order: 0,
      status: 'active',
    },
  };
  const runtimeIssue = RuntimeFragment.safeParse(invalid).error!.issues[0]!;

  it('fails on the SOAP side, on rule "fragment", with zod’s own issue, and counts the failure', () => {
    const mapping: Mapping<unknown> = {
      id: 'test.invalid',
      version: '1.0.0',
      adapter: 'dfdg',
      recordType: 'activity',
      description: 'makes an invalid fragment',
      sourceSchema: z.unknown(),
      rules: [],
      codeLists: [],
      map: () => new MappingRun().finish([invalid]),
    };
    const stats = emptyStats(mapping);
    const result = runMapping(mapping, {}, context, stats);
    expect(result).toEqual({
      ok: false,
      ruleId: 'fragment',
      reason: `test:activity:1: ${runtimeIssue.path.join('.')}: ${runtimeIssue.message}`,
      unknownCodes: [],
      ignoredFields: [],
    });
    expect(runtimeIssue.path.join('.')).toBe('content.period.end');
    expect(stats).toMatchObject({ recordsIn: 1, recordsOut: 0, fragmentsOut: 0, failuresByRule: { fragment: 1 } });
  });

  it('fails on the FHIR side, on rule "model", with zod’s own issue', () => {
    const mapping: Mapping<unknown> = {
      id: 'test.invalid-fhir',
      version: '1.0.0',
      adapter: 'social',
      recordType: 'CarePlan',
      description: 'makes an invalid fragment',
      sourceSchema: z.unknown(),
      rules: [],
      codeLists: [],
      map: () => new MappingNotesCollector().ok([invalid]),
    };
    const stats = emptyStats(mapping);
    expect(runMapping(mapping, {}, context, stats)).toEqual({
      ok: false,
      ruleId: 'model',
      reason: `test:activity:1 ${runtimeIssue.path.join('.')}: ${runtimeIssue.message}`,
      unknownCodes: [],
      ignoredFields: [],
    });
    expect(stats.failuresByRule).toEqual({ model: 1 });
  });

  it('is caught whatever the model refuses in it (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('title', 'responsibleUnit', 'legalBasis', 'order', 'status', 'period', 'contact', 'type', 'hoursPerWeek'), fc.anything(), (field, value) => {
        const candidate = structuredClone(invalid) as { content: Record<string, unknown> };
        candidate.content.period = { start: '2026-01-01' };
        candidate.content[field] = value;
        const runtime = RuntimeFragment.safeParse(candidate);
        const result = new MappingRun().finish([candidate]);
        expect(result.ok).toBe(runtime.success);
        if (!result.ok && !runtime.success) expect(result.reason).toBe(`test:activity:1: ${runtime.error.issues[0]!.path.join('.') || 'content'}: ${runtime.error.issues[0]!.message}`);
        if (result.ok && runtime.success) expect(isDeepStrictEqual(result.fragments[0], runtime.data)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

/** A standalone record document's record element. */
const recordElement = (document: XmlObject) => {
  const value = document[Object.keys(document)[0]!];
  return Array.isArray(value) ? value[0] : value;
};

describe('the compiled record contracts', () => {
  const sources = [
    { name: 'DFDG', types: dfdgRecordTypes, records: [...generateDfdgRecordXml(600, { seed: 5 })].map((r) => ({ recordType: r.recordType, raw: recordElement(parseDfdgRecordXml(r.xml)) })) },
    {
      name: 'Ungedatabasen',
      types: educationRecordTypes,
      records: [...generateEducationRecordXml(600, { seed: 5 })].map((r) => ({ recordType: r.recordType, raw: recordElement(parseEducationRecordXml(r.xml)) })),
    },
  ] as const;

  it.each(sources)('$name: are compiled, and parse every generated record exactly as the uncompiled schema does', ({ types, records }) => {
    for (const type of Object.values(types)) expect(isCompiled(type.schema)).toBe(true);
    for (const { recordType, raw } of records) {
      const schema = (types as Record<string, { schema: z.ZodType }>)[recordType]!.schema;
      expectSameParse(schema, runtimeTwin(schema), raw);
    }
  });

  it.each(sources)('$name: give the same output or the same issues when any field holds arbitrary text (property)', ({ types, records }) => {
    const leafPaths = (value: unknown, path: string[] = []): string[][] =>
      value !== null && typeof value === 'object' ? Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...path, key])) : [path];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: records.length - 1 }),
        fc.nat(),
        fc.oneof(fc.string(), fc.constantFrom('', ' ', '0', '-1', '80.5', '2026-02-30', '2026-13-01', 'true', 'ABC-123', '3102901234')),
        (index, pick, text) => {
          const { recordType, raw } = records[index]!;
          const record = structuredClone(raw) as Record<string, unknown>;
          const paths = leafPaths(record);
          const path = paths[pick % paths.length]!;
          let parent = record;
          for (const step of path.slice(0, -1)) parent = parent[step] as Record<string, unknown>;
          parent[path.at(-1)!] = text;
          const schema = (types as Record<string, { schema: z.ZodType }>)[recordType]!.schema;
          expectSameParse(schema, runtimeTwin(schema), record);
        },
      ),
      { numRuns: 600 },
    );
  });
});

describe('the compiled FHIR data types', () => {
  const parts = { Coding, CodeableConcept, Period, Identifier, Reference, ContactPoint, Annotation, Meta } as const;
  /** Every value of the generated resources, by the FHIR data type the contract reads it as. */
  const samples = (() => {
    const typeOfKey: Record<string, keyof typeof parts> = {
      meta: 'Meta',
      identifier: 'Identifier',
      valueIdentifier: 'Identifier',
      subject: 'Reference',
      patient: 'Reference',
      author: 'Reference',
      performer: 'Reference',
      goal: 'Reference',
      addresses: 'Reference',
      managingOrganization: 'Reference',
      member: 'Reference',
      onBehalfOf: 'Reference',
      outcomeReference: 'Reference',
      code: 'CodeableConcept',
      category: 'CodeableConcept',
      description: 'CodeableConcept',
      role: 'CodeableConcept',
      achievementStatus: 'CodeableConcept',
      clinicalStatus: 'CodeableConcept',
      valueCodeableConcept: 'CodeableConcept',
      coding: 'Coding',
      class: 'Coding',
      tag: 'Coding',
      period: 'Period',
      scheduledPeriod: 'Period',
      occurrencePeriod: 'Period',
      telecom: 'ContactPoint',
      note: 'Annotation',
    };
    const found = new Map<string, unknown[]>(Object.keys(parts).map((k) => [k, []]));
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) for (const item of value) walk(item);
      else if (value && typeof value === 'object')
        for (const [key, child] of Object.entries(value)) {
          const type = typeOfKey[key];
          // A plain-text description (Goal: CodeableConcept, CarePlan: string) is not sampled as one.
          if (type && child && typeof child === 'object') found.get(type)!.push(...(Array.isArray(child) ? child : [child]));
          walk(child);
        }
    };
    for (const r of [...generateSocialRecords(400, 3), ...generateHealthRecords(400, 3)]) walk(r.resource);
    return found;
  })();

  it('are compiled, and parse every value of generated social and health resources exactly as the uncompiled schemas do', () => {
    for (const [name, schema] of Object.entries(parts)) {
      expect(isCompiled(schema)).toBe(true);
      const values = samples.get(name)!;
      for (const value of values) expectSameParse(schema, runtimeTwin(schema), value);
      // The generators write no notes; Annotation is covered by the property below.
      if (name !== 'Annotation') expect(values.filter((value) => schema.safeParse(value).success).length, name).toBeGreaterThan(0);
    }
  });

  it('give the same output or the same issues for arbitrary values (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(parts) as (keyof typeof parts)[])), fc.nat(), fc.string(), fc.anything(), (name, pick, key, value) => {
        const schema = parts[name];
        const values = samples.get(name)!;
        const base = values.length ? structuredClone(values[pick % values.length]) : {};
        expectSameParse(schema, runtimeTwin(schema), value);
        if (base && typeof base === 'object') {
          const keys = Object.keys(base);
          (base as Record<string, unknown>)[keys.length && pick % 2 ? keys[pick % keys.length]! : key] = value;
          expectSameParse(schema, runtimeTwin(schema), base);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('the SOAP ignored-field walk', () => {
  const byFieldPaths = (record: unknown, consumed: ReadonlySet<string>) => [...fieldPaths(record)].filter((path) => !consumed.has(path)).sort();
  const unread = (record: unknown, consumed: ReadonlySet<string>) => [...(unreadLeafPaths(record, consumed) ?? [])].sort();

  it('reports exactly the leaves fieldPaths finds that are not consumed (property, with awkward names)', () => {
    const name = fc.constantFrom('A', 'B', 'C', 'A.B', 'B[]', '[]', '', '.', 'x y', '__proto__x');
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(name, tie('value'), { maxKeys: 4 })),
    }));
    const consumedPath = fc.array(fc.constantFrom('A', 'B', 'C', 'A.B', 'B[]', '[]', ''), { minLength: 1, maxLength: 4 }).map((steps) => steps.join('.'));
    fc.assert(
      fc.property(value, fc.array(consumedPath, { maxLength: 8 }), (record, paths) => {
        const consumed = new Set(paths);
        expect(unread(record, consumed)).toEqual(byFieldPaths(record, consumed));
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps the notes sorted and adds to what an earlier call found', () => {
    const run = new MappingRun();
    run.ignoreUnread({ Z: '1', A: { B: '2' }, L: [{ X: '1' }, { Y: '2' }] }, new Set(['A.B']));
    expect(run.notes.ignoredFields).toEqual(['L[].X', 'L[].Y', 'Z']);
    run.ignoreUnread({ M: '1', Z: '2' }, new Set<string>());
    expect(run.notes.ignoredFields).toEqual(['L[].X', 'L[].Y', 'M', 'Z', 'Z']);
  });
});

describe('the FHIR helpers', () => {
  /** The Date round trip `isCalendarDate` used before. */
  const calendarDateByDate = (value: string | undefined) => {
    if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
    const date = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
  };

  it('isCalendarDate agrees with the Date round trip on every month 00–13 and day 00–32 of 2,000 years and on arbitrary text', () => {
    const years = [...Array.from({ length: 800 }, (_, i) => i), ...Array.from({ length: 1200 }, (_, i) => 1500 + i), 9999];
    let mismatches = 0;
    for (const year of years)
      for (let month = 0; month <= 13; month++)
        for (let day = 0; day <= 32; day++) {
          const value = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
          if (isCalendarDate(value) !== calendarDateByDate(value)) mismatches++;
        }
    expect(mismatches).toBe(0);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\d{4}-\d{2}-\d{2}$/)), (text) => isCalendarDate(text) === calendarDateByDate(text)),
      { numRuns: 2_000 },
    );
  });

  /** `danishDateTime` as it was: Intl for every call. */
  const danishOffset = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Copenhagen', timeZoneName: 'longOffset' });
  const danishDateTimeBefore = (value: string | undefined) => {
    if (!value) return undefined;
    const date = danishDate(value);
    if (!date) return undefined;
    if (value.includes('T')) return Number.isNaN(Date.parse(value)) ? undefined : value;
    const noonUtc = new Date(`${date}T12:00:00Z`);
    const name = danishOffset.formatToParts(noonUtc).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT+01:00';
    const offset = name === 'GMT' ? '+00:00' : name.replace('GMT', '');
    return `${date}T00:00:00${offset}`;
  };

  /** A call's result, or the kind of error it threw. */
  const outcome = (call: () => unknown) => {
    try {
      return { value: call() };
    } catch (error) {
      return { threw: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
  };

  it('danishDateTime gives what it gave before: every day 1970–2040 (both DST changes of each year), timestamps, partial dates and junk', () => {
    let mismatches = 0;
    for (let ms = Date.UTC(1970, 0, 1); ms <= Date.UTC(2040, 11, 31); ms += 86_400_000) {
      const day = new Date(ms).toISOString().slice(0, 10);
      if (danishDateTime(day) !== danishDateTimeBefore(day)) mismatches++;
      // The second call is answered from memory.
      if (danishDateTime(day) !== danishDateTimeBefore(day)) mismatches++;
    }
    expect(mismatches).toBe(0);
    for (const value of ['2026-03-29T01:30:00Z', '2026-10-25T02:30:00+02:00', '2026-13-45T00:00:00Z', '2026-05', '2026', 'T', 'not a date', '', undefined, 'May 5, 2021'])
      expect(outcome(() => danishDateTime(value))).toEqual(outcome(() => danishDateTimeBefore(value)));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.date({ noInvalidDate: true, min: new Date(0) }).map((d) => d.toISOString().slice(0, 10))), (text) => {
        // Both throw (the same RangeError) for a date Intl cannot place, e.g. year 10000.
        expect(outcome(() => danishDateTime(text))).toEqual(outcome(() => danishDateTimeBefore(text)));
      }),
      { numRuns: 1_000 },
    );
  });

  it('ignoredFields and topicsOf give what they gave before (property)', () => {
    const ignoredFieldsBefore = (record: object, used: readonly string[], prefix: string) => {
      const bookkeeping = new Set(['resourceType', 'id', 'meta', 'text']);
      const usedSet = new Set(used);
      return Object.keys(record)
        .filter((key) => !bookkeeping.has(key) && !usedSet.has(key))
        .sort()
        .map((key) => `${prefix}.${key}`);
    };
    const topicsOfBefore = (...lists: readonly (readonly string[])[]) => [...new Set(lists.flat())].filter((t) => /^[a-z0-9-]+$/.test(t));
    const key = fc.constantFrom('resourceType', 'id', 'meta', 'text', 'status', 'subject', 'period', 'note', 'b', 'a', 'Z');
    fc.assert(
      fc.property(fc.dictionary(key, fc.anything(), { maxKeys: 8 }), fc.array(key, { maxLength: 5 }), fc.array(fc.array(fc.constantFrom('job-goal', 'health', 'Health', 'a b', '', 'x-1', 'job-goal'))), (record, used, lists) => {
        expect(ignoredFields(record, used, 'Goal')).toEqual(ignoredFieldsBefore(record, used, 'Goal'));
        expect(topicsOf(...lists)).toEqual(topicsOfBefore(...lists));
      }),
      { numRuns: 1_000 },
    );
  });
});
