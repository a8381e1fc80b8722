/**
 * `GET /v1/stats/evaluation` through the real app on Node with a real SQLite store: the figures
 * for seeded plans, roles, a bad period, paging past one page, and tenant separation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { membersOf, Plan, type PlanStatus } from '../../src/model';
import type { Role } from '../../src/security';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { registration, validPlan } from '../support/plans';
import { enrol } from '../support/seed';

let app: Awaited<ReturnType<typeof startTestApp>>;
let now = new Date('2026-03-01T10:00:00.000Z');
const seeded: Plan[] = [];
let serial = 0;

/** A plan document written straight to the store (the plan API is tested on its own). */
async function insertPlan(tenant: string, history: [PlanStatus, string][], interventions: { sector: string; code: string; contact: string }[] = []) {
  serial++;
  const plan = Plan.parse(
    validPlan({
      id: `stats-${tenant}-${serial}`,
      tenant,
      status: history.at(-1)![0],
      statusHistory: history.map(([to, at], i) => ({ ...(i > 0 ? { from: history[i - 1]![0] } : {}), to, at, recordedBy: 'caseworker:anna', ...(to === 'declined' ? { reason: 'Ønsker det ikke' } : {}) })),
      subject: { kind: 'citizen', member: { memberId: 'm1', citizenId: `stats-citizen-${tenant}-${serial}`, role: 'adult', birthDate: '1980-01-01' } },
      goals: [],
      citizenViews: [],
      coordinator: { kind: 'caseworker', name: 'Anna Koordinator', sector: 'employment', unit: 'Jobcenter', since: history[0]![1], teamMembers: [] },
      interventions: interventions.map((x, n) => ({
        id: `i${n}`,
        sector: x.sector,
        legalBasis: 'SEL §85',
        type: { system: 'urn:test:types', code: x.code, display: `Type ${x.code}` },
        title: 'Indsats',
        responsibleUnit: 'Enhed',
        contact: { name: x.contact },
        period: { start: '2026-01-15' },
        order: n,
        status: 'active',
        memberId: 'm1',
        ruleVersion: 'rules-2026.11',
        provenance: registration(),
      })) as never,
      createdAt: history[0]![1],
      updatedAt: history.at(-1)![1],
    }),
  );
  await app.deps.store.plans.insert(plan);
  seeded.push(plan);
}

const enrolled: [PlanStatus, string][] = [['offered', '2025-11-01T09:00:00.000Z'], ['accepted', '2025-11-10T09:00:00.000Z'], ['active', '2025-11-20T09:00:00.000Z']];
const declinedInPeriod: [PlanStatus, string][] = [['offered', '2026-02-01T09:00:00.000Z'], ['declined', '2026-04-01T09:00:00.000Z']];
const twoSectors = [{ sector: 'employment', code: 'A', contact: 'Jens' }, { sector: 'social', code: 'B', contact: 'Bo' }];

beforeAll(async () => {
  app = await startTestApp({ clock: { now: () => now } });
  // Tenant 101: 5 plans through the real service (offered, accepted, active on 1 March 2026) …
  for (let i = 0; i < 5; i++) seeded.push(await enrol(app.deps, testCpr(), '101'));
  // … 6 in force since November 2025 with interventions from two sectors (coordinator + 2 contacts) …
  for (let i = 0; i < 6; i++) await insertPlan('101', enrolled, twoSectors);
  // … and 5 offered and declined in the period without ever being in force.
  for (let i = 0; i < 5; i++) await insertPlan('101', declinedInPeriod);
  // Tenant 751, in the same database: 7 plans in force, 8 declined, all with interventions.
  for (let i = 0; i < 7; i++) await insertPlan('751', enrolled, [...twoSectors, { sector: 'health', code: 'H', contact: 'Hanne' }]);
  for (let i = 0; i < 8; i++) await insertPlan('751', declinedInPeriod);
  now = new Date('2026-08-15T10:00:00.000Z');
});
afterAll(() => app?.close());

async function get(path: string, roles: Role[] | null, tenant = '101') {
  const headers: Record<string, string> = {};
  if (roles) headers.authorization = `Bearer ${await app.harness.token({ tenant, roles, sub: 'stats-test', citizenId: roles.includes('citizen') ? 'citizen-x' : undefined, providerId: roles.includes('provider') ? 'prov-1' : undefined })}`;
  const response = await app.harness.request(path, { headers });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, body: text ? JSON.parse(text) : null };
}
const value = (cell: { value: number | null; suppressed: boolean }) => (cell.suppressed ? 'suppressed' : cell.value);

