/**
 * The cheaper checks of the model are the same checks: the CPR date test without a Date, and the
 * Fragment schema compiled with `z.compile` (same output, same issues as zod's ordinary parser).
 * No test here prints a CPR number: mismatches are counted, never listed.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { birthDateFromCpr, centuryYear, Cpr, Fragment, hasRealCprDate } from '../../src/model';

/** The Date round trip `birthDateFromCpr` used before, kept here as the reference. */
function birthDateByDate(cpr: string): string | null {
  if (!/^\d{10}$/.test(cpr)) return null;
  const day = Number(cpr.slice(0, 2));
  const month = Number(cpr.slice(2, 4));
  const year = centuryYear(Number(cpr.slice(4, 6)), Number(cpr.slice(6, 7)));
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date.toISOString().slice(0, 10);
}

const pad = (n: number) => String(n).padStart(2, '0');

describe('the CPR date check', () => {
  it('agrees with the Date round trip for every day 00–39, month 00–19, year 00–99 and century digit', () => {
    let checked = 0;
    let mismatches = 0;
    for (let day = 0; day < 40; day++)
      for (let month = 0; month < 20; month++)
        for (let year = 0; year < 100; year++)
          for (let seventh = 0; seventh < 10; seventh++) {
            const cpr = `${pad(day)}${pad(month)}${pad(year)}${seventh}000`;
            const expected = birthDateByDate(cpr);
            if (birthDateFromCpr(cpr) !== expected || hasRealCprDate(cpr) !== (expected !== null)) mismatches++;
            checked++;
          }
    expect(checked).toBe(800_000);
    expect(mismatches).toBe(0);
  });

  it('agrees with the Date round trip on arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\d{10}$/), fc.stringMatching(/^[0-9 ]{10}$/)), (text) => birthDateFromCpr(text) === birthDateByDate(text)),
      { numRuns: 2_000 },
    );
  });

  it('still refuses a CPR number whose date part is not a real date, with the same message', () => {
    const result = Cpr.safeParse('3102901234');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('the date part of the CPR number is not a real date');
  });
});

/** The same discriminated union, not compiled: zod's ordinary parser, the reference. */
const RuntimeFragment = z.discriminatedUnion('kind', Fragment.options);

const intervention = () => ({
  kind: 'intervention',
  elementId: 'dfdg:activity:0d4c1a52-4bb6-4f58-9d0c-9a4f1d3c2b10',
  category: 'employment',
  content: {
    sector: 'employment',
    legalBasis: ' LAB §32 ',
    type: { system: 'urn:test:activation-types', code: 'VP', display: 'Virksomhedspraktik' },
    title: 'Praktik',
    responsibleUnit: 'Jobcenter Test',
    contact: { name: 'Sagsbehandler', unit: 'Jobcenter Test', phone: undefined },
    period: { start: '2026-02-01', end: '2026-04-30' },
    order: 0,
    status: 'active',
    providerId: undefined,
    hoursPerWeek: 20,
    extra: 'dropped',
  },
});

const issuesOf = (result: { success: boolean; error?: z.ZodError }) => result.error?.issues.map((i) => ({ code: i.code, path: i.path, message: i.message })) ?? [];

describe('the Fragment model check', () => {
  it('is compiled (in Node) and gives the same output as zod’s ordinary parser: defaults, trimming, unknown keys dropped, same key order', () => {
    expect(() => z.compile(RuntimeFragment, { strict: true })).not.toThrow();
    // `z.compile` installs its fast path and keeps zod's own parser for the rest.
    expect(typeof (Fragment._zod.bag as { fallbackRun?: unknown }).fallbackRun).toBe('function');
    const compiled = Fragment.safeParse(intervention());
    const runtime = RuntimeFragment.safeParse(intervention());
    expect(compiled.success).toBe(true);
    expect(isDeepStrictEqual(compiled.data, runtime.data)).toBe(true);
    expect(JSON.stringify(compiled.data)).toBe(JSON.stringify(runtime.data));
    expect(compiled.data?.content).toMatchObject({ legalBasis: 'LAB §32', dependsOn: [], goalIds: [], confidentiality: 'normal', topics: [] });
  });

  it('refuses exactly what zod’s ordinary parser refuses, with the same issues (property)', () => {
    const broken = [
      (f: any) => (f.content.period = { start: '2026-05-01', end: '2026-04-30' }),
      (f: any) => (f.content.period.start = '2026-02-30'),
      (f: any) => (f.content.title = ''),
      (f: any) => (f.content.legalBasis = ' L '),
      (f: any) => (f.content.hoursPerWeek = 81),
      (f: any) => (f.content.order = 0.5),
      (f: any) => (f.content.status = 'sleeping'),
      (f: any) => (f.content.contact = { name: 'x', email: 'not an address' }),
      (f: any) => (f.content.type.code = ''),
      (f: any) => (f.kind = 'nonsense'),
      (f: any) => (f.elementId = ''),
      (f: any) => (f.category = 'everything'),
      (f: any) => delete f.content.sector,
      (f: any) => (f.content.providerId = ''),
      () => undefined,
    ];
    fc.assert(
      fc.property(fc.subarray(broken), fc.anything(), fc.constantFrom('title', 'responsibleUnit', 'legalBasis', 'order', 'goalIds', 'topics'), (breaks, value, field) => {
        const candidate: any = intervention();
        for (const breakIt of breaks) breakIt(candidate);
        const compiled = Fragment.safeParse(candidate);
        const runtime = RuntimeFragment.safeParse(candidate);
        expect(compiled.success).toBe(runtime.success);
        expect(issuesOf(compiled)).toEqual(issuesOf(runtime));
        if (compiled.success) expect(isDeepStrictEqual(compiled.data, runtime.data)).toBe(true);
        // Any value in a field, too.
        const odd: any = intervention();
        odd.content[field] = value;
        const a = Fragment.safeParse(odd);
        const b = RuntimeFragment.safeParse(odd);
        expect(a.success).toBe(b.success);
        expect(issuesOf(a)).toEqual(issuesOf(b));
        if (a.success) expect(isDeepStrictEqual(a.data, b.data)).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });
});
