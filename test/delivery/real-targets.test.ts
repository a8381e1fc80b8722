/**
 * The push side against the REAL simulators over HTTP — DFDG and Ungedatabasen (SOAP), the social
 * system and the regional health system (FHIR on medplum) — with the real adapters and the real
 * reverse mappings (`defaultReverseMappings`). Exactly-once is read from the simulators' own
 * effect counters: per record id for the SOAP ones, per idempotency key for the FHIR ones.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Goal as RegionGoal } from '@medplum/fhirtypes';
import { createDfdgAdapter, type DfdgSimulator } from '../../adapters/dfdg';
import { createEducationAdapter, type EducationSimulator } from '../../adapters/education';
import { FFB_SYSTEM } from '../../adapters/fhir/systems';
import type { SectorSimulator } from '../../adapters/social/simulator';
import { activationTypes } from '../../mappings/dfdg';
import { educationProgrammes, planActivityTypes } from '../../mappings/education';
import { createRelay } from '../../src/delivery';
import type { DataCategory, Recipient } from '../../src/model';
import { fourTargetsForThisFile, TEST_RELAY, type FourTargets } from '../support/four-targets';
import type { startTestApp } from '../support/node-app';
import ffb from '../../mappings/social/codes/ffb.json' with { type: 'json' };
import { regionalActivities } from '../../mappings/health/codes';

let dfdg: DfdgSimulator;
let education: EducationSimulator;
let social: SectorSimulator;
let health: SectorSimulator;
let app: Awaited<ReturnType<typeof startTestApp>>;
const setUp = fourTargetsForThisFile({ timeoutMs: 500, soapHangMs: 1_500 });
const { clock, population } = setUp;
let targets: FourTargets;
beforeAll(() => {
  targets = setUp.targets();
  ({ dfdg, education, social, health, app } = targets);
});

async function call(method: string, path: string, body?: unknown, key?: string) {
  const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key) headers['idempotency-key'] = key;
  const response = await app.harness.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as any };
}

const used = new Set<string>();
/** A citizen the named systems know, not used by another test; a plan and every consent for them. */
async function enrol(needs: ('dfdg' | 'education' | 'social' | 'health')[], without: Recipient[] = []) {
  const known = {
    dfdg: new Set(dfdg.knownCitizens().map((c) => c.cpr)),
    education: new Set(education.knownCitizens().map((c) => c.cpr)),
    social: new Set(social.citizens.map((c) => c.cpr)),
    health: new Set(health.citizens.map((c) => c.cpr)),
  };
  const citizen = population.find((c) => !used.has(c.cpr) && needs.every((n) => known[n].has(c.cpr)));
  if (!citizen) throw new Error(`no unused citizen known to ${needs.join(', ')}`);
  used.add(citizen.cpr);
  const plan = (await call('POST', '/v1/plans', { cpr: citizen.cpr, origin: 'offered' })).body;
  const citizenId = plan.subject.member.citizenId as string;
  const grants: [Recipient, DataCategory[]][] = [['employment', ['goals', 'interventions', 'plan-core']], ['education', ['goals', 'interventions', 'plan-core']], ['social', ['goals', 'interventions', 'plan-core']], ['health', ['health']]];
  for (const [recipient, categories] of grants.filter(([recipient]) => !without.includes(recipient)))
    await app.deps.store.consents.insert({
      kind: 'grant',
      id: crypto.randomUUID(),
      tenant: '101',
      citizenId,
      grantedBy: { citizenId, capacity: 'self' },
      source: 'enplan',
      recipient,
      categories,
      explicitHealth: recipient === 'health',
      purpose: 'test',
      validFrom: '2020-01-01',
      signed: { method: 'digital', documentRef: 'd', textVersion: 'v1', language: 'da' },
      createdAt: clock.now().toISOString(),
    });
  return { planId: plan.id as string, memberId: plan.subject.member.memberId as string, citizenId };
}

