/**
 * The consent matrix (R9–R11, R4): `decideFlow` over every data category × source × recipient,
 * `decideFlowIntoPlan` over every department,
 * for a grant that is valid, expired, not yet valid, revoked, or replaced by a legal basis;
 * health data without explicit consent; and whose consent counts by age (Barnets lov § 110).
 */
import { describe, expect, it } from 'vitest';
import { decideFlow, decideFlowIntoPlan, type FlowQuestion } from '../../src/consent';
import { consentService, grantStatus } from '../../src/consent/service';
import { fictitiousCpr } from '../../adapters/shared/population';
import { ProblemError } from '../../src/api/context';
import { planService } from '../../src/plans/service';
import { startTestApp } from '../support/node-app';
import { caseworkerOf } from '../support/seed';
import { ConsentGrant, DataCategory, membersOf, type ConsentSource, type LegalBasisRecord, type Recipient } from '../../src/model';

const at = new Date('2026-11-23T10:00:00.000Z');
const adultBirth = '1985-06-15';
const categories = DataCategory.options;
const sources: ConsentSource[] = ['dfdg', 'education', 'social', 'health', 'enplan'];
const recipients: Recipient[] = ['enplan', 'employment', 'social', 'health', 'provider:bo-tilbud', 'municipality:751', 'municipality:147'];

let counter = 0;
function grant(overrides: Partial<ConsentGrant> = {}): ConsentGrant {
  counter++;
  return {
    id: `grant-${counter}`,
    tenant: '101',
    citizenId: 'c-1',
    grantedBy: { citizenId: 'c-1', capacity: 'self' },
    source: 'dfdg',
    recipient: 'enplan',
    categories: ['employment', 'interventions', 'goals'],
    explicitHealth: false,
    purpose: 'At samle planen',
    validFrom: '2026-11-01',
    validTo: '2027-10-31',
    signed: { method: 'mitid', documentRef: 'doc-1', textVersion: 'v3', language: 'da' },
    createdAt: '2026-11-01T09:00:00.000Z',
    ...overrides,
  };
}

function legalBasis(overrides: Partial<LegalBasisRecord> = {}): LegalBasisRecord {
  return {
    id: 'lb-1',
    tenant: '101',
    citizenId: 'c-1',
    source: 'social',
    recipient: 'enplan',
    categories: ['social'],
    basis: 'SEL § 49 b',
    recordedBy: 'caseworker:anna',
    recordedAt: '2026-11-02T09:00:00.000Z',
    citizenInformed: false,
    ...overrides,
  };
}

const question = (overrides: Partial<FlowQuestion> = {}): FlowQuestion => ({
  citizenId: 'c-1',
  birthDate: adultBirth,
  source: 'dfdg',
  recipient: 'enplan',
  category: 'employment',
  at,
  ...overrides,
});

function* everyFlow() {
  for (const category of categories) for (const source of sources) for (const recipient of recipients) yield { category, source, recipient };
}

