/**
 * The hand-written fast checks of the FHIR record contracts (adapters/fhir/contract.ts, "Fast
 * checks") against zod's own parse of the same schemas (a clone without the fast check):
 * - every generated social and health record takes the fast path (the record itself comes back);
 * - for generated records with any field the schemas declare set to an awkward value, for arbitrary
 *   values and for odd objects, the checked contract answers exactly as zod does: the same success,
 *   the same issues (so the same quarantine reason) and deep-equal data;
 * - withServerMeta keeps the fast check and demands the server's id and metadata.
 * Assertions compare booleans and paths only: no record content ends up in a message.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CarePlan, CareTeam, Condition, Consent, Goal, withServerMeta } from '../../adapters/fhir/contract';
import { generateHealthRecords } from '../../adapters/health/records';
import { generateSocialRecords } from '../../adapters/social/records';

const contracts: Record<'CarePlan' | 'Goal' | 'Condition' | 'CareTeam' | 'Consent', z.ZodType> = { CarePlan, Goal, Condition, CareTeam, Consent };
type RecordType = keyof typeof contracts;
const served: Record<RecordType, z.ZodType> = {
  CarePlan: withServerMeta(CarePlan),
  Goal: withServerMeta(Goal),
  Condition: withServerMeta(Condition),
  CareTeam: withServerMeta(CareTeam),
  Consent: withServerMeta(Consent),
};

/** zod alone: a clone is built from the definition and has none of the fast check. */
const plainClones = new Map<z.ZodType, z.ZodType>();
const zodOnly = (schema: z.ZodType) => {
  let plain = plainClones.get(schema);
  if (!plain) plainClones.set(schema, (plain = schema.clone()));
  return plain;
};

const records = [...generateSocialRecords(600, 11), ...generateHealthRecords(600, 11)].map((r) => ({
  recordType: r.recordType as RecordType,
  // As they arrive over the wire.
  resource: JSON.parse(JSON.stringify(r.resource)) as Record<string, unknown>,
}));

const issuesOf = (result: { success: boolean; error?: z.ZodError }) => result.error?.issues.map((i) => ({ code: i.code, path: i.path, message: i.message })) ?? [];

/** The checked contract and zod agree on the value: success, issues, data. */
function agree(checked: z.ZodType, value: unknown): boolean {
  const fast = checked.safeParse(value);
  const slow = zodOnly(checked).safeParse(value);
  return fast.success === slow.success && isDeepStrictEqual(issuesOf(fast), issuesOf(slow)) && isDeepStrictEqual(fast.data, slow.data);
}

/**
 * Every path the schema declares, down to its leaves, with 0 for an array element and extensions
 * followed two levels deep: each is a field a fast check must test exactly as zod does.
 */
function declaredPaths(schema: z.core.$ZodType, path: (string | number)[] = [], lazyDepth = 0): (string | number)[][] {
  const def = schema._zod.def as unknown as { type: string; innerType?: z.core.$ZodType; element?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType>; getter?: () => z.core.$ZodType };
  switch (def.type) {
    case 'optional':
      return declaredPaths(def.innerType!, path, lazyDepth);
    case 'array':
      return [path, ...declaredPaths(def.element!, [...path, 0], lazyDepth)];
    case 'lazy':
      return lazyDepth >= 2 ? [path] : declaredPaths(def.getter!(), path, lazyDepth + 1);
    case 'object':
      return [path, ...Object.entries(def.shape!).flatMap(([key, field]) => declaredPaths(field, [...path, key], lazyDepth))];
    default:
      return [path];
  }
}

/** Sets a value at a path, making the objects and arrays on the way. */
function setAt(record: Record<string, unknown>, path: readonly (string | number)[], value: unknown): void {
  let parent: Record<string | number, unknown> = record;
  path.forEach((step, i) => {
    if (i === path.length - 1) {
      parent[step] = value;
      return;
    }
    const wantArray = typeof path[i + 1] === 'number';
    const child = parent[step];
    if (wantArray ? !Array.isArray(child) : child === null || typeof child !== 'object' || Array.isArray(child)) parent[step] = wantArray ? [] : {};
    parent = parent[step] as Record<string | number, unknown>;
  });
}

const awkwardValues = [
  undefined,
  null,
  '',
  ' ',
  'x',
  '\uD83D\uDE00',
  '\uD800',
  0,
  -1,
  true,
  [],
  [{}],
  {},
  { url: '' },
  { url: 'u', extension: [{ url: '' }] },
  'active',
  'completed',
  'official',
  'phone',
  'work',
  'permit',
  'CarePlan',
  'Patient/1',
  'abc-123.X',
  'a'.repeat(65),
  '2026',
  '2026-02',
  '2026-02-30',
  '2026-13-01',
  '2026-05-01T10:00:00+02:00',
  '2026-05-01T10:00:00Z',
  '2026-05-01T10:00+02:00',
  '2026-05-01T24:00:00Z',
];

