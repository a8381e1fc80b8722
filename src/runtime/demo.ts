/**
 * The embedded demo: starts the four sector simulators on loopback (real HTTP, real formats),
 * seeds a few hundred synthetic enrolled citizens with consents — some partial, some with health
 * consent, one family with a young person of 16 or 17, one revoked, some only offered (so never
 * pulled), one whose region withdrew its own consent to share — and runs a first sync, so the dashboard shows real data at once. Seeding happens once
 * per database.
 */
import { startDfdgSimulator } from '../../adapters/dfdg';
import { activityReverseMapping } from '../../mappings/dfdg';
import { planActivityReverseMapping, planActivityTypes } from '../../mappings/education';
import { startEducationSimulator } from '../../adapters/education/simulator';
import { makeSelfSignedCertificate } from '../../adapters/soap/self-signed-certificate';
import type { Consent } from '@medplum/fhirtypes';
import { healthRecordsFor } from '../../adapters/health/records';
import { startHealthSimulator } from '../../adapters/health/simulator';
import { fictitiousCpr, generatePopulation, type SyntheticCitizen } from '../../adapters/shared/population';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { adaptersOf, type AppDeps } from '../api/context';
import { runRelayOnce } from '../delivery/relay';
import { ConsentGrant, membersOf, type DataCategory, type Intervention, type Plan, type Recipient, type SourceSystem } from '../model';
import { planService } from '../plans/service';
import { RegistrationRequest, registrationService } from '../registrations';
import type { Principal } from '../security';
import { redactCpr } from '../security/redact';
import { runSyncRound } from '../sync/engine';

export const DEMO_TENANT = '101';

export interface DemoSimulators {
  urls: { DFDG_URL: string; EDUCATION_URL: string; SOCIAL_FHIR_URL: string; HEALTH_FHIR_URL: string };
  /** The demo's function certificate for Ungedatabasen, whose simulator refuses unsigned requests as STIL's platform does (decision 0027). */
  educationWsSecurity: { EDUCATION_WSSE_CERT: string; EDUCATION_WSSE_KEY: string };
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
  // Made anew at each start and never stored: the demo needs no private key in the repository.
  const functionCertificate = await makeSelfSignedCertificate('Én plan demo function certificate (not for production)');
  const [dfdg, education, social, health] = await Promise.all([
    startDfdgSimulator({ population, seed, port: 0 }),
    startEducationSimulator({ population, seed, port: 0, wsSecurity: { trustedCertificatesPem: [functionCertificate.certificatePem] } }),
    startSocialSimulator({ population, seed, port: 0 }),
    startHealthSimulator({ population, seed, port: 0 }),
  ]);
  await regionRecordsWithdrawal(health, demoRegionWithdrawer(population), seed);
  return {
    urls: { DFDG_URL: dfdg.url, EDUCATION_URL: education.url, SOCIAL_FHIR_URL: social.baseUrl, HEALTH_FHIR_URL: health.baseUrl },
    educationWsSecurity: { EDUCATION_WSSE_CERT: functionCertificate.certificatePem, EDUCATION_WSSE_KEY: functionCertificate.privateKeyPem },
    population,
    close: async () => {
      await Promise.all([dfdg.close(), education.close(), social.close(), health.close()]);
    },
  };
}

/**
 * The demo citizen whose region records a withdrawal of its consent to share with the municipality,
 * though they gave us explicit consent to their health data: the first adult (the family's parent
 * aside) whom `seedDemo` enrols with a health grant and whose region holds health records. Their
 * health data is refused with the region's reason, and the health system's subscriptions do not hear
 * of their plan (decision 0014, session 24).
 */
export function demoRegionWithdrawer(population: readonly SyntheticCitizen[], today = new Date().toISOString().slice(0, 10)): SyntheticCitizen | undefined {
  const adults = population.filter((c) => ageOn(c.birthDate, today) >= 18);
  return adults.slice(1).find((citizen, index) => citizen.sectors.health && index % 2 === 0 && index % 10 !== 9);
}

