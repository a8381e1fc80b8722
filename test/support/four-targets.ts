/**
 * The four sector systems as a push test meets them: their simulators over HTTP and a test app whose
 * adapters speak to them, so the relay pushes to the same systems the sync pulls from.
 */
import { createDfdgAdapter, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { createEducationAdapter, startEducationSimulator, type EducationSimulator } from '../../adapters/education';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { startHealthSimulator } from '../../adapters/health/simulator';
import { generatePopulation, type SyntheticCitizen } from '../../adapters/shared/population';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { afterAll, beforeAll, expect } from 'vitest';
import { createRelay, type DeliveryDeps, type RelayOptions } from '../../src/delivery';
import { membersOf, type DataCategory, type SourceSystem } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { TestClock } from '../registrations/fixture';
import { startTestApp } from './node-app';
import { enrol, grantConsent, grantPushConsents } from './seed';

export interface RegistrationAnswer {
  id: string;
  elementId: string;
  deliveries: { target: string; outboxId: string }[];
  notRouted: { target: string; cause: string; reason: string }[];
}

export interface FourTargets {
  dfdg: DfdgSimulator;
  education: EducationSimulator;
  social: SectorSimulator;
  health: SectorSimulator;
  app: Awaited<ReturnType<typeof startTestApp>>;
  /** Runs the relay (an hour on the clock between rounds, for retries) until nothing waits, or `rounds` ran out; the outbox's counts by status. */
  drain(rounds?: number): Promise<Record<string, number>>;
  /** `drain`, expecting every delivery to have reached its target. */
  drainDelivered(): Promise<void>;
  /** One source's sync a minute after the last step (as in life: a registration is newer than the read before it), expected to succeed. */
  sync(system: SourceSystem): Promise<Awaited<ReturnType<typeof runSync>>>;
  /** A caseworker's registration a minute after the last step, expected accepted (202), under a fresh idempotency key. */
  register(body: Record<string, unknown>): Promise<RegistrationAnswer>;
  /**
   * An active plan for a citizen `system` knows whom no earlier call used, with consent to push
   * everywhere and to read `system` (`categories`), read once from it.
   */
  citizenReadFrom(system: 'social' | 'health', categories: DataCategory[]): Promise<{ planId: string; citizenId: string; cpr: string }>;
  close(): Promise<void>;
}

/** `timeoutMs`: the adapters' timeout; `soapHangMs`: how long the SOAP simulators hold a request told to hang. */
export async function startFourTargets(options: { population: SyntheticCitizen[]; clock: TestClock; relay: RelayOptions; timeoutMs: number; soapHangMs?: number }): Promise<FourTargets> {
  const { population, timeoutMs } = options;
  const hang = options.soapHangMs === undefined ? {} : { hangMs: options.soapHangMs };
  const [dfdg, education, social, health] = await Promise.all([
    startDfdgSimulator({ population, ...hang }),
    startEducationSimulator({ population, ...hang }),
    startSocialSimulator({ population }),
    startHealthSimulator({ population }),
  ]);
  const app = await startTestApp({
    clock: options.clock,
    adapters: {
      dfdg: createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' }, timeoutMs }),
      education: createEducationAdapter({ baseUrl: education.url, municipalityCode: '101', timeoutMs }),
      social: createSocialAdapter({ baseUrl: social.baseUrl, timeoutMs }),
      health: createHealthAdapter({ baseUrl: health.baseUrl, timeoutMs }),
    },
  });
  (app.deps as DeliveryDeps).delivery = options.relay;
  const used = new Set<string>();
  const targets: FourTargets = {
    dfdg,
    education,
    social,
    health,
    app,
    async drain(rounds = 100) {
      for (let i = 0; i < rounds; i++) {
        await createRelay(app.deps, options.relay).runOnce();
        const counts = await app.deps.store.outbox.countByStatus('101');
        if ((counts.pending ?? 0) + (counts.retrying ?? 0) === 0) return counts;
        options.clock.advance(60 * 60_000);
      }
      return app.deps.store.outbox.countByStatus('101');
    },
    async drainDelivered() {
      const counts = await targets.drain(50);
      expect(Object.keys(counts).filter((status) => status !== 'delivered')).toEqual([]);
    },
    async sync(system) {
      options.clock.advance(60_000);
      const run = await runSync(app.deps, { tenant: '101', adapter: system, trigger: 'test', mappings: allMappings });
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      return run;
    },
    async register(body) {
      options.clock.advance(60_000);
      const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
      const response = await app.harness.request('/v1/registrations', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `push-${crypto.randomUUID()}` },
        body: JSON.stringify(body),
      });
      const answer = (await response.json()) as RegistrationAnswer;
      expect(response.status, JSON.stringify(answer)).toBe(202);
      return answer;
    },
    async citizenReadFrom(system, categories) {
      const known = new Set((system === 'social' ? social : health).citizens.map((c) => c.cpr));
      const citizen = population.find((c) => !used.has(c.cpr) && known.has(c.cpr));
      if (!citizen) throw new Error(`no unused citizen known to ${system}`);
      used.add(citizen.cpr);
      const plan = await enrol(app.deps, citizen.cpr);
      const { citizenId } = membersOf(plan)[0]!;
      await grantPushConsents(app.deps, citizenId, ['goals', 'interventions', 'plan-core']);
      await grantConsent(app.deps, { citizenId, source: system, categories });
      await targets.sync(system);
      return { planId: plan.id, citizenId, cpr: citizen.cpr };
    },
    async close() {
      await app.close();
      await Promise.all([dfdg.close(), education.close(), social.close(), health.close()]);
    },
  };
  return targets;
}

