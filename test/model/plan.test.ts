import { describe, expect, it } from 'vitest';
import { allowedTransitions, birthDateFromCpr, canTransition, ConsentGrant, Cpr, isValidCpr, Plan, PlanStatus } from '../../src/model';
import { at, member, registration, validPlan } from '../support/plans';

const errorsOf = (input: unknown) => {
  const result = Plan.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('the Én plan model (R1–R8)', () => {
  it('accepts a complete plan with every R1 element', () => {
    expect(errorsOf(validPlan())).toEqual([]);
  });

  it.each([
    ['goal title', (p: any) => delete p.goals[0].title, 'goals.0.title'],
    ['goal level', (p: any) => (p.goals[0].level = 'huge'), 'goals.0.level'],
    ['intervention legal basis (R3)', (p: any) => delete p.interventions[0].legalBasis, 'interventions.0.legalBasis'],
    ['intervention sector (R3)', (p: any) => (p.interventions[0].sector = 'police'), 'interventions.0.sector'],
    ['intervention named contact', (p: any) => (p.interventions[0].contact = {}), 'interventions.0.contact.name'],
    ['intervention type code system', (p: any) => delete p.interventions[0].type.system, 'interventions.0.type.system'],
    ['intervention period order', (p: any) => (p.interventions[0].period = { start: '2027-01-01', end: '2026-01-01' }), 'interventions.0.period.end'],
    ['agreement parties', (p: any) => (p.agreements[0].parties = []), 'agreements.0.parties'],
    ['follow-up due date', (p: any) => (p.followUps[0].due = '15-01-2027'), 'followUps.0.due'],
    ['citizen view language', (p: any) => (p.citizenViews[0].language = 'Danish!'), 'citizenViews.0.language'],
    ['situation summary', (p: any) => (p.situation.summary = ''), 'situation.summary'],
    ['coordinator name (R5)', (p: any) => (p.coordinator.name = ''), 'coordinator.name'],
    ['municipality code (R8)', (p: any) => (p.municipalities[0].code = '1010'), 'municipalities.0.code'],
  ])('rejects a plan with a broken %s', (_name, breakIt, path) => {
    const plan = validPlan();
    breakIt(plan);
    expect(errorsOf(plan).some((e) => e.startsWith(`${path}:`))).toBe(true);
  });

  it('requires provenance on every element', () => {
    for (const list of ['goals', 'interventions', 'agreements', 'followUps', 'citizenViews'] as const) {
      const plan = validPlan() as any;
      plan[list][0].provenance = [];
      expect(errorsOf(plan), list).toContainEqual(`${list}.0.provenance: every plan element needs its provenance`);
    }
    const sourced = validPlan() as any;
    sourced.goals[0].provenance = [
      { kind: 'source', system: 'dfdg', recordId: 'abc', recordVersion: '3', mappingId: 'dfdg.plan', mappingVersion: '1.0.0', at },
      ...registration(),
    ];
    expect(errorsOf(sourced)).toEqual([]);
    sourced.goals[0].provenance[0].mappingVersion = 'one';
    expect(errorsOf(sourced)).toContainEqual('goals.0.provenance.0.mappingVersion: a semantic version');
  });

  it('attributes every intervention to a member of the plan (R4)', () => {
    const family = validPlan({ subject: { kind: 'family', members: [member('m1', 'parent'), member('m2', 'child', '2012-03-04')] } as never }) as any;
    family.interventions[0].memberId = 'm2';
    expect(errorsOf(family)).toEqual([]);
    family.interventions[0].memberId = 'stranger';
    expect(errorsOf(family)).toContainEqual('interventions.0.memberId: the intervention must belong to a member of the plan');
    delete family.interventions[0].memberId;
    expect(errorsOf(family).some((e) => e.startsWith('interventions.0.memberId'))).toBe(true);
  });

  it('needs at least two members for a family plan', () => {
    expect(errorsOf(validPlan({ subject: { kind: 'family', members: [member()] } as never }))).toContainEqual('subject.members: a family plan has at least two members');
  });

  it('checks goal hierarchy and intervention links', () => {
    const plan = validPlan() as any;
    plan.goals[1].parentGoalId = 'nope';
    plan.interventions[0].goalIds = ['missing-goal'];
    plan.interventions[0].dependsOn = ['i1'];
    expect(errorsOf(plan)).toEqual(
      expect.arrayContaining(['goals.1.parentGoalId: unknown parent goal nope', 'interventions.0.goalIds: unknown goal missing-goal', 'interventions.0.dependsOn: unknown intervention i1']),
    );
  });

  it('refuses words left blank: a title, a unit, a contact, a code (FHIR too asks for non-whitespace content)', () => {
    const plan = validPlan() as any;
    plan.goals[0].title = '   ';
    plan.interventions[0].responsibleUnit = '\n';
    plan.interventions[0].contact.name = ' ';
    plan.interventions[0].type.code = ' ';
    expect(errorsOf(plan)).toEqual(expect.arrayContaining(['goals.0.title: must not be blank', 'interventions.0.responsibleUnit: must not be blank', 'interventions.0.contact.name: must not be blank', 'interventions.0.type.code: must not be blank']));
    // Words with spaces around them are words.
    const padded = validPlan() as any;
    padded.goals[0].title = ' Ordinært job ';
    expect(errorsOf(padded)).toEqual([]);
  });

  it('refuses a goal that is its own parent, or parents that go round in a circle (R1)', () => {
    const own = validPlan() as any;
    own.goals[1].parentGoalId = own.goals[1].id;
    expect(errorsOf(own)).toContainEqual('goals.1.parentGoalId: a goal cannot be its own parent');
    const circle = validPlan() as any;
    const [top, sub] = circle.goals;
    circle.goals.push({ ...sub, id: 'g-sub-2', parentGoalId: sub.id });
    sub.parentGoalId = 'g-sub-2';
    expect(errorsOf(circle)).toEqual(expect.arrayContaining([expect.stringMatching(/^goals\.1\.parentGoalId: the parent goals go round in a circle/), expect.stringMatching(/^goals\.2\.parentGoalId: the parent goals go round in a circle/)]));
    // A chain up to the overall goal is fine.
    const chain = validPlan() as any;
    chain.goals.push({ ...chain.goals[1], id: 'g-sub-2', parentGoalId: chain.goals[1].id });
    expect(top.level).toBe('overall');
    expect(errorsOf(chain)).toEqual([]);
  });

  it('requires the reason and who recorded it on a declined plan (R6)', () => {
    expect(errorsOf(validPlan({ status: 'declined', statusHistory: [] }))).toContainEqual('statusHistory: a declined plan records why and who recorded it');
    const documented = validPlan({ status: 'declined', statusHistory: [{ from: 'offered', to: 'declined', at, recordedBy: 'caseworker:anna', reason: 'Ønsker ikke' }] });
    expect(errorsOf(documented)).toEqual([]);
  });
});

describe('lifecycle transitions (R6)', () => {
  it('allows exactly the documented transitions', () => {
    const statuses = PlanStatus.options;
    const allowed: string[] = [];
    for (const from of statuses) for (const to of statuses) if (canTransition(from, to)) allowed.push(`${from}->${to}`);
    expect(allowed.sort()).toEqual(
      [
        'requested->offered',
        'requested->accepted',
        'requested->declined',
        'offered->accepted',
        'offered->declined',
        'accepted->active',
        'accepted->declined',
        'accepted->closed',
        'active->closed',
        'active->declined',
        'declined->offered',
        'declined->requested',
      ].sort(),
    );
    expect(allowedTransitions.closed).toEqual([]);
  });
});

describe('CPR validation', () => {
  it('accepts real dates in both forms, with or without modulus 11', () => {
    expect(Cpr.parse('010180-1235')).toBe('0101801235');
    expect(isValidCpr('0101801234')).toBe(true); // fails modulus 11, still valid since 2007
    expect(birthDateFromCpr('2902004123')).toBe('2000-02-29');
    expect(birthDateFromCpr('1503371234')).toBe('1937-03-15');
    expect(birthDateFromCpr('1503374234')).toBe('1937-03-15');
    expect(birthDateFromCpr('1503174234')).toBe('2017-03-15');
    expect(birthDateFromCpr('0101605234')).toBe('1860-01-01');
  });

  it.each(['3213801234', '0013801234', '2902014123', '12345', '01018012345', 'abcdefghij', '010180 1234x'])('rejects malformed CPR input no. %#', (input) => {
    expect(Cpr.safeParse(input).success).toBe(false);
  });
});

describe('consent grants (R9, R15)', () => {
  const grant = {
    id: 'g1',
    tenant: '101',
    citizenId: 'c1',
    grantedBy: { citizenId: 'c1', capacity: 'self' },
    source: 'health',
    recipient: 'employment',
    categories: ['health'],
    explicitHealth: true,
    purpose: 'Koordinering af indsatser i Én plan',
    validFrom: '2026-11-01',
    validTo: '2027-11-01',
    signed: { method: 'mitid', documentRef: 'doc-1', textVersion: 'samtykke-v3', language: 'ar' },
    createdAt: at,
  };
  it('stores the text version and language the citizen saw', () => {
    const parsed = ConsentGrant.parse(grant);
    expect(parsed.signed).toMatchObject({ textVersion: 'samtykke-v3', language: 'ar' });
  });
  it('refuses health data without explicit consent', () => {
    const result = ConsentGrant.safeParse({ ...grant, explicitHealth: false });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain('Sundhedsloven §43');
  });
  it('accepts a provider or another municipality as recipient, nothing else', () => {
    expect(ConsentGrant.safeParse({ ...grant, recipient: 'provider:bosted-7' }).success).toBe(true);
    expect(ConsentGrant.safeParse({ ...grant, recipient: 'municipality:751' }).success).toBe(true);
    expect(ConsentGrant.safeParse({ ...grant, recipient: 'anyone' }).success).toBe(false);
  });
});