describe('decideFlow: the matrix of category × source × recipient', () => {
  const granted = grant({ source: 'health', recipient: 'municipality:751', categories: ['health', 'goals', 'interventions'], explicitHealth: true });
  const covered = (f: { category: DataCategory; source: ConsentSource; recipient: Recipient }) =>
    f.source === 'health' && f.recipient === 'municipality:751' && ['health', 'goals', 'interventions'].includes(f.category);

  it('a valid grant allows exactly the flows it names, and nothing else', () => {
    let allowed = 0;
    let checked = 0;
    for (const flow of everyFlow()) {
      const decision = decideFlow(question(flow), [granted]);
      expect(decision.allowed, `${flow.category} ${flow.source} → ${flow.recipient}`).toBe(covered(flow));
      if (decision.allowed) {
        expect(decision).toEqual({ allowed: true, basis: 'consent', grantIds: [granted.id] });
        allowed++;
      } else {
        expect(decision.reason).toMatch(/no consent covers/);
      }
      checked++;
    }
    expect(checked).toBe(categories.length * sources.length * recipients.length);
    expect(allowed).toBe(3);
  });

  const states: [string, ConsentGrant, RegExp][] = [
    ['expired', { ...granted, validFrom: '2025-01-01', validTo: '2026-11-22' }, /not valid at this time/],
    ['not yet valid', { ...granted, validFrom: '2026-11-24' }, /not valid at this time/],
    ['revoked', { ...granted, revokedAt: '2026-11-20T08:00:00.000Z', revokedBy: 'citizen:c-1' }, /revoked/],
    ['revoked this very moment', { ...granted, revokedAt: at.toISOString(), revokedBy: 'citizen:c-1' }, /revoked/],
  ];
  for (const [state, stateGrant, reason] of states) {
    it(`a grant that is ${state} allows nothing, and says why for the flows it names`, () => {
      for (const flow of everyFlow()) {
        const decision = decideFlow(question(flow), [stateGrant]);
        expect(decision.allowed, `${flow.category} ${flow.source} → ${flow.recipient}`).toBe(false);
        if (!decision.allowed) expect(decision.reason).toMatch(covered(flow) ? reason : /no consent covers/);
      }
    });
  }

  it('validity days are inclusive at both ends, and are Danish days (23 November: 23:00 UTC on the 22nd to 23:00 UTC on the 23rd)', () => {
    const g = grant({ validFrom: '2026-11-23', validTo: '2026-11-23' });
    expect(decideFlow(question({ at: new Date('2026-11-22T23:00:00.000Z') }), [g]).allowed).toBe(true);
    expect(decideFlow(question({ at: new Date('2026-11-23T22:59:59.000Z') }), [g]).allowed).toBe(true);
    expect(decideFlow(question({ at: new Date('2026-11-23T23:00:00.000Z') }), [g]).allowed).toBe(false);
    expect(decideFlow(question({ at: new Date('2026-11-22T22:59:59.000Z') }), [g]).allowed).toBe(false);
  });

  it('grant valid til og med 10 March, 00:30 Danish time 11 March', () => {
    const d = decideFlow(question({ category: 'goals', at: new Date('2026-03-10T23:30:00Z') }), [grant({ categories: ['goals'], validFrom: '2026-01-01', validTo: '2026-03-10' })]);
    expect(d.allowed).toBe(false);
  });

  it('a grant valid from 1 July flows from 00:00 Danish summer time (22:00 UTC on 30 June), not two hours later', () => {
    const g = grant({ validFrom: '2026-07-01', validTo: '2026-12-31' });
    expect(decideFlow(question({ at: new Date('2026-06-30T22:30:00Z') }), [g]).allowed).toBe(true);
    expect(decideFlow(question({ at: new Date('2026-06-30T21:30:00Z') }), [g]).allowed).toBe(false);
  });

  it('a legal basis recorded til og med a day ends with that Danish day', () => {
    const record = legalBasis({ source: 'dfdg', categories: ['employment'], validTo: '2026-03-10' });
    expect(decideFlow(question({ at: new Date('2026-03-10T22:30:00Z') }), [], [record]).allowed).toBe(true);
    expect(decideFlow(question({ at: new Date('2026-03-10T23:30:00Z') }), [], [record]).allowed).toBe(false);
  });

  it('the status the consent list shows uses the Danish day too', () => {
    const g = grant({ validFrom: '2026-03-01', validTo: '2026-03-10' });
    expect(grantStatus(g, new Date('2026-03-10T22:30:00Z'))).toBe('active');
    expect(grantStatus(g, new Date('2026-03-10T23:30:00Z'))).toBe('expired');
    expect(grantStatus(g, new Date('2026-02-28T23:30:00Z'))).toBe('active');
    expect(grantStatus(g, new Date('2026-02-28T22:30:00Z'))).toBe('not-yet-valid');
  });

  it('a revocation recorded for later does not stop the flow before then', () => {
    const g = grant({ revokedAt: '2026-11-24T00:00:00.000Z' });
    expect(decideFlow(question(), [g]).allowed).toBe(true);
    expect(decideFlow(question({ at: new Date('2026-11-24T00:00:01.000Z') }), [g]).allowed).toBe(false);
  });

  it("another citizen's grant never counts", () => {
    const decision = decideFlow(question(), [grant({ citizenId: 'c-2', grantedBy: { citizenId: 'c-2', capacity: 'self' } })]);
    expect(decision).toEqual({ allowed: false, reason: expect.stringMatching(/no consent covers/) });
  });

  it('of two grants for the same flow, the revoked one drops out and the other carries it', () => {
    const revoked = grant({ revokedAt: '2026-11-20T08:00:00.000Z' });
    const other = grant();
    expect(decideFlow(question(), [revoked, other])).toEqual({ allowed: true, basis: 'consent', grantIds: [other.id] });
  });
});

