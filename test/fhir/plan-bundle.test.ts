/**
 * The plan as FHIR R4 (src/fhir): every resource valid against the R4 definitions (medplum), codes
 * from their required value sets, references resolving inside the Bundle, valid ids, no CPR number —
 * and exactly the elements of the view it was made from, for each kind of reader.
 */
import type { Bundle, CarePlan, Goal, Provenance, ServiceRequest } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProfiles } from '../../adapters/fhir/definitions';
import { carePlanIntent, carePlanStatus, careTeamStatus, goalLifecycleStatus, planViewToFhirBundle, serviceRequestStatus, taskStatus } from '../../src/fhir';
import { PlanStatus, type ConsentGrant, type Plan } from '../../src/model';
import { viewOf } from '../../src/views';
import { agreement, at, byRegistration, citizenView, familyMember, followUp, fromSource, goal, intervention, planWith } from '../support/elements';
import { bundleProblems, elementIdsOf, resourcesOf, valueSetCodes } from './support';

beforeAll(() => loadProfiles(), 60_000);

const dfdgActivation = { system: 'urn:enplan:dfdg:activation-type', code: 'VEJ', display: 'Vejledning og opkvalificering' };

/** A citizen's active plan: goals and interventions from employment (DFDG) and health (the region), a coordinator, follow-ups, an agreement, the citizen's own words. */
function realisticPlan(overrides: Partial<Plan> = {}): Plan {
  const m1 = familyMember('m1', 'adult', '1985-06-15', 'citizen-7f3a');
  return planWith([m1], {
    status: 'active',
    statusHistory: [
      { to: 'offered', at, recordedBy: 'caseworker:anna' },
      { from: 'offered', to: 'accepted', at, recordedBy: 'caseworker:anna' },
      { from: 'accepted', to: 'active', at, recordedBy: 'caseworker:anna' },
    ],
    situation: { summary: 'Ledig i to år, angst', barriers: ['angst'], resources: ['motiveret', 'netværk'] },
    timeFrame: { start: '2026-12-01', end: '2027-12-01' },
    replaces: [{ planType: 'employment-plan', relation: 'replaces' }],
    citizenViews: [citizenView('v1', 'm1', { text: 'Jeg vil gerne tilbage til lageret', provenance: [byRegistration('reg-v1')] })],
    goals: [
      goal('dfdg:goal:7d1c', { title: 'Job som lagermedarbejder', sector: 'employment', targetDate: '2027-06-30', topics: ['job-goal'], provenance: [fromSource('grant-dfdg', 'employment', 'dfdg', 'dfdg-goal-88')] }),
      goal('health:goal:41', {
        level: 'sub',
        parentGoalId: 'dfdg:goal:7d1c',
        title: 'Angsten fylder mindre i hverdagen',
        description: 'Kan tage bussen alene',
        sector: 'health',
        status: 'achieved',
        code: { system: 'http://snomed.info/sct', code: '385805005', display: 'Behandlingsmål' },
        provenance: [fromSource('grant-health', 'health', 'health', 'Goal/41'), byRegistration('reg-g2')],
      }),
      goal('g-anon', { title: 'Stoppe med hash', sector: 'social', memberId: 'm1' }),
    ],
    interventions: [
      intervention('dfdg:activity:2b9e', 'm1', {
        sector: 'employment',
        legalBasis: 'LAB § 32',
        type: dfdgActivation,
        title: 'Virksomhedspraktik på lager',
        responsibleUnit: 'Jobcenter København',
        contact: { name: 'Jonas Jobkonsulent', phone: '+45 33 66 00 00', email: 'jonas@kk.example' },
        period: { start: '2026-12-01', end: '2027-03-01' },
        order: 1,
        status: 'active',
        providerId: 'job-partner',
        hoursPerWeek: 15,
        goalIds: ['dfdg:goal:7d1c'],
        provenance: [fromSource('grant-dfdg', 'employment', 'dfdg', 'dfdg-activity-2b9e')],
      }),
      intervention('health:careplan:9:activity:0', 'm1', {
        sector: 'health',
        legalBasis: 'SUL § 79',
        type: { system: 'http://snomed.info/sct', code: '228557008', display: 'Kognitiv terapi' },
        title: 'Forløb i distriktspsykiatrien',
        responsibleUnit: 'Distriktspsykiatrien Nord',
        contact: { name: 'Pia Psykolog', unit: 'Distriktspsykiatrien Nord' },
        period: { start: '2026-12-15' },
        order: 2,
        status: 'planned',
        goalIds: ['health:goal:41'],
        dependsOn: ['dfdg:activity:2b9e'],
        provenance: [fromSource('grant-health', 'health', 'health', 'CarePlan/9')],
      }),
      intervention('i-anon', 'm1', { confidentiality: 'anonymous-treatment', providerId: 'bo-tilbud', goalIds: ['g-anon'], order: 3, title: 'Anonym behandling' }),
    ],
    agreements: [agreement('a1', { text: 'Møder op til praktikken hver dag', parties: ['borger', 'jobcenter'], provenance: [fromSource('grant-dfdg', 'employment', 'dfdg', 'dfdg-agreement-5')] })],
    followUps: [followUp('f1', { due: '2027-01-15', elementId: 'dfdg:activity:2b9e' }), followUp('f2', { due: '2026-12-20', done: true, doneAt: at })],
    coordinator: { kind: 'caseworker', name: 'Anna Koordinator', sector: 'employment', unit: 'Jobcenter København', phone: '+45 33 33 33 33', since: at, teamMembers: [] },
    ...overrides,
  });
}

