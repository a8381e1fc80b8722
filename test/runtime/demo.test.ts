/**
 * The demo fills itself (issue 4, item 9): `npm start`'s embedded default starts the four
 * simulators, seeds synthetic enrolled citizens with consents — some partial, some with health
 * consent, one family with a young person over 15, one revoked, one whose region withdrew its own
 * consent to share — and runs a first sync. Tested on
 * the real service entry point (a small population, an SQLite file, no scheduler), and again on
 * the same file: seeding happens once. And it holds one genuine conflict — an activity registered once,
 * pushed to DFDG and Ungedatabasen, then changed differently in both — that a caseworker can settle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { membersOf, type ConsentGrant, type Intervention, type Plan, type Provenance } from '../../src/model';
import { runRelayOnce } from '../../src/delivery';
import { monitoringOverview } from '../../src/monitoring/overview';
import { runSyncRound } from '../../src/sync/engine';
import { startNodeService } from '../../src/runtime/node';
import { DEMO_CONFLICT_KEY, demoPopulation, demoRegionWithdrawer } from '../../src/runtime/demo';
import { signDevToken } from '../../src/security';
import { createEducationAdapter } from '../../adapters/education/adapter';

const dir = mkdtempSync(join(tmpdir(), 'enplan-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { DATA_DIR: dir, PORT: '0', DEMO_CITIZENS: '40', LOG_LEVEL: 'error', JWT_SECRET: 'demo-test-secret-0123456789', CPR_KEY: 'demo-test-cpr-key-0123456789' };
const ageOn = (birthDate: string, day: string) => Number(day.slice(0, 4)) - Number(birthDate.slice(0, 4)) - (day.slice(5) < birthDate.slice(5) ? 1 : 0);

describe('the embedded demo', () => {
  it('has one young person of 16 or 17 beside the adults, whatever the date', () => {
    for (const today of ['2026-01-01', '2026-08-31', '2026-09-01', '2026-12-31', '2031-06-15']) {
      const population = demoPopulation(10, 2026, new Date(`${today}T12:00:00Z`));
      const ages = population.map((c) => ageOn(c.birthDate, today));
      expect(ages.filter((age) => age < 18)).toEqual([expect.any(Number)]);
      expect(ages.filter((age) => age < 18)[0]).toBeGreaterThanOrEqual(16);
    }
  });

  it('seeds enrolled citizens with partial, health and revoked consents and a family with a young person, syncs them, and seeds once', async () => {
    const service = await startNodeService(env, { scheduler: false });
    try {
      expect(service.demoSummary).toMatchObject({ seeded: true });
      const firstSync = service.demoSummary!.firstSync as Record<string, { status: string; merged: number }>;
      expect(Object.keys(firstSync).sort()).toEqual(['dfdg', 'education', 'health', 'social']);
      for (const result of Object.values(firstSync)) expect(result.status).toBe('succeeded');
      expect(Object.values(firstSync).reduce((n, r) => n + r.merged, 0)).toBeGreaterThan(0);

      const { store, clock } = service.deps;
      const today = clock.now().toISOString().slice(0, 10);
      const plans = (await store.plans.getMany('101', (await store.plans.listIds('101', 1000)).map((p) => p.id))) as Plan[];
      const family = plans.filter((p) => p.subject.kind === 'family');
      expect(family).toHaveLength(1);
      const [parent, young] = membersOf(family[0]!);
      expect(parent!.role).toBe('parent');
      expect(young!.role).toBe('young-person');
      expect(ageOn(young!.birthDate, today)).toBeGreaterThanOrEqual(16);
      expect(family[0]!.status).toBe('active');

      const documents = await store.consents.forCitizens('101', plans.flatMap((p) => membersOf(p).map((m) => m.citizenId)));
      const grants = documents.filter((d): d is { kind: 'grant' } & ConsentGrant => d.kind === 'grant');
      const youngGrants = grants.filter((g) => g.citizenId === young!.citizenId);
      expect(youngGrants.some((g) => g.grantedBy.capacity === 'self')).toBe(true);
      expect(youngGrants.some((g) => g.grantedBy.capacity === 'custody-holder' && g.grantedBy.citizenId === parent!.citizenId)).toBe(true);
      expect(grants.filter((g) => g.revokedAt)).toHaveLength(1);
      expect(grants.some((g) => g.source === 'health' && g.explicitHealth)).toBe(true);
      // Partial: some enrolled citizen lacks a grant from some source.
      const sourcesOf = new Map<string, Set<string>>();
      for (const g of grants) sourcesOf.set(g.citizenId, new Set([...(sourcesOf.get(g.citizenId) ?? []), g.source]));
      expect([...sourcesOf.values()].some((sources) => sources.size < 4)).toBe(true);

      // Only offered, never accepted: never pulled (R12), so nothing of theirs flowed.
      const offered = plans.filter((p) => p.status === 'offered');
      expect(offered.length).toBeGreaterThan(0);
      for (const plan of offered) {
        const log = await store.audit.list('101', { citizenId: membersOf(plan)[0]!.citizenId });
        expect(log.filter((a) => a.action === 'data.flowed' || a.action === 'data.refused')).toEqual([]);
      }

      // The young person's records flowed, and their custody holder can see where (on the consent they gave).
      const youngLog = await store.audit.list('101', { citizenId: young!.citizenId });
      expect(new Set(youngLog.filter((a) => a.action === 'data.flowed').map((a) => a.detail.source))).toEqual(new Set(['education', 'social']));
      const token = await signDevToken(env.JWT_SECRET, { tenant: '101', roles: ['citizen'], citizenId: parent!.citizenId });
      const flows = (await (await fetch(`${service.url}/v1/citizen/data-flows`, { headers: { authorization: `Bearer ${token}` } })).json()) as { flows: { about: { relation: string } }[] };
      expect(flows.flows.some((f) => f.about.relation === 'child')).toBe(true);

      // One citizen's region withdrew its own consent to share: their health data was refused with the
      // region's reason though they consented with us, and the refusal is kept for the subscription gate.
      const withdrawer = demoRegionWithdrawer(demoPopulation(40), today);
      expect(withdrawer).toBeDefined();
      const withdrawerId = (await store.citizens.findByAnyCprHash('101', await service.deps.vault.lookupHashes('101', withdrawer!.cpr)))!.id;
      expect(grants.some((g) => g.citizenId === withdrawerId && g.source === 'health' && g.explicitHealth && !g.revokedAt)).toBe(true);
      const refusedHealth = (await store.audit.list('101', { citizenId: withdrawerId })).filter((a) => a.action === 'data.refused' && a.detail.source === 'health');
      expect(refusedHealth.map((a) => a.detail.reason)).toContain('the region records that the citizen withdrew its consent to share health data with the municipality');
      expect(await store.regionalConsents.refusalsOf('101', 'health', [withdrawerId])).toEqual([expect.objectContaining({ citizenId: withdrawerId, permitsFrom: null })]);

      // The caseload view (R5) has something to show: the adults' plans are shared by several coordinators.
      const caseworkerToken = await signDevToken(env.JWT_SECRET, { tenant: '101', roles: ['caseworker'] });
      const caseload = (await (await fetch(`${service.url}/v1/coordinators/caseload`, { headers: { authorization: `Bearer ${caseworkerToken}` } })).json()) as { coordinators: { coordinator: string | null; openPlans: number }[] };
      expect(caseload.coordinators.filter((c) => c.coordinator !== null).length).toBeGreaterThan(5);

      // Ungedatabasen's simulator demands WS-Security, as STIL's platform does: the first sync above
      // succeeded signed with the demo's own certificate, and an unsigned request is refused.
      expect(service.config.adapters.educationWsSecurity?.certificatePem).toContain('BEGIN CERTIFICATE');
      const unsigned = createEducationAdapter({ baseUrl: service.config.adapters.education!, municipalityCode: '101', timeoutMs: 5_000 });
      expect(await unsigned.changes(null).then(() => undefined, (e: unknown) => e)).toMatchObject({ permanent: true, code: 'soap-invalidsecurity' });
    } finally {
      await service.close();
    }

    // Started again on the same database: nothing is seeded twice, and the young person is still known at the sources.
    const again = await startNodeService(env, { scheduler: false });
    try {
      expect(again.demoSummary).toMatchObject({ seeded: false });
      const resync = again.demoSummary!.firstSync as Record<string, { status: string }>;
      for (const result of Object.values(resync)) expect(result.status).toBe('succeeded');
    } finally {
      await again.close();
    }
  }, 60_000);

  it('holds one genuine conflict from two systems, which a caseworker settles through the API, and seeds it once', async () => {
    const conflictDir = mkdtempSync(join(tmpdir(), 'enplan-demo-conflict-'));
    const conflictEnv = { ...env, DATA_DIR: conflictDir };
    type Worklist = { plans: { planId: string; conflicts: { id: string; elementId: string; fields: string[]; writers: string[] }[] }[] };
    const as = async (url: string, path: string, init: { method?: string; body?: unknown } = {}) => {
      const token = await signDevToken(env.JWT_SECRET, { tenant: '101', roles: ['caseworker'] });
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${url}${path}`, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
      return { status: response.status, body: (await response.json()) as unknown };
    };
    const allPlans = async (deps: Awaited<ReturnType<typeof startNodeService>>['deps']) =>
      (await deps.store.plans.getMany('101', (await deps.store.plans.listIds('101', 1000)).map((p) => p.id))) as Plan[];
    const systemOf = (p: Provenance) => (p.kind === 'source' ? p.system : p.kind);
    try {
      const service = await startNodeService(conflictEnv, { scheduler: false });
      try {
        expect(service.demoSummary!.conflict).toMatchObject({ seeded: true, conflicts: 1 });
        // The caseworkers' worklist and the dashboard show it.
        const worklist = await as(service.url, '/v1/conflicts');
        expect(worklist.status).toBe(200);
        const listed = (worklist.body as Worklist).plans;
        expect(listed).toHaveLength(1);
        expect(listed[0]!.conflicts).toHaveLength(1);
        const [entry] = listed[0]!.conflicts;
        const planId = listed[0]!.planId;
        expect(entry!.writers).toEqual(['dfdg', 'education']);
        expect(entry!.fields).toContain('period');
        expect((await monitoringOverview(service.deps, '101')).plansWithOpenConflicts).toBe(1);

        // Genuine: the element was registered here, and each value is what one system reported.
        const plan = (await as(service.url, `/v1/plans/${planId}`)).body as Plan;
        const conflict = plan.conflicts.find((c) => c.id === entry!.id)!;
        const element = plan.interventions.find((i) => i.id === conflict.elementId)!;
        expect(element.provenance[0]).toMatchObject({ kind: 'registration' });
        expect(conflict.values.map((v) => v.provenance.map(systemOf))).toEqual([['dfdg'], ['education']]);
        const [jobcentre, youthGuidance] = conflict.values.map((v) => (v.value as Pick<Intervention, 'period'>).period);
        expect(jobcentre!.start).toBe(youthGuidance!.start);
        expect(jobcentre!.end! > youthGuidance!.end!).toBe(true);
        const registration = await service.deps.store.registrations.findByKey('101', DEMO_CONFLICT_KEY);
        expect(registration?.planId).toBe(planId);
        // Through the outbox: one delivery to each system.
        expect(await service.deps.store.outbox.countByStatus('101')).toEqual({ delivered: 2 });

        // Settled by a caseworker: Ungedatabasen's end date stands, and the worklist is empty.
        const resolved = await as(service.url, `/v1/plans/${planId}/conflicts/${encodeURIComponent(entry!.id)}/resolve`, { method: 'POST', body: { chosen: 1, reason: 'Starter på erhvervsskolen' } });
        expect(resolved.status).toBe(200);
        const after = resolved.body as Plan;
        expect(after.interventions.find((i) => i.id === conflict.elementId)!.period).toEqual(youthGuidance);
        expect(after.conflicts.find((c) => c.id === entry!.id)).toMatchObject({ resolution: { chosen: 1 } });
        expect(((await as(service.url, '/v1/conflicts')).body as Worklist).plans.map((p) => p.planId)).not.toContain(planId);
        expect((await monitoringOverview(service.deps, '101')).plansWithOpenConflicts).toBe(0);

        // The settled date goes back to both systems as one registration; reading them again raises
        // no new conflict (each system's own wording is not a change), and the chosen date stands.
        expect(await service.deps.store.outbox.countByStatus('101')).toEqual({ delivered: 2, pending: 2 });
        await runRelayOnce(service.deps, { limit: 10 });
        expect(await service.deps.store.outbox.countByStatus('101')).toEqual({ delivered: 4 });
        const round = await runSyncRound(service.deps, { tenant: '101', adapters: ['dfdg', 'education'], trigger: 'test', mappings: service.deps.mappings });
        expect(round.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
        expect(round.reduce((n, r) => n + r.stats.conflicts, 0)).toBe(0);
        const settled = (await service.deps.store.plans.get('101', planId))!;
        const settledElement = settled.interventions.find((i) => i.id === conflict.elementId)!;
        expect(settledElement.period).toEqual(youthGuidance);
        // The jobcentre, whose date was not chosen, took the pushed one (its record moved on a version,
        // read again without a conflict); Ungedatabasen held that date already.
        const versionOf = (element: Intervention, system: string) => Number((element.provenance.find((p) => p.kind === 'source' && p.system === system) as { recordVersion: string }).recordVersion);
        const resolvedElement = after.interventions.find((i) => i.id === conflict.elementId)!;
        expect(versionOf(settledElement, 'dfdg')).toBe(versionOf(resolvedElement, 'dfdg') + 1);
        expect(versionOf(settledElement, 'education')).toBe(versionOf(resolvedElement, 'education'));
        expect(settled.conflicts.filter((c) => !c.resolvedAt)).toEqual([]);
      } finally {
        await service.close();
      }

      // Started again on the same database: the scenario is not run again, so no second conflict.
      const again = await startNodeService(conflictEnv, { scheduler: false });
      try {
        expect(again.demoSummary!.conflict).toMatchObject({ seeded: false });
        expect(await again.deps.store.outbox.countByStatus('101')).toEqual({ delivered: 4 });
        expect(((await as(again.url, '/v1/conflicts')).body as Worklist).plans).toEqual([]);
        expect((await allPlans(again.deps)).flatMap((p) => p.conflicts)).toEqual([expect.objectContaining({ resolvedAt: expect.any(String) })]);
      } finally {
        await again.close();
      }
    } finally {
      rmSync(conflictDir, { recursive: true, force: true });
    }
  }, 60_000);
});