describe('decideFlow: a legal basis other than consent (R11)', () => {
  it('allows exactly the flows it records, and asks for the citizen to be told until they are', () => {
    const record = legalBasis();
    for (const flow of everyFlow()) {
      const decision = decideFlow(question(flow), [], [record]);
      const expected = flow.source === 'social' && flow.recipient === 'enplan' && flow.category === 'social';
      expect(decision.allowed, `${flow.category} ${flow.source} → ${flow.recipient}`).toBe(expected);
      if (decision.allowed) expect(decision).toEqual({ allowed: true, basis: 'legal-basis', recordId: 'lb-1', legalBasis: 'SEL § 49 b', informCitizen: true });
    }
    const informed = decideFlow(question({ source: 'social', category: 'social' }), [], [legalBasis({ citizenInformed: true, informedAt: '2026-11-03T09:00:00.000Z' })]);
    expect(informed).toMatchObject({ allowed: true, informCitizen: false });
  });

  it('ends with its validTo', () => {
    const decision = decideFlow(question({ source: 'social', category: 'social' }), [], [legalBasis({ validTo: '2026-11-22' })]);
    expect(decision.allowed).toBe(false);
  });

  it('ends when the municipality ends it, not before', () => {
    const ended = legalBasis({ endedAt: '2026-11-23T09:00:00.000Z', endedBy: 'caseworker:anna', endReason: 'Sagen er afsluttet' });
    expect(decideFlow(question({ source: 'social', category: 'social' }), [], [ended]).allowed).toBe(false);
    expect(decideFlow(question({ source: 'social', category: 'social', at: new Date('2026-11-23T08:00:00.000Z') }), [], [ended]).allowed).toBe(true);
  });

  it('carries a flow whose consent was revoked, and consent is preferred while it holds', () => {
    const g = grant({ source: 'social', categories: ['social'] });
    const record = legalBasis();
    expect(decideFlow(question({ source: 'social', category: 'social' }), [g], [record])).toMatchObject({ basis: 'consent' });
    const revoked = { ...g, revokedAt: '2026-11-20T08:00:00.000Z' };
    expect(decideFlow(question({ source: 'social', category: 'social' }), [revoked], [record])).toMatchObject({ basis: 'legal-basis', recordId: 'lb-1' });
  });
});

describe('decideFlow: health data needs explicit consent (Sundhedsloven § 43)', () => {
  const healthQuestion = question({ source: 'health', category: 'health' });

  it('a grant naming health but without explicit consent lets no health data through', () => {
    const implicit = grant({ source: 'health', categories: ['health', 'goals'], explicitHealth: false });
    const decision = decideFlow(healthQuestion, [implicit]);
    expect(decision).toEqual({ allowed: false, reason: expect.stringMatching(/explicit consent \(Sundhedsloven §43\)/) });
    // The other categories of the same grant still flow.
    expect(decideFlow(question({ source: 'health', category: 'goals' }), [implicit]).allowed).toBe(true);
  });

  it('the model refuses to record such a grant at all', () => {
    const parsed = ConsentGrant.safeParse(grant({ source: 'health', categories: ['health'], explicitHealth: false }));
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toContain('explicitHealth');
  });

  it('explicit consent without the health category is not consent to health data', () => {
    expect(decideFlow(healthQuestion, [grant({ source: 'health', categories: ['goals'], explicitHealth: true })]).allowed).toBe(false);
  });

  it('explicit consent naming health lets it through', () => {
    expect(decideFlow(healthQuestion, [grant({ source: 'health', categories: ['health'], explicitHealth: true })]).allowed).toBe(true);
  });
});

