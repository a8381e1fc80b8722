/**
 * A CarePlan activity named anew by a newer mapping (decision 0003, session 19), in workerd on D1:
 * the region's CarePlan is merged under health.careplan 1.0.0 (activities named by position), then
 * the same version is read again under the current mapping. The move rides in the plan write's
 * guarded D1 batch with the held-element rename and the outbox rename, which rewrites payloads with
 * SQLite's JSON functions (json_set, json_extract) — run here by D1, not libSQL.
 *
 * The regional health simulator is a Node server on loopback (global setup); the sync reads it and
 * the relay writes ServiceRequests to it through the certificate binding, as in production. The
 * sync never reads ServiceRequests back, so what this writes there changes no other file's reads.
 * The region's intervention deliveries record no held element, so the held-element row is written
 * as the relay writes one (as test/sync/careplan-activity-identity.test.ts does).
 */
import type { ServiceRequest } from '@medplum/fhirtypes';
import { env } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { ENPLAN_ELEMENT_SYSTEM } from '../../adapters/fhir/systems';
import { healthCarePlanMapping } from '../../mappings/health';
import { runRelayOnce } from '../../src/delivery';
import { membersOf, type Plan } from '../../src/model';
import { buildFor, type WorkerEnv } from '../../src/runtime/worker';
import { runSync } from '../../src/sync/engine';
import type { MappingRegistry } from '../../src/sync/registry';
import { TEST_JWT_SECRET } from '../support/harness';
import { mappingsBeforeActivityIdentity } from '../support/position-named-careplans';
import { enrol, grantConsent, grantPushConsents } from '../support/seed';

const db = () => (env as unknown as { DB: D1Database }).DB;
const positionId = /^health:careplan:(.+):activity:(\d+)$/;
/** The interventions read from the region's CarePlans, in the plan's order. */
const fromCarePlans = (plan: Plan) => plan.interventions.filter((i) => i.id.startsWith('health:careplan:'));

interface RegistrationAnswer {
  deliveries: { target: string; outboxId: string }[];
}

