/**
 * Outbound subscriptions (architecture "Events out", S6). A vendor (or IT staff) names an https
 * address and the event types it wants; plan and delivery events then go there, signed per Standard
 * Webhooks with the subscription's own secret, and thin: ids and what changed, never content and
 * never a CPR number — the subscriber reads the plan through the API, where roles, consent and the
 * audit log apply.
 *
 * The events are recorded by SQL triggers in the same transaction as the write they describe
 * (migration 0010), so no path that changes a plan can forget one, and they are fanned out into one
 * delivery per subscription, delivered with retries (backoff with jitter) under the same webhook-id
 * each try, so the receiver can drop a repeat.
 *
 * A subscription serves one sector system, and hears only of plans whose consent lets data flow with
 * that system, and of dead deliveries to it (./consent-gate.ts): a vendor learns nothing of citizens
 * who never agreed to any flow to its system. Consent is asked at fan-out and again when a delivery's
 * turn comes; `plan.shared` / `plan.unshared` tell it when consent begins or ends a plan's sharing with
 * its system, and `plan.purged` when retention deletes a plan it was shared with (./sharing-events.ts).
 */
import { z } from '@hono/zod-openapi';
import { ProblemError, type AppDeps } from '../api/context';
import { defaultBackoff, retryDelayMs, type BackoffPolicy } from '../delivery/backoff';
import { holdsCprNumber, redactCpr } from '../security/redact';
import { SourceSystem } from '../model';
import { actorOf, hasAnyRole, type Principal } from '../security';
import { receiverKey, type AuditEntry, type EventRow, type PlanTold, type SubscriptionDeliveryRow, type SubscriptionRow } from '../store';
import { signWebhook } from '../webhooks/standard-webhooks';
import { checkSubscriptionUrl } from './address-guard';
import { sharingOf } from './consent-gate';

export const EventType = z.enum(['plan.created', 'plan.changed', 'plan.shared', 'plan.unshared', 'plan.purged', 'delivery.dead']);
export type EventType = z.infer<typeof EventType>;

export const NewSubscription = z
  .object({
    url: z.string().max(2000).describe('https address the events are POSTed to'),
    events: z.array(EventType).min(1).max(EventType.options.length).optional().describe('Event types wanted; all when left out. `plan.unshared` and `plan.purged` come with any plan event type: a vendor that heard of a plan is told when it must stop holding it or when it is deleted. A subscription wanting only those two hears them of the plans the vendor heard of on its other subscriptions for the system'),
    description: z.string().max(200).optional(),
    system: SourceSystem.optional().describe(
      'The sector system (fagsystem) the subscription serves: its plan events are of plans whose consent lets data flow with that system, its delivery.dead events of deliveries to it. A vendor’s is the system its token names (claim `system`), which it may leave out; IT staff name one.',
    ),
  })
  .strict()
  .openapi('NewSubscription');

export interface SubscriptionView {
  id: string;
  url: string;
  events: EventType[];
  /** The sector system it serves; null for one made before subscriptions named one (it gets no events). */
  system: SourceSystem | null;
  description: string | null;
  createdBy: string;
  createdAt: string;
  disabledAt: string | null;
  disabledReason: string | null;
  /** After a secret rotation: until when events are also signed with the secret before it. */
  previousSecretValidUntil: string | null;
}

const viewOf = (row: SubscriptionRow): SubscriptionView => ({
  id: row.id,
  url: row.url,
  events: JSON.parse(row.events) as EventType[],
  system: (row.system as SourceSystem | null) ?? null,
  description: row.description,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  disabledAt: row.disabledAt,
  disabledReason: row.disabledReason,
  previousSecretValidUntil: row.previousSecretSealed ? row.previousSecretUntil : null,
});

export const deliveryViewOf = (row: SubscriptionDeliveryRow) => ({
  id: row.id,
  type: row.type as EventType,
  status: row.status,
  attempts: row.attempts,
  createdAt: row.createdAt,
  nextAttemptAt: row.status === 'pending' ? row.nextAttemptAt : null,
  deliveredAt: row.deliveredAt,
  lastStatusCode: row.lastStatusCode,
  lastError: row.lastError,
});