describe('the fast checks of the FHIR record contracts', () => {
  it('vouch for every generated record, plain and as served: the record itself comes back, as zod would parse it', () => {
    for (const { recordType, resource } of records) {
      for (const checked of [contracts[recordType], served[recordType]]) {
        const result = checked.safeParse(resource);
        expect(result.success && result.data === resource, recordType).toBe(true);
        const slow = zodOnly(checked).safeParse(resource);
        expect(slow.success && isDeepStrictEqual(slow.data, resource), recordType).toBe(true);
      }
    }
  });

  it('answer as zod does when any declared field of a record holds an awkward value (property)', () => {
    const cases = records.map((r) => ({ ...r, paths: declaredPaths(contracts[r.recordType]).filter((p) => p.length > 0) }));
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.oneof(fc.constantFrom(...awkwardValues), fc.anything()), fc.boolean(), (pickRecord, pickPath, value, asServed) => {
        const { recordType, resource, paths } = cases[pickRecord % cases.length]!;
        const mutated = structuredClone(resource);
        setAt(mutated, paths[pickPath % paths.length]!, value);
        expect(agree(asServed ? served[recordType] : contracts[recordType], mutated)).toBe(true);
      }),
      { numRuns: 8_000 },
    );
  });

  it('probe every declared field with every awkward value, on one record of each type', () => {
    let probes = 0;
    for (const recordType of Object.keys(contracts) as RecordType[]) {
      const resource = records.find((r) => r.recordType === recordType)!.resource;
      for (const path of declaredPaths(contracts[recordType]).filter((p) => p.length > 0))
        for (const value of awkwardValues)
          for (const checked of [contracts[recordType], served[recordType]]) {
            const mutated = structuredClone(resource);
            setAt(mutated, path, value);
            expect(agree(checked, mutated), `${recordType} ${path.join('.')}`).toBe(true);
            probes++;
          }
    }
    expect(probes).toBeGreaterThan(10_000);
  });

  it('answer as zod does for arbitrary values and odd objects', () => {
    const carePlan = records.find((r) => r.recordType === 'CarePlan')!.resource;
    fc.assert(
      fc.property(fc.anything(), (value) => {
        for (const checked of [...Object.values(contracts), ...Object.values(served)]) expect(agree(checked, value)).toBe(true);
      }),
      { numRuns: 500 },
    );
    const odd = [
      // zod drops an own __proto__ key from its copy: the fast check must not vouch for it.
      JSON.parse(`{"__proto__": {"x": 1}, ${JSON.stringify(carePlan).slice(1)}`),
      Object.assign(Object.create(null), carePlan),
      Object.assign(Object.create({ status: 'active' }), { ...carePlan, status: undefined }),
      { ...carePlan, activity: [...(carePlan.activity as unknown[]), undefined] },
      // A hole in an array counts as undefined.
      { ...carePlan, goal: Object.assign(new Array(2), { 0: { reference: 'Goal/1' } }) },
      new Date(),
      ['CarePlan'],
    ];
    for (const value of odd) expect(agree(CarePlan, value)).toBe(true);
    expect(CarePlan.safeParse(odd[0]).data === odd[0]).toBe(false);
  });

  it('refer extensions nested deeper than they go in practice to zod, which decides', () => {
    const carePlan = records.find((r) => r.recordType === 'CarePlan')!.resource;
    const nested = (depth: number): Record<string, unknown> => (depth === 0 ? { url: 'leaf', valueString: 'x' } : { url: `level-${depth}`, extension: [nested(depth - 1)] });
    for (const depth of [1, 15, 16, 17, 40]) {
      const value = { ...carePlan, extension: [nested(depth)] };
      expect(agree(CarePlan, value), String(depth)).toBe(true);
      expect(CarePlan.safeParse(value).success).toBe(true);
    }
    expect(CarePlan.safeParse({ ...carePlan, extension: [nested(3)] }).data === undefined).toBe(false);
  });

  it('leave the quarantine reason to zod: the issue names the path of the bad field', () => {
    const carePlan = structuredClone(records.find((r) => r.recordType === 'CarePlan' && (r.resource.activity as unknown[]).length > 1)!.resource);
    setAt(carePlan, ['activity', 1, 'detail', 'status'], 'half-done');
    const result = served.CarePlan.safeParse(carePlan);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path).toEqual(['activity', 1, 'detail', 'status']);
  });

  it('as served, demand id, meta.versionId and meta.lastUpdated', () => {
    const goal = records.find((r) => r.recordType === 'Goal')!.resource;
    const withoutId = { ...goal, id: undefined };
    const withoutVersion = { ...goal, meta: { lastUpdated: (goal.meta as { lastUpdated: string }).lastUpdated } };
    for (const value of [withoutId, withoutVersion]) {
      expect(Goal.safeParse(value).success).toBe(true);
      expect(served.Goal.safeParse(value).success).toBe(false);
      expect(agree(served.Goal, value)).toBe(true);
    }
  });
});