describe('a CarePlan activity moved to its new id, in workerd on D1', () => {
  it('the re-read moves it with its held-element row and its deliveries, once; the next change updates the request the region holds', async () => {
    const built = await buildFor({ ...(env as unknown as WorkerEnv), HEALTH_FHIR_URL: env.HEALTH_SIMULATOR_URL, DFDG_URL: undefined, JOBS: undefined });
    const { deps, app } = built;
    // The first citizen: a CarePlan with two open activities, neither with an id of its own.
    const [citizen] = JSON.parse(env.HEALTH_SIMULATOR_CITIZENS) as { cpr: string }[];
    const enrolled = await enrol(deps, citizen!.cpr);
    const { citizenId } = membersOf(enrolled)[0]!;
    await grantPushConsents(deps, citizenId, ['goals', 'interventions', 'plan-core']);
    await grantConsent(deps, { citizenId, source: 'health', categories: ['health'] });
    const stored = async () => (await deps.store.plans.get('101', enrolled.id))!;
    const sync = async (mappings: MappingRegistry) => {
      const run = await runSync(deps, { tenant: '101', adapter: 'health', trigger: 'test', mappings });
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      return run.stats;
    };
    /** The same CarePlan version merged again: the merged-record marks forgotten, the citizen read in full. */
    const readAgain = async (mappings: MappingRegistry) => {
      const { sync: marks } = deps.store;
      await deps.store.audit.appendMany('101', [], [marks.forgetAppliedStatement('101', 'health', citizenId), marks.forgetPulledFromStatement('101', 'health', [citizenId])]);
      return sync(mappings);
    };
    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ sub: 'careplan-rename-test', tenant: '101', roles: ['caseworker'], iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
    const register = async (interventionId: string, title: string) => {
      const response = await app.request('/v1/registrations', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `rename-${crypto.randomUUID()}` },
        body: JSON.stringify({ planId: enrolled.id, kind: 'intervention.changed', interventionId, changes: { title } }),
      });
      expect(response.status, await response.clone().text()).toBe(202);
      const { deliveries } = (await response.json()) as RegistrationAnswer;
      expect(deliveries.map((d) => d.target)).toEqual(['health']);
      return deliveries[0]!.outboxId;
    };
    const relay = async () => expect(await runRelayOnce(deps)).toMatchObject({ delivered: 1, retried: 0, dead: 0 });
    const receiptOf = async (outboxId: string) => JSON.parse((await deps.store.outbox.get('101', outboxId))!.receipt!) as { targetId: string };

    await sync(mappingsBeforeActivityIdentity('health'));
    const before = fromCarePlans(await stored());
    expect(before.map((i) => i.id)).toEqual([expect.stringMatching(positionId), expect.stringMatching(positionId)]);
    const [moving, staying] = before.map((i) => i.id) as [string, string];
    const carePlanId = positionId.exec(moving)![1]!;

    // Delivered to the region before the move; its receipt names the ServiceRequest made for it.
    const delivered = await register(moving, 'Udskrivningskonference aftalt');
    await relay();
    const { targetId } = await receiptOf(delivered);
    // A target holds it, recorded with that delivery as the relay records one.
    const atTarget = 'dfdg:activity:3b1f5c2e-7d4a-5e8b-9c0d-1a2b3c4d5e6f';
    const { heldElements } = deps.store;
    await deps.store.audit.appendMany('101', [], [heldElements.recordStatement('101', citizenId, 'dfdg', delivered, [{ targetElementId: atTarget, elementId: moving }], new Date().toISOString())!]);
    // Queued under the position id, not yet sent when the re-read moves it.
    const queued = await register(moving, 'Udskrivningskonference, med pårørende');

    expect(await readAgain(deps.mappings)).toMatchObject({ elementsAdded: 0, elementsWithdrawn: 0, conflicts: 0 });
    const after = fromCarePlans(await stored());
    expect(after).toHaveLength(2);
    const ids = after.map((i) => i.id);
    expect(ids.every((id) => new RegExp(`^health:careplan:${carePlanId}:activity:key-[0-9a-f]{16}$`).test(id))).toBe(true);
    expect(ids).not.toContain(moving);
    expect(ids).not.toContain(staying);
    expect(after.every((i) => i.provenance.every((p) => p.kind !== 'source' || p.mappingVersion === healthCarePlanMapping.version))).toBe(true);
    const renamed = await deps.store.audit.list('101', { citizenId });
    const moves = renamed.filter((a) => a.action === 'plan.element-renamed');
    expect(moves).toHaveLength(1);
    expect(moves[0]!.detail).toMatchObject({ source: 'health', records: [carePlanId] });
    const renamedElements = (moves[0]!.detail as { renamedElements: { from: string; to: string }[] }).renamedElements;
    expect(renamedElements.map((m) => m.from).sort()).toEqual([moving, staying].sort());
    expect(renamedElements.map((m) => m.to).sort()).toEqual([...ids].sort());
    const moved = renamedElements.find((m) => m.from === moving)!.to;
    // The caseworker's words went with it.
    expect(after.find((i) => i.id === moved)).toMatchObject({ title: 'Udskrivningskonference, med pårørende' });

    // What D1 holds now: the held-element row and both deliveries about the new id, none added.
    const heldRows = async () =>
      (await db().prepare(`select target, target_element_id as targetElementId, element_id as elementId, outbox_id as outboxId from held_elements where tenant = '101' and citizen_id = ?`).bind(citizenId).all()).results;
    expect(await heldRows()).toEqual([{ target: 'dfdg', targetElementId: atTarget, elementId: moved, outboxId: delivered }]);
    const outboxRows = async () =>
      (
        await db()
          .prepare(`select id, status, json_extract(payload, '$.outbound.elementId') as about, json_extract(payload, '$.outbound.element.intervention.id') as sends from outbox where tenant = '101' and citizen_id = ? order by sequence`)
          .bind(citizenId)
          .all()
      ).results;
    expect(await outboxRows()).toEqual([
      // Delivered: found under the new id, its content as it was sent.
      { id: delivered, status: 'delivered', about: moved, sends: moving },
      // Still to be sent: it sends the element under its new id.
      { id: queued, status: 'pending', about: moved, sends: moved },
    ]);
    expect(JSON.parse((await db().prepare(`select payload from outbox where id = ?`).bind(queued).first<{ payload: string }>())!.payload)).toMatchObject({ outbound: { planId: enrolled.id, elementId: moved } });

    // The queued change updates the request the region holds (found through the moved receipt), not a second one.
    await relay();
    expect((await receiptOf(queued)).targetId).toBe(targetId);
    const requestsNaming = async (elementId: string) => {
      const response = await fetch(`${env.HEALTH_SIMULATOR_URL}/ServiceRequest?identifier=${encodeURIComponent(`${ENPLAN_ELEMENT_SYSTEM}|${elementId}`)}`, { headers: { accept: 'application/fhir+json' } });
      expect(response.status).toBe(200);
      return ((await response.json()) as { entry?: { resource: ServiceRequest }[] }).entry?.map((e) => e.resource.id) ?? [];
    };
    expect([...(await requestsNaming(moving)), ...(await requestsNaming(moved))]).toEqual([targetId]);

    // Read again at the same version and mapping: nothing moves twice, nothing is doubled.
    expect(await readAgain(deps.mappings)).toMatchObject({ elementsAdded: 0, elementsUpdated: 0, elementsWithdrawn: 0 });
    expect(fromCarePlans(await stored()).map((i) => i.id)).toEqual(ids);
    expect((await deps.store.audit.list('101', { citizenId })).filter((a) => a.action === 'plan.element-renamed')).toHaveLength(1);
    expect(await heldRows()).toEqual([{ target: 'dfdg', targetElementId: atTarget, elementId: moved, outboxId: delivered }]);
    expect((await outboxRows()).map((r) => [r.id, r.about])).toEqual([
      [delivered, moved],
      [queued, moved],
    ]);
  });
});
