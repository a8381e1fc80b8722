/**
 * Who sees what of a plan (R4, R8, R14): `viewOf` for the owning caseworker, each family member,
 * providers and a linked municipality — separated parents, children, SEL § 101 a.
 */
import { describe, expect, it } from 'vitest';
import type { ConsentGrant, Plan } from '../../src/model';
import { protectedElements, viewOf, type PlanView } from '../../src/views';
import { agreement, citizenView, familyMember, followUp, fromSource, goal, intervention, planWith } from '../support/elements';

const parentA = familyMember('m-pa', 'parent', '1984-02-01');
const parentB = familyMember('m-pb', 'parent', '1986-07-09');
const child = familyMember('m-c', 'child', '2015-04-04');
const young = familyMember('m-y', 'young-person', '2010-03-01');

const family: Plan = planWith([parentA, parentB, child, young], {
  goals: [
    goal('g-family'),
    goal('g-pa', { memberId: 'm-pa' }),
    goal('g-pb', { memberId: 'm-pb', sector: 'health' }),
    goal('g-child', { memberId: 'm-c', level: 'sub', parentGoalId: 'g-family' }),
    goal('g-anon', { memberId: 'm-y', sector: 'social', title: 'Stoppe med hash' }),
    goal('g-served-by-anon-only'),
  ],
  interventions: [
    intervention('i-pa', 'm-pa', { goalIds: ['g-pa'] }),
    intervention('i-pb', 'm-pb', { goalIds: ['g-pb'], sector: 'health', providerId: 'psyk-1' }),
    intervention('i-child', 'm-c', { goalIds: ['g-child', 'g-family'], providerId: 'prov-1', dependsOn: ['i-pa'] }),
    intervention('i-young', 'm-y', { goalIds: ['g-family'] }),
    intervention('i-anon', 'm-y', { confidentiality: 'anonymous-treatment', goalIds: ['g-anon', 'g-served-by-anon-only'], providerId: 'prov-1', title: 'Anonym behandling' }),
    intervention('i-pb-anon', 'm-pb', { confidentiality: 'anonymous-treatment', providerId: 'prov-2', title: 'Anonym alkoholbehandling' }),
  ],
  agreements: [agreement('a-family'), agreement('a-pb', { memberId: 'm-pb' }), agreement('a-child', { memberId: 'm-c' })],
  followUps: [followUp('f-plan'), followUp('f-pb', { elementId: 'i-pb' }), followUp('f-anon', { elementId: 'i-anon' }), followUp('f-child', { elementId: 'i-child' })],
  citizenViews: [citizenView('v-pa', 'm-pa'), citizenView('v-pb', 'm-pb'), citizenView('v-child', 'm-c')],
  replaces: [{ planType: 'sel-141-plan', relation: 'replaces', memberId: 'm-pb' }, { planType: 'children-plan', relation: 'frames', memberId: 'm-c' }],
});

const ids = (list: { id: string }[] | undefined) => (list ?? []).map((e) => e.id).sort();
const asCitizen = (member: { citizenId: string }) => viewOf(family, { kind: 'citizen', citizenId: member.citizenId })!;

describe('the owning caseworker', () => {
  it('sees the whole plan, with the § 101 a elements flagged', () => {
    const view = viewOf(family, { kind: 'caseworker' })!;
    expect(ids(view.interventions)).toEqual(ids(family.interventions));
    expect(ids(view.goals)).toEqual(ids(family.goals));
    expect(view.subject).toEqual(family.subject);
    expect(view.view.as).toBe('caseworker');
    expect(view.view.protectedElementIds!.sort()).toEqual(['f-anon', 'g-anon', 'g-served-by-anon-only', 'i-anon', 'i-pb-anon']);
  });

  it('a goal also served by a normal intervention is not protected', () => {
    expect(protectedElements(family).has('g-family')).toBe(false);
  });
});

