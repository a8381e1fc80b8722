/**
 * Data a sector system sends on to two departments on different bases — to the jobcentre on the
 * citizen's consent, to the children's department on a legal basis without consent (R11) — is logged
 * per department on its own basis, so the citizen's log says which was which (R13).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDfdgAdapter, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { decideFlowIntoPlan } from '../../src/consent/policy';
import { membersOf, type LegalBasisRecord } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

const population = generatePopulation(1, 8181).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: false } }));
let dfdg: DfdgSimulator;
beforeAll(async () => {
  dfdg = await startDfdgSimulator({ population, port: 0 });
});
afterAll(() => dfdg?.close());

describe('one flow, two departments, two bases', () => {
  it('is decided and logged per department on its own basis', async () => {
    const app = await startTestApp({ adapters: { dfdg: createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings });
    const plan = await enrol(app.deps, population[0]!.cpr);
    const citizenId = membersOf(plan)[0]!.citizenId;
    const grant = await grantConsent(app.deps, { citizenId, source: 'dfdg', recipient: 'employment', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
    const basis: LegalBasisRecord = {
      id: crypto.randomUUID(), tenant: '101', citizenId, source: 'dfdg', recipient: 'children', categories: ['plan-core', 'employment', 'goals', 'interventions'],
      basis: 'Barnets lov § 133', recordedBy: 'caseworker:anna', recordedAt: '2026-11-02T09:00:00.000Z', citizenInformed: false,
    };
    await app.deps.store.consents.insert({ kind: 'legal-basis', ...basis });

    const decision = decideFlowIntoPlan({ citizenId, birthDate: population[0]!.birthDate, source: 'dfdg', category: 'employment', at: new Date() }, [grant], [basis]);
    expect(decision).toMatchObject({ allowed: true, audience: ['employment', 'children'] });
    expect(decision.byDepartment).toEqual([
      { department: 'employment', decision: { allowed: true, basis: 'consent', grantIds: [grant.id] } },
      { department: 'children', decision: { allowed: true, basis: 'legal-basis', recordId: basis.id, legalBasis: 'Barnets lov § 133', informCitizen: true } },
    ]);

    expect((await runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings })).status).toBe('succeeded');
    const flows = (await app.deps.store.audit.list('101', { citizenId })).filter((row) => row.action === 'data.flowed').map((row) => row.detail as Record<string, unknown>);
    expect(flows).toHaveLength(2);
    expect(flows.find((f) => f.recipient === 'employment')).toMatchObject({ basis: 'consent', consentRefs: [grant.id] });
    expect(flows.find((f) => f.recipient === 'employment')).not.toHaveProperty('legalBasis');
    expect(flows.find((f) => f.recipient === 'children')).toMatchObject({ basis: 'legal-basis', consentRefs: [basis.id], legalBasis: 'Barnets lov § 133', informCitizen: true });
    await app.close();
  });
});
