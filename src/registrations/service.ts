/**
 * Single registration (R17): validate → apply to the plan with provenance → route per target
 * under consent → store the registration, the plan and one outbox row per target in ONE batch →
 * answer 202. The same Idempotency-Key with the same body answers the first answer again; with
 * another body it is a 409. Reading a registration shows each target's delivery state.
 */
import type { AppDeps } from '../api/context';
import { defaultReverseMappings } from '../delivery/default-mappings';
import type { DeliveryDeps } from '../delivery/relay';
import type { ReverseMappingRegistry } from '../delivery/reverse-mappings';
import { ProblemError } from '../api/context';
import { SourceSystem } from '../model';
import { ruleSetVersion } from '../rules';
import { askForJob } from '../runtime/job-queue';
import { actorOf, type Principal } from '../security';
import type { AuditEntry, OutboxRow, RegistrationRow } from '../store';
import { hiddenFromCaseworker } from '../views/plan-view';
import { applyRegistration, RegistrationConflict, type Outbound } from './apply';
import type { RegistrationRequest } from './kinds';
import { needsEarlierTargets, routeRegistration, type NotRouted, type PlannedDelivery } from './routing';
import { refuseSecondOpenPlan } from '../plans/open-plans';

/** What an outbox row carries: the element as registered and the consent question to re-ask. */
export interface OutboxPayload {
  outbound: Outbound;
  route: Pick<PlannedDelivery, 'recipient' | 'category' | 'ruleIds' | 'basis'>;
}

export interface RegistrationAnswer {
  id: string;
  planId: string;
  kind: string;
  acceptedAt: string;
  planVersion: number;
  elementId: string | null;
  deliveries: { target: SourceSystem; outboxId: string; status: 'pending'; recipient: string; basis: string; ruleIds: string[] }[];
  notRouted: { target: string; recipient: string; cause: 'consent' | 'target'; reason: string; ruleIds: string[] }[];
  excludedBy: { ruleId: string; legalReference: string } | null;
}

interface RegistrationDocument {
  request: RegistrationRequest;
  outbound: Outbound;
  notRouted: NotRouted[];
  excludedBy: RegistrationAnswer['excludedBy'];
}

export interface DeliveryState {
  target: string;
  outboxId: string;
  status: OutboxRow['status'];
  attempts: number;
  nextAttemptAt?: string;
  lastError?: string;
  receipt?: unknown;
  reason?: string;
  updatedAt: string;
}

