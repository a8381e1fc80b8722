/**
 * Storage: drizzle schema, committed migrations, and async repositories. Every repository call
 * takes the tenant (kommunekode); there is no SQL outside this folder.
 */
import type { Database } from './db';
import { auditRepository } from './audit';
import { citizenRepository } from './citizens';
import { consentRepository } from './consents';
import { consentTextRepository } from './consent-texts';
import { heldElementRepository } from './held-elements';
import { satisfactionRepository } from './satisfaction';
import { inboundWebhookRepository } from './inbound-webhooks';
import { subscriptionRepository } from './subscriptions';
import { outboxRepository } from './outbox';
import { planLinkRepository } from './plan-links';
import { planRepository } from './plans';
import { regionalConsentRepository } from './regional-consents';
import { registrationRepository } from './registrations';
import { retentionRepository } from './retention';
import { sealedRepository } from './sealed';
import { syncRepository } from './sync';

/** `auditChainKey`: AUDIT_CHAIN_KEY, which keys the audit chain; `auditChainKeysRetired`: earlier ones, still verified (src/store/audit.ts). */
export function createStore(database: Database, options: { auditChainKey?: string; auditChainKeysRetired?: readonly string[] } = {}) {
  const plans = planRepository(database);
  const outbox = outboxRepository(database);
  return {
    database,
    citizens: citizenRepository(database),
    plans,
    outbox,
    registrations: registrationRepository(database, { plans, outbox }),
    consents: consentRepository(database),
    consentTexts: consentTextRepository(database),
    satisfaction: satisfactionRepository(database),
    planLinks: planLinkRepository(database),
    audit: auditRepository(database, { chainKey: options.auditChainKey, retiredChainKeys: options.auditChainKeysRetired }),
    sync: syncRepository(database),
    retention: retentionRepository(database),
    heldElements: heldElementRepository(database),
    regionalConsents: regionalConsentRepository(database),
    inboundWebhooks: inboundWebhookRepository(database),
    subscriptions: subscriptionRepository(database),
    sealed: sealedRepository(database),
    batch: database.batch,
    close: () => database.close(),
  };
}
export type Store = ReturnType<typeof createStore>;
export type { Commit, Database } from './db';
export type { AuditEntry, AuditRow } from './audit';
export type { CitizenRow } from './citizens';
export type { HeldElement, HeldElementRow } from './held-elements';
export type { RegionalConsentEnd, RegionalRefusal } from './regional-consents';
export type { ConsentDocument } from './consents';
export type { ConsentTextRow } from './consent-texts';
export type { InboundWebhookRow, NewInboundWebhook } from './inbound-webhooks';
export type { EventRow, PlanTold, SubscriptionDeliveryRow, SubscriptionRow } from './subscriptions';
export { receiverKey } from './subscriptions';
export type { PlanLinkRow } from './plan-links';
export type { NewOutboxRow, OutboxRow, OutboxStatus } from './outbox';
export type { AcceptOutcome, RegistrationRow } from './registrations';
export type { QuarantineRow, SyncRunRow } from './sync';
export type { RetentionRunRow } from './retention';