describe('family members (R4)', () => {
  it('a parent sees the family-wide elements, their own and their children’s — never the other parent’s', () => {
    const view = asCitizen(parentA);
    expect(ids(view.goals)).toEqual(['g-child', 'g-family', 'g-pa']);
    expect(ids(view.interventions)).toEqual(['i-child', 'i-pa', 'i-young']);
    expect(ids(view.agreements)).toEqual(['a-child', 'a-family']);
    expect(ids(view.followUps)).toEqual(['f-child', 'f-plan']);
    expect(ids(view.citizenViews)).toEqual(['v-child', 'v-pa']);
    expect(view.replaces).toEqual([{ planType: 'children-plan', relation: 'frames', memberId: 'm-c' }]);
    expect(view.coordinator?.phone).toBe('+45 33 33 33 33');
    expect(view.view).toEqual({ as: 'citizen', memberId: 'm-pa' });
  });

  it('separated parents see nothing of each other: not an element, not a reference, not a birth date', () => {
    for (const [viewer, other] of [
      [parentA, parentB],
      [parentB, parentA],
    ] as const) {
      const view = asCitizen(viewer);
      const text = JSON.stringify(view);
      const otherIds = [...family.interventions, ...family.goals, ...family.agreements, ...family.citizenViews]
        .filter((e) => 'memberId' in e && e.memberId === other.memberId)
        .map((e) => e.id);
      expect(otherIds.length).toBeGreaterThan(0);
      for (const id of otherIds) expect(text).not.toContain(`"${id}"`);
      expect(text).not.toContain(other.citizenId);
      expect(text).not.toContain(other.birthDate);
      const members = view.subject?.kind === 'family' ? view.subject.members : [];
      expect(members.find((m) => m.memberId === other.memberId)).toEqual({ memberId: other.memberId, role: 'parent' });
    }
  });

  it('the other parent’s follow-up and replaced sector plan stay hidden too', () => {
    const view = asCitizen(parentA);
    expect(ids(view.followUps)).not.toContain('f-pb');
    expect(view.replaces?.some((r) => r.memberId === 'm-pb')).toBe(false);
  });

  it('references to elements the viewer cannot see are dropped', () => {
    const view = asCitizen(young);
    const iYoung = view.interventions!.find((i) => i.id === 'i-young')!;
    expect(iYoung.goalIds).toEqual(['g-family']);
    const childView = asCitizen(parentA);
    expect(childView.interventions!.find((i) => i.id === 'i-child')!.dependsOn).toEqual(['i-pa']);
    expect(asCitizen(parentB).interventions!.find((i) => i.id === 'i-child')!.dependsOn).toEqual([]);
  });

  it('§ 101 a is never visible to another member — not even to a parent — nor anything revealing it', () => {
    for (const viewer of [parentA, parentB, child]) {
      const text = JSON.stringify(asCitizen(viewer));
      // Parent B is in anonymous treatment themselves; nobody else's shows.
      if (viewer !== parentB) expect(text).not.toContain('anonymous-treatment');
      else expect(text.match(/anonymous-treatment/g)).toHaveLength(1);
      for (const id of ['i-anon', 'g-anon', 'f-anon', 'g-served-by-anon-only']) expect(text).not.toContain(`"${id}"`);
      expect(text).not.toContain('Stoppe med hash');
    }
    expect(JSON.stringify(asCitizen(parentA))).not.toContain('i-pb-anon');
  });

  it('the member in anonymous treatment sees it themselves', () => {
    const view = asCitizen(young);
    expect(ids(view.interventions)).toEqual(['i-anon', 'i-young']);
    expect(ids(view.goals)).toEqual(['g-anon', 'g-family', 'g-served-by-anon-only']);
    expect(ids(view.followUps)).toEqual(['f-anon', 'f-plan']);
  });

  it('a child sees its own and the family-wide elements, not its parents’', () => {
    const view = asCitizen(child);
    expect(ids(view.interventions)).toEqual(['i-child']);
    expect(ids(view.goals)).toEqual(['g-child', 'g-family']);
  });

  it('a parent’s insight into a young person’s part ends when they turn 18, though the role runs to 23 (the ungeplan)', () => {
    const asParentOn = (day: string) => viewOf(family, { kind: 'citizen', citizenId: parentA.citizenId, at: new Date(`${day}T12:00:00.000Z`) })!;
    const youngOf = (view: PlanView) => (view.subject?.kind === 'family' ? view.subject.members.find((m) => m.memberId === young.memberId) : undefined);
    // The young person was born 2010-03-01: 17 the day before their birthday in 2028, 18 on it.
    const at17 = asParentOn('2028-02-29');
    expect(ids(at17.interventions)).toContain('i-young');
    expect(youngOf(at17)).toHaveProperty('birthDate', young.birthDate);
    const at18 = asParentOn('2028-03-01');
    expect(ids(at18.interventions)).not.toContain('i-young');
    expect(youngOf(at18)).not.toHaveProperty('birthDate');
    // A child stays in the parent's custody, and the young person sees their own part.
    expect(ids(at18.interventions)).toContain('i-child');
    expect(ids(viewOf(family, { kind: 'citizen', citizenId: young.citizenId, at: new Date('2028-03-01T12:00:00.000Z') })!.interventions)).toContain('i-young');
  });

  it('tells the citizen who changed the plan’s status or coordinator as the authority, not by user', () => {
    const withHistory: Plan = {
      ...family,
      statusHistory: [{ from: 'offered', to: 'accepted', at: '2026-11-02T09:00:00.000Z', recordedBy: 'caseworker:anna' }],
      coordinatorHistory: [{ to: 'Anna Koordinator', toSector: 'social', at: '2026-11-02T09:00:00.000Z', recordedBy: 'caseworker:anna' }],
    };
    const mine = viewOf(withHistory, { kind: 'citizen', citizenId: parentA.citizenId })!;
    expect(mine.statusHistory).toEqual([{ from: 'offered', to: 'accepted', at: '2026-11-02T09:00:00.000Z' }]);
    expect(mine.coordinatorHistory).toEqual([{ to: 'Anna Koordinator', toSector: 'social', at: '2026-11-02T09:00:00.000Z' }]);
    // The caseworker's view keeps who did it.
    expect(viewOf(withHistory, { kind: 'caseworker' })!.statusHistory![0]!.recordedBy).toBe('caseworker:anna');
  });

  it('someone who is not a member, or has left, sees nothing', () => {
    expect(viewOf(family, { kind: 'citizen', citizenId: 'c-stranger' })).toBeNull();
    const left = planWith([parentA, { ...parentB, leftAt: '2026-11-20T10:00:00.000Z', ownPlanId: 'plan-2' }]);
    expect(viewOf(left, { kind: 'citizen', citizenId: parentB.citizenId })).toBeNull();
    expect(viewOf(left, { kind: 'citizen', citizenId: parentA.citizenId })).not.toBeNull();
  });
});