/** The region's system writes a new version of the citizen's Consent: withdrawn (status inactive), as its EHR would. */
async function regionRecordsWithdrawal(health: SectorSimulator, citizen: SyntheticCitizen | undefined, seed: number) {
  const ordinal = citizen ? health.citizens.indexOf(citizen) : -1;
  if (!citizen || ordinal < 0) return;
  const id = healthRecordsFor(citizen, ordinal, seed).find((r) => r.resourceType === 'Consent')!.id!;
  const current = await health.repository.readResource<Consent>('Consent', id);
  await health.repository.updateResource<Consent>({ ...current, status: 'inactive' });
}

const demoCaseworker: Principal = { sub: 'demo-caseworker', tenant: DEMO_TENANT, roles: ['caseworker'] };

const categoriesFor: Record<SourceSystem, DataCategory[]> = {
  dfdg: ['plan-core', 'employment', 'goals', 'interventions'],
  education: ['plan-core', 'education', 'goals', 'interventions'],
  social: ['plan-core', 'social', 'goals', 'interventions'],
  health: ['health'],
};

async function grant(deps: AppDeps, citizenId: string, source: SourceSystem, options: { grantedBy?: { citizenId: string; capacity: 'self' | 'custody-holder' }; revoked?: boolean; recipient?: Recipient } = {}) {
  const at = deps.clock.now().toISOString();
  const document = ConsentGrant.parse({
    id: crypto.randomUUID(),
    tenant: DEMO_TENANT,
    citizenId,
    grantedBy: options.grantedBy ?? { citizenId, capacity: 'self' },
    source,
    recipient: options.recipient ?? 'enplan',
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

/** The demo's consent text (our own wording, for synthetic citizens), version samtykke-2026-1. */
const demoConsentTexts = [
  {
    version: 'samtykke-2026-1',
    language: 'da',
    title: 'Samtykke til Én plan',
    body: [
      'Jeg giver samtykke til, at kommunen samler oplysninger om mine planer og indsatser fra de systemer, jeg har sat kryds ved, i én fælles plan.',
      'Oplysningerne bruges kun til at koordinere min plan. De parter, jeg har valgt, kan se de dele, der vedrører dem.',
      'Helbredsoplysninger indhentes kun, hvis jeg har givet udtrykkeligt samtykke til det.',
      'Jeg kan til enhver tid trække samtykket tilbage, helt eller delvist. Så indhentes der ikke flere oplysninger på det, og det, der kom på det, fjernes fra planen. Systemerne, oplysningerne kom fra, beholder deres egne.',
    ].join('\n\n'),
  },
  {
    version: 'samtykke-2026-1',
    language: 'en',
    title: 'Consent to Én plan (one plan)',
    body: [
      'I consent to the municipality gathering information about my plans and services from the systems I have ticked, in one shared plan.',
      'The information is used only to coordinate my plan. The parties I have chosen can see the parts that concern them.',
      'Health information is gathered only if I have given explicit consent to it.',
      'I can withdraw my consent at any time, in whole or in part. Then no more information is gathered on it, and what came on it is removed from the plan. The systems the information came from keep their own.',
    ].join('\n\n'),
  },
] as const;

/** Seeds the demo citizens once; returns how many plans exist afterwards. */
export async function seedDemo(deps: AppDeps, population: readonly SyntheticCitizen[]): Promise<{ seeded: boolean; plans: number }> {
  const existing = await deps.store.plans.countByStatus(DEMO_TENANT);
  if (Object.values(existing).reduce((a, b) => a + b, 0) > 0) return { seeded: false, plans: Object.values(existing).reduce((a, b) => a + b, 0) };
  const service = planService(deps);
  const today = deps.clock.now().toISOString().slice(0, 10);
  // The words the demo citizens agreed to (R15), in Danish and English: the consents below name them.
  await deps.store.batch(demoConsentTexts.map((text) => deps.store.consentTexts.addStatement({ tenant: DEMO_TENANT, ...text, createdAt: deps.clock.now().toISOString(), createdBy: 'system:demo' })));
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
    await service.recordStatusHistory(demoCaseworker, plan.id, { status: 'accepted' });
    await service.recordStatusHistory(demoCaseworker, plan.id, { status: 'active' });
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
      coordinator: { kind: 'caseworker', name: demoCoordinators[index % demoCoordinators.length]!, sector: 'employment', unit: 'Jobcenter København', teamMembers: [] },
      replaces: [{ planType: 'employment-plan', relation: 'replaces' }, ...(citizen.sectors.social ? [{ planType: 'sel-141-plan' as const, relation: 'replaces' as const }] : [])],
      municipalities: [{ code: DEMO_TENANT, role: 'acting' }],
    });
    plans++;
    // Every tenth citizen has only been offered a plan: not enrolled, so never pulled (R12).
    if (index % 10 === 9) continue;
    await service.recordStatusHistory(demoCaseworker, plan.id, { status: 'accepted' });
    await service.recordStatusHistory(demoCaseworker, plan.id, { status: 'active' });
    const citizenId = membersOf(plan)[0]!.citizenId;
    await grant(deps, citizenId, 'dfdg');
    if (index % 4 !== 3) await grant(deps, citizenId, 'education'); // some partial consents
    if (index % 3 !== 2) await grant(deps, citizenId, 'social');
    // Every third health consent names the social department alone (R9): its caseworkers see that data, others do not.
    if (index % 2 === 0) await grant(deps, citizenId, 'health', index % 6 === 0 ? { recipient: 'social' } : {});
    if (index === 7) await grant(deps, citizenId, 'social', { revoked: true });
  }
  return { seeded: true, plans };
}

