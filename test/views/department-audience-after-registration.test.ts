/**
 * R9, decision 0026: an intervention whose content consent gave the social department alone stays
 * hidden from other caseworkers after a social caseworker registers a change to it. The registration
 * became the element's last provenance entry, and the view once decided by the last entry alone.
 */
import { describe, expect, it } from 'vitest';
import { membersOf, Plan, type Provenance } from '../../src/model';
import { testCpr } from '../support/cpr';
import { fromSource, intervention } from '../support/elements';
import { startTestApp } from '../support/node-app';
import { enrol } from '../support/seed';

describe('department-only data after a caseworker’s registration', () => {
  it('stays hidden from a caseworker of another department', async () => {
    const app = await startTestApp();
    const plan = await enrol(app.deps, testCpr());
    const [member] = membersOf(plan);
    const forSocial: Provenance = { ...(fromSource('g-social', 'health', 'health', 'r-psych') as Extract<Provenance, { kind: 'source' }>), audience: ['social'] };
    const next = Plan.parse({
      ...plan,
      interventions: [intervention('i-psych', member!.memberId, { sector: 'health', legalBasis: 'SUL § 79', title: 'Forløb i distriktspsykiatrien (angst)', provenance: [forSocial] })],
      version: plan.version + 1,
    });
    expect(await app.deps.store.plans.update(next, plan.version)).toBe(true);
    const token = (department?: string) => app.harness.token({ tenant: '101', sub: `cw-${department ?? 'none'}`, roles: ['caseworker'], ...(department ? { department: department as never } : {}) });
    const read = async (department?: string) =>
      ((await (await app.harness.request(`/v1/plans/${plan.id}`, { headers: { authorization: `Bearer ${await token(department)}` } })).json()) as { interventions: { id: string; title: string }[] }).interventions.map((i) => i.title);
    expect(await read('employment')).toEqual([]);
    // The social caseworker, who may see it, changes only its hours.
    const r = await app.harness.request('/v1/registrations', {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('social')}`, 'content-type': 'application/json', 'idempotency-key': 'dept-hours-0001' },
      body: JSON.stringify({ planId: plan.id, kind: 'intervention.changed', interventionId: 'i-psych', changes: { hoursPerWeek: 2 } }),
    });
    expect(r.status).toBe(202);
    // The words the health source wrote for the social department alone are still theirs alone.
    expect({ employment: await read('employment'), none: await read(undefined) }).toEqual({ employment: [], none: [] });
    expect(await read('social')).toEqual(['Forløb i distriktspsykiatrien (angst)']);
    await app.close();
  });
});