describe('GET /v1/stats/evaluation', () => {
  it('gives IT staff the figures of the last complete half-year for their municipality', async () => {
    const { status, body } = await get('/v1/stats/evaluation', ['it-staff']);
    expect(status).toBe(200);
    expect(body.period).toEqual({ id: '2026-H1', firstDay: '2026-01-01', lastDay: '2026-06-30', timeZone: 'Europe/Copenhagen', complete: true });
    expect(value(body.citizensWithPlan)).toBe(11);
    expect(Object.fromEntries(Object.entries(body.lifecycle).map(([k, c]) => [k, value(c as never)]))).toEqual({ offered: 10, requested: 0, declined: 5 });
    expect(value(body.multipleDepartments.citizens)).toBe(6);
    expect(value(body.multipleDepartments.offeredEnPlan)).toBe(6);
    expect(value(body.multipleDepartments.notOfferedEnPlan)).toBe(0);
    // enrol() plans have no coordinator and no interventions; the six have coordinator, Jens and Bo.
    expect(body.contactPersonsPerCitizen.map((b: { contactPersons: string; citizens: never }) => [b.contactPersons, value(b.citizens)])).toEqual([['0', 5], ['1', 0], ['2', 0], ['3', 6], ['4+', 0]]);
    expect(body.interventionTypes.map((t: { sector: string; code: string; display: string; citizens: never }) => [t.sector, t.code, t.display, value(t.citizens)])).toEqual([
      ['employment', 'A', 'Type A', 6],
      ['social', 'B', 'Type B', 6],
    ]);
    // Nobody answered in that half-year.
    expect(body.satisfaction).toMatchObject({ collected: true, answeredBy: { value: 0, suppressed: false } });
  });

  it('never counts another municipality’s plans (each tenant sees its own figures)', async () => {
    const { status, body } = await get('/v1/stats/evaluation?period=2026-H1', ['it-staff'], '751');
    expect(status).toBe(200);
    expect(value(body.citizensWithPlan)).toBe(7);
    expect(value(body.lifecycle.declined)).toBe(8);
    expect(body.interventionTypes.map((t: { code: string }) => t.code)).toEqual(['A', 'H', 'B']);
    const other = await get('/v1/stats/evaluation?period=2026-H1', ['it-staff'], '851');
    expect(value(other.body.citizensWithPlan)).toBe(0);
    expect(other.body.interventionTypes).toEqual([]);
  });

  it('answers with aggregates only: no plan or citizen ids, names or CPR numbers', async () => {
    const { text } = await get('/v1/stats/evaluation', ['it-staff']);
    for (const plan of seeded) {
      expect(text).not.toContain(plan.id);
      for (const m of membersOf(plan)) expect(text).not.toContain(m.citizenId);
    }
    expect(text).not.toMatch(/Jens|Bo"|Anna/);
    expect(text).not.toMatch(/(?<![\w-])\d{6}-?\d{4}(?![\w-])/);
  });

  it('takes an explicit period, and marks a running half-year as not complete', async () => {
    const running = await get('/v1/stats/evaluation?period=2026-H2', ['it-staff']);
    expect(running.status).toBe(200);
    expect(running.body.period.complete).toBe(false);
    expect(value(running.body.citizensWithPlan)).toBe(11);
    expect(value(running.body.lifecycle.declined)).toBe(0);
    const before = await get('/v1/stats/evaluation?period=2025-H1', ['it-staff']);
    expect(value(before.body.citizensWithPlan)).toBe(0);
  });

  it('refuses a bad period with a 400 problem document', async () => {
    for (const bad of ['2026-H3', '2026h1', 'last', '2026-H1%00', '']) {
      const { status, type, body } = await get(`/v1/stats/evaluation?period=${bad}`, ['it-staff']);
      expect(status, bad).toBe(400);
      expect(type).toContain('application/problem+json');
      expect(body.type).toBe('/problems/validation-failed');
    }
    const future = await get('/v1/stats/evaluation?period=2027-H1', ['it-staff']);
    expect(future.status).toBe(400);
    expect(future.body.detail).toMatch(/not begun/);
  });

  it('is for IT staff only: 403 for a caseworker, a citizen and the other roles; 401 without a token', async () => {
    for (const role of ['caseworker', 'citizen', 'provider', 'vendor', 'sync-job'] as Role[]) {
      const { status, type } = await get('/v1/stats/evaluation', [role]);
      expect(status, role).toBe(403);
      expect(type).toContain('application/problem+json');
    }
    expect((await get('/v1/stats/evaluation', null)).status).toBe(401);
  });

  it('records who read which period in the audit log, without figures', async () => {
    await get('/v1/stats/evaluation?period=2026-H1', ['it-staff']);
    const rows = (await app.deps.store.audit.list('101', { limit: 10_000 })).filter((r) => r.action === 'stats.evaluation-read');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.at(-1)).toMatchObject({ actor: 'it-staff:stats-test', targetType: 'tenant', targetId: '101', citizenId: null, detail: { period: '2026-H1' } });
    expect((await app.deps.store.audit.verify('101')).ok).toBe(true);
  });

  it('reads a municipality with more plans than one page, all of them', async () => {
    for (let i = 0; i < 450; i++) await insertPlan('147', enrolled);
    const { status, body } = await get('/v1/stats/evaluation?period=2026-H1', ['it-staff'], '147');
    expect(status).toBe(200);
    expect(value(body.citizensWithPlan)).toBe(450);
  });
});