/** The demo's coordinators (synthetic names): ten of them share the adults' plans, so the caseload view (R5) has something to show. */
const demoCoordinators = ['Anna Koordinator', 'Bo Madsen', 'Camilla Holm', 'Dorte Lund', 'Emil Kjær', 'Fatima Ali', 'Gitte Berg', 'Henrik Dahl', 'Ida Skov', 'Jonas Friis'];

export async function firstSync(deps: AppDeps) {
  const adapters = (['dfdg', 'education', 'social', 'health'] as const).filter((adapter) => deps.adapters[adapter]);
  const results: Record<string, unknown> = {};
  for (const result of await runSyncRound(deps, { tenant: DEMO_TENANT, adapters, trigger: 'demo-start', mappings: deps.mappings }))
    results[result.adapter] = { status: result.status, merged: result.stats.recordsMerged, quarantined: result.stats.quarantined, refusedByConsent: result.stats.refusedByConsent };
  return results;
}

/** The demo conflict's registration: its Idempotency-Key is also the mark that the scenario ran on this database. */
export const DEMO_CONFLICT_KEY = 'demo-conflict-brobygning';

export type DemoConflictOutcome =
  | { seeded: true; planId: string; elementId: string; conflicts: number }
  | { seeded: false; reason: string };

const addDays = (day: string, days: number) => new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/**
 * One genuine conflict for the caseworkers' worklist, made the way conflicts arise in production —
 * no conflict is written into a plan here; the merge flags it.
 *
 * The scenario (chosen because both SOAP simulators hold such an activity and take writes to it):
 * a young adult known to the jobcentre (DFDG) and to the youth guidance (Ungedatabasen/KUI), who
 * consents to both flows, gets a bridging course to a vocational education ("Brobygning") registered
 * once in Én plan. It is an education activity, so the registration goes to Ungedatabasen and —
 * R20 — to DFDG, through the outbox and the relay, under the element's own UUID at both. A sync
 * reads it back from both (each confirms the registered fact). Then, before the next sync, both
 * systems change it differently, each through its own SOAP write service:
 *   - the jobcentre extends the course by four weeks in DFDG (its case system writes the activity;
 *     here the DFDG client stands in for that system);
 *   - the youth guidance ends it two weeks early in Ungedatabasen (the young person starts at the
 *     vocational school sooner).
 * The next sync reads both changes: DFDG's is merged first and becomes the content, and
 * Ungedatabasen's different change of the same element — written by another system since
 * Ungedatabasen's last merged version — is flagged as a conflict for a caseworker to settle. (The
 * conflict names the period and also the fields the two systems word differently — type codes,
 * units, contact — since the merge compares whole elements.)
 *
 * Runs once per database: the registration's Idempotency-Key marks it. Costs a registration, one
 * relay run and two syncs of two adapters (the change feeds only hold these writes).
 */
