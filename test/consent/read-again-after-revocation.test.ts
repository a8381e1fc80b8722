/**
 * An element that leaves a plan because the writer of its words left (decision 0026) comes back from
 * the source that stays at once, not at that source's next scheduled run: the revocation (or lapse)
 * has the source read again for the citizen through the ordinary sync, under the consent gate. The
 * revocation itself never waits on that read, nor fails with it. The whole path: the real regional
 * health simulator over HTTP, SQLite, the consent API, the sync engine.
 */
import { describe, expect, it } from 'vitest';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { generatePopulation } from '../../adapters/shared/population';
import type { SourceAdapter } from '../../adapters/adapter';
import { handleLapsedGrants } from '../../src/consent/service';
import { membersOf, type Department, type Fragment, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { mergeFragments, type FragmentOrigin } from '../../src/sync/merge';
import { readsAgainSettled } from '../../src/sync/on-demand';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';
import { dfdgAndHealthSimulators } from '../support/sector-simulators';

const socialWords = 'Socialforvaltningens team for misbrug, ikke kendt af regionen';
const at = '2026-11-24T09:00:00.000Z';

describe('an element whose writer left comes back from the source that stays, at once', () => {
  const population = generatePopulation(4, 9191).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: true } }));
  const simulators = dfdgAndHealthSimulators(population);

  /**
   * A citizen whose regional care team (read from the health simulator, for every party) the social
   * system reported too and then rewrote, for the social department alone: social wrote its words.
   * `healthIs` swaps the health adapter: `down` reaches a closed port, as in a region's outage.
   */
  async function socialRewroteTheRegionsTeam(citizenIndex: number, options: { socialValidTo?: string } = {}) {
    const up = createHealthAdapter({ baseUrl: simulators.health.baseUrl, timeoutMs: 5000 });
    const down = createHealthAdapter({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 2000 });
    let health: SourceAdapter = up;
    const app = await startTestApp({ adaptersFor: () => ({ health }), mappings: allMappings });
    const sync = () => runSync(app.deps, { tenant: '101', adapter: 'health', trigger: 'test', mappings: allMappings });
    const enrolled = await enrol(app.deps, population[citizenIndex]!.cpr);
    const citizenId = membersOf(enrolled)[0]!.citizenId;
    await grantConsent(app.deps, { citizenId, source: 'health', categories: ['health'], explicitHealth: true });
    const toSocial = await grantConsent(app.deps, { citizenId, source: 'social', recipient: 'social', categories: ['social'], validTo: options.socialValidTo });
    expect((await sync()).status).toBe('succeeded');
    const synced = (await app.deps.store.plans.get('101', enrolled.id))!;
    const regional = synced.careTeams[0]!;
    expect(regional).toBeDefined();

    const { id: elementId, provenance: _p, ruleVersion: _r, memberId, ...content } = regional;
    const origin = (recordVersion: string): FragmentOrigin => ({ system: 'social', recordId: 'sc-1', recordVersion, mappingId: 'social.careteam', mappingVersion: '1.0.0', consentRef: toSocial.id, category: 'social', audience: ['social'] });
    let plan: Plan = mergeFragments(synced, [{ fragment: { kind: 'coordinator', elementId, category: 'social', content } as Fragment, origin: origin('1'), memberId }], { at, ruleVersion: 'r1' }).plan;
    plan = mergeFragments(plan, [{ fragment: { kind: 'coordinator', elementId, category: 'social', content: { ...content, name: socialWords } } as Fragment, origin: origin('2'), memberId }], { at, ruleVersion: 'r1' }).plan;
    expect(await app.deps.store.plans.update(plan, synced.version)).toBe(true);
    expect(await readAs(app, enrolled.id, 'social')).toContain(socialWords);

    const teamOf = async () => (await app.deps.store.plans.get('101', enrolled.id))!.careTeams.find((t) => t.id === elementId);
    const revoke = async () => {
      const token = await app.harness.token({ tenant: '101', roles: ['caseworker'], department: 'social' });
      return app.harness.request(`/v1/consents/${toSocial.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    };
    return { app, sync, enrolled, regional, toSocial, teamOf, revoke, up, down, healthIs: (adapter: SourceAdapter) => void (health = adapter), cpr: population[citizenIndex]!.cpr };
  }

  /** The team as the region said it: its name, its one provenance entry, for every party. */
  const inTheRegionsWords = (regional: Plan['careTeams'][number]) => ({
    name: regional.name,
    provenance: [expect.objectContaining({ kind: 'source', system: 'health', recordId: (regional.provenance[0] as { recordId: string }).recordId })],
  });

  it('a revocation brings the element back in the staying source’s words and provenance, without waiting for its next run', async () => {
    const { app, enrolled, regional, toSocial, teamOf, revoke, up, healthIs } = await socialRewroteTheRegionsTeam(0);
    // The region answers only once let: the revocation is answered before the read is done.
    let letThrough!: () => void;
    const held = new Promise<void>((resolve) => (letThrough = resolve));
    healthIs({ ...up, pull: async (subject, cursor) => (await held, up.pull(subject, cursor)) });
    const response = await revoke();
    expect(response.status).toBe(200);
    expect(((await response.json()) as { grant: { revokedAt?: string } }).grant.revokedAt).toBeDefined();
    expect(await teamOf()).toBeUndefined();

    letThrough();
    await readsAgainSettled(app.deps);
    const back = await teamOf();
    expect(back).toMatchObject(inTheRegionsWords(regional));
    expect(back!.provenance.some((p) => p.kind === 'source' && (p.system === 'social' || !!p.audience))).toBe(false);
    for (const department of ['employment', 'health', 'social'] as const) {
      const seen = await readAs(app, enrolled.id, department);
      expect(seen).not.toContain(socialWords);
      expect(seen).toContain(JSON.stringify(regional.name));
    }
    // Read by an ordinary run of the health sync, named for what asked for it; the removal logged which source it reads again.
    const runs = await app.deps.store.sync.runs('101', { adapter: 'health', limit: 10, offset: 0 });
    expect(runs.filter((run) => run.trigger === 'read-again:consent-revoked').map((run) => run.status)).toEqual(['succeeded']);
    const audit = await app.deps.store.audit.list('101', { citizenId: membersOf(enrolled)[0]!.citizenId });
    expect(audit.filter((entry) => entry.action === 'plan.consent-data-removed').map((entry) => entry.detail)).toEqual([expect.objectContaining({ grantId: toSocial.id, removedElements: [regional.id], readAgainFrom: ['health'] })]);
    // The health flow was decided again and logged as any sync's is.
    expect(audit.filter((entry) => entry.action === 'data.flowed' && (entry.detail as { source?: string }).source === 'health').length).toBeGreaterThanOrEqual(2);
    await app.close();
  });

  it('a read that fails (the region down) leaves the revocation done and answered; the next run brings the element back', async () => {
    const { app, sync, enrolled, regional, toSocial, teamOf, revoke, up, down, healthIs, cpr } = await socialRewroteTheRegionsTeam(1);
    healthIs(down);
    const response = await revoke();
    expect(response.status).toBe(200);
    await readsAgainSettled(app.deps);

    expect(await app.deps.store.consents.get('101', toSocial.id)).toMatchObject({ kind: 'grant', revokedAt: expect.any(String) });
    expect(await teamOf()).toBeUndefined();
    for (const department of ['employment', 'health', 'social'] as const) expect(await readAs(app, enrolled.id, department)).not.toContain(socialWords);
    const warned = app.logger.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.level === 'warn' && String(line.message).includes('read again for an element that left'));
    expect(warned).toEqual([expect.objectContaining({ tenant: '101', adapter: 'health' })]);
    expect(app.logger.lines.join('\n')).not.toContain(cpr);
    expect(app.logger.lines.join('\n')).not.toContain(cpr.replace('-', ''));

    // The citizen is still marked to be read: the scheduled run, the region back, reads them.
    healthIs(up);
    expect((await sync()).status).toBe('succeeded');
    expect(await teamOf()).toMatchObject(inTheRegionsWords(regional));
    await app.close();
  });

  it('a grant that lapsed overnight brings the element back in the staying source’s words by the end of the nightly job', async () => {
    const yesterday = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    const { app, regional, teamOf } = await socialRewroteTheRegionsTeam(2, { socialValidTo: yesterday });
    const lapsed = await handleLapsedGrants(app.deps, '101');
    expect(lapsed).toMatchObject({ grantsLapsed: 1, plansChanged: 1, failures: 0 });
    expect(await teamOf()).toMatchObject(inTheRegionsWords(regional));
    const runs = await app.deps.store.sync.runs('101', { adapter: 'health', limit: 10, offset: 0 });
    expect(runs.filter((run) => run.trigger === 'read-again:consent-lapsed').map((run) => run.status)).toEqual(['succeeded']);
    await app.close();
  });
});

async function readAs(app: Awaited<ReturnType<typeof startTestApp>>, planId: string, department: Department) {
  const token = await app.harness.token({ tenant: '101', roles: ['caseworker'], department });
  const response = await app.harness.request(`/v1/plans/${planId}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return response.text();
}
