/** What a revoked grant takes with it from a plan (R10, S3): `removeRevokedData`, pure. */
import { describe, expect, it } from 'vitest';
import { carriesGrant, removeRevokedData, type RevocationContext } from '../../src/consent';
import { Plan, type ConsentGrant, type LegalBasisRecord } from '../../src/model';
import { agreement, byRegistration, citizenView, familyMember, followUp, fromSource, goal, intervention, planWith } from '../support/elements';

const at = new Date('2026-11-23T12:00:00.000Z');
const adult = familyMember('m1', 'adult', '1985-06-15');

function grant(id: string, overrides: Partial<ConsentGrant> = {}): ConsentGrant {
  return {
    id,
    tenant: '101',
    citizenId: adult.citizenId,
    grantedBy: { citizenId: adult.citizenId, capacity: 'self' },
    source: 'dfdg',
    recipient: 'enplan',
    categories: ['employment', 'interventions', 'goals'],
    explicitHealth: false,
    purpose: 'Samlet plan',
    validFrom: '2026-11-01',
    signed: { method: 'mitid', documentRef: 'doc', textVersion: 'v3', language: 'da' },
    createdAt: '2026-11-01T09:00:00.000Z',
    ...overrides,
  };
}
const revoked = (g: ConsentGrant): ConsentGrant => ({ ...g, revokedAt: '2026-11-23T11:00:00.000Z', revokedBy: 'citizen:x' });

const context = (grants: ConsentGrant[], legalBases: LegalBasisRecord[] = [], grantId = 'g-revoked'): RevocationContext => ({
  grantId,
  citizenId: adult.citizenId,
  birthDate: adult.birthDate,
  at,
  grants,
  legalBases,
});

