/**
 * The region's own say weighed for the health system's subscriptions (decision 0014, session 24).
 * The sync refuses the region's data where its current Consent does not permit sharing; until now a
 * vendor of the regional health system still heard of the plan (ids, statuses, what changed) on the
 * citizen's grant alone. Now the say the sync reads is kept (`regional_refusals`), the fan-out and
 * the send-time check weigh it, and the system is told when its sharing ends and begins again
 * (`plan.unshared`, `plan.shared`) — on a refusal read by the sync, a permit's last day passed (nightly
 * job), and a permit dated to start later (nightly job, which also lets the data flow on that day).
 * Real health simulator over HTTP, libSQL, a real receiver on loopback, the app's routes.
 */
import { createServer, type Server } from 'node:http';
import type { CarePlan, Consent } from '@medplum/fhirtypes';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { healthRecordsFor } from '../../adapters/health/records';
import { generatePopulation } from '../../adapters/shared/population';
import { membersOf, type Plan } from '../../src/model';
import { monitoringOverview } from '../../src/monitoring/overview';
import { nodeSubscriptionTransport } from '../../src/runtime/subscription-transport';
import { regionalRefusals } from '../../src/store/schema';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { runRetention } from '../../src/sync/retention';
import { runSubscriptionDeliveries } from '../../src/subscriptions/service';
import { danishToday } from '../../src/views/danish';
import { TestClock } from '../registrations/fixture';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';
import { HEALTH_SEED, regionConsents, withdrawn } from '../support/region-consent';
import { dfdgAndHealthSimulators } from '../support/sector-simulators';

const population = generatePopulation(12, 7373).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: true } }));
const simulators = dfdgAndHealthSimulators(population);
const DAY = 86_400_000;

let receiver: Server;
let receiverUrl: string;
let received: { type: string; planId?: string }[] = [];
beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const event = JSON.parse(body) as { type: string; data: { planId?: string } };
      received.push({ type: event.type, planId: event.data.planId });
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/health-events`;
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
beforeEach(() => {
  received = [];
});

async function freshApp(clock = new TestClock(Date.now())) {
  const app = await startTestApp({ clock, env: { SUBSCRIPTION_ALLOWED_HOSTS: '127.0.0.1' }, adapters: { health: createHealthAdapter({ baseUrl: simulators.health.baseUrl, timeoutMs: 5000 }) }, mappings: allMappings });
  app.deps.subscriptionTransport = nodeSubscriptionTransport(app.deps.config.subscriptions.allowedHosts);
  const vendor = await app.harness.token({ tenant: '101', roles: ['vendor'], sub: 'vendor-region', system: 'health' } as never);
  const subscribed = await app.harness.request('/v1/subscriptions', { method: 'POST', headers: { authorization: `Bearer ${vendor}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: receiverUrl }) });
  expect(subscribed.status).toBe(201);
  const sync = async () => expect((await runSync(app.deps, { tenant: '101', adapter: 'health', trigger: 'test', mappings: allMappings })).status).toBe('succeeded');
  /** Sends what is due, and answers what this plan's subscriber heard of it. */
  const deliver = async (plan: Plan) => {
    await runSubscriptionDeliveries(app.deps, { random: () => 0 });
    const heard = received.filter((r) => r.planId === plan.id).map((r) => r.type);
    received = received.filter((r) => r.planId !== plan.id);
    return heard;
  };
  const refusals = () => app.database.db.select({ citizenId: regionalRefusals.citizenId, recordId: regionalRefusals.recordId, reason: regionalRefusals.reason, permitsFrom: regionalRefusals.permitsFrom }).from(regionalRefusals);
  return { ...app, clock, sync, deliver, refusals };
}
type App = Awaited<ReturnType<typeof freshApp>>;