const byIdentifier = <T extends { identifier?: { system?: string; value?: string }[] }>(resources: T[], elementId: string): T | undefined =>
  resources.find((r) => r.identifier?.some((i) => i.system === 'urn:enplan:element' && i.value === elementId));
const ids = (list: { id: string }[] | undefined) => (list ?? []).map((e) => e.id).sort();
const byUrl = (bundle: Bundle, reference: string | undefined) => bundle.entry!.find((e) => e.fullUrl === reference)?.resource;

describe('the whole plan, as its caseworker sees it', () => {
  const plan = realisticPlan();
  const bundle = planViewToFhirBundle(viewOf(plan, { kind: 'caseworker' })!);

  it('is a collection Bundle whose every resource is valid R4, with codes from the required value sets, resolving references and valid ids', () => {
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection', meta: { tag: [{ system: 'urn:enplan:view', code: 'caseworker' }] } });
    expect(bundle.entry!.length).toBeGreaterThan(15);
    expect(bundleProblems(bundle)).toEqual([]);
  });

  it('carries every goal, intervention and follow-up as a resource with the element id in identifier', () => {
    const elementIds = [...plan.goals, ...plan.interventions, ...plan.followUps].map((e) => e.id).sort();
    expect(elementIdsOf(bundle)).toEqual(elementIds);
    expect(resourcesOf(bundle, 'Goal')).toHaveLength(3);
    expect(resourcesOf(bundle, 'ServiceRequest')).toHaveLength(3);
    expect(resourcesOf(bundle, 'Task')).toHaveLength(2);
  });

  it('maps the plan to one CarePlan: status, intent, period, category, goals, activities in order, care team, notes', () => {
    const [carePlan] = resourcesOf(bundle, 'CarePlan') as [CarePlan];
    expect(carePlan).toMatchObject({
      status: 'active',
      intent: 'plan',
      title: 'Én plan',
      description: plan.purpose,
      period: { start: '2026-12-01', end: '2027-12-01' },
      identifier: [{ system: 'urn:enplan:plan', value: plan.id }],
      meta: { versionId: '1', tag: [{ system: 'urn:enplan:rule-version', code: 'rules-2026.11' }] },
    });
    expect(carePlan.category![0]!.coding![0]).toMatchObject({ system: 'urn:enplan:plan-category', code: 'en-plan' });
    expect(carePlan.category![1]!.coding![0]).toMatchObject({ system: 'urn:enplan:sector-plan-type', code: 'employment-plan' });
    expect(carePlan.replaces).toEqual([{ type: 'CarePlan', display: expect.stringContaining('beskæftigelsesplan') }]);
    expect(carePlan.goal).toHaveLength(3);
    // Interventions in the plan's order, then follow-ups by due date.
    const activities = carePlan.activity!.map((a) => byUrl(bundle, a.reference!.reference) as { identifier: { value: string }[] });
    expect(activities.map((r) => r.identifier[0]!.value)).toEqual(['dfdg:activity:2b9e', 'health:careplan:9:activity:0', 'i-anon', 'f2', 'f1']);
    expect(byUrl(bundle, carePlan.careTeam![0]!.reference)?.resourceType).toBe('CareTeam');
    expect(byUrl(bundle, carePlan.author!.reference)).toMatchObject({
      resourceType: 'Organization',
      identifier: [{ system: 'http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes', value: '0101' }],
      name: 'Københavns Kommune',
    });
    const notes = carePlan.note!;
    expect(notes[0]!.text).toContain('Ledig i to år, angst');
    expect(notes.find((n) => n.id === 'v1')).toMatchObject({ text: 'Jeg vil gerne tilbage til lageret', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/language', valueCode: 'da' }] });
    expect(byUrl(bundle, notes.find((n) => n.id === 'v1')!.authorReference!.reference)?.resourceType).toBe('Patient');
    expect(notes.find((n) => n.id === 'a1')).toMatchObject({ text: 'Møder op til praktikken hver dag', time: '2026-11-23' });
  });

  it('maps goals with lifecycle status, sector category, description, due date and the sub-goal as a milestone', () => {
    const goals = resourcesOf(bundle, 'Goal');
    const job = byIdentifier(goals, 'dfdg:goal:7d1c')!;
    const health = byIdentifier(goals, 'health:goal:41')!;
    expect(job).toMatchObject({ lifecycleStatus: 'active', description: { text: 'Job som lagermedarbejder' }, target: [{ dueDate: '2027-06-30' }] });
    expect(job.category![0]!.coding![0]).toMatchObject({ system: 'urn:enplan:sector', code: 'employment' });
    expect(health).toMatchObject({ lifecycleStatus: 'completed', achievementStatus: { coding: [{ code: 'achieved' }] }, note: [{ text: 'Kan tage bussen alene' }] });
    expect(health.description.coding).toEqual([{ system: 'http://snomed.info/sct', code: '385805005', display: 'Behandlingsmål' }]);
    expect(health.category![0]!.coding![0]!.code).toBe('health');
    const milestone = job.extension!.find((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/goal-relationship')!;
    expect(byUrl(bundle, milestone.extension!.find((e) => e.url === 'target')!.valueReference!.reference)).toBe(health);
  });

  it('maps interventions to ServiceRequests with their type coding, period, legal basis, goal, performer and responsible unit', () => {
    const requests = resourcesOf(bundle, 'ServiceRequest');
    const job = byIdentifier(requests, 'dfdg:activity:2b9e')!;
    expect(job).toMatchObject({
      status: 'active',
      intent: 'plan',
      code: { coding: [dfdgActivation], text: 'Virksomhedspraktik på lager' },
      occurrencePeriod: { start: '2026-12-01', end: '2027-03-01' },
      quantityRatio: { numerator: { value: 15, code: 'h' }, denominator: { value: 1, code: 'wk' } },
    });
    expect(job.category![0]!.coding![0]!.code).toBe('employment');
    expect(job.extension).toContainEqual({ url: 'urn:enplan:extension:legal-basis', valueString: 'LAB § 32' });
    const pertains = job.extension!.find((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal')!;
    expect(byIdentifier([byUrl(bundle, pertains.valueReference!.reference) as Goal], 'dfdg:goal:7d1c')).toBeDefined();
    expect(byUrl(bundle, job.performer![0]!.reference)).toMatchObject({ resourceType: 'Organization', identifier: [{ system: 'urn:enplan:provider', value: 'job-partner' }] });
    expect(byUrl(bundle, job.requester!.reference)).toMatchObject({ resourceType: 'Organization', name: 'Jobcenter København' });
    expect(byUrl(bundle, job.subject.reference)).toMatchObject({ resourceType: 'Patient' });
    const health = byIdentifier(requests, 'health:careplan:9:activity:0')!;
    expect(health.code!.coding![0]).toMatchObject({ system: 'http://snomed.info/sct', code: '228557008' });
    // Without a provider the responsible unit performs it.
    expect(byUrl(bundle, health.performer![0]!.reference)).toMatchObject({ name: 'Distriktspsykiatrien Nord' });
  });

  it('names the coordinator and each intervention contact in the CareTeam, with their roles', () => {
    const [team] = resourcesOf(bundle, 'CareTeam');
    expect(team!.status).toBe('active');
    const members = team!.participant!.map((p) => ({ role: p.role![0]!.coding![0]!.code, who: byUrl(bundle, p.member!.reference) as { name: { text: string }[]; telecom?: { value: string }[] } }));
    expect(members.map((m) => [m.role, m.who.name[0]!.text])).toEqual([
      ['coordinator', 'Anna Koordinator'],
      ['contact', 'Jonas Jobkonsulent'],
      ['contact', 'Pia Psykolog'],
      ['contact', 'Bo Bostøtte'],
    ]);
    expect(members[0]!.who.telecom).toEqual([{ system: 'phone', value: '+45 33 33 33 33', use: 'work' }]);
  });

  it('gives one Provenance per source of each element: the system, the record and its version, the mapping and the consent', () => {
    const provenances = resourcesOf(bundle, 'Provenance');
    const sources = [...plan.goals, ...plan.interventions, ...plan.followUps, ...plan.agreements, ...plan.citizenViews].flatMap((e) => e.provenance);
    expect(provenances).toHaveLength(sources.length);
    const about = (elementId: string) => provenances.filter((p) => byIdentifier([byUrl(bundle, p.target[0]!.reference) as ServiceRequest], elementId));
    const [fromDfdg] = about('dfdg:activity:2b9e') as [Provenance];
    expect(fromDfdg.recorded).toBe(at);
    expect(fromDfdg.agent[0]).toMatchObject({ type: { coding: [{ code: 'custodian' }] }, who: { identifier: { system: 'urn:enplan:source-system', value: 'dfdg' }, display: expect.stringContaining('DFDG') } });
    expect(fromDfdg.entity![0]).toMatchObject({ role: 'source', what: { identifier: { system: 'urn:enplan:source-record:dfdg', value: 'dfdg-activity-2b9e' }, display: expect.stringContaining('version 1') } });
    expect(fromDfdg.policy).toEqual(['urn:enplan:mapping:dfdg-test@1.0.0', 'urn:enplan:consent:grant-dfdg']);
    // The same goal from the region and from a registration: two Provenances, two systems.
    const healthGoal = about('health:goal:41');
    expect(healthGoal.map((p) => p.agent[0]!.who.identifier?.value ?? p.agent[0]!.who.display).sort()).toEqual(['caseworker:anna', 'health']);
    expect(healthGoal.find((p) => p.entity![0]!.what.identifier!.system === 'urn:enplan:registration')!.entity![0]!.what.identifier!.value).toBe('reg-g2');
    // An agreement's Provenance points at its note on the CarePlan.
    const toNote = provenances.find((p) => p.target[0]!.extension?.[0]?.valueUri === 'a1')!;
    expect(byUrl(bundle, toNote.target[0]!.reference)?.resourceType).toBe('CarePlan');
    expect(toNote.entity![0]!.what.identifier!.value).toBe('dfdg-agreement-5');
  });

  it('names the citizen by the pseudonymous citizen id, never by CPR, and marks § 101 a elements restricted', () => {
    const [patient] = resourcesOf(bundle, 'Patient');
    expect(patient!.identifier).toEqual([
      { system: 'urn:enplan:citizen', value: 'citizen-7f3a' },
      { system: 'urn:enplan:member', value: 'm1' },
    ]);
    expect(patient!.birthDate).toBe('1985-06-15');
    const restricted = (bundle.entry ?? []).filter((e) => (e.resource!.meta?.security ?? []).some((s) => s.code === 'R'));
    expect(elementIdsOf({ resourceType: 'Bundle', type: 'collection', entry: restricted }).sort()).toEqual(['g-anon', 'i-anon']);
  });

  it('is the same Bundle every time; another plan with the same element ids gets other resource ids', () => {
    const again = planViewToFhirBundle(viewOf(plan, { kind: 'caseworker' })!);
    expect(again).toEqual(bundle);
    const other = planViewToFhirBundle(viewOf(realisticPlan({ id: 'plan-2' }), { kind: 'caseworker' })!);
    const ids = new Set(bundle.entry!.map((e) => e.resource!.id));
    expect(other.entry!.filter((e) => ids.has(e.resource!.id))).toEqual([]);
    expect(planViewToFhirBundle(viewOf(plan, { kind: 'caseworker' })!, { generatedAt: new Date(at) }).timestamp).toBe(at);
  });
});

describe('a part of the plan, as another reader sees it', () => {
  it('a provider gets only the interventions it performs and the goals they serve — no citizen id, no provenance', () => {
    const view = viewOf(realisticPlan(), { kind: 'provider', providerId: 'job-partner' })!;
    const bundle = planViewToFhirBundle(view);
    expect(bundleProblems(bundle)).toEqual([]);
    expect(elementIdsOf(bundle)).toEqual([...view.goals!, ...view.interventions!].map((e) => e.id).sort());
    expect(elementIdsOf(bundle)).toEqual(['dfdg:activity:2b9e', 'dfdg:goal:7d1c']);
    expect(resourcesOf(bundle, 'Provenance')).toEqual([]);
    const text = JSON.stringify(bundle);
    for (const hidden of ['citizen-7f3a', 'urn:enplan:citizen', 'Anonym behandling', 'Stoppe med hash', 'Forløb i distriktspsykiatrien', 'Ledig i to år', '1985-06-15']) expect(text).not.toContain(hidden);
    const [carePlan] = resourcesOf(bundle, 'CarePlan');
    expect(carePlan!.subject).toEqual({ display: expect.any(String) });
    expect(bundle.meta!.tag![0]!.code).toBe('provider');
  });

  it('a parent in a family plan gets the family as a Group, their own and the children’s elements — not the other parent’s', () => {
    const a = familyMember('ma', 'parent', '1984-02-01');
    const b = familyMember('mb', 'parent', '1986-07-09');
    const child = familyMember('mc', 'child', '2014-03-01');
    const plan = planWith([a, b, child], {
      goals: [goal('g-family'), goal('g-b', { memberId: 'mb', title: 'Privat mål' })],
      interventions: [intervention('i-a', 'ma', { goalIds: ['g-family'] }), intervention('i-b', 'mb', { goalIds: ['g-b'], title: 'Privat forløb' }), intervention('i-c', 'mc')],
    });
    const view = viewOf(plan, { kind: 'citizen', citizenId: a.citizenId })!;
    const bundle = planViewToFhirBundle(view);
    expect(bundleProblems(bundle)).toEqual([]);
    expect(elementIdsOf(bundle)).toEqual(['g-family', 'i-a', 'i-c']);
    const [group] = resourcesOf(bundle, 'Group');
    expect(group).toMatchObject({ type: 'person', actual: true, quantity: 3 });
    const patients = resourcesOf(bundle, 'Patient');
    // The other parent appears by member id only.
    const other = patients.find((p) => p.identifier!.some((i) => i.value === 'mb'))!;
    expect(other.identifier).toEqual([{ system: 'urn:enplan:member', value: 'mb' }]);
    expect(other.birthDate).toBeUndefined();
    const text = JSON.stringify(bundle);
    for (const hidden of ['Privat mål', 'Privat forløb', b.citizenId]) expect(text).not.toContain(hidden);
  });

  it('a linked municipality gets the parts the citizen consented to, with itself as contributor, never § 101 a', () => {
    const base = realisticPlan();
    const plan = { ...base, municipalities: [...base.municipalities, { code: '751', role: 'residence' as const, link: { consentRef: 'grant-751', parts: ['goals' as const, 'coordinator' as const], linkedAt: at } }] };
    const citizenId = base.subject.kind === 'citizen' ? base.subject.member.citizenId : '';
    const grant: ConsentGrant = {
      id: 'grant-751',
      tenant: '101',
      citizenId,
      grantedBy: { citizenId, capacity: 'self' },
      source: 'enplan',
      recipient: 'municipality:751',
      categories: ['goals', 'plan-core'],
      explicitHealth: false,
      purpose: 'Deling med opholdskommunen',
      validFrom: '2026-11-01',
      signed: { method: 'mitid', documentRef: 'doc', textVersion: 'v3', language: 'da' },
      createdAt: at,
    };
    const view = viewOf(plan, { kind: 'municipality', code: '751', grants: [grant], at: new Date(at) })!;
    const bundle = planViewToFhirBundle(view);
    expect(bundleProblems(bundle)).toEqual([]);
    // Health goals need explicit health consent; the § 101 a goal never goes.
    expect(elementIdsOf(bundle)).toEqual(ids(view.goals));
    expect(elementIdsOf(bundle)).toEqual(['dfdg:goal:7d1c']);
    const [carePlan] = resourcesOf(bundle, 'CarePlan');
    expect(byUrl(bundle, carePlan!.contributor![0]!.reference)).toMatchObject({ identifier: [{ value: '0751' }], name: 'Aarhus Kommune' });
    expect(JSON.stringify(bundle)).not.toContain('grant-751');
    expect(resourcesOf(bundle, 'CareTeam')[0]!.participant).toHaveLength(1);
  });

  it('a coordinating team becomes a CareTeam of its own inside the plan’s care team', () => {
    const plan = realisticPlan({ coordinator: { kind: 'team', name: 'Team Én plan Nord', sector: 'social', unit: 'Socialcenter Nord', email: 'team@kk.example', since: at, teamMembers: ['Anna', 'Bent'] } });
    const bundle = planViewToFhirBundle(viewOf(plan, { kind: 'caseworker' })!);
    expect(bundleProblems(bundle)).toEqual([]);
    const teams = resourcesOf(bundle, 'CareTeam');
    const outer = teams.find((t) => t.name === 'Én plan');
    const team = teams.find((t) => t.name === 'Team Én plan Nord');
    expect(team).toMatchObject({ name: 'Team Én plan Nord', telecom: [{ system: 'email', value: 'team@kk.example' }] });
    expect(team!.participant).toHaveLength(2);
    expect(byUrl(bundle, outer!.participant![0]!.member!.reference)).toBe(team);
    expect(outer!.participant![0]!.role![0]!.coding![0]!.code).toBe('coordinating-team');
  });
});

describe('the status mappings', () => {
  const inValueSet = (url: string, codes: readonly string[]) => {
    const valueSet = valueSetCodes(url)!;
    expect(valueSet.size).toBeGreaterThan(0);
    for (const code of codes) expect([...valueSet].some((c) => c.endsWith(`|${code}`)), `${code} in ${url}`).toBe(true);
  };

  it('take every status of the model to a code of the right R4 value set', () => {
    inValueSet('http://hl7.org/fhir/ValueSet/request-status', Object.values(carePlanStatus));
    inValueSet('http://hl7.org/fhir/ValueSet/care-plan-intent', PlanStatus.options.map((s) => carePlanIntent(s)));
    inValueSet('http://hl7.org/fhir/ValueSet/care-team-status', Object.values(careTeamStatus));
    inValueSet('http://hl7.org/fhir/ValueSet/goal-status', Object.values(goalLifecycleStatus));
    inValueSet('http://hl7.org/fhir/ValueSet/request-status', Object.values(serviceRequestStatus));
    inValueSet('http://hl7.org/fhir/ValueSet/task-status', [taskStatus(true), taskStatus(false)]);
  });

  it('follow the plan’s lifecycle: a proposal until accepted, revoked when declined, completed when closed', () => {
    expect(PlanStatus.options.map((s) => [s, carePlanStatus[s], carePlanIntent(s)])).toEqual([
      ['requested', 'draft', 'proposal'],
      ['offered', 'draft', 'proposal'],
      ['accepted', 'active', 'plan'],
      ['declined', 'revoked', 'proposal'],
      ['active', 'active', 'plan'],
      ['closed', 'completed', 'plan'],
    ]);
    expect(carePlanIntent('declined', [{ to: 'accepted', at, recordedBy: 'x' }])).toBe('plan');
    const declined = realisticPlan({ status: 'declined', statusHistory: [{ to: 'offered', at, recordedBy: 'x' }, { from: 'offered', to: 'declined', at, recordedBy: 'x', reason: 'Borgeren vil ikke' }] });
    const bundle = planViewToFhirBundle(viewOf(declined, { kind: 'caseworker' })!);
    expect(bundleProblems(bundle)).toEqual([]);
    expect(resourcesOf(bundle, 'CarePlan')[0]).toMatchObject({ status: 'revoked', intent: 'proposal' });
    expect(resourcesOf(bundle, 'CareTeam')[0]!.status).toBe('inactive');
  });
});
