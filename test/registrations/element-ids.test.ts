/**
 * An element id is the plan's, not one list's: the § 101 a shield, the citizen's view and the FHIR
 * export look an element up by id alone. A goal registered with the id of another member's anonymous
 * treatment once took its visibility: the other parent saw it. Such a registration is refused (400)
 * and nothing is stored.
 */
import { describe, expect, it } from 'vitest';
import { membersOf, type Plan } from '../../src/model';
import { planService } from '../../src/plans/service';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { caseworkerOf } from '../support/seed';

describe('element ids in a plan', () => {
  it('are unique across goals, interventions, follow-ups and agreements', async () => {
    const app = await startTestApp();
    const service = planService(app.deps);
    const caseworker = caseworkerOf();
    const created = await service.create(caseworker, { cpr: testCpr('1980-01-01'), origin: 'offered', role: 'parent', family: { members: [{ cpr: testCpr('1982-02-02'), role: 'parent' }] }, replaces: [], municipalities: [] });
    await service.changeStatus(caseworker, created.id, { status: 'accepted' });
    const plan = (await service.changeStatus(caseworker, created.id, { status: 'active' })) as Plan;
    const [a, b] = membersOf(plan);
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'], sub: 'cw' });
    const post = async (body: unknown) => {
      const response = await app.harness.request('/v1/registrations', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() }, body: JSON.stringify({ planId: plan.id, ...(body as object) }) });
      return { status: response.status, body: (await response.json()) as { detail?: string } };
    };
    const treatment = { id: 'x-1', memberId: b!.memberId, sector: 'social', legalBasis: 'SEL § 101 a', confidentiality: 'anonymous-treatment', type: { system: 'urn:x', code: 'x', display: 'Behandling' }, title: 'B: anonym behandling', responsibleUnit: 'Misbrugscenter', contact: { name: 'Mia' }, period: { start: '2026-12-01' }, dependsOn: [], goalIds: [], topics: [] };
    expect((await post({ kind: 'intervention.added', intervention: treatment })).status).toBe(202);
    const before = (await app.deps.store.plans.get('101', plan.id))!.version;
    for (const body of [
      { kind: 'goal.added', goal: { id: 'x-1', memberId: a!.memberId, level: 'overall', title: 'A: væk fra voldelig ekspartner', sector: 'social', topics: [] } },
      { kind: 'followup.scheduled', followUp: { id: 'x-1', due: '2027-01-01', text: 'Samtale' } },
      { kind: 'agreement.added', agreement: { id: 'x-1', text: 'Aftale', agreedAt: '2026-11-25', parties: ['borger'], topics: [] } },
    ]) {
      const answer = await post(body);
      expect(answer.status, body.kind).toBe(400);
      expect(JSON.stringify(answer.body), body.kind).toContain('the plan already has an element with id x-1');
    }
    expect((await app.deps.store.plans.get('101', plan.id))!.version).toBe(before);
    // Parent A sees nothing of B's anonymous treatment.
    const asA = await app.harness.request(`/v1/plans/${plan.id}`, { headers: { authorization: `Bearer ${await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId: a!.citizenId })}` } });
    expect(((await asA.json()) as { goals: unknown[]; interventions: unknown[] })).toMatchObject({ goals: [], interventions: [] });
    await app.close();
  });
});
