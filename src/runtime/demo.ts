/**
 * The embedded demo: starts the four sector simulators on loopback (real HTTP, real formats),
 * seeds a few hundred synthetic enrolled citizens with consents — some partial, some with health
 * consent, one family with a young person of 16 or 17, one revoked, some only offered (so never
 * pulled) — and runs a first sync, so the dashboard shows real data at once. Seeding happens once
 * per database.
 */
import { startDfdgSimulator } from '../../adapters/dfdg';
import { startEducationSimulator } from '../../adapters/education/simulator';
import { startHealthSimulator } from '../../adapters/health/simulator';
import { fictitiousCpr, generatePopulation, type SyntheticCitizen } from '../../adapters/shared/population';
import { startSocialSimulator } from '../../adapters/social/simulator';
import type { AppDeps } from '../api/context';
import { ConsentGrant, membersOf, type DataCategory, type SourceSystem } from '../model';
import { planService } from '../plans/service';
import type { Principal } from '../security';
import { runSyncRound } from '../sync/engine';

export const DEMO_TENANT = '101';

export interface DemoSimulators {
  urls: { DFDG_URL: string; EDUCATION_URL: string; SOCIAL_FHIR_URL: string; HEALTH_FHIR_URL: string };
  population: SyntheticCitizen[];
  close(): Promise<void>;
}

/**
 * The demo's citizens: the shared synthetic population (all adults) and one young person of 16 or
 * 17 for the family plan, whose own consent counts beside the custody holder's (Barnets lov § 110).
 * The young person is born on 1 September seventeen years before this year, so they are 16 or 17
 * whatever the date; a demo database kept across a new year holds last year's young person, whom
 * the simulators then no longer know (an empty pull, nothing else).
 */
export function demoPopulation(size: number, seed = 2026, today = new Date()): SyntheticCitizen[] {
  const adults = generatePopulation(Math.max(1, size - 1), seed, DEMO_TENANT);
  const birthDate = `${today.getUTCFullYear() - 17}-09-01`;
  const young: SyntheticCitizen = {
    index: adults.length,
    cpr: fictitiousCpr(new Date(`${birthDate}T00:00:00Z`), seed % 1000),
    givenName: 'Freja',
    familyName: adults[0]!.familyName,
    birthDate,
    municipality: DEMO_TENANT,
    sectors: { employment: false, education: true, social: true, health: false },
    refugee: false,
  };
  return [...adults, young];
}

/** Age in whole years on `day` (YYYY-MM-DD) of someone born on `birthDate`. */
const ageOn = (birthDate: string, day: string) => Number(day.slice(0, 4)) - Number(birthDate.slice(0, 4)) - (day.slice(5) < birthDate.slice(5) ? 1 : 0);

export async function startDemoSimulators(size: number, seed = 2026): Promise<DemoSimulators> {
  const population = demoPopulation(size, seed);
  const [dfdg, education, social, health] = await Promise.all([
    startDfdgSimulator({ population, seed, port: 0 }),
    startEducationSimulator({ population, seed, port: 0 }),
    startSocialSimulator({ population, seed, port: 0 }),
    startHealthSimulator({ population, seed, port: 0 }),
  ]);
  return {
    urls: { DFDG_URL: dfdg.url, EDUCATION_URL: education.url, SOCIAL_FHIR_URL: social.baseUrl, HEALTH_FHIR_URL: health.baseUrl },
    population,
    close: async () => {
      await Promise.all([dfdg.close(), education.close(), social.close(), health.close()]);
    },
  };
}

const demoCaseworker: Principal = { sub: 'demo-caseworker', tenant: DEMO_TENANT, roles: ['caseworker'] };

const categoriesFor: Record<SourceSystem, DataCategory[]> = {
  dfdg: ['plan-core', 'employment', 'goals', 'interventions'],
  education: ['plan-core', 'education', 'goals', 'interventions'],
  social: ['plan-core', 'social', 'goals', 'interventions'],
  health: ['health'],
};

async function grant(deps: AppDeps, citizenId: string, source: SourceSystem, options: { grantedBy?: { citizenId: string; capacity: 'self' | 'custody-holder' }; revoked?: boolean } = {}) {
  const at = deps.clock.now().toISOString();
  const document = ConsentGrant.parse({
    id: crypto.randomUUID(),
    tenant: DEMO_TENANT,
    citizenId,
    grantedBy: options.grantedBy ?? { citizenId, capacity: 'self' },
    source,
    recipient: 'enplan',
    categories: categoriesFor[source],
    explicitHealth: source === 'health',
    purpose: 'Koordinering af indsatser i Én plan',
    validFrom: '2026-01-01',
    validTo: '2027-12-31',
    signed: { method: 'mitid', documentRef: `demo-consent-${source}`, textVersion: 'samtykke-2026-1', language: 'da' },
    createdAt: at,
    ...(options.revoked ? { revokedAt: at, revokedBy: 'citizen' } : {}),
  });
  await deps.store.consents.insert({ kind: 'grant', ...document });
}

