/**
 * Routing a registration: the dated routing table (`src/rules/routing.ts`) says which targets
 * should hold it; the one consent policy (`decideFlow`) says, per target, whether it may flow
 * there now. A target without consent gets no outbox row, and the answer says why.
 */
import { decideFlow, type FlowDecision } from '../consent';
import type { ConsentGrant, DataCategory, LegalBasisRecord, Recipient, SourceSystem } from '../model';
import { runReverse, type ReverseMappingRegistry, type ReverseRoute } from '../delivery/reverse-mappings';
import { routeFor, routingRules, type RoutingRule } from '../rules';
import type { ConsentDocument } from '../store';
import { danishToday } from '../views/danish';
import { routingSubjectOf, type Outbound } from './apply';

export interface RoutedTarget {
  target: SourceSystem;
  recipient: Recipient;
  category: DataCategory;
  ruleIds: string[];
  legalReferences: string[];
}

export interface PlannedDelivery extends RoutedTarget {
  basis: 'consent' | 'legal-basis';
  /** The grant ids, or the legal-basis record id, the flow rests on. */
  consentRef: string;
}

export interface NotRouted extends RoutedTarget {
  /** `consent`: the citizen's consent does not allow it; `target`: the target system has no place for it. */
  cause: 'consent' | 'target';
  reason: string;
}

export interface RoutingDecision {
  deliveries: PlannedDelivery[];
  notRouted: NotRouted[];
  /** Set when an exclusion rule stopped all routing (e.g. anonymous treatment). */
  excluded: { ruleId: string; legalReference: string } | null;
}

export function splitConsents(documents: readonly ConsentDocument[]): { grants: ConsentGrant[]; legalBases: LegalBasisRecord[] } {
  const grants: ConsentGrant[] = [];
  const legalBases: LegalBasisRecord[] = [];
  for (const { kind, ...rest } of documents) {
    if (kind === 'grant') grants.push(rest as ConsentGrant);
    else legalBases.push(rest as LegalBasisRecord);
  }
  return { grants, legalBases };
}

/** The consent question for one target, asked the same way at routing and at delivery. */
export function consentFor(
  outbound: Pick<Outbound, 'citizenId' | 'birthDate'>,
  route: Pick<RoutedTarget, 'recipient' | 'category'>,
  consents: readonly ConsentDocument[],
  at: Date,
): FlowDecision {
  const { grants, legalBases } = splitConsents(consents);
  return decideFlow({ citizenId: outbound.citizenId, birthDate: outbound.birthDate, source: 'enplan', recipient: route.recipient, category: route.category, at }, grants, legalBases);
}

export function consentRefOf(decision: Extract<FlowDecision, { allowed: true }>): string {
  return decision.basis === 'consent' ? decision.grantIds.join(',') : decision.recordId;
}

/**
 * Where the registration goes: the routing table's targets, each under the consent policy, and —
 * when a reverse-mapping registry is given — only where the target can hold it (its reverse
 * mapping exists and accepts the element, i.e. the target's own validation rules, R17). What the
 * target cannot hold is reported, not queued to fail.
 */
export function routeRegistration(
  outbound: Outbound,
  consents: readonly ConsentDocument[],
  at: Date,
  options: {
    rules?: readonly RoutingRule[];
    reverseMappings?: ReverseMappingRegistry;
    /**
     * The targets an earlier registration of this element was queued to or delivered to. When given,
     * a target whose reverse route only updates (`updatesOnly`, e.g. the region's request ended) and
     * holds nothing of the element is reported as not routed.
     */
    earlierTargets?: ReadonlySet<SourceSystem>;
  } = {},
): RoutingDecision {
  // The rules in force on the Danish calendar day (R25): at 00:30 in Denmark it is the new day already.
  const route = routeFor(routingSubjectOf(outbound), danishToday(at), options.rules ?? routingRules);
  const decision: RoutingDecision = { deliveries: [], notRouted: [], excluded: route.excluded };
  for (const routed of route.targets) {
    // Each rule's department is asked in table order; the first whose consent (or legal basis) allows
    // the flow is the one it goes to — and the one the relay asks again before it sends.
    const { byRule, ...first } = routed;
    const asked = [...new Map(byRule.map((r) => [`${r.recipient}|${r.category}`, r])).values()];
    let flow = consentFor(outbound, first, consents, at);
    let target = first;
    for (const rule of asked.slice(1)) {
      if (flow.allowed) break;
      const other = consentFor(outbound, rule, consents, at);
      if (other.allowed) {
        flow = other;
        target = { ...first, recipient: rule.recipient, category: rule.category };
      }
    }
    if (!flow.allowed) {
      decision.notRouted.push({ ...target, cause: 'consent', reason: flow.reason });
      continue;
    }
    if (options.reverseMappings) {
      const reverse = options.reverseMappings.find(target.target, outbound.operation);
      if (!reverse) {
        decision.notRouted.push({ ...target, cause: 'target', reason: `${target.target} has no place for ${outbound.operation} (no reverse mapping)` });
        continue;
      }
      const mapped = runReverse(reverse, outbound);
      if (!mapped.ok) {
        decision.notRouted.push({ ...target, cause: 'target', reason: `${target.target} cannot take it: ${mapped.reason}` });
        continue;
      }
      const onlyUpdates = options.earlierTargets && !options.earlierTargets.has(target.target) ? updatesOnlyReason(reverse, outbound) : undefined;
      if (onlyUpdates) {
        decision.notRouted.push({ ...target, cause: 'target', reason: `${target.target} holds nothing to change: ${onlyUpdates}` });
        continue;
      }
    }
    decision.deliveries.push({ ...target, basis: flow.basis, consentRef: consentRefOf(flow) });
  }
  return decision;
}

/** Why this outbound can only update what an earlier delivery made at the target, if it can only; never throws. */
export function updatesOnlyReason(route: ReverseRoute, outbound: Outbound): string | undefined {
  if (route.addressBy !== 'receipt' || !route.updatesOnly) return undefined;
  try {
    return route.updatesOnly(outbound);
  } catch {
    return undefined;
  }
}

/** Whether any target's route for this outbound may only update (so the router needs `earlierTargets`). */
export function needsEarlierTargets(outbound: Outbound, registry: ReverseMappingRegistry, targets: readonly SourceSystem[]): boolean {
  return targets.some((target) => {
    const route = registry.find(target, outbound.operation);
    return !!route && updatesOnlyReason(route, outbound) !== undefined;
  });
}