/** The relay the push tests run: leases and timeouts short enough for a test, a steady jitter. */
export const TEST_RELAY: RelayOptions = { leaseMs: 10_000, pushTimeoutMs: 3_000, random: () => 0.5, concurrency: 16 };

/**
 * The four targets for one test file: started before its tests (on 400 citizens, seed 2026, unless
 * given a population), closed after them. `targets()` is the running set, from the file's own hooks on.
 */
export function fourTargetsForThisFile(options: { population?: SyntheticCitizen[]; relay?: RelayOptions; timeoutMs?: number; soapHangMs?: number } = {}) {
  const clock = new TestClock();
  const population = options.population ?? generatePopulation(400, 2026);
  let running: FourTargets | undefined;
  beforeAll(async () => {
    running = await startFourTargets({ population, clock, relay: options.relay ?? TEST_RELAY, timeoutMs: options.timeoutMs ?? 2000, ...(options.soapHangMs !== undefined ? { soapHangMs: options.soapHangMs } : {}) });
  }, 60_000);
  afterAll(() => running?.close());
  return { clock, population, targets: () => running! };
}

/** The two FHIR systems whose own Goals a registration writes into. */
export type TheirGoalSystem = 'social' | 'health';

/**
 * The four targets for a test file about the systems' own Goals, with what those files share: a
 * citizen each system knows, read once with consent to that system's goal data, and the plan as stored.
 */
export function theirGoalsForThisFile() {
  const setUp = fourTargetsForThisFile();
  const readCategories: Record<TheirGoalSystem, DataCategory[]> = { social: ['plan-core', 'social', 'goals', 'interventions'], health: ['health'] };
  return {
    targets: setUp.targets,
    simulatorOf: (system: TheirGoalSystem) => setUp.targets()[system],
    /** An active plan for a citizen the system knows, with consent to push everywhere and to read that system, read once. */
    citizenAt: (system: TheirGoalSystem) => setUp.targets().citizenReadFrom(system, readCategories[system]),
    planOf: async (planId: string) => (await setUp.targets().app.deps.store.plans.get('101', planId))!,
  };
}