const citizenIdOf = (plan: Plan) => membersOf(plan)[0]!.citizenId;
/** Enrols the citizen of this ordinal with their explicit consent that the region's health data flow into the plan. */
async function enrolWithHealthConsent(app: App, ordinal: number) {
  const plan = await enrol(app.deps, population[ordinal]!.cpr);
  await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'health', categories: ['health'], explicitHealth: true });
  return plan;
}
const healthElementsOf = async (app: App, plan: Plan) => {
  const stored = (await app.deps.store.plans.get('101', plan.id))!;
  return [...stored.goals, ...stored.interventions, ...stored.situationNotes, ...stored.careTeams].filter((e) => e.provenance.some((p) => p.kind === 'source' && p.system === 'health')).length;
};
const { consentIdOf, regionRecords } = regionConsents(simulators);
const period = (start: string, end: string) => (c: Consent): Consent => ({ ...c, provision: { ...c.provision, period: { start, end } } });
/** A caseworker's change to the plan: an event every system the plan concerns hears of. */
async function caseworkerChanges(app: App, plan: Plan) {
  const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
  const response = await app.harness.request('/v1/registrations', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    body: JSON.stringify({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Egen bolig', sector: 'social' } }),
  });
  expect(response.status).toBe(202);
}

describe('the region’s own say, weighed for the health system’s subscriptions', () => {
  it('a withdrawal at the region ends the health system’s events of the plan with plan.unshared; a permit again begins them with plan.shared', async () => {
    const app = await freshApp();
    const plan = await enrolWithHealthConsent(app, 0);
    await regionRecords(0);
    await app.sync();
    expect(await healthElementsOf(app, plan)).toBeGreaterThan(0);
    expect(await app.deliver(plan)).toContain('plan.changed');

    await regionRecords(0, withdrawn);
    await app.sync();
    expect(await healthElementsOf(app, plan)).toBe(0);
    expect(await app.refusals()).toEqual([{ citizenId: citizenIdOf(plan), recordId: consentIdOf(0), reason: 'the region records that the citizen withdrew its consent to share health data with the municipality', permitsFrom: null }]);
    // Told to stop holding the plan; the write that took the region's data out is not theirs to hear of.
    expect(await app.deliver(plan)).toEqual(['plan.unshared']);
    // IT staff see how many citizens' region does not share: in the overview, on /metrics and the dashboard.
    expect((await monitoringOverview(app.deps, '101')).regionalRefusals).toEqual({ health: 1 });
    const itStaff = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
    expect(await (await app.harness.request('/metrics', { headers: { authorization: `Bearer ${itStaff}` } })).text()).toMatch(/^enplan_regional_refusals\{[^}]*source="health"[^}]*\} 1$/m);
    expect(await (await app.harness.request('/dashboard', { headers: { cookie: `enplan_session=${itStaff}` } })).text()).toContain('The region does not share health data with the municipality for 1 citizen');

    // The plan's next change concerns the health system no more, though the citizen's grant stands.
    await caseworkerChanges(app, plan);
    expect(await app.deliver(plan)).toEqual([]);
    // A sync that reads the same refusal again tells nothing twice.
    const carePlan = healthRecordsFor(simulators.health.citizens[0]!, 0, HEALTH_SEED).find((r) => r.resourceType === 'CarePlan')!;
    const current = await simulators.health.repository.readResource<CarePlan>('CarePlan', carePlan.id!);
    await simulators.health.repository.updateResource<CarePlan>({ ...current, description: 'Justeret' });
    await app.sync();
    expect(await app.deliver(plan)).toEqual([]);

    // The citizen permits at the region again: told first, then what flows.
    await regionRecords(0);
    await app.sync();
    await app.sync();
    expect(await healthElementsOf(app, plan)).toBeGreaterThan(0);
    expect(await app.refusals()).toEqual([]);
    expect((await monitoringOverview(app.deps, '101')).regionalRefusals).toEqual({});
    const heard = await app.deliver(plan);
    expect(heard[0]).toBe('plan.shared');
    expect(heard.slice(1)).toContain('plan.changed');
    expect(heard.filter((t) => t === 'plan.shared')).toHaveLength(1);
    await app.close();
  });

  it('a plan the health department receives registrations of stays shared with the health system: the flow out of the plan is not the region’s to refuse', async () => {
    const app = await freshApp();
    const plan = await enrolWithHealthConsent(app, 1);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'enplan', recipient: 'health', categories: ['goals'] });
    await regionRecords(1);
    await app.sync();
    expect(await app.deliver(plan)).toContain('plan.changed');
    await regionRecords(1, withdrawn);
    await app.sync();
    expect(await healthElementsOf(app, plan)).toBe(0);
    expect(await app.refusals()).toHaveLength(1);
    // The removal's write is theirs to hear of; no plan.unshared.
    expect(await app.deliver(plan)).toEqual(['plan.changed']);
    await caseworkerChanges(app, plan);
    expect(await app.deliver(plan)).toEqual(['plan.changed']);
    await app.close();
  });

  it('a permit whose last day has passed stops the events at once, and the nightly job that ends it tells plan.unshared', async () => {
    const clock = new TestClock(Date.now());
    const app = await freshApp(clock);
    const plan = await enrolWithHealthConsent(app, 2);
    const lastDay = danishToday(clock.now());
    await regionRecords(2, period('2025-01-01', lastDay));
    await app.sync();
    expect(await app.deliver(plan)).toContain('plan.changed');

    // Two days on, nothing changed at the region, and the nightly job has not run yet.
    clock.advance(2 * DAY);
    await caseworkerChanges(app, plan);
    expect(await app.deliver(plan)).toEqual([]);
    expect(await runRetention(app.deps)).toMatchObject({ regionalConsentsLapsed: 1 });
    expect(await app.refusals()).toEqual([{ citizenId: citizenIdOf(plan), recordId: consentIdOf(2), reason: `the region's consent to share health data with the municipality ended on ${lastDay}`, permitsFrom: null }]);
    expect(await app.deliver(plan)).toEqual(['plan.unshared']);
    expect(await runRetention(app.deps)).toMatchObject({ regionalConsentsLapsed: 0 });
    expect(await app.deliver(plan)).toEqual([]);
    await app.close();
  });

  it('a permit dated to start later holds the data and the events back until its first day; then the nightly job lets both flow, with no change at the region', async () => {
    const clock = new TestClock(Date.now());
    const app = await freshApp(clock);
    const plan = await enrolWithHealthConsent(app, 3);
    // The vendor heard of the plan on the citizen's grant alone.
    expect(await app.deliver(plan)).toContain('plan.created');
    const firstDay = danishToday(new Date(clock.now().getTime() + 2 * DAY));
    await regionRecords(3, period(firstDay, '2099-12-31'));
    await app.sync();
    expect(await healthElementsOf(app, plan)).toBe(0);
    expect(await app.refusals()).toEqual([{ citizenId: citizenIdOf(plan), recordId: consentIdOf(3), reason: `the region's consent to share health data with the municipality starts on ${firstDay}`, permitsFrom: firstDay }]);
    expect(await app.deliver(plan)).toEqual(['plan.unshared']);
    await caseworkerChanges(app, plan);
    expect(await app.deliver(plan)).toEqual([]);
    // The night before its first day: nothing yet.
    clock.advance(DAY);
    expect(await runRetention(app.deps)).toMatchObject({ regionalPermitsStarted: 0 });

    clock.advance(DAY);
    expect(await runRetention(app.deps)).toMatchObject({ regionalPermitsStarted: 1, startFailures: 0 });
    expect(await app.refusals()).toEqual([]);
    expect(await app.deliver(plan)).toEqual(['plan.shared']);
    const started = (await app.deps.store.audit.list('101', { citizenId: citizenIdOf(plan) })).filter((a) => a.action === 'consent.took-effect');
    expect(started).toEqual([expect.objectContaining({ actor: 'system:consent-start', targetType: 'regional-consent', targetId: consentIdOf(3), detail: expect.objectContaining({ kind: 'regional', source: 'health', validFrom: firstDay }) })]);
    // The next sync reads the citizen in full, though the region changed nothing: the data flows from its first day.
    await app.sync();
    expect(await healthElementsOf(app, plan)).toBeGreaterThan(0);
    expect(await app.deliver(plan)).toContain('plan.changed');
    expect(await runRetention(app.deps)).toMatchObject({ regionalPermitsStarted: 0 });
    await app.close();
  });
});

