/**
 * What IT staff do with a quarantined record: retry it after the mapping is fixed (the next sync
 * reads that citizen from that system again and merges the record), or dismiss it; both leave the
 * open list and the audit log, and neither is open to other roles or other municipalities.
 */
import { describe, expect, it } from 'vitest';
import { createDfdgAdapter } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { membersOf, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { startTestApp } from '../support/node-app';
import { activityMapping, beforeTheFix } from '../support/refusing-activities';
import { dfdgSimulator } from '../support/sector-simulators';
import { enrol, grantConsent } from '../support/seed';
import { quarantine as quarantineTable } from '../../src/store/schema';
import { eq } from 'drizzle-orm';

const population = generatePopulation(8, 6161).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: false } }));
const simulators = dfdgSimulator(population);


const citizenIdOf = (plan: Plan) => membersOf(plan)[0]!.citizenId;
const activitiesIn = (plan: Plan) => plan.interventions.filter((i) => i.provenance.some((p) => p.kind === 'source' && p.mappingId === activityMapping.id));

describe('resolving quarantined records', () => {
  it('retry reads the citizen again on the next sync and merges what the fixed mapping now accepts; dismiss closes the entry', async () => {
    const app = await startTestApp({ adapters: { dfdg: createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings });
    const plans = [await enrol(app.deps, population[0]!.cpr), await enrol(app.deps, population[1]!.cpr)];
    for (const plan of plans) await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
    const first = await runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: beforeTheFix });
    expect(first.stats.quarantined).toBeGreaterThan(0);

    const it = { authorization: `Bearer ${await app.harness.token({ tenant: '101', roles: ['it-staff'] })}`, 'content-type': 'application/json' };
    const open = async () => ((await (await app.harness.request('/v1/sync/quarantine', { headers: it })).json()) as { records: { id: string; recordType: string }[] }).records;
    const resolve = (id: string, body: unknown, headers: Record<string, string> = it) => app.harness.request(`/v1/sync/quarantine/${id}/resolve`, { method: 'POST', headers, body: JSON.stringify(body) });
    const entries = await app.deps.store.sync.quarantined('101');
    const ofCitizen = (plan: Plan) => entries.filter((e) => e.citizenId === citizenIdOf(plan));
    expect(ofCitizen(plans[0]!).length).toBeGreaterThan(0);
    expect(ofCitizen(plans[1]!).length).toBeGreaterThan(0);

    // Retry the first citizen's entries, dismiss the second's.
    for (const entry of ofCitizen(plans[0]!)) {
      const answer = await resolve(entry.id, { action: 'retry', note: 'activation type list extended' });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ id: entry.id, resolution: 'retried' });
    }
    for (const entry of ofCitizen(plans[1]!)) expect((await resolve(entry.id, { action: 'dismiss' })).status).toBe(200);
    expect(await open()).toEqual([]);
    // Resolved once: a second resolution is refused.
    const again = await resolve(entries[0]!.id, { action: 'dismiss' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { type: string }).type).toBe('/problems/quarantine-resolved');

    // The fixed mapping: the retried citizen's activities merge on the next run, the dismissed one's are not read again.
    const second = await runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings });
    expect(second.stats.citizensPulled).toBe(1);
    expect(second.stats.quarantined).toBe(0);
    expect(activitiesIn((await app.deps.store.plans.get('101', plans[0]!.id))!).length).toBe(ofCitizen(plans[0]!).length);
    expect(activitiesIn((await app.deps.store.plans.get('101', plans[1]!.id))!)).toEqual([]);

    const audit = (await app.deps.store.audit.list('101')).filter((r) => r.action === 'quarantine.resolved');
    expect(audit.map((r) => r.detail.resolution).sort()).toEqual([...ofCitizen(plans[0]!).map(() => 'retried'), ...ofCitizen(plans[1]!).map(() => 'dismissed')].sort());
    expect(audit.find((r) => r.detail.resolution === 'retried')).toMatchObject({ targetType: 'quarantine', citizenId: citizenIdOf(plans[0]!), detail: { adapter: 'dfdg', note: 'activation type list extended' } });
    await app.close();
  });

  it('a corrected version that merges closes the older open entries of its record as superseded, in the merge’s own batch, audited', async () => {
    const app = await startTestApp({ adapters: { dfdg: createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings });
    const plan = await enrol(app.deps, population[2]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
    const sync = (mappings: typeof allMappings, beforeWrite?: () => void) => runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings, feedStartMarginMs: 0, ...(beforeWrite ? { beforeWrite } : {}) });
    expect((await sync(beforeTheFix)).stats.quarantined).toBeGreaterThan(0);
    const broken = await app.deps.store.sync.quarantined('101');
    expect(broken.length).toBeGreaterThan(0);
    // Entries of other records stay open: another activity, and the same id at another source.
    await app.deps.store.batch([
      app.deps.store.sync.quarantineStatement({ id: 'q-other-record', tenant: '101', adapter: 'dfdg', recordType: 'activity', recordId: 'not-changed', mappingId: activityMapping.id, reason: 'activity.type: unknown', raw: null, runId: null, citizenId: citizenIdOf(plan), createdAt: '2026-11-23T08:00:00.000Z' }),
      app.deps.store.sync.quarantineStatement({ id: 'q-other-source', tenant: '101', adapter: 'social', recordType: 'activity', recordId: broken[0]!.recordId, mappingId: null, reason: 'contract: status', raw: null, runId: null, citizenId: citizenIdOf(plan), createdAt: '2026-11-23T08:00:00.000Z' }),
    ]);
    // The source corrects its records (a new version of each); the mapping now accepts them too.
    simulators.dfdg.mutate(1);
    const it = { authorization: `Bearer ${await app.harness.token({ tenant: '101', roles: ['it-staff'] })}` };
    const openIds = async () => ((await (await app.harness.request('/v1/sync/quarantine', { headers: it })).json()) as { records: { id: string }[] }).records.map((r) => r.id).sort();
    const openGauge = async () => (await (await app.harness.request('/metrics', { headers: it })).text()).split('\n').filter((line) => line.startsWith('enplan_quarantine_open{'));
    // A crash before the merge's batch lands closes nothing.
    const crashed = await sync(allMappings, () => {
      throw new Error('crash before the batch');
    });
    expect(crashed.status).toBe('failed');
    expect(await openIds()).toEqual([...broken.map((e) => e.id), 'q-other-record', 'q-other-source'].sort());
    const merged = await sync(allMappings);
    expect(merged.status).toBe('succeeded');
    expect(merged.stats.recordsMerged).toBeGreaterThan(0);
    // The records merged at their new versions; their old entries left the open list and the gauge.
    const activities = activitiesIn((await app.deps.store.plans.get('101', plan.id))!);
    const versionOf = new Map(activities.flatMap((a) => a.provenance.flatMap((p) => (p.kind === 'source' ? [[p.recordId, p.recordVersion] as const] : []))));
    for (const entry of broken) expect(versionOf.has(entry.recordId!)).toBe(true);
    expect(await openIds()).toEqual(['q-other-record', 'q-other-source']);
    expect(await openGauge()).toEqual(['enplan_quarantine_open{tenant="101",adapter="dfdg"} 1', 'enplan_quarantine_open{tenant="101",adapter="social"} 1']);
    for (const entry of broken) {
      const row = (await app.deps.store.database.db.select().from(quarantineTable).where(eq(quarantineTable.id, entry.id)))[0]!;
      expect(row).toMatchObject({ resolution: 'superseded', resolvedBy: 'sync-job:dfdg' });
      expect(row.resolutionNote).toContain(`version ${versionOf.get(entry.recordId!)}`);
    }
    // Audited like IT staff's resolutions, once each (the crashed attempt wrote nothing).
    const audit = (await app.deps.store.audit.list('101')).filter((r) => r.action === 'quarantine.resolved');
    expect(audit.map((r) => r.targetId).sort()).toEqual(broken.map((e) => e.id).sort());
    for (const entry of broken)
      expect(audit.find((r) => r.targetId === entry.id)).toMatchObject({
        actor: 'sync-job:dfdg',
        targetType: 'quarantine',
        citizenId: citizenIdOf(plan),
        detail: { resolution: 'superseded', adapter: 'dfdg', recordType: entry.recordType, supersededBy: { recordVersion: versionOf.get(entry.recordId!), runId: merged.runId } },
      });
    // Closed already: IT staff are told so, and nothing reopens them.
    const again = await app.harness.request(`/v1/sync/quarantine/${broken[0]!.id}/resolve`, { method: 'POST', headers: { ...it, 'content-type': 'application/json' }, body: JSON.stringify({ action: 'dismiss' }) });
    expect(again.status).toBe(409);
    await app.close();
  });

  it('a merge that lost its plan race and went again records each superseded entry once', async () => {
    const app = await startTestApp({ adapters: { dfdg: createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings });
    const plan = await enrol(app.deps, population[3]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
    expect((await runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: beforeTheFix, feedStartMarginMs: 0 })).stats.quarantined).toBeGreaterThan(0);
    const broken = await app.deps.store.sync.quarantined('101');
    expect(broken.length).toBeGreaterThan(0);
    simulators.dfdg.mutate(1);
    let interfered = false;
    const merged = await runSync(app.deps, {
      tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings, feedStartMarginMs: 0,
      // A caseworker changes the plan after the merge was worked out, before its batch lands.
      beforeWrite: async () => {
        if (interfered) return;
        interfered = true;
        const current = (await app.deps.store.plans.get('101', plan.id))!;
        expect(await app.deps.store.plans.update({ ...current, purpose: 'Ændret imens', version: current.version + 1, updatedAt: new Date(Date.now() + 1000).toISOString() }, current.version)).toBe(true);
      },
    });
    expect(merged.status).toBe('succeeded');
    expect(interfered).toBe(true);
    expect(await app.deps.store.sync.quarantined('101')).toEqual([]);
    const audit = (await app.deps.store.audit.list('101')).filter((r) => r.action === 'quarantine.resolved');
    expect(audit.map((r) => r.targetId).sort()).toEqual(broken.map((e) => e.id).sort());
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    await app.close();
  });

  it('answers other roles 403, other municipalities and unknown ids 404, a bad body 400, and a notice naming no citizen cannot be retried', async () => {
    const app = await startTestApp({ mappings: allMappings });
    await app.deps.store.batch([
      app.deps.store.sync.quarantineStatement({ id: 'q-notice', tenant: '101', adapter: 'dfdg', recordType: 'change-notice', recordId: null, mappingId: null, reason: 'change notice: bad', raw: null, runId: null, citizenId: null, createdAt: '2026-11-23T08:00:00.000Z' }),
    ]);
    const headers = async (tenant: string, role: 'caseworker' | 'it-staff') => ({ authorization: `Bearer ${await app.harness.token({ tenant, roles: [role] })}`, 'content-type': 'application/json' });
    const resolve = async (id: string, body: unknown, h: Record<string, string>) => app.harness.request(`/v1/sync/quarantine/${id}/resolve`, { method: 'POST', headers: h, body: JSON.stringify(body) });
    expect((await resolve('q-notice', { action: 'dismiss' }, await headers('101', 'caseworker'))).status).toBe(403);
    expect((await resolve('q-notice', { action: 'dismiss' }, await headers('751', 'it-staff'))).status).toBe(404);
    expect((await resolve('no-such-entry', { action: 'dismiss' }, await headers('101', 'it-staff'))).status).toBe(404);
    const bad = await resolve('q-notice', { action: 'delete' }, await headers('101', 'it-staff'));
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const retry = await resolve('q-notice', { action: 'retry' }, await headers('101', 'it-staff'));
    expect(retry.status).toBe(409);
    expect(((await retry.json()) as { type: string }).type).toBe('/problems/quarantine-not-retryable');
    // Still open after all of that; a dismissal closes it.
    expect((await app.deps.store.sync.quarantined('101')).map((e) => e.id)).toEqual(['q-notice']);
    expect((await resolve('q-notice', { action: 'dismiss' }, await headers('101', 'it-staff'))).status).toBe(200);
    expect(await app.deps.store.sync.quarantined('101')).toEqual([]);
    await app.close();
  });

  it('the dashboard resolves too: only for an IT staff session, and only a form posted from the dashboard itself', async () => {
    const app = await startTestApp({ mappings: allMappings });
    await app.deps.store.batch([
      app.deps.store.sync.quarantineStatement({ id: 'q-page', tenant: '101', adapter: 'social', recordType: 'Goal', recordId: 'g-1', mappingId: 'social.goal', reason: 'contract: lifecycleStatus', raw: null, runId: null, citizenId: 'c-1', createdAt: '2026-11-23T08:00:00.000Z' }),
    ]);
    const post = async (role: 'caseworker' | 'it-staff', origin: string) =>
      app.harness.request('/dashboard/quarantine/q-page/dismiss', {
        method: 'POST',
        headers: { cookie: `enplan_session=${await app.harness.token({ tenant: '101', roles: [role] })}`, 'content-type': 'application/x-www-form-urlencoded', origin },
        body: '',
      });
    // A caseworker's session is sent back to the sign-in page; a form from another site is refused.
    expect((await post('caseworker', 'http://localhost')).headers.get('location')).toBe('/dashboard');
    expect((await post('it-staff', 'https://elsewhere.example')).status).toBe(403);
    expect((await app.deps.store.sync.quarantined('101')).map((e) => e.id)).toEqual(['q-page']);
    const done = await post('it-staff', 'http://localhost');
    expect(done.status).toBe(303);
    // What it did is shown once on the dashboard, carried by a cookie rather than the URL.
    expect(done.headers.get('location')).toBe('/dashboard');
    expect(decodeURIComponent(done.headers.getSetCookie().find((c) => c.startsWith('enplan_notice=')) ?? '')).toContain('Dismissed.');
    expect(await app.deps.store.sync.quarantined('101')).toEqual([]);
    await app.close();
  });
});