describe('providers (R14)', () => {
  it('see only the interventions they perform and the goals those serve, plus id, status and coordinator', () => {
    const view = viewOf(family, { kind: 'provider', providerId: 'prov-1' })!;
    expect(ids(view.interventions)).toEqual(['i-child']);
    expect(ids(view.goals)).toEqual(['g-child', 'g-family']);
    expect(view.interventions![0]!.dependsOn).toEqual([]);
    expect(view.coordinator?.name).toBe('Anna Koordinator');
    expect(view).not.toHaveProperty('subject');
    expect(view).not.toHaveProperty('agreements');
    expect(view).not.toHaveProperty('followUps');
    expect(view).not.toHaveProperty('situation');
    expect(JSON.stringify(view)).not.toContain('provenance');
    expect(view.view).toEqual({ as: 'provider', providerId: 'prov-1' });
  });

  it('never see § 101 a, even when they perform it', () => {
    const text = JSON.stringify(viewOf(family, { kind: 'provider', providerId: 'prov-1' }));
    expect(text).not.toContain('i-anon');
    expect(text).not.toContain('g-anon');
    expect(viewOf(family, { kind: 'provider', providerId: 'prov-2' })).toBeNull();
  });

  it('never see a goal kept shielded after the § 101 a treatment it served left, though their own intervention serves it', () => {
    const young = family.subject.kind === 'family' ? family.subject.members.find((m) => m.role === 'young-person')! : undefined;
    const plan: Plan = {
      ...family,
      goals: [...family.goals, goal('g-kept', { memberId: young!.memberId, title: 'Stoppe med hash', keptVisibility: { memberId: young!.memberId, anonymousTreatment: true } })],
      interventions: [...family.interventions, intervention('i-ordinary', young!.memberId, { goalIds: ['g-kept'], providerId: 'prov-3' })],
    };
    expect(protectedElements(plan).has('g-kept')).toBe(true);
    const view = viewOf(plan, { kind: 'provider', providerId: 'prov-3' })!;
    expect(ids(view.interventions)).toEqual(['i-ordinary']);
    expect(ids(view.goals)).toEqual([]);
    expect(view.interventions![0]!.goalIds).toEqual([]);
  });

  it('a provider performing nothing in the plan does not see it at all', () => {
    expect(viewOf(family, { kind: 'provider', providerId: 'prov-9' })).toBeNull();
  });

  it('different providers get different subsets', () => {
    const psych = viewOf(family, { kind: 'provider', providerId: 'psyk-1' })!;
    expect(ids(psych.interventions)).toEqual(['i-pb']);
    expect(ids(psych.goals)).toEqual(['g-pb']);
  });
});