/** Node hands in name resolution (and a guarded fetch); on Workers the URL itself is checked. */
export interface SubscriptionTransport {
  resolveHost?: (host: string) => Promise<string[]>;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

/** Active subscriptions one token subject may hold, and a whole municipality (every event is sent once to each). */
export const MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT = 10;
export const MAX_ACTIVE_SUBSCRIPTIONS_PER_TENANT = 100;

/** The token subject in a `createdBy` of `roles:sub`. */
const subjectOf = (createdBy: string) => createdBy.slice(createdBy.indexOf(':') + 1);

const newSecret = () => `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;

export const SecretRotation = z
  .object({
    overlapHours: z.number().int().min(0).max(168).default(24).describe('How long the old secret stays valid beside the new one (events carry both signatures); 0 ends it at once'),
  })
  .strict()
  .openapi('SecretRotation');

/**
 * The system a new subscription serves. A vendor's is the one its token names (claim `system`, set by
 * the identity provider): it may leave it out, and may not name another — a token naming none cannot
 * subscribe. IT staff may subscribe for any system, and must name it.
 */
function systemFor(principal: Principal, asked: SourceSystem | undefined): SourceSystem {
  if (hasAnyRole(principal, ['it-staff'])) {
    const system = asked ?? principal.system;
    if (!system) throw new ProblemError('validation-failed', `system: name the sector system the subscription serves (one of ${SourceSystem.options.join(', ')})`);
    return system;
  }
  if (!principal.system) throw new ProblemError('forbidden', 'a vendor subscribes for the sector system its token names (claim `system`), and this token names none');
  if (asked && asked !== principal.system) throw new ProblemError('forbidden', `your token is for the ${principal.system} system: a vendor subscribes for its own system only`);
  return principal.system;
}

export function subscriptionService(deps: AppDeps & { subscriptionTransport?: SubscriptionTransport }) {
  const { store, clock } = deps;
  // IT staff see and manage every subscription of their municipality; a vendor only its own — by
  // token subject, not by the roles its token carries today (`createdBy` is `roles:sub`, roles never hold a colon).
  const visible = (principal: Principal, row: SubscriptionRow | null) => (row && (hasAnyRole(principal, ['it-staff']) || subjectOf(row.createdBy) === principal.sub) ? row : null);
  const entryOf = (principal: Principal, action: string, id: string, detail: Record<string, unknown>): AuditEntry => ({
    at: clock.now().toISOString(), actor: actorOf(principal), action, targetType: 'subscription', targetId: id, detail,
  });
  const audit = (...entry: Parameters<typeof entryOf>) => store.audit.append(entry[0].tenant, entryOf(...entry));

  return {
    /** Creates a subscription; the answer holds its signing secret, shown this once. */
    async create(principal: Principal, input: z.infer<typeof NewSubscription>): Promise<SubscriptionView & { secret: string }> {
      // A CPR number has no place in an address or a description (both are shown and logged by receivers).
      if (holdsCprNumber(input.url) || holdsCprNumber(input.description ?? '')) throw new ProblemError('validation-failed', 'the address or description holds a CPR number; events carry ids only');
      const system = systemFor(principal, input.system);
      const check = await checkSubscriptionUrl(input.url, deps.config.subscriptions.allowedHosts, deps.subscriptionTransport?.resolveHost);
      if (!check.ok) throw new ProblemError('subscription-address-refused', check.reason);
      const secret = newSecret();
      const id = crypto.randomUUID();
      const row = {
        id,
        tenant: principal.tenant,
        url: input.url,
        secretSealed: await deps.vault.sealPayload(secret, { column: 'subscriptions.secret_sealed', tenant: principal.tenant, id }),
        events: JSON.stringify(input.events ? [...new Set(input.events)] : EventType.options),
        description: input.description ?? null,
        createdBy: actorOf(principal),
        createdAt: clock.now().toISOString(),
        system,
      };
      // Each active subscription turns every event into one more send (and one more row at fan-out).
      // The limits are checked by the insert itself: requests at the same moment cannot each pass a count.
      const created = await store.audit.appendIfOneRowChanged(
        principal.tenant,
        [{ at: row.createdAt, actor: row.createdBy, action: 'subscription.created', targetType: 'subscription', targetId: row.id, detail: { host: new URL(input.url).host, events: JSON.parse(row.events), system } }],
        store.subscriptions.createWithinLimitsStatement(row, { perSubject: MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT, perTenant: MAX_ACTIVE_SUBSCRIPTIONS_PER_TENANT }),
      );
      if (!created) {
        if ((await store.subscriptions.countActive(principal.tenant, principal.sub)) >= MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT)
          throw new ProblemError('subscription-limit-reached', `at most ${MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT} active subscriptions per client: end one you no longer use`);
        throw new ProblemError('subscription-limit-reached', `at most ${MAX_ACTIVE_SUBSCRIPTIONS_PER_TENANT} active subscriptions per municipality`);
      }
      return { ...viewOf({ ...row, disabledAt: null, disabledReason: null, previousSecretSealed: null, previousSecretUntil: null, tellsTracked: true }), secret };
    },
    async list(principal: Principal, paging: { limit: number; offset: number }): Promise<SubscriptionView[]> {
      const createdBySubject = hasAnyRole(principal, ['it-staff']) ? undefined : principal.sub;
      return (await store.subscriptions.list(principal.tenant, { ...paging, ...(createdBySubject !== undefined ? { createdBySubject } : {}) })).map(viewOf);
    },
    async get(principal: Principal, id: string): Promise<SubscriptionView | null> {
      const row = visible(principal, await store.subscriptions.get(principal.tenant, id));
      return row ? viewOf(row) : null;
    },
    /**
     * A new signing secret (shown this once), for a receiver that suspects its secret leaked or
     * rotates by policy. Until the overlap ends every event carries a signature under each secret
     * (Standard Webhooks allows several), so the receiver can switch when it is ready; with no
     * overlap the old secret signs nothing more.
     */
    async rotateSecret(principal: Principal, id: string, input: z.infer<typeof SecretRotation>): Promise<{ id: string; secret: string; previousSecretValidUntil: string | null } | null> {
      const row = visible(principal, await store.subscriptions.get(principal.tenant, id));
      if (!row) return null;
      if (row.disabledAt) throw new ProblemError('subscription-ended', `the subscription ended on ${row.disabledAt}: ${row.disabledReason ?? ''}`.trim());
      const secret = newSecret();
      const previousUntil = input.overlapHours > 0 ? new Date(clock.now().getTime() + input.overlapHours * 3600_000).toISOString() : null;
      // The secret in use becomes the previous one, sealed again for that column (a sealed value
      // opens only in the column it was sealed for). One that does not open signs nothing already,
      // so it gets no overlap: the rotation is how a subscriber gets past it.
      const place = (column: 'subscriptions.secret_sealed' | 'subscriptions.previous_secret_sealed') => ({ column, tenant: row.tenant, id });
      let previous: { sealed: string; until: string } | null = null;
      if (previousUntil !== null)
        try {
          previous = { sealed: await deps.vault.sealPayload(await deps.vault.openPayload(row.secretSealed, place('subscriptions.secret_sealed')), place('subscriptions.previous_secret_sealed')), until: previousUntil };
        } catch (error) {
          deps.logger.warn('a subscription’s signing secret could not be read; rotated without an overlap', { tenant: row.tenant, subscriptionId: id, error: error instanceof Error ? error.message : String(error) });
        }
      const sealed = await deps.vault.sealPayload(secret, place('subscriptions.secret_sealed'));
      const rotated = store.subscriptions.rotateSecretStatement(principal.tenant, id, { sealed, was: row.secretSealed }, previous);
      if (!(await store.audit.appendIfOneRowChanged(principal.tenant, [entryOf(principal, 'subscription.secret-rotated', id, { overlapHours: input.overlapHours })], rotated))) {
        // Only if the secret read is still the one in use (it is what becomes the previous one).
        const now = await store.subscriptions.get(principal.tenant, id);
        if (now && !now.disabledAt && now.secretSealed !== row.secretSealed) throw new ProblemError('version-conflict', 'the secret was rotated by another request at the same moment; send the request again');
        return null;
      }
      return { id, secret, previousSecretValidUntil: previous?.until ?? null };
    },
    /**
     * Sends a `subscription.test` event now, signed as every event is, and answers what the receiver
     * said: for a vendor checking its receiver and signature check before real events flow. Not
     * queued or retried; the address is checked as for every delivery (S6).
     */
    async sendTestEvent(principal: Principal, id: string): Promise<{ webhookId: string; delivered: boolean; status: number | null; error: string | null } | null> {
      const row = visible(principal, await store.subscriptions.get(principal.tenant, id));
      if (!row) return null;
      if (row.disabledAt) throw new ProblemError('subscription-ended', `the subscription ended on ${row.disabledAt}: ${row.disabledReason ?? ''}`.trim());
      const check = await checkSubscriptionUrl(row.url, deps.config.subscriptions.allowedHosts);
      if (!check.ok) throw new ProblemError('subscription-address-refused', check.reason);
      const webhookId = crypto.randomUUID();
      const payload = JSON.stringify({ type: 'subscription.test', timestamp: clock.now().toISOString(), data: { tenant: principal.tenant, subscriptionId: id } });
      let status: number | null = null;
      let error: string | null = null;
      try {
        status = await sendSigned(deps, senderOf(deps), row, webhookId, payload);
        if (status < 200 || status >= 300) error = `the receiver answered ${status}`;
      } catch (caught) {
        error = sendError(caught);
      }
      await audit(principal, 'subscription.test-sent', id, { webhookId, status });
      return { webhookId, delivered: error === null, status, error };
    },
    /** Stops it: no further events, waiting deliveries cancelled. */
    async disable(principal: Principal, id: string): Promise<boolean> {
      const row = visible(principal, await store.subscriptions.get(principal.tenant, id));
      if (!row) return false;
      const reason = `disabled by ${actorOf(principal)}`;
      await store.audit.appendIfOneRowChanged(principal.tenant, [entryOf(principal, 'subscription.disabled', id, {})], store.subscriptions.disableStatement(principal.tenant, id, reason, clock.now().toISOString()), [
        store.subscriptions.cancelWaitingStatement(principal.tenant, id, reason),
      ]);
      return true;
    },
    /**
     * Sends a dead delivery again (after the receiver was fixed): the same event under the same
     * webhook-id. Refused while the subscription is ended, and for a delivery that is not dead.
     */
    async replay(principal: Principal, id: string, deliveryId: string): Promise<'replayed' | 'not-found'> {
      const row = visible(principal, await store.subscriptions.get(principal.tenant, id));
      if (!row) return 'not-found';
      if (row.disabledAt) throw new ProblemError('subscription-ended', `the subscription ended on ${row.disabledAt}: ${row.disabledReason ?? ''}`.trim());
      const replayed = store.subscriptions.replayStatement(principal.tenant, id, deliveryId, clock.now().toISOString());
      if (!(await store.audit.appendIfOneRowChanged(principal.tenant, [entryOf(principal, 'subscription.delivery-replayed', id, { deliveryId })], replayed))) {
        if (!(await store.subscriptions.deliveryOf(principal.tenant, id, deliveryId))) return 'not-found';
        throw new ProblemError('delivery-not-replayable', 'only a dead delivery can be sent again');
      }
      return 'replayed';
    },
    async deliveries(principal: Principal, id: string, paging: { limit: number; offset: number }) {
      const row = visible(principal, await store.subscriptions.get(principal.tenant, id));
      if (!row) return null;
      return (await store.subscriptions.deliveriesOf(principal.tenant, id, paging.limit, paging.offset)).map(deliveryViewOf);
    },
  };
}

export interface SubscriptionRunResult {
  fannedOut: number;
  delivered: number;
  retried: number;
  dead: number;
  cancelled: number;
  /** Event × subscription pairs not fanned out: no consent lets the plan's data flow with the subscription's system, the dead delivery or sharing change was for another system, or it names no system. */
  withheld: number;
  /**
   * Waiting deliveries cancelled when their turn came: a plan event whose plan no longer concerns the
   * subscription's system (consent revoked, lapsed or ended since it was fanned out), or a
   * `plan.unshared` made moot by a later `plan.shared`.
   */
  withdrawn: number;
}

/** Why a send failed, as kept for IT staff and the subscriber (a network error's cause included; no CPR number). */
const sendError = (caught: unknown) => redactCpr(caught instanceof Error ? (caught.cause instanceof Error ? `${caught.message}: ${caught.cause.message}` : caught.message) : String(caught)).slice(0, 300);

/**
 * POSTs one event to the subscriber, signed per Standard Webhooks with its secret — and, during a
 * secret rotation's overlap, with the one before it too — and answers the receiver's status. Not
 * following a redirect: it could lead to an address the caller's check would refuse.
 */
async function sendSigned(deps: AppDeps, send: (url: string, init: RequestInit) => Promise<Response>, subscription: SubscriptionRow, webhookId: string, payload: string): Promise<number> {
  const timestamp = Math.floor(deps.clock.now().getTime() / 1000);
  const place = (column: 'subscriptions.secret_sealed' | 'subscriptions.previous_secret_sealed') => ({ column, tenant: subscription.tenant, id: subscription.id });
  const secrets = [await deps.vault.openPayload(subscription.secretSealed, place('subscriptions.secret_sealed'))];
  if (subscription.previousSecretSealed && subscription.previousSecretUntil && subscription.previousSecretUntil > deps.clock.now().toISOString()) secrets.push(await deps.vault.openPayload(subscription.previousSecretSealed, place('subscriptions.previous_secret_sealed')));
  const signatures = (await Promise.all(secrets.map((secret) => signWebhook(secret, webhookId, timestamp, payload)))).join(' ');
  const response = await send(subscription.url, {
    method: 'POST',
    redirect: 'manual',
    signal: AbortSignal.timeout(TIMEOUT_MS),
    headers: { 'content-type': 'application/json', 'user-agent': 'enplan-integration-layer', 'webhook-id': webhookId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatures },
    body: payload,
  });
  await response.body?.cancel().catch(() => undefined);
  return response.status;
}

const senderOf = (deps: AppDeps & { subscriptionTransport?: SubscriptionTransport }) => deps.subscriptionTransport?.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));

/** The events about one plan: all consent-gated, but for `plan.unshared` and `plan.purged` (see `audienceOf`). */
const planEventTypes: readonly string[] = ['plan.created', 'plan.changed', 'plan.shared', 'plan.unshared', 'plan.purged'];
/** Events naming the one system they are for, which they reach whatever the consent now says. */
const ungatedTypes: readonly string[] = ['plan.unshared', 'plan.purged'];
/** Events telling a system of a duty towards a plan it heard of (stop holding it, delete it): see `wants`. */
const dutyTypes: readonly string[] = ['plan.unshared', 'plan.purged'];

/**
 * Whether a subscription wants an event of this type. `plan.unshared` and `plan.purged` go to one wanting
 * any plan event: whichever it chose, it heard of the plan, and a recipient of personal data is told when
 * it must stop holding it (R10, R16) or that it was erased (GDPR art. 19) — also one whose list of types
 * was stored before these types existed. `plan.shared` stays opt-in: it tells of a plan, not of a duty.
 */
const wants = (subscription: SubscriptionRow, type: string): boolean => {
  const wanted = JSON.parse(subscription.events) as string[];
  return wanted.includes(type) || (dutyTypes.includes(type) && wanted.some((w) => planEventTypes.includes(w)));
};
/** The plan an event row's data names, and the one a delivery's payload names. */
const planIdOfEvent = (event: EventRow) => (JSON.parse(event.data) as { planId?: string }).planId;
const planIdOfDelivery = (row: SubscriptionDeliveryRow) => (JSON.parse(row.payload) as { data?: { planId?: string } }).data?.planId;

/**
 * Who of the subscriptions may hear of an event, for a page of events taken in order: a plan's events go
 * to a subscription while some active member's consent lets data flow with its system; a dead delivery's
 * to the subscription of the system it was for; nothing to one that names no system (made before
 * subscriptions named one). A `plan.shared`, `plan.unshared` or `plan.purged` goes only to subscriptions
 * of the system it names; `plan.unshared` and `plan.purged` bypass the consent gate by design — they are
 * the events about a plan that no longer concerns the system (or no longer exists), telling it to stop
 * holding the plan or delete it (R10, R16, GDPR art. 19) — but go only to a subscription that was told of
 * the plan (`plansTold`: by this page's earlier events, or before), so a system never told of a plan
 * does not learn of it from them. Told is counted per receiver — the token subject that made the
 * subscription and the system it serves (`receiverKey`) — so a vendor that keeps its duties on an
 * endpoint of their own hears them there. A subscription made before that was recorded (`tellsTracked` false)
 * hears them as before: when it was made before they were recorded. The plans' members and consents,
 * and who was told of them, are read in one query each for the page.
 *
 * Call it for a page's events in order: what it lets through is what `told` then holds to write.
 */
async function audienceOf(store: AppDeps['store'], wanted: readonly { event: EventRow; to: readonly SubscriptionRow[] }[], at: Date) {
  const planIds = new Set<string>();
  const dutyPlans: { tenant: string; planId: string }[] = [];
  for (const { event, to } of wanted) {
    if (!planEventTypes.includes(event.type) || !to.some((s) => s.system)) continue;
    const planId = planIdOfEvent(event);
    if (!planId) continue;
    if (ungatedTypes.includes(event.type)) dutyPlans.push({ tenant: event.tenant, planId });
    else planIds.add(planId);
  }
  const concerns = sharingOf(await store.subscriptions.membersWithConsents([...planIds]), at);
  const toldBefore = await store.subscriptions.toldOf(dutyPlans);
  const told: { add: PlanTold[]; forget: PlanTold[] } = { add: [], forget: [] };
  const purgeTold = new Set<string>();
  const mayHear = (subscription: SubscriptionRow, event: EventRow): boolean => {
    const system = subscription.system as SourceSystem | null;
    if (!system) return false;
    const data = JSON.parse(event.data) as { planId?: string; target?: string; system?: string };
    if (event.type === 'delivery.dead') return data.target === system;
    if (!planEventTypes.includes(event.type) || !data.planId) return false;
    if ((event.type === 'plan.shared' || ungatedTypes.includes(event.type)) && data.system !== system) return false;
    const pair = { tenant: event.tenant, subscriptionId: subscription.id, planId: data.planId, firstEventSeq: event.seq };
    const key = receiverKey(event.tenant, subscription.createdBy, system, data.planId);
    if (ungatedTypes.includes(event.type)) {
      const hears = subscription.tellsTracked ? toldBefore.has(key) : subscription.createdAt <= event.at;
      // Deleted: nothing more will be told of it, so who was told of it need not be kept (once the
      // receiver's other subscriptions have heard it too: the key stays for the rest of the page).
      if (event.type === 'plan.purged' && !purgeTold.has(key)) {
        purgeTold.add(key);
        for (const subscriptionId of toldBefore.get(key) ?? []) told.forget.push({ ...pair, subscriptionId });
      }
      return hears;
    }
    if (!concerns(event.tenant, data.planId, system)) return false;
    if (!toldBefore.has(key)) {
      toldBefore.set(key, [subscription.id]);
      told.add.push(pair);
    }
    return true;
  };
  return { mayHear, told };
}

/**
 * Why a waiting delivery is no longer to be sent, asked when its turn comes (a receiver down for hours
 * holds its deliveries in retry across a revocation): a plan event whose plan no longer concerns the
 * subscription's system (a purged plan has no members: none does), or a `plan.unshared` whose plan
 * concerns it again (a `plan.shared` follows). A `plan.purged` is never withdrawn: its plan is gone for
 * good. The reason is generic: the subscriber sees it on a delivery it knew of, and learns nothing more.
 */
function withdrawalOf(concerns: ReturnType<typeof sharingOf>, subscription: SubscriptionRow, row: SubscriptionDeliveryRow): string | null {
  if (!planEventTypes.includes(row.type) || row.type === 'plan.purged') return null;
  const planId = planIdOfDelivery(row);
  const system = subscription.system as SourceSystem | null;
  const sharedNow = !!planId && !!system && concerns(row.tenant, planId, system);
  if (row.type === 'plan.unshared') return sharedNow ? 'superseded by a later change' : null;
  return sharedNow ? null : 'withdrawn: consent no longer covers this system';
}

const EVENT_PAGE = 500;
const LEASE_MS = 60_000;
const TIMEOUT_MS = 10_000;
/**
 * Fewer tries than a registration's delivery gets, spread over hours: a ceiling from 2 minutes
 * doubling to 128, so a receiver down for an hour or two (a deploy, a restart) still gets its events
 * — the outbox's 2 s base made all 8 tries within about 2 minutes (at most 4¼).
 */
export const subscriptionBackoff: BackoffPolicy = { ...defaultBackoff, baseMs: 2 * 60_000, capMs: 6 * 60 * 60_000, maxAttempts: 8 };

/**
 * One pass of the subscription job: fans recorded events out into deliveries, then delivers what
 * is due. Runs beside the outbox relay (the bree relay job on Node, every Cron Trigger on Workers).
 */
export async function runSubscriptionDeliveries(
  deps: AppDeps & { subscriptionTransport?: SubscriptionTransport },
  options: { limit?: number; backoff?: BackoffPolicy; random?: () => number; concurrency?: number } = {},
): Promise<SubscriptionRunResult> {
  const { store, clock } = deps;
  const result: SubscriptionRunResult = { fannedOut: 0, delivered: 0, retried: 0, dead: 0, cancelled: 0, withheld: 0, withdrawn: 0 };
  const iso = (ms: number) => new Date(ms).toISOString();

  // Fan-out: each recorded event becomes one delivery per active subscription that wants its type and
  // may hear of it (consent now, for its system: ./consent-gate.ts).
  for (let page = 0; page < 100; page++) {
    const recorded = await store.subscriptions.nextEvents(EVENT_PAGE);
    if (recorded.length === 0) break;
    const active = await store.subscriptions.activeOf([...new Set(recorded.map((e) => e.tenant))]);
    const at = clock.now().toISOString();
    const wanted = recorded.map((event) => ({ event, to: active.filter((s) => s.tenant === event.tenant && wants(s, event.type)) }));
    const { mayHear, told } = await audienceOf(store, wanted, clock.now());
    const rows = wanted.flatMap(({ event, to }) => {
      const hearing = to.filter((s) => mayHear(s, event));
      result.withheld += to.length - hearing.length;
      return hearing.map((s) => ({
        id: crypto.randomUUID(),
        tenant: event.tenant,
        subscriptionId: s.id,
        eventSeq: event.seq,
        type: event.type,
        payload: JSON.stringify({ type: event.type, timestamp: event.at, data: { tenant: event.tenant, ...(JSON.parse(event.data) as object) } }),
        nextAttemptAt: at,
        createdAt: at,
      }));
    });
    await store.subscriptions.fanOut(rows, recorded.at(-1)!.seq, told);
    result.fannedOut += rows.length;
    if (recorded.length < EVENT_PAGE) break;
  }

  // Delivery of what is due, each tenant's under its own claim.
  const policy = options.backoff ?? subscriptionBackoff;
  const send = senderOf(deps);
  const due = await store.subscriptions.due(clock.now().toISOString(), options.limit ?? 200);
  // Consent again, as it is now, for the plans of the due plan events: one read for the whole batch.
  const duePlans = new Set(due.filter((d) => planEventTypes.includes(d.type) && d.type !== 'plan.purged').map(planIdOfDelivery).filter((id): id is string => !!id));
  const concernsNow = sharingOf(await store.subscriptions.membersWithConsents([...duePlans]), clock.now());
  const subscriptionsSeen = new Map<string, SubscriptionRow | null>();
  for (const tenant of new Set(due.map((d) => d.tenant))) {
    // One subscription's deliveries go one after another in event order, so a receiver that answers
    // gets a plan's events in the order they happened; different subscriptions are sent to concurrently.
    const bySubscription = new Map<string, SubscriptionDeliveryRow[]>();
    for (const row of due.filter((d) => d.tenant === tenant).sort((a, b) => a.eventSeq - b.eventSeq)) {
      const rows = bySubscription.get(row.subscriptionId);
      if (rows) rows.push(row);
      else bySubscription.set(row.subscriptionId, [row]);
    }
    /** Sends one; false when the receiver failed it (no answer, or one that was not 2xx or 410). */
    const deliverOne = async (dueRow: SubscriptionDeliveryRow): Promise<boolean> => {
      // Claimed just before it is sent, not with the others up front: sent one after another at up to
      // TIMEOUT_MS each, the later rows' leases would run out before their turn and a concurrent run
      // (on Workers the Cron Trigger beside the queue consumer) would send them too. One claim, then
      // at most one send of TIMEOUT_MS, always fits in LEASE_MS. A row another run holds, or finished
      // meanwhile, is left to it.
      const now = clock.now().getTime();
      const [row] = await store.subscriptions.claim(tenant, [dueRow.id], iso(now + LEASE_MS), iso(now));
      if (!row) return true;
      const key = `${tenant}|${row.subscriptionId}`;
      if (!subscriptionsSeen.has(key)) subscriptionsSeen.set(key, await store.subscriptions.get(tenant, row.subscriptionId));
      const subscription = subscriptionsSeen.get(key);
      if (!subscription || subscription.disabledAt) {
        await store.subscriptions.cancel(tenant, row.id, 'the subscription was disabled');
        result.cancelled++;
        return true;
      }
      const withdrawal = withdrawalOf(concernsNow, subscription, row);
      if (withdrawal) {
        await store.subscriptions.cancel(tenant, row.id, withdrawal);
        result.withdrawn++;
        return true;
      }
      // The address is checked again at every delivery: the allowlist may have changed since.
      const check = await checkSubscriptionUrl(subscription.url, deps.config.subscriptions.allowedHosts);
      if (!check.ok) {
        await store.subscriptions.dead(tenant, row.id, `address refused: ${check.reason}`, null);
        result.dead++;
        return true;
      }
      let status: number | null = null;
      let error: string;
      try {
        status = await sendSigned(deps, send, subscription, row.id, row.payload);
        if (status >= 200 && status < 300) {
          await store.subscriptions.delivered(tenant, row.id, status, clock.now().toISOString());
          result.delivered++;
          return true;
        }
        if (status === 410) {
          // Standard Webhooks: 410 Gone means "stop sending".
          await store.subscriptions.dead(tenant, row.id, 'the receiver answered 410 Gone', status);
          const gone = 'the receiver answered 410 Gone';
          const ended = { at: clock.now().toISOString(), actor: 'system:subscriptions', action: 'subscription.disabled', targetType: 'subscription', targetId: subscription.id, detail: { reason: gone } };
          await store.audit.appendIfOneRowChanged(tenant, [ended], store.subscriptions.disableStatement(tenant, subscription.id, gone, ended.at), [store.subscriptions.cancelWaitingStatement(tenant, subscription.id, gone)]);
          subscriptionsSeen.set(key, { ...subscription, disabledAt: clock.now().toISOString() });
          result.dead++;
          return true;
        }
        error = `the receiver answered ${status}`;
      } catch (caught) {
        error = sendError(caught);
      }
      if (row.attempts >= policy.maxAttempts) {
        await store.subscriptions.dead(tenant, row.id, `gave up after ${row.attempts} attempts; last: ${error}`, status);
        result.dead++;
      } else {
        await store.subscriptions.retryAt(tenant, row.id, iso(clock.now().getTime() + retryDelayMs(row.attempts, policy, options.random)), error, status);
        result.retried++;
      }
      return false;
    };
    const queues = [...bySubscription.values()];
    // A receiver that failed one is left until the next pass: one that does not answer would otherwise
    // cost TIMEOUT_MS per waiting event, holding up the relay job this pass shares with the outbox.
    const worker = async () => {
      for (let rows = queues.shift(); rows; rows = queues.shift()) for (const row of rows) if (!(await deliverOne(row))) break;
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, queues.length) }, worker));
  }
  return result;
}
