/**
 * What a subscriber receives (decision 0014), as schemas: the body of each event and the Standard
 * Webhooks headers it comes with. The OpenAPI document lists them under `webhooks`, so a vendor can
 * generate a receiver from it; the subscription tests check real deliveries against them.
 */
import { z } from '@hono/zod-openapi';
import { PlanStatus, SourceSystem } from '../model';

const Tenant = z.string().regex(/^\d{3}$/).openapi({ description: 'The municipality (kommunekode)' });
const Timestamp = z.string().openapi({ description: 'When the change was recorded (ISO 8601, UTC)' });

export const PlanCreatedEvent = z
  .object({
    type: z.literal('plan.created'),
    timestamp: Timestamp,
    data: z.object({ tenant: Tenant, planId: z.string(), version: z.number().int().positive(), status: PlanStatus }).strict(),
  })
  .strict()
  .openapi('PlanCreatedEvent', { description: 'A plan was created. Read it through `GET /v1/plans/{id}` (audited, under your role).' });

/** The parts of a plan a `plan.changed` event can name (compared by the database, migration 0016). */
export const PlanPart = z.enum(['status', 'subject', 'purpose', 'situation', 'situationNotes', 'citizenViews', 'goals', 'interventions', 'agreements', 'followUps', 'coordinator', 'careTeams', 'municipalities', 'replaces', 'timeFrame', 'conflicts']);

export const PlanChangedEvent = z
  .object({
    type: z.literal('plan.changed'),
    timestamp: Timestamp,
    data: z
      .object({
        tenant: Tenant,
        planId: z.string(),
        version: z.number().int().positive().openapi({ description: 'The plan version after the change: order a plan’s events by it (a retried event can arrive late)' }),
        status: PlanStatus,
        previousStatus: PlanStatus,
        changed: z.array(PlanPart).openapi({ description: 'Which parts of the plan changed (e.g. `goals`, `interventions`, `status`): read the plan only when a part you hold changed. Empty when only bookkeeping moved (provenance of a confirmation, say)' }),
      })
      .strict(),
  })
  .strict()
  .openapi('PlanChangedEvent', { description: 'A plan changed (its content, its status or both). Only ids, statuses and the names of the parts that changed: never content or a CPR number.' });

const sharingData = z
  .object({ tenant: Tenant, planId: z.string(), system: z.enum(SourceSystem.options).openapi({ description: 'The sector system the subscription serves (the one the change concerns)' }) })
  .strict();

export const PlanSharedEvent = z
  .object({ type: z.literal('plan.shared'), timestamp: Timestamp, data: sharingData })
  .strict()
  .openapi('PlanSharedEvent', {
    description:
      'A consent or legal basis was recorded (or took effect) that lets data flow between this plan and your system, where none did before: the plan now concerns you. Read it through `GET /v1/plans/{id}`. Ids only.',
  });

export const PlanUnsharedEvent = z
  .object({ type: z.literal('plan.unshared'), timestamp: Timestamp, data: sharingData })
  .strict()
  .openapi('PlanUnsharedEvent', {
    description:
      'The last consent or legal basis that let data flow between this plan and your system was revoked, lapsed or ended: stop holding what you have of the plan (R10, R16). No further event of the plan comes until a `plan.shared`; order the two by `timestamp`. Sent to a subscription wanting any plan event type. Ids only.',
  });

export const PlanPurgedEvent = z
  .object({ type: z.literal('plan.purged'), timestamp: Timestamp, data: sharingData })
  .strict()
  .openapi('PlanPurgedEvent', {
    description:
      'A plan shared with your system was deleted for good (R16: its retention period after it ended passed): delete everything you hold of it — what you read of it and its id — not only stop using it (GDPR art. 17, 19). No event of the plan follows; reading it answers 404. Sent to a subscription wanting any plan event type. Ids only.',
  });

export const DeliveryDeadEvent = z
  .object({
    type: z.literal('delivery.dead'),
    timestamp: Timestamp,
    data: z.object({ tenant: Tenant, outboxId: z.string(), registrationId: z.string(), target: z.string() }).strict(),
  })
  .strict()
  .openapi('DeliveryDeadEvent', { description: 'A registration could not be delivered to a sector system and was given up on (a dead letter); IT staff can send it again.' });

export const SubscriptionTestEvent = z
  .object({
    type: z.literal('subscription.test'),
    timestamp: Timestamp,
    data: z.object({ tenant: Tenant, subscriptionId: z.string() }).strict(),
  })
  .strict()
  .openapi('SubscriptionTestEvent', { description: 'Sent only when asked for (`POST /v1/subscriptions/{id}/test`), whatever event types the subscription wants: to check a receiver and its signature check. Nothing to read.' });

export const SubscriptionEventBody = z.discriminatedUnion('type', [PlanCreatedEvent, PlanChangedEvent, PlanSharedEvent, PlanUnsharedEvent, PlanPurgedEvent, DeliveryDeadEvent, SubscriptionTestEvent]);

/** Every event by its type, as the OpenAPI document lists them under `webhooks`. */
export const webhookEvents = [
  ['plan.created', PlanCreatedEvent],
  ['plan.changed', PlanChangedEvent],
  ['plan.shared', PlanSharedEvent],
  ['plan.unshared', PlanUnsharedEvent],
  ['plan.purged', PlanPurgedEvent],
  ['delivery.dead', DeliveryDeadEvent],
  ['subscription.test', SubscriptionTestEvent],
] as const;

/** The Standard Webhooks headers every event comes with. */
export const EventHeaders = z.object({
  'webhook-id': z.string().openapi({ description: 'The delivery’s id: the same on every retry of one event, so a receiver can drop repeats' }),
  'webhook-timestamp': z.string().regex(/^\d+$/).openapi({ description: 'Seconds since the epoch when this attempt was signed; refuse one far from now' }),
  'webhook-signature': z.string().openapi({ description: '`v1,<base64 HMAC-SHA256>` of `{webhook-id}.{webhook-timestamp}.{body}` with the subscription’s `whsec_` secret; during a secret rotation’s overlap one such signature per secret, space-separated (accept the event if any one verifies)' }),
});
