/**
 * Pulling and mapping in a worker thread (src/sync/pull-worker.ts) against the real DFDG and social
 * simulators over HTTP: a sync through the worker leaves exactly the plans a sync on the main
 * thread leaves; a mapping the engine holds in another version than the worker is run by the
 * engine itself; adapter errors keep their code across the thread; a worker that dies fails what
 * is in flight instead of hanging, and the next request starts a new one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError, type PullManyOptions, type PullSubject, type SourceAdapter } from '../../adapters/adapter';
import { startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import type { Mapping } from '../../mappings/mapping';
import { loadConfig, type Config } from '../../src/config';
import { membersOf, type Plan } from '../../src/model';
import { tenantAdapters } from '../../src/runtime/adapters';
import { allMappings } from '../../src/sync/all-mappings';
import { rawOf, runSyncRound } from '../../src/sync/engine';
import { startPullWorker, type PulledRecord, type PullWorker } from '../../src/sync/pull-worker';
import { createMappingRegistry } from '../../src/sync/registry';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

const population = generatePopulation(40, 7311).map((c) => ({ ...c, sectors: { employment: true, education: false, social: true, health: false } }));
let social: SectorSimulator;
let dfdg: DfdgSimulator;
let config: Config;
let worker: PullWorker;

beforeAll(async () => {
  [social, dfdg] = await Promise.all([startSocialSimulator({ population }), startDfdgSimulator({ population, port: 0 })]);
  config = loadConfig({ NODE_ENV: 'test', DFDG_URL: dfdg.url, SOCIAL_FHIR_URL: social.baseUrl, ADAPTER_TIMEOUT_MS: '5000' });
  worker = startPullWorker(config);
});
afterAll(async () => {
  await worker?.close();
  await Promise.all([social?.close(), dfdg?.close()]);
});

/** Records that arrived mapped by the worker, counted as the engine receives them. */
let premappedRecords = 0;
let withPayload = 0;
const countingPremapped = (adapters: Partial<Record<string, SourceAdapter>>) =>
  Object.fromEntries(
    Object.entries(adapters).map(([id, adapter]) => [id, {
      ...adapter!,
      async pullMany(subjects: readonly PullSubject[], options?: PullManyOptions) {
        const results = await adapter!.pullMany!(subjects, options);
        for (const result of results.values()) {
          premappedRecords += result.records.filter((r) => (r as PulledRecord).premapped).length;
          // Mapped as the engine named it: the payload stays in the worker.
          withPayload += result.records.filter((r) => (r as PulledRecord).payloadJson !== undefined).length;
        }
        return results;
      },
    }]),
  );

/** An app whose adapters pull through the worker, or on this thread. */
async function appWith(throughWorker: boolean) {
  const local = tenantAdapters(config);
  return startTestApp({ adaptersFor: throughWorker ? (tenant) => countingPremapped(worker.wrap(tenant, local(tenant))) : local });
}