const register = async (body: Record<string, unknown>) => {
  const answer = await call('POST', '/v1/registrations', body, `real-${crypto.randomUUID()}`);
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body as { id: string; elementId: string; deliveries: { target: string; outboxId: string }[]; notRouted: { target: string; cause: string; reason: string }[] };
};

const drain = (rounds = 100) => targets!.drain(rounds);

const employment = (memberId: string, extra: Record<string, unknown> = {}) => ({
  sector: 'employment',
  legalBasis: 'LAB § 32',
  type: { system: activationTypes.system, code: activationTypes.codes[0]!.code },
  title: 'Virksomhedspraktik',
  responsibleUnit: 'Jobcenter København',
  contact: { name: 'Karin Kontakt' },
  period: { start: '2026-12-01', end: '2027-03-01' },
  memberId,
  ...extra,
});
const socialIntervention = (memberId: string) => ({
  ...employment(memberId),
  sector: 'social',
  legalBasis: 'SEL § 85',
  type: { system: FFB_SYSTEM, code: ffb.concepts[0]!.code },
  title: 'Socialpædagogisk støtte',
});
const status = async (id: string) => (await call('GET', `/v1/registrations/${id}`)).body;

describe('delivery to the real simulators', () => {
  it('writes each target’s own format once, and a change updates the same record', async () => {
    const c = await enrol(['dfdg', 'social', 'health']);
    const activity = await register({ planId: c.planId, kind: 'intervention.added', intervention: employment(c.memberId) });
    const care = await register({ planId: c.planId, kind: 'intervention.added', intervention: socialIntervention(c.memberId) });
    const goal = await register({ planId: c.planId, kind: 'goal.added', goal: { level: 'sub', title: 'Stabil medicinering', sector: 'health', status: 'proposed' } });
    expect([activity, care, goal].map((r) => r.deliveries.map((d) => d.target))).toEqual([['dfdg'], ['social'], ['health']]);
    expect(await drain()).toEqual({ delivered: 3 });

    // DFDG holds one activity, identified by the element's own id; FHIR applied each key once.
    expect(dfdg.effectCounts()[activity.elementId]).toBe(1);
    expect(social.effects(care.deliveries[0]!.outboxId)).toBe(1);
    expect(health.effects(goal.deliveries[0]!.outboxId)).toBe(1);
    const goalReceipt = (await status(goal.id)).targets[0].receipt;
    expect(goalReceipt).toMatchObject({ targetId: expect.any(String), duplicate: false, mapping: 'health.goal.reverse@1.0.0' });

    // Changes: DFDG updates the same activity; the region's Goal is updated in place with If-Match.
    const changed = await register({ planId: c.planId, kind: 'intervention.changed', interventionId: activity.elementId, changes: { hoursPerWeek: 20 } });
    const goalChanged = await register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { status: 'active' } });
    expect(await drain()).toEqual({ delivered: 5 });
    expect(dfdg.effectCounts()[activity.elementId]).toBe(2);
    expect(Object.keys(dfdg.effectCounts()).filter((k) => k === activity.elementId)).toHaveLength(1);
    const updated = (await status(goalChanged.id)).targets[0];
    expect(updated.receipt.targetId).toBe(goalReceipt.targetId);
    expect(Number(updated.receipt.version)).toBeGreaterThan(Number(goalReceipt.version));
    expect(health.effects(goalChanged.deliveries[0]!.outboxId)).toBe(1);
    expect(changed.deliveries.map((d) => d.target)).toEqual(['dfdg']);
  });

  it('sends an education activity to education and to DFDG (R20), and reports a target with no place for an element', async () => {
    const c = await enrol(['education', 'dfdg']);
    const answer = await register({
      planId: c.planId,
      kind: 'intervention.added',
      intervention: { ...employment(c.memberId), sector: 'education', legalBasis: 'KUI § 2 a', type: { system: planActivityTypes.system, code: planActivityTypes.codes[0]!.code }, title: 'Uddannelsesvejledning' },
    });
    expect(answer.deliveries.map((d) => d.target).sort()).toEqual(['dfdg', 'education']);
    expect(answer.notRouted).toEqual([]);
    const dfdgBefore = Object.values(dfdg.effectCounts()).reduce((a, b) => a + b, 0);
    // No sector system holds the coordinator: nothing is queued, and the answer says so.
    const coordinator = await register({ planId: c.planId, kind: 'coordinator.changed', coordinator: { kind: 'caseworker', name: 'Ny', sector: 'employment', unit: 'Jobcenter' } });
    expect(coordinator.deliveries).toEqual([]);
    const before = Object.values(education.effectCounts()).reduce((a, b) => a + b, 0);
    expect(await drain()).toMatchObject({ delivered: expect.any(Number) });
    const targets = (await status(answer.id)).targets as { target: string; status: string }[];
    expect(targets.map((t) => [t.target, t.status]).sort()).toEqual([['dfdg', 'delivered'], ['education', 'delivered']]);
    expect(Object.values(education.effectCounts()).reduce((a, b) => a + b, 0)).toBe(before + 1);
    expect(Object.values(dfdg.effectCounts()).reduce((a, b) => a + b, 0)).toBe(dfdgBefore + 1);
  });

  it('sends an education goal with its programme to Ungedatabasen, and says why one without a programme cannot go', async () => {
    const c = await enrol(['education', 'dfdg']);
    const programme = educationProgrammes.codes[0]!;
    const before = Object.values(education.effectCounts()).reduce((a, b) => a + b, 0);
    const withProgramme = await register({
      planId: c.planId,
      kind: 'goal.added',
      goal: { level: 'overall', title: 'Tømreruddannelse', sector: 'education', topics: ['education-goal'], code: { system: educationProgrammes.system, code: programme.code, display: programme.display } },
    });
    expect(withProgramme.deliveries.map((d) => d.target)).toEqual(['education']);
    const withoutProgramme = await register({ planId: c.planId, kind: 'goal.added', goal: { level: 'sub', title: 'Afklaring af uddannelsesvalg', sector: 'education', topics: ['education-goal'] } });
    expect(withoutProgramme.deliveries).toEqual([]);
    expect(withoutProgramme.notRouted).toEqual(expect.arrayContaining([expect.objectContaining({ target: 'education', cause: 'target', reason: expect.stringContaining('programme code') })]));
    await drain();
    expect((await status(withProgramme.id)).targets[0]).toMatchObject({ target: 'education', status: 'delivered' });
    expect(Object.values(education.effectCounts()).reduce((a, b) => a + b, 0)).toBe(before + 1);
  });

  it('a changed job goal and a follow-up marked done update the one record at DFDG, never a second (R17, R18)', async () => {
    const c = await enrol(['dfdg']);
    const cpr = [...used].at(-1)!;
    const goal = await register({ planId: c.planId, kind: 'goal.added', goal: { level: 'overall', title: 'Job som tømrer', sector: 'employment', topics: ['job-goal'] } });
    const followUp = await register({ planId: c.planId, kind: 'followup.scheduled', followUp: { due: '2027-01-10', text: 'Opfølgning på jobsøgning', elementId: goal.elementId } });
    const agreement = await register({ planId: c.planId, kind: 'agreement.added', agreement: { text: 'Søg 3 job om ugen', agreedAt: '2026-11-23', parties: ['borger', 'jobcenter'], sector: 'employment', topics: ['job-search'] } });
    expect([goal, followUp, agreement].map((r) => r.deliveries.map((d) => d.target))).toEqual([['dfdg'], ['dfdg'], ['dfdg']]);
    await drain();
    await register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { title: 'Job som tømrer (fuld tid)' } });
    await register({ planId: c.planId, kind: 'followup.done', followUpId: followUp.elementId });
    await drain();
    for (const r of [goal, followUp, agreement]) expect((await status(r.id)).targets[0]).toMatchObject({ target: 'dfdg', status: 'delivered' });

    const adapter = createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' }, timeoutMs: 2000 });
    const plan = (await adapter.pull({ citizenId: 'c', cpr })).records.find((r) => r.recordType === 'employment-plan')!.payload as any;
    const held = (name: string) => [plan.MyPlanItem?.[name] ?? plan[name] ?? []].flat() as any[];
    // One JobGoal, one FollowUp, one agreement — each under the element's own id, the latest content.
    const goals = held('JobGoal').filter((g) => String(g.JobGoalText).startsWith('Job som tømrer'));
    expect(goals).toEqual([expect.objectContaining({ JobGoalIdentifier: goal.elementId, JobGoalText: 'Job som tømrer (fuld tid)' })]);
    const followUps = held('FollowUp').filter((f) => f.FollowUpText === 'Opfølgning på jobsøgning');
    expect(followUps).toHaveLength(1);
    expect(followUps[0]).toMatchObject({ FollowUpIdentifier: followUp.elementId });
    expect(String(followUps[0].FollowUpCompletedIndicator)).toBe('true');
    expect(held('JobSearchAgreement').filter((a) => a.AgreementText === 'Søg 3 job om ugen')).toEqual([expect.objectContaining({ JobSearchAgreementIdentifier: agreement.elementId })]);
  });

  it('tells Ungedatabasen the plan’s next open follow-up: marking the earlier one done moves it forward, not back (R17, R20)', async () => {
    const c = await enrol(['education', 'dfdg']);
    const cpr = [...used].at(-1)!;
    const programme = educationProgrammes.codes[0]!;
    const goal = await register({
      planId: c.planId,
      kind: 'goal.added',
      goal: { level: 'overall', title: 'Tømreruddannelse', sector: 'education', topics: ['education-goal'], code: { system: educationProgrammes.system, code: programme.code, display: programme.display } },
    });
    const first = await register({ planId: c.planId, kind: 'followup.scheduled', followUp: { due: '2027-01-10', text: 'Første samtale', elementId: goal.elementId } });
    const second = await register({ planId: c.planId, kind: 'followup.scheduled', followUp: { due: '2027-02-10', text: 'Anden samtale', elementId: goal.elementId } });
    expect(first.deliveries.map((d) => d.target)).toContain('education');
    await drain();
    const adapter = createEducationAdapter({ baseUrl: education.url, municipalityCode: '101', timeoutMs: 2000 });
    const next = async () => ((await adapter.pull({ citizenId: 'c', cpr })).records.find((r) => r.recordType === 'education-plan')!.payload as any).NaesteOpfoelgning;
    // The later one scheduled second does not push the next follow-up forward past the open earlier one.
    expect(await next()).toBe('2027-01-10');
    const done = await register({ planId: c.planId, kind: 'followup.done', followUpId: first.elementId });
    await drain();
    expect((await status(done.id)).targets.find((t: { target: string }) => t.target === 'education')).toMatchObject({ status: 'delivered' });
    expect(await next()).toBe('2027-02-10');
    // The last one done: nothing remains open, so nothing goes to Ungedatabasen (and the answer says why).
    const last = await register({ planId: c.planId, kind: 'followup.done', followUpId: second.elementId });
    expect(last.deliveries.map((d) => d.target)).not.toContain('education');
    expect(last.notRouted).toContainEqual(expect.objectContaining({ target: 'education', cause: 'target', reason: expect.stringMatching(/no follow-up .* remains open/) }));
    await drain();
    expect(await next()).toBe('2027-02-10');
  });

  it('tells the region a requested service ended, on the request it holds; one never sent is not routed (R18)', async () => {
    const c = await enrol(['health']);
    const activity = regionalActivities.concepts[0]!;
    const requested = (title: string) => ({
      ...employment(c.memberId),
      sector: 'health',
      legalBasis: 'Sundhedsloven § 140',
      type: { system: regionalActivities.system, code: activity.code },
      title,
      responsibleUnit: 'Sundhed og Omsorg',
    });
    const read = async (id: string) => (await (await fetch(`${health.baseUrl}/ServiceRequest/${id}`, { headers: { accept: 'application/fhir+json' } })).json()) as { status: string; identifier: { value: string }[] };
    const added = await register({ planId: c.planId, kind: 'intervention.added', intervention: requested('Udskrivningskonference') });
    expect(added.deliveries.map((d) => d.target)).toEqual(['health']);
    await drain();
    const requestId = (await status(added.id)).targets[0].receipt.targetId as string;
    expect((await read(requestId)).status).toBe('active');

    const end = await register({ planId: c.planId, kind: 'intervention.ended', interventionId: added.elementId, endDate: '2027-02-01' });
    expect(end.deliveries.map((d) => d.target)).toEqual(['health']);
    await drain();
    // The same ServiceRequest, updated to completed (no second one made).
    expect((await status(end.id)).targets[0]).toMatchObject({ status: 'delivered', receipt: { targetId: requestId, mapping: 'health.service-request.reverse@1.1.0' } });
    expect(await read(requestId)).toMatchObject({ status: 'completed', identifier: [expect.objectContaining({ value: added.elementId })] });
    expect(health.effects(end.deliveries[0]!.outboxId)).toBe(1);

    // Added without the region getting it (no health consent then): ending it has nothing to end there.
    const other = await enrol(['health'], ['health']);
    const unsent = await register({ planId: other.planId, kind: 'intervention.added', intervention: { ...requested('Koordinationsmøde'), memberId: other.memberId } });
    expect(unsent.deliveries).toEqual([]);
    expect(unsent.notRouted).toContainEqual(expect.objectContaining({ target: 'health', cause: 'consent' }));
    await app.deps.store.consents.insert({
      kind: 'grant', id: crypto.randomUUID(), tenant: '101', citizenId: other.citizenId, grantedBy: { citizenId: other.citizenId, capacity: 'self' }, source: 'enplan', recipient: 'health', categories: ['health'],
      explicitHealth: true, purpose: 'test', validFrom: '2020-01-01', signed: { method: 'digital', documentRef: 'd', textVersion: 'v1', language: 'da' }, createdAt: clock.now().toISOString(),
    });
    const endUnsent = await register({ planId: other.planId, kind: 'intervention.ended', interventionId: unsent.elementId, endDate: '2027-02-01' });
    expect(endUnsent.deliveries).toEqual([]);
    expect(endUnsent.notRouted).toContainEqual(expect.objectContaining({ target: 'health', cause: 'target', reason: expect.stringMatching(/never sent a request/) }));
  });

  it('cancels (never creates) the end of a regional request whose own delivery never reached the region (R18)', async () => {
    const c = await enrol(['health']);
    const activity = regionalActivities.concepts[0]!;
    const added = await register({
      planId: c.planId,
      kind: 'intervention.added',
      intervention: { ...employment(c.memberId), sector: 'health', legalBasis: 'Sundhedsloven § 140', type: { system: regionalActivities.system, code: activity.code }, title: 'Koordinationsmøde', responsibleUnit: 'Sundhed' },
    });
    // Queued behind the request: routed, since the request is on its way.
    const end = await register({ planId: c.planId, kind: 'intervention.ended', interventionId: added.elementId, endDate: '2027-02-01' });
    expect(end.deliveries.map((d) => d.target)).toEqual(['health']);
    // The request never goes: health consent is revoked before the relay runs, then given again.
    const grants = await app.deps.store.consents.forCitizens('101', [c.citizenId]);
    const healthGrant = grants.find((g) => g.kind === 'grant' && g.recipient === 'health')!;
    await app.deps.store.consents.replace({ ...healthGrant, revokedAt: clock.now().toISOString(), revokedBy: 'citizen' } as never);
    await createRelay(app.deps, TEST_RELAY).runOnce();
    expect((await status(added.id)).targets[0]).toMatchObject({ status: 'cancelled' });
    clock.advance(60_000);
    await app.deps.store.consents.insert({ ...healthGrant, id: crypto.randomUUID(), createdAt: clock.now().toISOString() } as never);
    await drain();
    const ended = (await status(end.id)).targets[0];
    expect(ended).toMatchObject({ status: 'cancelled' });
    expect(JSON.stringify(ended)).toMatch(/never sent a request for this intervention/);
    expect(health.effects(end.deliveries[0]!.outboxId)).toBe(0);
  });

  it('a FHIR answer 200 that carries an OperationOutcome is no delivery: retried with its diagnostics, then delivered once (F2, R13)', async () => {
    const c = await enrol(['social']);
    const care = await register({ planId: c.planId, kind: 'intervention.added', intervention: socialIntervention(c.memberId) });
    const change = async (title: string) => (await register({ planId: c.planId, kind: 'intervention.changed', interventionId: care.elementId, changes: { title } })).deliveries[0]!.outboxId;
    let update = '';
    // A create and an update, each refused behind a success status.
    social.setFaults({ errorOutcomeRate: 1, scope: { method: 'POST', resourceType: 'CarePlan' } });
    try {
      await createRelay(app.deps, TEST_RELAY).runOnce();
      expect(await status(care.id)).toMatchObject({ targets: [{ status: 'retrying', lastError: expect.stringContaining('Simulated refusal behind a success status') }] });
      social.setFaults({ errorOutcomeRate: 0 });
      await drain();
      expect(await status(care.id)).toMatchObject({ targets: [{ status: 'delivered' }] });
      update = await change('Socialpædagogisk støtte, 6 timer');
      social.setFaults({ errorOutcomeRate: 1, scope: { method: 'PUT' } });
      await createRelay(app.deps, TEST_RELAY).runOnce();
      expect(await app.deps.store.outbox.get('101', update)).toMatchObject({ status: 'retrying', lastError: expect.stringContaining('Simulated refusal behind a success status') });
    } finally {
      social.setFaults({ errorOutcomeRate: 0, scope: undefined });
    }
    await drain();
    expect(await app.deps.store.outbox.get('101', update)).toMatchObject({ status: 'delivered' });
    expect(social.effects(update)).toBe(1);
    // The change after it is an update of the same CarePlan, with the version the update gave.
    const next = await change('Socialpædagogisk støtte, 8 timer');
    await drain();
    const [first, second, third] = [care.deliveries[0]!.outboxId, update, next].map((id) => app.deps.store.outbox.get('101', id));
    const rows = await Promise.all([first, second, third]);
    expect(rows.map((row) => row!.status)).toEqual(['delivered', 'delivered', 'delivered']);
    const receipts = rows.map((row) => JSON.parse(row!.receipt!) as { targetId: string; version: string });
    expect(new Set(receipts.map((r) => r.targetId)).size).toBe(1);
    expect(receipts.map((r) => Number(r.version))).toEqual([1, 2, 3]);
  });

  it('after the region edits a Goal we made there, our changes still reach it as field-level patches, keeping what the region wrote (F4, R18)', async () => {
    const c = await enrol(['health']);
    const goal = await register({ planId: c.planId, kind: 'goal.added', goal: { level: 'sub', title: 'Stabil medicinering', sector: 'health', status: 'proposed' } });
    await drain();
    const goalId = (await status(goal.id)).targets[0].receipt.targetId as string;
    const read = () => health.repository.readResource<RegionGoal>('Goal', goalId);
    // The region's caseworker sets a field our mapping does not own; the Goal's version moves on.
    const regionEdit = async () => health.repository.updateResource({ ...(await read()), priority: { text: 'Høj prioritet' } });
    await regionEdit();
    const receiptOf = async (outboxId: string) => {
      const row = await app.deps.store.outbox.get('101', outboxId);
      expect(row, JSON.stringify(row)).toMatchObject({ status: 'delivered' });
      return JSON.parse(row!.receipt!) as { targetId: string; version: string };
    };

    const activated = (await register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { status: 'active' } })).deliveries[0]!.outboxId;
    await drain();
    const afterFirst = await read();
    expect(afterFirst).toMatchObject({ lifecycleStatus: 'active', description: { text: 'Stabil medicinering' }, priority: { text: 'Høj prioritet' } });
    expect(await receiptOf(activated)).toEqual(expect.objectContaining({ targetId: goalId, version: afterFirst.meta!.versionId }));
    expect(health.effects(activated)).toBe(1);

    // The next change goes from the version that patch gave, and still leaves the region's field alone.
    const renamed = (await register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { title: 'Stabil medicinering og søvn' } })).deliveries[0]!.outboxId;
    await drain();
    const afterSecond = await read();
    expect(afterSecond).toMatchObject({ lifecycleStatus: 'active', description: { text: 'Stabil medicinering og søvn' }, priority: { text: 'Høj prioritet' } });
    expect(await receiptOf(renamed)).toEqual(expect.objectContaining({ targetId: goalId, version: afterSecond.meta!.versionId }));

    // The region edits again and once more right after our read of it: the patch is refused once (412) and sent again.
    await regionEdit();
    const readResource = health.repository.readResource.bind(health.repository);
    let raced = false;
    health.repository.readResource = (async (type: string, id: string) => {
      const answer = await readResource(type, id);
      if (!raced && type === 'Goal' && id === goalId) {
        raced = true;
        await health.repository.updateResource({ ...(answer as RegionGoal), priority: { text: 'Haster' } });
      }
      return answer;
    }) as typeof health.repository.readResource;
    let achieved: string;
    try {
      achieved = (await register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { status: 'achieved' } })).deliveries[0]!.outboxId;
      await drain();
    } finally {
      health.repository.readResource = readResource;
    }
    expect(raced).toBe(true);
    const afterRace = await read();
    expect(afterRace).toMatchObject({ lifecycleStatus: 'completed', description: { text: 'Stabil medicinering og søvn' }, priority: { text: 'Haster' } });
    expect(await receiptOf(achieved)).toEqual(expect.objectContaining({ targetId: goalId, version: afterRace.meta!.versionId }));
    expect(health.effects(achieved)).toBe(1);
  });

  it('F2 on the real simulators: 30 % 5xx, 10 % timeouts, 5 % malformed — all delivered, each once in effect', { timeout: 120_000 }, async () => {
    const faults = { errorRate: 0.3, timeoutRate: 0.1, malformedRate: 0.05 };
    dfdg.setFaults(faults);
    social.setFaults(faults);
    health.setFaults(faults);
    try {
      const made: { target: string; outboxId: string; elementId: string }[] = [];
      for (let i = 0; i < 4; i++) {
        const c = await enrol(['dfdg', 'social', 'health']);
        for (const body of [
          { kind: 'intervention.added', intervention: employment(c.memberId) },
          { kind: 'intervention.added', intervention: socialIntervention(c.memberId) },
          { kind: 'goal.added', goal: { level: 'sub', title: `Mål ${i}`, sector: 'health' } },
          { kind: 'intervention.added', intervention: employment(c.memberId, { title: 'Anden praktik' }) },
        ]) {
          const answer = await register({ planId: c.planId, ...body });
          for (const d of answer.deliveries) made.push({ ...d, elementId: answer.elementId });
        }
      }
      const counts = await drain(200);
      expect(counts.dead ?? 0).toBe(0);
      expect((counts.pending ?? 0) + (counts.retrying ?? 0)).toBe(0);
      for (const m of made) {
        expect((await app.deps.store.outbox.get('101', m.outboxId))!.status).toBe('delivered');
        if (m.target === 'dfdg') expect(dfdg.effectCounts()[m.elementId]).toBe(1);
        else expect((m.target === 'social' ? social : health).effects(m.outboxId)).toBe(1);
      }
      expect(made.length).toBe(16);
    } finally {
      const none = { errorRate: 0, timeoutRate: 0, malformedRate: 0 };
      dfdg.setFaults(none);
      social.setFaults(none);
      health.setFaults(none);
    }
  });
});
