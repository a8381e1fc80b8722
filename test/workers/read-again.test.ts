/**
 * On Workers an element that left with the words of a revoked flow comes back through the job queue
 * (decision 0026, session 19): the revocation asks for a sync of the source that stays (kept alive by
 * `waitUntil` until sent), and the queue consumer's run reads the citizen again from the regional
 * health simulator (a Node server on loopback) into D1.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { membersOf, type Fragment, type Plan } from '../../src/model';
import type { JobMessage } from '../../src/runtime/job-queue';
import { buildFor, runJobBatch, type JobQueueMessage, type WorkerEnv } from '../../src/runtime/worker';
import { runSync } from '../../src/sync/engine';
import { mergeFragments, type FragmentOrigin } from '../../src/sync/merge';
import { TEST_JWT_SECRET } from '../support/harness';
import { enrol, grantConsent } from '../support/seed';

const socialWords = 'Socialforvaltningens team for misbrug, ikke kendt af regionen';

describe('an element whose writer left comes back through the job queue, in workerd on D1', () => {
  it('a revocation asks for a sync of the source that stays; the consumer’s run brings the element back in its words', async () => {
    const sent: JobMessage[] = [];
    const built = await buildFor({ ...(env as unknown as WorkerEnv), HEALTH_FHIR_URL: env.HEALTH_SIMULATOR_URL, DFDG_URL: undefined, JOBS: { send: async (body: unknown) => void sent.push(body as JobMessage) } });
    const [, citizen] = JSON.parse(env.HEALTH_SIMULATOR_CITIZENS) as { cpr: string }[];
    const enrolled = await enrol(built.deps, citizen!.cpr);
    const citizenId = membersOf(enrolled)[0]!.citizenId;
    await grantConsent(built.deps, { citizenId, source: 'health', categories: ['health'], explicitHealth: true });
    const toSocial = await grantConsent(built.deps, { citizenId, source: 'social', recipient: 'social', categories: ['social'] });
    expect((await runSync(built.deps, { tenant: '101', adapter: 'health', trigger: 'test', mappings: built.deps.mappings })).status).toBe('succeeded');
    const synced = (await built.deps.store.plans.get('101', enrolled.id))!;
    const regional = synced.careTeams[0]!;
    expect(regional).toBeDefined();

    // The social system reported the region's team and rewrote it, for the social department alone.
    const { id: elementId, provenance: _p, ruleVersion: _r, memberId, ...content } = regional;
    const origin = (recordVersion: string): FragmentOrigin => ({ system: 'social', recordId: 'sc-1', recordVersion, mappingId: 'social.careteam', mappingVersion: '1.0.0', consentRef: toSocial.id, category: 'social', audience: ['social'] });
    const at = new Date().toISOString();
    let plan: Plan = mergeFragments(synced, [{ fragment: { kind: 'coordinator', elementId, category: 'social', content } as Fragment, origin: origin('1'), memberId }], { at, ruleVersion: 'r1' }).plan;
    plan = mergeFragments(plan, [{ fragment: { kind: 'coordinator', elementId, category: 'social', content: { ...content, name: socialWords } } as Fragment, origin: origin('2'), memberId }], { at, ruleVersion: 'r1' }).plan;
    expect(await built.deps.store.plans.update(plan, synced.version)).toBe(true);

    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ sub: 'read-again-test', tenant: '101', roles: ['caseworker'], department: 'social', iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
    const ctx = createExecutionContext();
    const response = await built.app.request(`https://enplan.test/v1/consents/${toSocial.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' }, env, ctx);
    expect(response.status).toBe(200);
    await waitOnExecutionContext(ctx);
    const teamOf = async () => (await built.deps.store.plans.get('101', enrolled.id))!.careTeams.find((t) => t.id === elementId);
    expect(await teamOf()).toBeUndefined();
    expect(sent).toEqual([{ kind: 'sync', tenant: '101', adapters: ['health'], trigger: 'read-again:consent-revoked' }]);

    // The consumer, as the queue would call it.
    const message: JobQueueMessage = { id: 'read-again', body: sent[0], attempts: 1, ack: () => undefined, retry: () => expect.fail('not retried') };
    expect(await runJobBatch(built, [message])).toMatchObject({ syncs: 1, retried: 0 });
    const back = await teamOf();
    expect(back).toMatchObject({ name: regional.name, provenance: [expect.objectContaining({ kind: 'source', system: 'health' })] });
    expect(JSON.stringify(await built.deps.store.plans.get('101', enrolled.id))).not.toContain(socialWords);
    const runs = await built.deps.store.sync.runs('101', { adapter: 'health', limit: 10, offset: 0 });
    expect(runs.some((run) => run.trigger === 'queue:read-again:consent-revoked' && run.status === 'succeeded')).toBe(true);
  });
});