describe('another municipality (R8)', () => {
  const at = new Date('2026-11-23T12:00:00.000Z');
  let n = 0;
  const grant = (member: { citizenId: string }, categories: ConsentGrant['categories'], overrides: Partial<ConsentGrant> = {}): ConsentGrant => ({
    id: `g-${++n}`,
    tenant: '101',
    citizenId: member.citizenId,
    grantedBy: { citizenId: member.citizenId, capacity: 'self' },
    source: 'enplan',
    recipient: 'municipality:751',
    categories,
    explicitHealth: categories.includes('health'),
    purpose: 'Deling med opholdskommunen',
    validFrom: '2026-11-01',
    signed: { method: 'mitid', documentRef: 'doc', textVersion: 'v3', language: 'da' },
    createdAt: '2026-11-01T09:00:00.000Z',
    ...overrides,
  });
  const linked = (parts: ('goals' | 'interventions' | 'agreements' | 'followUps' | 'coordinator')[], consentRef = 'g-link') =>
    ({ ...family, municipalities: [...family.municipalities, { code: '751', role: 'residence' as const, link: { consentRef, parts, linkedAt: at.toISOString() } }] }) as Plan;
  const asMunicipality = (plan: Plan, grants: ConsentGrant[], code = '751') => viewOf(plan, { kind: 'municipality', code, grants, at });

  it('sees nothing without a link, even with consent', () => {
    expect(asMunicipality(family, [grant(parentA, ['goals', 'interventions', 'plan-core'])])).toBeNull();
  });

  it('sees nothing with a link but without consent, or when the link names another municipality', () => {
    expect(asMunicipality(linked(['goals']), [])).toBeNull();
    expect(asMunicipality(linked(['goals']), [grant(parentA, ['goals'])], '147')).toBeNull();
  });

  it('sees only the named parts the consent covers, and each member’s elements only on that member’s consent', () => {
    const grants = [grant(parentA, ['goals', 'interventions'])];
    const view = asMunicipality(linked(['goals', 'interventions', 'agreements']), grants)!;
    expect(view.view.parts).toEqual(['goals', 'interventions']);
    expect(view.view.consentRefs).toEqual([grants[0]!.id]);
    expect(ids(view.goals)).toEqual(['g-family', 'g-pa']);
    expect(ids(view.interventions)).toEqual(['i-pa']);
    expect(view).not.toHaveProperty('agreements');
    expect(view).not.toHaveProperty('coordinator');
    expect(view).not.toHaveProperty('subject');
    expect(view.municipalities).toEqual([expect.objectContaining({ code: '751' })]);
    expect(JSON.stringify(view)).not.toContain('provenance');
  });

  it('a child’s elements come along on the consent given for the child; health-sector elements need explicit health consent', () => {
    const custody = (m: { citizenId: string }, categories: ConsentGrant['categories']) => grant(m, categories, { grantedBy: { citizenId: parentA.citizenId, capacity: 'custody-holder' } });
    const grants = [grant(parentA, ['goals', 'interventions']), custody(child, ['goals', 'interventions']), grant(parentB, ['goals', 'interventions'])];
    const view = asMunicipality(linked(['goals', 'interventions']), grants)!;
    expect(ids(view.interventions)).toEqual(['i-child', 'i-pa']);
    expect(ids(view.goals)).toEqual(['g-child', 'g-family', 'g-pa']);
    const withHealth = asMunicipality(linked(['goals', 'interventions']), [...grants, grant(parentB, ['health'])])!;
    expect(ids(withHealth.interventions)).toEqual(['i-child', 'i-pa', 'i-pb']);
  });

  it('never sees § 101 a, whatever the consent', () => {
    const all: ConsentGrant['categories'] = ['goals', 'interventions', 'plan-core', 'health'];
    const grants = [parentA, parentB, young].map((m) => grant(m, all));
    grants.push(grant(young, all, { grantedBy: { citizenId: parentA.citizenId, capacity: 'custody-holder' } }));
    const view = asMunicipality(linked(['goals', 'interventions', 'followUps', 'agreements', 'coordinator']), grants)!;
    expect(ids(view.interventions)).toContain('i-young');
    const text = JSON.stringify(view);
    for (const id of ['i-anon', 'g-anon', 'f-anon', 'i-pb-anon', 'g-served-by-anon-only']) expect(text).not.toContain(`"${id}"`);
    expect(view.coordinator?.name).toBe('Anna Koordinator');
  });

  it('sees nothing again once the consent is revoked or has expired', () => {
    const g = grant(parentA, ['goals']);
    expect(asMunicipality(linked(['goals']), [g])).not.toBeNull();
    expect(asMunicipality(linked(['goals']), [{ ...g, revokedAt: '2026-11-23T11:00:00.000Z' }])).toBeNull();
    expect(asMunicipality(linked(['goals']), [{ ...g, validTo: '2026-11-22' }])).toBeNull();
  });

  it('the owning municipality is never its own linked party', () => {
    const self = { ...family, municipalities: [{ code: '101', role: 'acting' as const, link: { consentRef: 'x', parts: ['goals' as const], linkedAt: at.toISOString() } }] } as Plan;
    expect(asMunicipality(self, [grant(parentA, ['goals'], { recipient: 'municipality:101' })], '101')).toBeNull();
  });
});

// Keeps the type honest: every view carries who it is for.
const _typecheck: (v: PlanView) => string = (v) => v.view.as;
void _typecheck;