async function enrolAll(app: Awaited<ReturnType<typeof startTestApp>>) {
  const plans: Plan[] = [];
  for (const citizen of population.slice(0, 25)) {
    const plan = await enrol(app.deps, citizen.cpr);
    const citizenId = membersOf(plan)[0]!.citizenId;
    await grantConsent(app.deps, { citizenId, source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
    await grantConsent(app.deps, { citizenId, source: 'social', categories: ['plan-core', 'social', 'goals', 'interventions'] });
    plans.push(plan);
  }
  return plans;
}

/** What a plan holds from the sources, without what differs between two runs (ids, times). */
const contentOf = (plan: Plan) =>
  [...plan.goals, ...plan.interventions, ...plan.agreements, ...plan.followUps]
    .map((element) => JSON.stringify({ ...element, memberId: undefined, provenance: element.provenance.map((p) => ({ ...p, at: undefined, consentRef: undefined })) }))
    .sort();

describe('pull worker', () => {
  it('a sync through the worker leaves the same plans as a sync on the main thread', async () => {
    const results: { merged: number[]; plans: string[][] }[] = [];
    for (const throughWorker of [false, true]) {
      premappedRecords = 0;
      withPayload = 0;
      const app = await appWith(throughWorker);
      const plans = await enrolAll(app);
      const round = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg', 'social'], trigger: 'test', mappings: allMappings });
      for (const run of round) {
        expect(run.status).toBe('succeeded');
        expect(run.stats.pullErrors).toBe(0);
        expect(run.stats.batchFallbacks).toBe(0);
      }
      // Mapping statistics are kept by the engine whoever mapped.
      expect(round[0]!.stats.mappings['dfdg.activity']?.recordsIn).toBeGreaterThan(0);
      const stored = await Promise.all(plans.map(async (p) => (await app.deps.store.plans.get('101', p.id))!));
      results.push({ merged: round.map((r) => r.stats.recordsMerged), plans: stored.map(contentOf) });
      // Through the worker every record read arrived mapped; on the main thread none did.
      expect(premappedRecords).toBe(throughWorker ? round.reduce((n, r) => n + r.stats.recordsRead, 0) : 0);
      expect(withPayload).toBe(0);
      await app.close();
    }
    const [onMain, throughWorker] = results;
    expect(onMain!.merged.every((n) => n > 0)).toBe(true);
    expect(throughWorker!.merged).toEqual(onMain!.merged);
    expect(throughWorker!.plans).toEqual(onMain!.plans);
  });

  it('runs the engine’s own mapping when the worker’s is another version, and quarantines with the raw record', async () => {
    // A Goal mapping that breaks every plan, in a version the worker does not have.
    const goalMapping = allMappings.find('social', 'Goal')!;
    const broken: Mapping = {
      ...goalMapping,
      version: goalMapping.version.replace(/\d+$/, (patch) => String(Number(patch) + 1)),
      map: (input, context) => {
        const result = goalMapping.map(input, context);
        if (!result.ok) return result;
        return { ...result, fragments: result.fragments.map((f) => (f.kind === 'goal' ? { ...f, content: { ...f.content, level: 'overall' as const, parentGoalId: f.elementId } } : f)) };
      },
    };
    const app = await appWith(true);
    await enrolAll(app);
    const mappings = createMappingRegistry(allMappings.all().map((m) => (m === goalMapping ? broken : m)));
    const [run] = await runSyncRound(app.deps, { tenant: '101', adapters: ['social'], trigger: 'test', mappings });
    expect(run!.stats.mergeFailures).toBeGreaterThan(0);
    expect(run!.stats.mappings['social.goal']?.mappingVersion).toBe(broken.version);
    const quarantined = await app.deps.store.sync.quarantined('101', { limit: 500 });
    const goals = quarantined.filter((q) => q.recordType === 'Goal');
    expect(goals.length).toBeGreaterThan(0);
    expect(goals.every((q) => q.reason.startsWith('merge:') && q.reason.includes('overall'))).toBe(true);
    // The raw record (as JSON text from the worker) is kept, sealed; opened it is the FHIR Goal.
    const raw = await app.deps.vault.openPayload(goals[0]!.raw!, { column: 'quarantine.raw', tenant: '101', id: goals[0]!.id });
    expect(JSON.parse(raw).resourceType).toBe('Goal');
    await app.close();
  });

  it('a record the worker mapped without its payload is quarantined as mapped; one with it, as read', async () => {
    const base = { recordType: 'Goal', recordId: 'g1', version: '3', updatedAt: '2026-11-23T00:00:00Z' };
    const fragments = [{ kind: 'goal', elementId: 'social:goal:g1', category: 'goals', content: { title: 'Egen bolig' } }];
    const mapped = { ...base, premapped: { mappingId: 'social.goal', mappingVersion: '1.0.0', result: { ok: true, fragments, unknownCodes: [], ignoredFields: [] } } };
    const asMapped = JSON.parse(rawOf({ ...mapped, get payload(): unknown { throw new Error('not sent'); } } as never));
    expect(asMapped).toEqual({ recordType: 'Goal', recordId: 'g1', version: '3', mappedBy: 'social.goal@1.0.0', fragments });
    expect(rawOf({ ...mapped, payloadJson: '{"resourceType":"Goal"}', payload: undefined } as never)).toBe('{"resourceType":"Goal"}');
    expect(rawOf({ ...base, payload: { resourceType: 'Goal', id: 'g1' } })).toBe('{"resourceType":"Goal","id":"g1"}');
  });

  it('adapter errors keep their code and permanence across the thread', async () => {
    const adapters = worker.wrap('101', tenantAdapters(config)('101'));
    // A well-formed CPR the DFDG simulator does not know: STAR's 1010.
    const unknown = await adapters.dfdg!.pull({ citizenId: 'not-enrolled', cpr: '0101011000' }).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(AdapterError);
    expect((unknown as AdapterError).code).toBe('1010');
    expect((unknown as AdapterError).permanent).toBe(true);
  });

  it('a worker that dies fails the requests in flight, and the next request starts a new one', async () => {
    const crashing = startPullWorker(config, { entry: new URL('../support/crashing-pull-worker.mjs', import.meta.url) });
    const adapters = crashing.wrap('101', tenantAdapters(config)('101'));
    const subject = { citizenId: 'c1', cpr: population[0]!.cpr };
    await expect(adapters.dfdg!.pull(subject)).rejects.toThrow(/pull worker exited/);
    await expect(adapters.dfdg!.pull(subject)).rejects.toThrow(/pull worker exited/);
    await crashing.close();
  });
});
