/**
 * The demo fills itself (issue 4, item 9): `npm start`'s embedded default starts the four
 * simulators, seeds synthetic enrolled citizens with consents — some partial, some with health
 * consent, one family with a young person over 15, one revoked — and runs a first sync. Tested on
 * the real service entry point (a small population, an SQLite file, no scheduler), and again on
 * the same file: seeding happens once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { membersOf, type ConsentGrant, type Plan } from '../../src/model';
import { startNodeService } from '../../src/runtime/node';
import { demoPopulation } from '../../src/runtime/demo';
import { signDevToken } from '../../src/security';

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
});