describe('a regional permit’s first day, racing the region’s withdrawal of it', () => {
  it('the nightly job does nothing once a sync stored the withdrawal between its look and its write: no plan.shared, no read-again, nothing audited', async () => {
    const clock = new TestClock(Date.now());
    const app = await freshApp(clock);
    const plan = await enrolWithHealthConsent(app, 4);
    await app.deliver(plan);
    const firstDay = danishToday(new Date(clock.now().getTime() + DAY));
    await regionRecords(4, period(firstDay, '2099-12-31'));
    await app.sync();
    expect(await app.deliver(plan)).toEqual(['plan.unshared']);
    clock.advance(DAY);

    // Just before the job's batch, the region withdraws the permit and a sync stores that.
    const { audit } = app.deps.store;
    const appendMany = audit.appendMany;
    let withdrawnMeanwhile = false;
    audit.appendMany = async (...args: Parameters<typeof appendMany>) => {
      if (!withdrawnMeanwhile && args[1].some((entry) => entry.action === 'consent.took-effect')) {
        withdrawnMeanwhile = true;
        await regionRecords(4, withdrawn);
        await app.sync();
      }
      return appendMany.apply(audit, args);
    };
    expect(await runRetention(app.deps)).toMatchObject({ startFailures: 0 });
    audit.appendMany = appendMany;
    expect(withdrawnMeanwhile).toBe(true);

    expect(await app.refusals()).toEqual([{ citizenId: citizenIdOf(plan), recordId: consentIdOf(4), reason: 'the region records that the citizen withdrew its consent to share health data with the municipality', permitsFrom: null }]);
    // Told nothing: the plan was not shared with the health system since the first refusal.
    expect(await app.deliver(plan)).toEqual([]);
    expect((await app.deps.store.audit.list('101', { citizenId: citizenIdOf(plan) })).filter((a) => a.action === 'consent.took-effect')).toEqual([]);
    await app.sync();
    expect(await healthElementsOf(app, plan)).toBe(0);
    await app.close();
  });
});