describe('decideFlow: whose consent counts (Barnets lov § 110, R4)', () => {
  const young = { citizenId: 'c-young', birthDate: '2010-03-01' }; // 16 on the day
  const child = { citizenId: 'c-child', birthDate: '2014-05-01' }; // 12 on the day
  const own = (citizenId: string) => grant({ citizenId, grantedBy: { citizenId, capacity: 'self' } });
  const custody = (citizenId: string) => grant({ citizenId, grantedBy: { citizenId: 'c-parent', capacity: 'custody-holder' } });

  it('a 16-year-old needs both their own consent and the custody holder’s', () => {
    const q = question(young);
    const mine = own(young.citizenId);
    const parents = custody(young.citizenId);
    const onlyOwn = decideFlow(q, [mine]);
    expect(onlyOwn).toEqual({ allowed: false, reason: expect.stringMatching(/also needed from: self and custody-holder \(Barnets lov § 110/) });
    expect(decideFlow(q, [parents]).allowed).toBe(false);
    expect(decideFlow(q, [mine, parents])).toEqual({ allowed: true, basis: 'consent', grantIds: [mine.id, parents.id] });
  });

  it('when either of the two is revoked, the flow stops', () => {
    const mine = own(young.citizenId);
    const parents = { ...custody(young.citizenId), revokedAt: '2026-11-22T12:00:00.000Z' };
    expect(decideFlow(question(young), [mine, parents]).allowed).toBe(false);
  });

  it('a 12-year-old’s flow rests on the custody holder’s consent alone', () => {
    expect(decideFlow(question(child), [custody(child.citizenId)]).allowed).toBe(true);
    expect(decideFlow(question(child), [own(child.citizenId)]).allowed).toBe(false);
  });

  it('an adult consents themselves; a custody holder’s grant does not count for an adult', () => {
    expect(decideFlow(question(), [custody('c-1')]).allowed).toBe(false);
    expect(decideFlow(question(), [own('c-1')]).allowed).toBe(true);
  });

  it('an adult under guardianship consents through their guardian (værge, værgemålsloven § 5): the grant the API accepts lets data flow', () => {
    const byGuardian = grant({ citizenId: 'c-1', grantedBy: { citizenId: 'c-vaerge', capacity: 'guardian' } });
    expect(decideFlow(question(), [byGuardian])).toEqual({ allowed: true, basis: 'consent', grantIds: [byGuardian.id] });
    // Revoked, it carries nothing, as any grant.
    expect(decideFlow(question(), [{ ...byGuardian, revokedAt: '2026-11-22T12:00:00.000Z' }]).allowed).toBe(false);
  });

  it('only a custody holder’s grant meets the custody-holder requirement: a "guardian" (værge) grant does not (R4, Barnets lov § 110)', () => {
    const guardian = (citizenId: string) => grant({ citizenId, grantedBy: { citizenId: 'c-sibling', capacity: 'guardian' } });
    expect(decideFlow(question(child), [guardian(child.citizenId)])).toEqual({ allowed: false, reason: expect.stringMatching(/also needed from: custody-holder/) });
    expect(decideFlow(question(young), [own(young.citizenId), guardian(young.citizenId)]).allowed).toBe(false);
    expect(decideFlow(question(young), [own(young.citizenId), guardian(young.citizenId), custody(young.citizenId)]).allowed).toBe(true);
  });

  it('16th birthday 00:30 Danish time', () => {
    const d = decideFlow(
      question({ citizenId: 'c-16', birthDate: '2010-06-15', category: 'goals', at: new Date('2026-06-14T22:30:00Z') }),
      [grant({ citizenId: 'c-16', categories: ['goals'], validFrom: '2026-01-01', grantedBy: { citizenId: 'p-1', capacity: 'custody-holder' } })],
    );
    expect(d.allowed).toBe(false);
  });

  it('the day a young person turns 18, their own consent is enough', () => {
    const turning = { citizenId: 'c-18', birthDate: '2008-11-23' };
    expect(decideFlow(question({ ...turning, at: new Date('2026-11-22T12:00:00.000Z') }), [own('c-18')]).allowed).toBe(false);
    expect(decideFlow(question({ ...turning, at: new Date('2026-11-23T12:00:00.000Z') }), [own('c-18')]).allowed).toBe(true);
  });
});

describe('decideFlowIntoPlan and the matrix of departments (R9: per recipient party)', () => {
  const departments = ['employment', 'education', 'social', 'children', 'health', 'integration'] as const;
  const into = (overrides: Partial<FlowQuestion> = {}) => {
    const { recipient: _r, ...rest } = question(overrides);
    return rest;
  };

  it('a grant naming one department lets exactly that source and category in, for that department alone', () => {
    for (const department of departments) {
      const g = grant({ recipient: department });
      for (const flow of everyFlow()) {
        if (flow.source === 'enplan') continue;
        const decision = decideFlowIntoPlan(into({ source: flow.source as FlowQuestion['source'], category: flow.category }), [g]);
        const expected = flow.source === 'dfdg' && g.categories.includes(flow.category);
        expect(decision.allowed, `${department}: ${flow.category} ${flow.source}`).toBe(expected);
        if (decision.allowed) expect(decision).toEqual({ allowed: true, basis: 'consent', grantIds: [g.id], audience: [department] });
      }
    }
  });

  it('a grant to the whole plan wins over department grants: no audience', () => {
    const whole = grant();
    expect(decideFlowIntoPlan(into(), [grant({ recipient: 'social' }), whole])).toEqual({ allowed: true, basis: 'consent', grantIds: [whole.id] });
  });

  it('a department grant that is expired, not yet valid or revoked lets nothing in', () => {
    for (const state of [{ validTo: '2026-11-22' }, { validFrom: '2026-12-01' }, { revokedAt: '2026-11-20T10:00:00.000Z' }])
      expect(decideFlowIntoPlan(into(), [grant({ recipient: 'social', ...state })]).allowed, JSON.stringify(state)).toBe(false);
  });

  it('providers and other municipalities are no way into the plan', () => {
    expect(decideFlowIntoPlan(into(), [grant({ recipient: 'provider:bo-tilbud' }), grant({ recipient: 'municipality:751' })]).allowed).toBe(false);
  });
});

describe('the consent service: who may consent in which capacity (R4, R9)', () => {
  it('R4/R9: a child sibling cannot consent for a child as "guardian"', async () => {
    const app = await startTestApp();
    const cw = caseworkerOf();
    const plan = await planService(app.deps).create(cw, {
      cpr: fictitiousCpr(new Date(Date.UTC(1985, 4, 3)), 11),
      origin: 'offered',
      role: 'parent',
      family: { members: [{ cpr: fictitiousCpr(new Date(Date.UTC(2016, 4, 3)), 12), role: 'child' }, { cpr: fictitiousCpr(new Date(Date.UTC(2013, 4, 3)), 13), role: 'child' }] },
      replaces: [],
      municipalities: [],
    });
    const [parent, child, sibling] = membersOf(plan);
    const request = (memberId: string, grantedBy: { memberId: string; capacity: 'self' | 'custody-holder' | 'guardian' }) => ({
      planId: plan.id, memberId, grantedBy, source: 'dfdg' as const, recipient: 'enplan', categories: ['goals' as const],
      explicitHealth: false, purpose: 'Koordinering', validFrom: '2026-01-01', signed: { method: 'mitid' as const, documentRef: 'x', textVersion: 'v1', language: 'da' },
    });
    const refusal = async (memberId: string, grantedBy: { memberId: string; capacity: 'self' | 'custody-holder' | 'guardian' }) => {
      try {
        const grant = await consentService(app.deps).grant(cw, request(memberId, grantedBy));
        return { grant };
      } catch (error) {
        return { error: error as ProblemError };
      }
    };
    // A child gives no consent as værge; and a child has custody holders, not a værge.
    const bySibling = await refusal(child!.memberId, { memberId: sibling!.memberId, capacity: 'guardian' });
    if (bySibling.grant) expect(decideFlow({ citizenId: child!.citizenId, birthDate: child!.birthDate, source: 'dfdg', recipient: 'enplan', category: 'goals', at: new Date() }, [bySibling.grant]).allowed).toBe(false);
    expect(bySibling.error).toBeInstanceOf(ProblemError);
    expect(bySibling.error?.problemType).toBe('validation-failed');
    expect(bySibling.error?.detail).toMatch(/værge/);
    const byParent = await refusal(child!.memberId, { memberId: parent!.memberId, capacity: 'guardian' });
    expect(byParent.error?.problemType).toBe('validation-failed');
    expect(byParent.error?.detail).toMatch(/custody-holder/);
    // A child cannot be a værge for an adult either.
    const forParent = await refusal(parent!.memberId, { memberId: child!.memberId, capacity: 'guardian' });
    expect(forParent.error?.problemType).toBe('validation-failed');
    // The parent consents for the child as custody holder, as before.
    const custody = await refusal(child!.memberId, { memberId: parent!.memberId, capacity: 'custody-holder' });
    expect(custody.grant?.grantedBy.capacity).toBe('custody-holder');
    await app.close();
  });
});