export async function seedDemoConflict(deps: AppDeps, population: readonly SyntheticCitizen[]): Promise<DemoConflictOutcome> {
  if (await deps.store.registrations.findByKey(DEMO_TENANT, DEMO_CONFLICT_KEY)) return { seeded: false, reason: 'seeded before' };
  const adapters = adaptersOf(deps, DEMO_TENANT);
  if (!adapters.dfdg || !adapters.education) return { seeded: false, reason: 'needs the DFDG and Ungedatabasen adapters' };

  const subject = await conflictSubject(deps, population);
  if (!subject) return { seeded: false, reason: 'no enrolled adult known to both DFDG and Ungedatabasen with consent to both' };
  const { plan, cpr } = subject;
  const member = membersOf(plan)[0]!;

  // The citizen also agrees that what is registered once in Én plan goes to the jobcentre and to Ungedatabasen.
  for (const recipient of ['employment', 'education'] as const) await grantSending(deps, member.citizenId, recipient);

  const today = deps.clock.now().toISOString().slice(0, 10);
  const start = addDays(today, 14);
  const end = addDays(start, 70);
  const request = RegistrationRequest.parse({
    planId: plan.id,
    kind: 'intervention.added',
    intervention: {
      sector: 'education',
      legalBasis: 'KUI § 2 a',
      type: { system: planActivityTypes.system, code: 'BROBYGNING', display: planActivityTypes.lookup('BROBYGNING')?.display },
      title: 'Brobygning til erhvervsuddannelse (tømrer)',
      responsibleUnit: 'Ungeindsatsen København',
      contact: { name: 'Ulla Vejleder' },
      period: { start, end },
      hoursPerWeek: 25,
      memberId: member.memberId,
    },
  });
  const { answer } = await registrationService(deps).register(demoCaseworker, DEMO_CONFLICT_KEY, request);
  const elementId = answer.elementId!;
  const targets = answer.deliveries.map((d) => d.target).sort();
  if (targets.join() !== 'dfdg,education') return { seeded: false, reason: `the registration went to ${targets.join(', ') || 'no system'}, not to DFDG and Ungedatabasen` };

  try {
    return await deliverAndChange(deps, { planId: plan.id, elementId, cpr, start, end });
  } catch (error) {
    // The demo still starts; the summary says why there is no conflict to show.
    return { seeded: false, reason: redactCpr(error instanceof Error ? error.message : String(error)).slice(0, 300) };
  }
}