/** Canonical JSON (sorted keys) so the same body in another key order is the same body. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function deliveryStateOf(row: OutboxRow): DeliveryState {
  const state: DeliveryState = { target: row.target, outboxId: row.id, status: row.status, attempts: row.attempts, updatedAt: row.updatedAt };
  if (row.status === 'pending' || row.status === 'retrying') state.nextAttemptAt = row.nextAttemptAt;
  if (row.status === 'retrying' && row.lastError) state.lastError = row.lastError;
  if ((row.status === 'dead' || row.status === 'cancelled') && row.lastError) state.reason = row.lastError;
  if (row.status === 'delivered' && row.receipt) state.receipt = JSON.parse(row.receipt);
  return state;
}

const MAX_PLAN_RACES = 8;

export function registrationService(deps: AppDeps) {
  const { store, clock } = deps;

  async function replayOrConflict(existing: RegistrationRow, bodyHash: string): Promise<RegistrationAnswer> {
    if (existing.bodyHash !== bodyHash)
      throw new ProblemError('idempotency-key-reused', 'this Idempotency-Key was used for a different registration; use a new key for a new registration');
    return JSON.parse(existing.response) as RegistrationAnswer;
  }

  /**
   * Where an earlier registration of the element was queued or delivered, asked only when a target's
   * route may only update what is there (ending the region's request): one or two reads then, none
   * on the common path.
   */
  async function earlierTargetsOf(tenant: string, outbound: Outbound, registry: ReverseMappingRegistry): Promise<Set<SourceSystem> | undefined> {
    const candidates = SourceSystem.options.filter((target) => needsEarlierTargets(outbound, registry, [target]));
    if (!outbound.elementId || candidates.length === 0) return undefined;
    const ofElement = (row: { payload: string | null }) => {
      try {
        return (JSON.parse(row.payload ?? 'null') as OutboxPayload | null)?.outbound.elementId === outbound.elementId;
      } catch {
        return false;
      }
    };
    const found = new Set<SourceSystem>();
    for (const row of await store.outbox.liveForCitizen(tenant, outbound.citizenId)) if (candidates.includes(row.target as SourceSystem) && ofElement(row)) found.add(row.target as SourceSystem);
    for (const target of candidates)
      if (!found.has(target) && (await store.outbox.deliveredBefore(tenant, outbound.citizenId, target, Number.MAX_SAFE_INTEGER, outbound.elementId)).some(ofElement)) found.add(target);
    return found;
  }

  return {
    /**
     * Accepts a registration; answers the stored first answer for a repeated key. `alsoRecord`: audit
     * entries of the act the registration carries out (a status change), committed with it — and so,
     * like it, only once however often the request is repeated.
     */
    async register(
      principal: Principal,
      idempotencyKey: string,
      request: RegistrationRequest,
      alsoRecord: AuditEntry[] = [],
    ): Promise<{ answer: RegistrationAnswer; replayed: boolean }> {
      const tenant = principal.tenant;
      const actor = actorOf(principal);
      const bodyHash = await sha256Hex(canonicalJson(request));
      const existing = await store.registrations.findByKey(tenant, idempotencyKey);
      if (existing) return { answer: await replayOrConflict(existing, bodyHash), replayed: true };

      for (let race = 0; race < MAX_PLAN_RACES; race++) {
        const plan = await store.plans.get(tenant, request.planId);
        if (!plan) throw new ProblemError('not-found', 'no such plan in your municipality');
        // Data consent gives other departments alone (R9) cannot be changed, or referred to, by whoever may not see it.
        const hidden = hiddenFromCaseworker(plan, principal.department).elements;
        if (hidden.size > 0) {
          const body = JSON.stringify(request);
          const named = [...hidden].find((id) => body.includes(JSON.stringify(id)));
          if (named) throw new ProblemError('validation-failed', `the registration refers to ${named}, which is not in the plan`);
        }
        // A declined plan reopened by a registration is checked as on the status route: one open plan per citizen.
        if (request.kind === 'plan.status-changed') await refuseSecondOpenPlan(store, tenant, plan, request.status);
        const now = clock.now();
        const at = now.toISOString();
        const registrationId = crypto.randomUUID();
        let applied;
        try {
          applied = applyRegistration(plan, request, { registrationId, actor, at, ruleVersion: ruleSetVersion, newId: () => crypto.randomUUID() });
        } catch (error) {
          // RegistrationInvalid goes to the route, which answers 400 with the list of issues.
          if (error instanceof RegistrationConflict) throw new ProblemError(error.problem, error.message);
          throw error;
        }
        const { outbound } = applied;
        const consents = await store.consents.forCitizens(tenant, [outbound.citizenId]);
        const reverseMappings = (deps as DeliveryDeps).delivery?.reverseMappings ?? defaultReverseMappings;
        const earlierTargets = await earlierTargetsOf(tenant, outbound, reverseMappings);
        const routing = routeRegistration(outbound, consents, now, { reverseMappings, ...(earlierTargets ? { earlierTargets } : {}) });
        const outboxRows = routing.deliveries.map((delivery) => ({
          id: crypto.randomUUID(),
          tenant,
          registrationId,
          citizenId: outbound.citizenId,
          target: delivery.target,
          operation: outbound.operation,
          payload: JSON.stringify({ outbound, route: { recipient: delivery.recipient, category: delivery.category, ruleIds: delivery.ruleIds, basis: delivery.basis } } satisfies OutboxPayload),
          nextAttemptAt: at,
          consentRef: delivery.consentRef,
          createdAt: at,
        }));
        const answer: RegistrationAnswer = {
          id: registrationId,
          planId: plan.id,
          kind: request.kind,
          acceptedAt: at,
          planVersion: applied.plan.version,
          elementId: outbound.elementId ?? null,
          deliveries: routing.deliveries.map((d, i) => ({ target: d.target, outboxId: outboxRows[i]!.id, status: 'pending', recipient: d.recipient, basis: d.basis, ruleIds: d.ruleIds })),
          notRouted: routing.notRouted.map((n) => ({ target: n.target, recipient: n.recipient, cause: n.cause, reason: n.reason, ruleIds: n.ruleIds })),
          excludedBy: routing.excluded,
        };
        const document: RegistrationDocument = { request, outbound, notRouted: routing.notRouted, excludedBy: routing.excluded };
        const recorded = store.audit.committing(tenant, [
          {
            at,
            actor,
            action: 'registration.accepted',
            targetType: 'registration',
            targetId: registrationId,
            citizenId: outbound.citizenId,
            detail: {
              planId: plan.id,
              kind: request.kind,
              targets: answer.deliveries.map((d) => ({ target: d.target, basis: d.basis, rules: d.ruleIds })),
              notRouted: answer.notRouted.map((n) => ({ target: n.target, cause: n.cause, rules: n.ruleIds })),
              excludedBy: answer.excludedBy?.ruleId ?? null,
            },
          },
          ...alsoRecord,
        ]);
        const outcome = await store.registrations.accept(
          {
            registration: { id: registrationId, tenant, planId: plan.id, kind: request.kind, idempotencyKey, bodyHash, document: JSON.stringify(document), response: JSON.stringify(answer), actor, createdAt: at },
            plan: applied.plan,
            expectedVersion: plan.version,
            outbox: outboxRows,
          },
          recorded,
        );
        if (outcome === 'plan-changed') continue;
        if (outcome === 'key-taken') {
          const winner = await store.registrations.findByKey(tenant, idempotencyKey);
          return { answer: await replayOrConflict(winner!, bodyHash), replayed: true };
        }
        // The outbox rows are committed: on Workers the relay runs now instead of at the next trigger.
        if (answer.deliveries.length > 0) await askForJob(deps, { kind: 'relay', tenant });
        return { answer, replayed: false };
      }
      throw new ProblemError('version-conflict', 'the plan kept changing while the registration was applied; send it again with the same Idempotency-Key');
    },

    /** A registration with each target's delivery state, or null outside the caller's tenant. */
    async read(principal: Principal, id: string) {
      const row = await store.registrations.get(principal.tenant, id);
      if (!row) return null;
      const document = JSON.parse(row.document) as RegistrationDocument;
      const rows = await store.outbox.forRegistration(principal.tenant, id);
      await store.audit.append(principal.tenant, {
        at: clock.now().toISOString(),
        actor: actorOf(principal),
        action: 'registration.read',
        targetType: 'registration',
        targetId: id,
        citizenId: document.outbound.citizenId,
      });
      return {
        id: row.id,
        planId: row.planId,
        kind: row.kind,
        acceptedAt: row.createdAt,
        actor: row.actor,
        elementId: document.outbound.elementId ?? null,
        targets: rows.map(deliveryStateOf),
        notRouted: document.notRouted.map((n) => ({ target: n.target, recipient: n.recipient, cause: n.cause, reason: n.reason, ruleIds: n.ruleIds })),
        excludedBy: document.excludedBy,
      };
    },
  };
}
export type RegistrationService = ReturnType<typeof registrationService>;
