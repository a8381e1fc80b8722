/** Builders of valid model objects for unit tests; each test changes only what it is about. */
import type { Plan } from '../../src/model';

export const at = '2026-11-23T10:00:00.000Z';
export const registration = (id = 'reg-1') => [{ kind: 'registration' as const, registrationId: id, actor: 'caseworker:anna', at }];

export function member(memberId = 'm1', role: 'adult' | 'child' | 'parent' | 'young-person' = 'adult', birthDate = '1985-06-15') {
  return { memberId, citizenId: `c-${memberId}`, role, birthDate };
}

export function validPlan(overrides: Partial<Plan> = {}): Record<string, unknown> {
  return {
    id: 'plan-1',
    tenant: '101',
    origin: 'offered',
    status: 'active',
    statusHistory: [],
    subject: { kind: 'citizen', member: member() },
    purpose: 'At komme i job og have en stabil bolig',
    situation: { summary: 'Ledig i 2 år, angst, hjemløs', barriers: ['angst'], resources: ['motiveret'] },
    citizenViews: [{ id: 'v1', memberId: 'm1', text: 'Jeg vil gerne have et arbejde', language: 'da', recordedAt: at, recordedBy: 'caseworker:anna', provenance: registration() }],
    goals: [
      { id: 'g1', level: 'overall', title: 'Ordinært job', sector: 'employment', status: 'active', topics: ['job-goal'], ruleVersion: 'rules-2026.11', provenance: registration() },
      { id: 'g2', level: 'sub', parentGoalId: 'g1', title: 'Stabil bolig', sector: 'social', status: 'active', ruleVersion: 'rules-2026.11', provenance: registration() },
    ],
    interventions: [
      {
        id: 'i1',
        sector: 'social',
        legalBasis: 'SEL §85',
        type: { system: 'urn:oid:1.2.208.176.2.22', code: 'x', display: 'Socialpædagogisk støtte' },
        title: 'Bostøtte',
        responsibleUnit: 'Socialforvaltningen',
        contact: { name: 'Bo Bostøtte' },
        period: { start: '2026-12-01', end: '2027-06-01' },
        order: 1,
        dependsOn: [],
        status: 'planned',
        memberId: 'm1',
        goalIds: ['g2'],
        ruleVersion: 'rules-2026.11',
        provenance: registration(),
      },
    ],
    agreements: [{ id: 'a1', text: 'Søger 5 job om ugen', agreedAt: '2026-11-23', parties: ['borger', 'jobcenter'], topics: ['job-search'], provenance: registration() }],
    followUps: [{ id: 'f1', due: '2027-01-15', text: 'Opfølgning på bolig', done: false, provenance: registration() }],
    coordinator: { kind: 'caseworker', name: 'Anna Koordinator', sector: 'employment', unit: 'Jobcenter København', since: at, teamMembers: [] },
    coordinatorHistory: [],
    municipalities: [{ code: '101', role: 'acting' }],
    replaces: [],
    timeFrame: { start: '2026-12-01', end: '2027-12-01' },
    conflicts: [],
    ruleVersion: 'rules-2026.11',
    createdAt: at,
    updatedAt: at,
    version: 1,
    ...overrides,
  };
}