/** The registered activity delivered, read back, changed at both systems and read again: what the merge then flags. */
async function deliverAndChange(deps: AppDeps, scenario: { planId: string; elementId: string; cpr: string; start: string; end: string }): Promise<DemoConflictOutcome> {
  const { planId, elementId, cpr, start, end } = scenario;
  const relayed = await runRelayOnce(deps, { tenant: DEMO_TENANT });
  if (relayed.delivered < 2) return { seeded: false, reason: `the relay delivered ${relayed.delivered} of 2` };
  const sync = async (trigger: string) => {
    for (const result of await runSyncRound(deps, { tenant: DEMO_TENANT, adapters: ['dfdg', 'education'], trigger, mappings: deps.mappings }))
      if (result.status !== 'succeeded') throw new Error(`the ${result.adapter} sync failed: ${result.error ?? 'no reason given'}`);
  };
  // The scheduled sync reads the delivered activity back from both systems: each confirms it.
  await sync('demo-conflict-confirm');

  // Both systems change the activity before the next sync, each through its own write service.
  const current = (await deps.store.plans.get(DEMO_TENANT, planId))!.interventions.find((i) => i.id === elementId)!;
  const extended: Intervention = { ...current, period: { start, end: addDays(end, 28) } };
  const shortened: Intervention = { ...current, period: { start, end: addDays(end, -14) } };
  const jobcentre = activityReverseMapping.map({ intervention: { ...extended, id: `dfdg:activity:${elementId}` }, authorityCode: DEMO_TENANT });
  const youthGuidance = planActivityReverseMapping.map({ intervention: { ...shortened, id: `education:plan-activity:${elementId}` } });
  if (!jobcentre.ok || !youthGuidance.ok) return { seeded: false, reason: `a sector-side change cannot be expressed: ${[jobcentre, youthGuidance].map((m) => (m.ok ? '' : m.reason)).join(' ')}` };
  const adapters = adaptersOf(deps, DEMO_TENANT);
  await adapters.dfdg!.push({ operation: activityReverseMapping.operation, cpr, payload: jobcentre.payload }, `${DEMO_CONFLICT_KEY}:jobcentre`);
  await adapters.education!.push({ operation: planActivityReverseMapping.operation, cpr, payload: youthGuidance.payload }, `${DEMO_CONFLICT_KEY}:youth-guidance`);

  await sync('demo-conflict-changes');
  const after = (await deps.store.plans.get(DEMO_TENANT, planId))!;
  return { seeded: true, planId, elementId, conflicts: after.conflicts.filter((c) => c.elementId === elementId && !c.resolvedAt).length };
}

/** The first enrolled adult with a plan of their own whom DFDG and Ungedatabasen both know and who lets both flow to Én plan. */
async function conflictSubject(deps: AppDeps, population: readonly SyntheticCitizen[]): Promise<{ plan: Plan; cpr: string } | null> {
  const today = deps.clock.now().toISOString().slice(0, 10);
  for (const citizen of population) {
    if (!citizen.sectors.employment || !citizen.sectors.education || ageOn(citizen.birthDate, today) < 18) continue;
    const row = await deps.store.citizens.findByAnyCprHash(DEMO_TENANT, await deps.vault.lookupHashes(DEMO_TENANT, citizen.cpr));
    if (!row) continue;
    const plans = await deps.store.plans.getMany(DEMO_TENANT, await deps.store.plans.idsForCitizen(DEMO_TENANT, row.id));
    const plan = plans.find((p) => p.subject.kind === 'citizen' && p.status === 'active');
    if (!plan) continue;
    const grants = (await deps.store.consents.forCitizens(DEMO_TENANT, [row.id])).filter((d) => d.kind === 'grant' && !d.revokedAt);
    const pulls = new Set(grants.map((g) => g.source));
    if (pulls.has('dfdg') && pulls.has('education')) return { plan, cpr: citizen.cpr };
  }
  return null;
}

async function grantSending(deps: AppDeps, citizenId: string, recipient: Recipient) {
  const document = ConsentGrant.parse({
    id: crypto.randomUUID(),
    tenant: DEMO_TENANT,
    citizenId,
    grantedBy: { citizenId, capacity: 'self' },
    source: 'enplan',
    recipient,
    categories: ['plan-core', 'goals', 'interventions'],
    purpose: 'Registrering én gang: Én plan sender indsatser til sektorsystemerne',
    validFrom: '2026-01-01',
    validTo: '2027-12-31',
    signed: { method: 'mitid', documentRef: `demo-consent-enplan-${recipient}`, textVersion: 'samtykke-2026-1', language: 'da' },
    createdAt: deps.clock.now().toISOString(),
  });
  await deps.store.consents.insert({ kind: 'grant', ...document });
}
