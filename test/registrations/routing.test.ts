/** The routing table as data: per kind, sector, legal basis, plan type and date (R17, R20, R25). */
import { describe, expect, it } from 'vitest';
import { regionalActivities } from '../../mappings/health/codes';
import { defaultReverseMappings } from '../../src/delivery/default-mappings';
import { runReverse } from '../../src/delivery/reverse-mappings';
import { routeRegistration } from '../../src/registrations/routing';
import { RegistrationKind, routeFor, routingRules, type RoutingSubject } from '../../src/rules';

const on = '2026-11-23';
const element = (kind: RegistrationKind, sector: string, extra: Partial<RoutingSubject> = {}): RoutingSubject => ({ kind, scope: 'element', sector, planTypes: [], ...extra });
const plan = (kind: RegistrationKind, planTypes: string[]): RoutingSubject => ({ kind, scope: 'plan', planTypes });
const targets = (subject: RoutingSubject, date = on) => routeFor(subject, date).targets.map((t) => t.target).sort();

describe('routing table', () => {
  it('is data with a legal reference, a source and a validity period on every rule', () => {
    expect(routingRules.length).toBeGreaterThan(10);
    for (const rule of routingRules) {
      expect(rule.legalReference.length).toBeGreaterThan(3);
      expect(rule.effectiveFrom).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      if (!rule.exclude) expect(rule.target && rule.recipient).toBeTruthy();
    }
    expect(new Set(routingRules.map((r) => r.id)).size).toBe(routingRules.length);
  });

  it.each([
    ['intervention.added', 'employment', ['dfdg']],
    ['intervention.changed', 'employment', ['dfdg']],
    ['intervention.ended', 'employment', ['dfdg']],
    ['goal.added', 'employment', ['dfdg']],
    ['followup.scheduled', 'employment', ['dfdg']],
    ['intervention.added', 'social', ['social']],
    ['goal.changed', 'children', ['social']],
    ['intervention.added', 'integration', ['dfdg']],
    ['goal.added', 'education', ['dfdg', 'education']],
    ['intervention.ended', 'education', ['dfdg', 'education']],
    ['intervention.added', 'health', ['health']],
  ] as const)('sends %s in sector %s to %j', (kind, sector, expected) => {
    expect(targets(element(kind, sector))).toEqual([...expected].sort());
  });

  it('follows the legal basis across sectors (R3): SEL → social, LAB → DFDG', () => {
    expect(targets(element('intervention.added', 'health', { legalBasis: 'SEL § 141' }))).toEqual(['health', 'social']);
    expect(targets(element('intervention.added', 'integration', { legalBasis: 'Serviceloven § 85' }))).toEqual(['dfdg', 'social']);
    expect(targets(element('intervention.added', 'social', { legalBasis: 'LAB § 32' }))).toEqual(['dfdg', 'social']);
    // The pattern is anchored: a basis that merely mentions SEL later does not match.
    expect(targets(element('intervention.added', 'health', { legalBasis: 'Sundhedsloven § 140, jf. SEL' }))).toEqual(['health']);
  });

  it('asks health targets about the health category, so only explicit health consent lets it through', () => {
    const [health] = routeFor(element('goal.added', 'health'), on).targets;
    expect(health).toMatchObject({ target: 'health', recipient: 'health', category: 'health' });
    const [dfdg] = routeFor(element('goal.added', 'employment'), on).targets;
    expect(dfdg).toMatchObject({ recipient: 'employment', category: 'goals' });
    expect(routeFor(element('intervention.added', 'social'), on).targets[0]!.category).toBe('interventions');
  });

  it('sends children-sector data to the social system as the children’s recipient', () => {
    expect(routeFor(element('intervention.added', 'children', { legalBasis: 'Barnets lov § 32' }), on).targets).toEqual([
      expect.objectContaining({ target: 'social', recipient: 'children', ruleIds: ['children-to-social'] }),
    ]);
    // Before Barnets lov (2024) the children's rule was not in force.
    expect(targets(element('intervention.added', 'children'), '2023-06-01')).toEqual([]);
  });

  it('excludes anonymous treatment from every target', () => {
    const result = routeFor(element('intervention.added', 'social', { legalBasis: 'SEL § 101 a', confidentiality: 'anonymous-treatment' }), on);
    expect(result.targets).toEqual([]);
    expect(result.excluded?.ruleId).toBe('anonymous-treatment-not-routed');
  });

  it('excludes a registration under SEL § 101 a however the act is written, even one marked normal (fail closed, R4)', () => {
    for (const legalBasis of ['Serviceloven § 101 a', 'Lov om social service § 101 a', '§ 101 a', 'servicelovens §101a']) {
      const result = routeFor(element('intervention.added', 'social', { legalBasis, confidentiality: 'normal' }), on);
      expect(result.targets, legalBasis).toEqual([]);
      expect(result.excluded?.ruleId, legalBasis).toBe('anonymous-treatment-not-routed');
    }
    expect(routeFor(element('intervention.added', 'social', { legalBasis: 'SEL § 101', confidentiality: 'normal' }), on).excluded).toBeNull();
  });

  it('asks explicit health consent for a health element whatever target its legal basis sends it to (R9, Sundhedsloven § 43)', () => {
    // Filed under health, granted under SEL or LAB: social / DFDG get it only on the health question.
    for (const [legalBasis, target] of [['SEL § 102', 'social'], ['LAB § 32', 'dfdg']] as const)
      for (const kind of ['intervention.added', 'goal.changed', 'followup.done'] as const) {
        const routed = routeFor(element(kind, 'health', { legalBasis }), on).targets;
        expect(routed.map((t) => [t.target, t.category]).sort(), `${legalBasis} ${kind}`).toEqual([[target, 'health'], ['health', 'health']].sort());
      }
    // Not health: the category follows the element as before.
    expect(routeFor(element('intervention.added', 'social', { legalBasis: 'SEL § 102' }), on).targets.map((t) => t.category)).toEqual(['interventions']);

    const grant = (recipient: string, categories: string[], explicitHealth = false) => ({
      kind: 'grant', id: crypto.randomUUID(), tenant: '101', citizenId: 'c1', grantedBy: { citizenId: 'c1', capacity: 'self' }, source: 'enplan', recipient, categories, explicitHealth,
      purpose: 't', validFrom: '2020-01-01', signed: { method: 'digital', documentRef: 'd', textVersion: 'v1', language: 'da' }, createdAt: '2020-01-01T00:00:00Z',
    });
    const outbound = { citizenId: 'c1', birthDate: '1985-06-15', kind: 'intervention.added', operation: 'intervention.upsert', sector: 'health', legalBasis: 'SEL § 102', confidentiality: 'normal', planTypes: [] } as never;
    const at = new Date('2026-12-01T10:00:00Z');
    const onInterventions = routeRegistration(outbound, [grant('social', ['interventions'])] as never, at);
    expect(onInterventions.deliveries.map((d) => d.target)).not.toContain('social');
    expect(onInterventions.notRouted).toContainEqual(expect.objectContaining({ target: 'social', cause: 'consent', category: 'health' }));
    // A health grant that is not explicit does not do either.
    expect(routeRegistration(outbound, [grant('social', ['interventions', 'health'])] as never, at).deliveries.map((d) => d.target)).not.toContain('social');
    const explicit = routeRegistration(outbound, [grant('social', ['health'], true)] as never, at);
    expect(explicit.deliveries).toContainEqual(expect.objectContaining({ target: 'social', category: 'health', basis: 'consent' }));
  });

  it('asks the consent of each department whose rule sends to a target, and sends on the first that allows it', () => {
    // An integration-programme offer under LAB: the employment rule and the integration rule both name DFDG.
    const subject = element('intervention.added', 'integration', { legalBasis: 'LAB § 32' });
    const [dfdg] = routeFor(subject, on).targets.filter((t) => t.target === 'dfdg');
    expect(dfdg!.byRule.map((r) => r.recipient).sort()).toEqual(['employment', 'integration']);

    const grant = (recipient: string) => ({
      kind: 'grant', id: `g-${recipient}`, tenant: '101', citizenId: 'c1', grantedBy: { citizenId: 'c1', capacity: 'self' }, source: 'enplan', recipient, categories: ['plan-core', 'goals', 'interventions'], explicitHealth: false,
      purpose: 't', validFrom: '2020-01-01', signed: { method: 'digital', documentRef: 'd', textVersion: 'v1', language: 'da' }, createdAt: '2020-01-01T00:00:00Z',
    });
    const outbound = { citizenId: 'c1', birthDate: '1990-06-15', kind: 'intervention.added', operation: 'intervention.upsert', sector: 'integration', legalBasis: 'LAB § 32', confidentiality: 'normal', planTypes: [] } as never;
    const at = new Date('2026-12-01T10:00:00Z');
    // Consent to the integration department alone: it goes to DFDG as the integration department's, on that consent.
    const onIntegration = routeRegistration(outbound, [grant('integration')] as never, at);
    expect(onIntegration.deliveries).toEqual([expect.objectContaining({ target: 'dfdg', recipient: 'integration', basis: 'consent', consentRef: 'g-integration' })]);
    // Consent to employment alone: the employment rule carries it, as the employment department's.
    expect(routeRegistration(outbound, [grant('employment')] as never, at).deliveries).toEqual([expect.objectContaining({ target: 'dfdg', recipient: 'employment', consentRef: 'g-employment' })]);
    // Neither: not routed, the first department's refusal told.
    expect(routeRegistration(outbound, [] as never, at).notRouted).toEqual([expect.objectContaining({ target: 'dfdg', cause: 'consent', recipient: 'employment' })]);
  });

  it('routes the end or cancellation of a regional service request only where the region holds the request (R18)', () => {
    const activity = regionalActivities.concepts[0]!;
    const intervention = (status: string) => ({
      id: crypto.randomUUID(), sector: 'health', legalBasis: 'Sundhedsloven § 140', type: { system: regionalActivities.system, code: activity.code }, title: 'Koordinationsmøde', responsibleUnit: 'Sundhed',
      contact: { name: 'K' }, period: { start: '2026-12-01' }, order: 1, dependsOn: [], status, memberId: 'm1', goalIds: [], confidentiality: 'normal', topics: [], ruleVersion: 'v', provenance: [],
    });
    const grant = { kind: 'grant', id: 'g', tenant: '101', citizenId: 'c1', grantedBy: { citizenId: 'c1', capacity: 'self' }, source: 'enplan', recipient: 'health', categories: ['health'], explicitHealth: true,
      purpose: 't', validFrom: '2020-01-01', signed: { method: 'digital', documentRef: 'd', textVersion: 'v1', language: 'da' }, createdAt: '2020-01-01T00:00:00Z' };
    const at = new Date('2026-12-01T10:00:00Z');
    const outbound = (kind: string, operation: string, status: string) => {
      const element = intervention(status);
      return { tenant: '101', planId: 'p', registrationId: 'r', at: at.toISOString(), actor: 'cw', memberId: 'm1', citizenId: 'c1', birthDate: '1990-01-01', planTypes: [], kind, operation,
        elementId: element.id, sector: 'health', legalBasis: element.legalBasis, confidentiality: 'normal', element: { type: 'intervention', intervention: element } } as never;
    };
    expect(defaultReverseMappings.find('health', 'intervention.end')).toBeDefined();
    for (const [kind, operation, status, requestStatus] of [['intervention.ended', 'intervention.end', 'ended', 'completed'], ['intervention.changed', 'intervention.upsert', 'cancelled', 'revoked']] as const) {
      const o = outbound(kind, operation, status);
      const mapped = runReverse(defaultReverseMappings.find('health', operation)!, o);
      expect(mapped.ok && (mapped.payload as { status: string }).status).toBe(requestStatus);
      // Queued or delivered to the region before: the end goes there (as an update of that request).
      const held = routeRegistration(o, [grant] as never, at, { reverseMappings: defaultReverseMappings, earlierTargets: new Set(['health' as const]) });
      expect(held.deliveries.map((d) => d.target)).toEqual(['health']);
      // Never sent there: nothing to end, said as a reason — not a delivery bound to die.
      const never = routeRegistration(o, [grant] as never, at, { reverseMappings: defaultReverseMappings, earlierTargets: new Set() });
      expect(never.deliveries).toEqual([]);
      expect(never.notRouted).toEqual([expect.objectContaining({ target: 'health', cause: 'target', reason: expect.stringMatching(/never sent a request for this intervention/) })]);
    }
    // A request that is still wanted is a create, asked nothing about earlier deliveries.
    expect(routeRegistration(outbound('intervention.added', 'intervention.upsert', 'planned'), [grant] as never, at, { reverseMappings: defaultReverseMappings, earlierTargets: new Set() }).deliveries.map((d) => d.target)).toEqual(['health']);
  });

  it('routes plan-wide registrations to the systems whose sector plan the Én plan replaces', () => {
    expect(targets(plan('plan.status-changed', []))).toEqual([]);
    expect(targets(plan('plan.status-changed', ['employment-plan']))).toEqual(['dfdg']);
    expect(targets(plan('coordinator.changed', ['sel-141-plan', 'employment-plan']))).toEqual(['dfdg', 'social']);
    expect(targets(plan('followup.scheduled', ['education-plan']))).toEqual(['education']);
    expect(targets(plan('agreement.added', ['integration-contract']))).toEqual(['dfdg']);
    expect(targets(plan('plan.status-changed', ['children-plan']))).toEqual(['social']);
  });

  it('is dated: the employment rule changes with the 2027 employment act', () => {
    expect(routeFor(element('intervention.added', 'employment'), '2026-12-31').targets[0]!.ruleIds).toEqual(['employment-to-dfdg']);
    expect(routeFor(element('intervention.added', 'employment'), '2027-01-01').targets[0]!.ruleIds).toEqual(['employment-to-dfdg-2027']);
    expect(targets(element('intervention.added', 'employment'), '2024-01-01')).toEqual([]);
  });

  it('routes a registration by the rules in force on the Danish calendar day (R25): 00:30 on 1 January in Denmark is 2027 already', () => {
    const outbound = { citizenId: 'c1', birthDate: '1985-06-15', kind: 'intervention.added', sector: 'employment', confidentiality: 'normal', planTypes: [], operation: 'intervention.upsert' } as never;
    const ruleIdsAt = (at: string) => {
      const routed = routeRegistration(outbound, [], new Date(at));
      return [...routed.deliveries, ...routed.notRouted].flatMap((t) => t.ruleIds);
    };
    expect(ruleIdsAt('2026-12-31T23:30:00Z')).toEqual(['employment-to-dfdg-2027']);
    expect(ruleIdsAt('2026-12-31T22:30:00Z')).toEqual(['employment-to-dfdg']);
  });

  it('accepts a different table: routing is data, not code', () => {
    const custom = [{ ...routingRules.find((r) => r.id === 'social-to-social')!, id: 'custom', when: { kinds: ['goal.added' as const], sectors: ['employment' as const] } }];
    expect(routeFor(element('goal.added', 'employment'), on, custom).targets.map((t) => t.target)).toEqual(['social']);
  });
});