/** Seeds the demo citizens once; returns how many plans exist afterwards. */
export async function seedDemo(deps: AppDeps, population: readonly SyntheticCitizen[]): Promise<{ seeded: boolean; plans: number }> {
  const existing = await deps.store.plans.countByStatus(DEMO_TENANT);
  if (Object.values(existing).reduce((a, b) => a + b, 0) > 0) return { seeded: false, plans: Object.values(existing).reduce((a, b) => a + b, 0) };
  const service = planService(deps);
  const today = deps.clock.now().toISOString().slice(0, 10);
  const adults = population.filter((c) => ageOn(c.birthDate, today) >= 18);
  const young = population.find((c) => { const age = ageOn(c.birthDate, today); return age >= 16 && age < 18; });
  let plans = 0;

  // One family: a parent and a 16-year-old; the young person consents too (Barnets lov § 110).
  if (young) {
    const parent = adults[0]!;
    const plan = await service.create(demoCaseworker, {
      cpr: parent.cpr,
      origin: 'requested',
      role: 'parent',
      family: { name: `Familien ${parent.familyName}`, members: [{ cpr: young.cpr, role: 'young-person' }] },
      purpose: 'En fælles plan for familien: stabil hverdag, skole og arbejde',
      replaces: [{ planType: 'youth-plan', relation: 'replaces' }],
      municipalities: [],
    });
    await service.changeStatus(demoCaseworker, plan.id, { status: 'accepted' });
    await service.changeStatus(demoCaseworker, plan.id, { status: 'active' });
    const [parentMember, youngMember] = membersOf(plan);
    for (const source of ['dfdg', 'social'] as const) await grant(deps, parentMember!.citizenId, source);
    for (const source of ['education', 'social'] as const) {
      await grant(deps, youngMember!.citizenId, source);
      await grant(deps, youngMember!.citizenId, source, { grantedBy: { citizenId: parentMember!.citizenId, capacity: 'custody-holder' } });
    }
    plans++;
  }

  for (const [index, citizen] of adults.slice(1).entries()) {
    const plan = await service.create(demoCaseworker, {
      cpr: citizen.cpr,
      origin: index % 5 === 0 ? 'requested' : 'offered',
      role: 'adult',
      purpose: 'At komme i arbejde eller uddannelse med den støtte, der skal til',
      coordinator: { kind: 'caseworker', name: 'Anna Koordinator', sector: 'employment', unit: 'Jobcenter København', teamMembers: [] },
      replaces: [{ planType: 'employment-plan', relation: 'replaces' }, ...(citizen.sectors.social ? [{ planType: 'sel-141-plan' as const, relation: 'replaces' as const }] : [])],
      municipalities: [{ code: DEMO_TENANT, role: 'acting' }],
    });
    plans++;
    // Every tenth citizen has only been offered a plan: not enrolled, so never pulled (R12).
    if (index % 10 === 9) continue;
    await service.changeStatus(demoCaseworker, plan.id, { status: 'accepted' });
    await service.changeStatus(demoCaseworker, plan.id, { status: 'active' });
    const citizenId = membersOf(plan)[0]!.citizenId;
    await grant(deps, citizenId, 'dfdg');
    if (index % 4 !== 3) await grant(deps, citizenId, 'education'); // some partial consents
    if (index % 3 !== 2) await grant(deps, citizenId, 'social');
    if (index % 2 === 0) await grant(deps, citizenId, 'health');
    if (index === 7) await grant(deps, citizenId, 'social', { revoked: true });
  }
  return { seeded: true, plans };
}

export async function firstSync(deps: AppDeps) {
  const adapters = (['dfdg', 'education', 'social', 'health'] as const).filter((adapter) => deps.adapters[adapter]);
  const results: Record<string, unknown> = {};
  for (const result of await runSyncRound(deps, { tenant: DEMO_TENANT, adapters, trigger: 'demo-start', mappings: deps.mappings }))
    results[result.adapter] = { status: result.status, merged: result.stats.recordsMerged, quarantined: result.stats.quarantined, refusedByConsent: result.stats.refusedByConsent };
  return results;
}
