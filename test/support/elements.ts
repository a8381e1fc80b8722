/**
 * Builders of plan elements with source provenance, for tests of revocation, views and leaving a
 * family plan. Each builder takes only what a test is about; the rest is a valid default.
 */
import type { Agreement, CitizenView, DataCategory, FollowUp, Goal, Intervention, Member, Plan, Provenance, SourceSystem } from '../../src/model';
import { Plan as PlanSchema } from '../../src/model';

export const at = '2026-11-23T10:00:00.000Z';

export function fromSource(consentRef: string | undefined, category: DataCategory | undefined, system: SourceSystem = 'dfdg', recordId = `rec-${consentRef ?? 'x'}-${category ?? 'x'}`): Provenance {
  return { kind: 'source', system, recordId, recordVersion: '1', mappingId: `${system}-test`, mappingVersion: '1.0.0', at, consentRef, category };
}

export const byRegistration = (id = 'reg-1'): Provenance => ({ kind: 'registration', registrationId: id, actor: 'caseworker:anna', at });

export function goal(id: string, overrides: Partial<Goal> = {}): Goal {
  return { id, level: 'overall', title: `Mål ${id}`, sector: 'employment', status: 'active', topics: [], ruleVersion: 'rules-2026.11', provenance: [byRegistration()], ...overrides };
}

export function intervention(id: string, memberId: string, overrides: Partial<Intervention> = {}): Intervention {
  return {
    id,
    sector: 'social',
    legalBasis: 'SEL §85',
    type: { system: 'urn:oid:1.2.208.176.2.22', code: 'x', display: 'Socialpædagogisk støtte' },
    title: `Indsats ${id}`,
    responsibleUnit: 'Socialforvaltningen',
    contact: { name: 'Bo Bostøtte' },
    period: { start: '2026-12-01' },
    order: 1,
    dependsOn: [],
    status: 'planned',
    memberId,
    goalIds: [],
    confidentiality: 'normal',
    topics: [],
    ruleVersion: 'rules-2026.11',
    provenance: [byRegistration()],
    ...overrides,
  };
}

export function agreement(id: string, overrides: Partial<Agreement> = {}): Agreement {
  return { id, text: `Aftale ${id}`, agreedAt: '2026-11-23', parties: ['borger', 'kommune'], topics: [], provenance: [byRegistration()], ...overrides };
}

export function followUp(id: string, overrides: Partial<FollowUp> = {}): FollowUp {
  return { id, due: '2027-01-15', text: `Opfølgning ${id}`, done: false, provenance: [byRegistration()], ...overrides };
}

export function citizenView(id: string, memberId: string, overrides: Partial<CitizenView> = {}): CitizenView {
  return { id, memberId, text: `Min mening ${id}`, language: 'da', recordedAt: at, recordedBy: 'caseworker:anna', provenance: [byRegistration()], ...overrides };
}

export function familyMember(memberId: string, role: Member['role'], birthDate: string, citizenId = `c-${memberId}`): Member {
  return { memberId, citizenId, role, birthDate };
}

/** A valid plan (parsed by the model) for the members given; the first member is the primary one. */
export function planWith(members: Member[], content: Partial<Plan> = {}): Plan {
  return PlanSchema.parse({
    id: 'plan-1',
    tenant: '101',
    origin: 'offered',
    status: 'active',
    statusHistory: [],
    subject: members.length === 1 ? { kind: 'citizen', member: members[0] } : { kind: 'family', name: 'Familien Test', members },
    purpose: 'En samlet plan for familien',
    coordinator: { kind: 'caseworker', name: 'Anna Koordinator', sector: 'social', unit: 'Familieafdelingen', phone: '+45 33 33 33 33', since: at, teamMembers: [] },
    municipalities: [{ code: '101', role: 'acting' }],
    ruleVersion: 'rules-2026.11',
    createdAt: at,
    updatedAt: at,
    version: 1,
    ...content,
  });
}