describe('removeRevokedData', () => {
  const gRevoked = revoked(grant('g-revoked'));
  const gOther = grant('g-other', { source: 'social', categories: ['social', 'goals'] });

  const plan = planWith([adult], {
    goals: [
      goal('g-only-revoked', { provenance: [fromSource('g-revoked', 'goals')] }),
      goal('g-child-of-removed', { level: 'sub', parentGoalId: 'g-only-revoked', provenance: [byRegistration()] }),
      goal('g-two-sources', { provenance: [fromSource('g-revoked', 'goals'), fromSource('g-other', 'goals', 'social')] }),
    ],
    interventions: [
      intervention('i-only-revoked', 'm1', { provenance: [fromSource('g-revoked', 'interventions')] }),
      intervention('i-registered-too', 'm1', { goalIds: ['g-only-revoked', 'g-two-sources'], dependsOn: ['i-only-revoked'], provenance: [fromSource('g-revoked', 'employment'), byRegistration()] }),
      intervention('i-untouched', 'm1', { provenance: [fromSource('g-other', 'social', 'social')] }),
    ],
    agreements: [agreement('a-only-revoked', { provenance: [fromSource('g-revoked', 'employment')] })],
    followUps: [followUp('f-on-removed', { elementId: 'i-only-revoked' }), followUp('f-plan-level')],
    citizenViews: [citizenView('v-no-category', 'm1', { provenance: [fromSource('g-revoked', undefined)] })],
    conflicts: [
      {
        id: 'conflict-1',
        elementId: 'g-two-sources',
        field: 'title',
        values: [
          { value: 'A', provenance: [fromSource('g-revoked', 'goals')] },
          { value: 'B', provenance: [fromSource('g-other', 'goals', 'social')] },
        ],
        detectedAt: '2026-11-22T10:00:00.000Z',
      },
    ],
  });

  it('removes elements whose only provenance was the revoked grant and keeps those with another', () => {
    const outcome = removeRevokedData(plan, context([gRevoked, gOther]));
    expect(outcome.changed).toBe(true);
    expect(outcome.removed.map((r) => r.id).sort()).toEqual(['a-only-revoked', 'g-only-revoked', 'i-only-revoked', 'v-no-category']);
    const next = outcome.plan;
    expect(next.goals.map((g) => g.id)).toEqual(['g-child-of-removed', 'g-two-sources']);
    expect(next.interventions.map((i) => i.id)).toEqual(['i-registered-too', 'i-untouched']);
    expect(next.agreements).toEqual([]);
    expect(next.citizenViews).toEqual([]);
    // The kept elements lost the revoked entry and kept the other.
    expect(next.goals.find((g) => g.id === 'g-two-sources')!.provenance).toEqual([fromSource('g-other', 'goals', 'social')]);
    expect(next.interventions.find((i) => i.id === 'i-registered-too')!.provenance).toEqual([byRegistration()]);
    expect(next.interventions.find((i) => i.id === 'i-untouched')).toEqual(plan.interventions[2]);
    expect(outcome.dropped).toBe(7);
    expect(outcome.repointed).toBe(0);
    expect(carriesGrant(next, 'g-revoked')).toBe(false);
  });

  it('leaves a valid plan: references to removed elements are dropped, follow-ups on them detached, conflicts gone', () => {
    const outcome = removeRevokedData(plan, context([gRevoked, gOther]));
    const next = Plan.parse(outcome.plan);
    expect(next.goals.find((g) => g.id === 'g-child-of-removed')!.parentGoalId).toBeUndefined();
    const kept = next.interventions.find((i) => i.id === 'i-registered-too')!;
    expect(kept.goalIds).toEqual(['g-two-sources']);
    expect(kept.dependsOn).toEqual([]);
    expect(outcome.detachedFollowUps).toEqual(['f-on-removed']);
    expect(next.followUps.find((f) => f.id === 'f-on-removed')!.elementId).toBeUndefined();
    expect(next.conflicts).toEqual([]);
    expect(outcome.droppedConflicts).toEqual(['conflict-1']);
  });

  it('re-points an entry to another grant that still allows the same flow', () => {
    const twin = grant('g-twin', { categories: ['goals'] });
    const outcome = removeRevokedData(plan, context([gRevoked, gOther, twin]));
    expect(outcome.plan.goals.map((g) => g.id)).toContain('g-only-revoked');
    expect(outcome.plan.goals.find((g) => g.id === 'g-only-revoked')!.provenance).toEqual([{ ...fromSource('g-revoked', 'goals'), consentRef: 'g-twin' }]);
    // Interventions and employment data are not in the twin grant: they still go.
    expect(outcome.removed.map((r) => r.id)).toContain('i-only-revoked');
    expect(outcome.repointed).toBe(3); // two goals and the conflict value about one of them
  });

  it('re-points to a legal-basis record when one covers the flow (R11)', () => {
    const record: LegalBasisRecord = {
      id: 'lb-1',
      tenant: '101',
      citizenId: adult.citizenId,
      source: 'dfdg',
      recipient: 'enplan',
      categories: ['interventions'],
      basis: 'LAB § 20',
      recordedBy: 'caseworker:anna',
      recordedAt: '2026-11-02T09:00:00.000Z',
      citizenInformed: false,
    };
    const outcome = removeRevokedData(plan, context([gRevoked], [record]));
    const kept = outcome.plan.interventions.find((i) => i.id === 'i-only-revoked')!;
    expect(kept.provenance).toEqual([{ ...fromSource('g-revoked', 'interventions'), consentRef: 'lb-1' }]);
  });

  it('changes nothing in a plan that holds nothing from the grant, and nothing the second time', () => {
    const unrelated = planWith([adult], { goals: [goal('g1', { provenance: [fromSource('g-other', 'goals', 'social')] })] });
    const outcome = removeRevokedData(unrelated, context([gRevoked, gOther]));
    expect(outcome.changed).toBe(false);
    expect(outcome.plan).toBe(unrelated);
    const once = removeRevokedData(plan, context([gRevoked, gOther])).plan;
    const twice = removeRevokedData(once, context([gRevoked, gOther]));
    expect(twice.changed).toBe(false);
    expect(twice.plan).toEqual(once);
  });

  it('for a 16-year-old, revoking the custody holder’s consent removes data even though their own remains', () => {
    const young = familyMember('y1', 'young-person', '2010-03-01');
    const own = grant('g-own', { citizenId: young.citizenId, grantedBy: { citizenId: young.citizenId, capacity: 'self' } });
    const parents = revoked(grant('g-parents', { citizenId: young.citizenId, grantedBy: { citizenId: 'c-parent', capacity: 'custody-holder' } }));
    const youthPlan = planWith([young], { goals: [goal('g-y', { memberId: 'y1', provenance: [fromSource('g-parents', 'goals')] })] });
    const outcome = removeRevokedData(youthPlan, { grantId: 'g-parents', citizenId: young.citizenId, birthDate: young.birthDate, at, grants: [own, parents], legalBases: [] });
    expect(outcome.removed).toEqual([{ list: 'goals', id: 'g-y' }]);
  });

  it('for a 16-year-old, revoking the custody holder’s consent also removes data recorded as resting on the young person’s own grant', () => {
    // A flow that needs two grants names only the first in its provenance: the other's revocation must still find it.
    const young = familyMember('y1', 'young-person', '2010-03-01');
    const own = grant('g-own', { citizenId: young.citizenId, grantedBy: { citizenId: young.citizenId, capacity: 'self' } });
    const parents = revoked(grant('g-parents', { citizenId: young.citizenId, grantedBy: { citizenId: 'c-parent', capacity: 'custody-holder' } }));
    const other = grant('g-other-source', { citizenId: young.citizenId, source: 'social', categories: ['goals'] });
    const youthPlan = planWith([young], {
      goals: [
        goal('g-y', { memberId: 'y1', provenance: [fromSource('g-own', 'goals')] }),
        goal('g-y-social', { memberId: 'y1', provenance: [fromSource('g-other-source', 'goals', 'social')] }),
      ],
    });
    const scope = { grantId: 'g-parents', citizenId: young.citizenId, birthDate: young.birthDate, at, grants: [own, parents, other], legalBases: [] };
    expect(carriesGrant(youthPlan, 'g-parents', scope.grants)).toBe(true);
    const outcome = removeRevokedData(youthPlan, scope);
    expect(outcome.removed).toEqual([{ list: 'goals', id: 'g-y' }]);
    // Data from a source the revoked grant does not cover is not reconsidered (and not counted).
    expect(outcome.plan.goals.map((g) => g.id)).toEqual(['g-y-social']);
    expect(outcome.dropped).toBe(1);
    expect(outcome.repointed).toBe(0);
    expect(carriesGrant(outcome.plan, 'g-parents', scope.grants)).toBe(false);
  });

  it('an entry on a sibling grant that still allows the flow stays as it is and is not counted as re-pointed', () => {
    const twin = grant('g-twin', { categories: ['goals'] });
    const onTwin = planWith([adult], { goals: [goal('g-t', { provenance: [fromSource('g-twin', 'goals')] })] });
    const outcome = removeRevokedData(onTwin, context([gRevoked, twin]));
    expect(outcome.changed).toBe(false);
    expect(outcome.plan).toBe(onTwin);
  });
});
