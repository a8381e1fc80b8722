/**
 * The record of processing (R16; GDPR art. 30) as this deployment does it, for one municipality:
 * derived from what the service is configured with and holds now — the sector systems it reads and
 * how, the mappings it reads them with, the flows consent allows and the legal bases recorded in
 * their place, where registrations go and on what legal reference, who receives events, how long
 * data is kept, and how it is protected. Nothing here is typed in by hand, so it cannot drift from
 * what the service does. Counts only: no citizen ids, no CPR numbers, no plan content.
 */
import type { AppDeps } from '../api/context';
import { adaptersOf } from '../api/context';
import { actorOf, type Principal } from '../security';
import type { SourceSystem } from '../model';
import { enrolledStatuses } from '../model';
import { inForce, routingRules, routingRuleSetVersion, ruleSetVersion } from '../rules';
import { danishToday } from '../views/danish';

const sources: readonly SourceSystem[] = ['dfdg', 'education', 'social', 'health'];

/** What each sector system is, in the words of a record of processing. */
const sourceNames: Record<SourceSystem, string> = {
  dfdg: 'Det Fælles Datagrundlag (STAR), the employment effort',
  education: 'Ungedatabasen / KUI (STIL), the youth and education effort',
  social: "the municipality's social case system (KL's FHIR profiles)",
  health: 'the region’s health records (FHIR R4, DK-core)',
};

/** Data categories that are special categories under GDPR art. 9 (health) or need extra care. */
const specialCategories: Record<string, string> = {
  health: 'special category (GDPR art. 9); flows only on explicit consent (Sundhedsloven § 43)',
  social: 'confidential information on social conditions (databeskyttelsesloven § 8); the health details in it are a special category (GDPR art. 9)',
};

/** The host a URL points at, never its path or query (which could hold anything). */
function hostOf(url: string | undefined): { host: string | null; protocol: string | null } {
  if (!url) return { host: null, protocol: null };
  try {
    const parsed = new URL(url);
    return { host: parsed.host, protocol: parsed.protocol.replace(':', '') };
  } catch {
    return { host: null, protocol: null };
  }
}

/** Why the service processes personal data at all: the same words in the record of processing and in an access report. */
export const processingPurpose =
  'One coordinated plan (Én plan) for a citizen or family with complex problems across the employment, social, ' +
  'education and health efforts: plan data is read only for citizens with an accepted or active Én plan, only what ' +
  'they consented to or a recorded legal basis allows, and each fact registered once is reported to the systems that must hold it.';

/** Which plans' events a subscriber of this sector system hears of (decision 0014): the consent gate, in words. */
function subscriberHears(system: string): string {
  const own = "data flows between the plan and that system on a member's consent or legal basis (into the plan from it, or from the plan to a department whose registrations it receives), checked when each event is fanned out and again when it is sent";
  // The duty events (plan.unshared, plan.purged) go only where a plan event went before (decision 0014, session 25).
  const duties = 'and, of a plan it was told of, when that plan no longer concerns it or is deleted';
  return system === 'health' ? `the plans whose ${own}; a flow from the region on consent counts only while the region's own Consent permits sharing with the municipality; ${duties}` : `the plans whose ${own}; ${duties}`;
}

/** How long what is kept, from this deployment's settings. */
export function retentionOf(config: AppDeps['config']) {
  return {
    closedPlansDays: config.retention.closedPlanDays,
    payloadBodiesDays: config.retention.payloadDays,
    auditLog:
      config.retention.auditDays === null
        ? 'kept (no period is set: RETENTION_AUDIT_DAYS); it holds who did what to which record and when, never plan content or CPR numbers'
        : `kept ${config.retention.auditDays} days, then its oldest rows are deleted nightly, the chain kept verifiable; it holds who did what to which record and when, never plan content or CPR numbers`,
    lapsedConsent: 'data that flowed only on a revoked or lapsed grant, or on a legal-basis record whose period ended, leaves the plans (R10, R11)',
    endedPlans: 'a closed or declined plan is deleted after closedPlansDays with its registrations and finished deliveries; a member left with no plan is deleted too (CPR ciphertext, consents, sync marks); a plan with a delivery still due waits for it',
    erasure: 'on request, or for data that should not be held (a citizen enrolled under another person’s CPR number), the DPO erases a citizen at once: their own plans with registrations and deliveries still due, CPR ciphertext, consents, sync marks and quarantined records; subscribed systems are told to delete the plans; a family plan shared with others is left until the member has left it (POST /v1/data-subject/erasure, decision 0028)',
  };
}

export async function processingRecord(deps: AppDeps, tenant: string) {
  const { store, config, clock } = deps;
  const now = clock.now();
  // The Danish day, as the consent gate reads grants and legal bases.
  const today = danishToday(now);
  const configured = adaptersOf(deps, tenant);
  const [plansByStatus, grantedFlows, legalBasisFlows, subscriptions] = await Promise.all([
    store.plans.countByStatus(tenant),
    store.consents.grantedFlows(tenant, today),
    store.consents.legalBasisFlows(tenant, today),
    store.subscriptions.list(tenant, { limit: 1000 }),
  ]);
  const mappings = deps.mappings.all();
  const rulesInForce = routingRules.filter((rule) => inForce(rule, today));
  const categories = [...new Set([...grantedFlows, ...legalBasisFlows].map((flow) => flow.category))].sort();

  return {
    tenant,
    generatedAt: now.toISOString(),
    purpose: processingPurpose,
    dataSubjects: {
      plansByStatus,
      enrolledPlans: enrolledStatuses.reduce((n, status) => n + (plansByStatus[status] ?? 0), 0),
      note: 'Citizens (and the members of family plans, children among them) with an Én plan case in this municipality; nobody else is read (R12).',
    },
    categoriesOfData: categories.map((category) => ({ category, ...(specialCategories[category] ? { note: specialCategories[category] } : {}) })),
    sources: sources.map((system) => {
      const url = config.adapters[system];
      const { host, protocol } = hostOf(url);
      return {
        system,
        name: sourceNames[system],
        read: Boolean(configured[system]),
        host,
        transport: protocol === null ? null : protocol === 'https' ? (config.adapters.clientCertificate ? 'https with the municipality’s function certificate (mutual TLS)' : 'https') : `${protocol} (not encrypted: a simulator or a test system)`,
        changeNotices: !configured[system] ? null : config.inboundWebhookSecrets[system]?.length ? 'signed webhooks (Standard Webhooks) and polling' : 'polling',
        messageSecurity: system === 'education' && configured[system] && config.adapters.educationWsSecurity ? 'every request signed with the function certificate (WS-Security)' : null,
        mappings: mappings.filter((mapping) => mapping.adapter === system).map((mapping) => ({ id: mapping.id, version: mapping.version, recordType: mapping.recordType, description: mapping.description })),
      };
    }),
    flowsOnConsent: grantedFlows,
    flowsOnOtherLegalBasis: legalBasisFlows,
    registrationsSentTo: {
      ruleSetVersion: routingRuleSetVersion,
      rules: rulesInForce.filter((rule) => !rule.exclude).map((rule) => ({ id: rule.id, target: rule.target ?? null, recipient: rule.recipient ?? null, category: rule.category, legalReference: rule.legalReference, verification: rule.verification, description: rule.description })),
      neverSent: rulesInForce.filter((rule) => rule.exclude).map((rule) => ({ id: rule.id, legalReference: rule.legalReference, description: rule.description })),
    },
    eventSubscribers: subscriptions
      .filter((subscription) => !subscription.disabledAt)
      .map((subscription) => ({
        host: hostOf(subscription.url).host,
        system: subscription.system,
        events: JSON.parse(subscription.events) as string[],
        content: 'ids and status only, never plan content',
        hears: subscription.system === null ? 'no plan events (it names no sector system)' : subscriberHears(subscription.system),
      })),
    retention: retentionOf(config),
    security: {
      cprAtRest: `AES-256-GCM under the key ${deps.vault.currentPrefix.split(':')[1]}; found through a keyed HMAC-SHA-256 per municipality, never decrypted to search${config.cprKeysRetired.length > 0 ? `; a key rotation is under way (${config.cprKeysRetired.length} retired key${config.cprKeysRetired.length === 1 ? '' : 's'} still read while their data moves to the current key)` : ''}`,
      cprElsewhere: 'never in URLs, logs, metrics or events',
      access: `${config.auth.jwksUrl ? 'bearer tokens from the identity provider (JWKS)' : config.usesDevSecrets ? 'development tokens signed with the built-in secret: not for production' : 'bearer tokens signed with the configured shared secret (HS256)'}; roles on every route, every query scoped to the municipality`,
      // Who else reads personal data, and how each read is accounted for (R24; src/sync/quarantine.ts).
      quarantinedPayloads: `IT staff of the municipality may read the stored payload of a record quarantined because it could not be mapped, to find the fault, until it is deleted after ${config.retention.payloadDays} days: every CPR-shaped number masked, each look audited and shown in the citizen’s own log of where their data went — for a child, also to a custody holder who consented for the child to that system’s data, never a look that may concern anonymous treatment (SEL § 101 a) — (the DPO’s access log names who); a refused attempt is audited too`,
      // Caseworkers' reads and how one from outside the plan is accounted for (src/views/involvement.ts).
      caseworkerReads:
        'every opening of a plan by a caseworker is audited and told to each member in their log of where their data went; a caseworker whose token names a department that takes no part in the plan (not coordinating it, not made a party by a caseworker taking part, no element of its sector, no consent or legal basis naming it, no sector plan of its replaced) can still open it — to find whom to hand a case to — but that opening is told to the citizen on a line of its own and marked in the log (departmentInPlan false) for the DPO’s follow-up; a token naming no department reads as the municipality’s coordinating staff',
      auditLog: `append-only, hash-chained per municipality${config.auditChainKey ? ' and keyed (AUDIT_CHAIN_KEY: HMAC-SHA-256, so a rewrite by someone holding the database file but not the key is found)' : ' (not keyed: set AUDIT_CHAIN_KEY)'}; npm run audit:verify names the first broken row`,
      rulesVersion: ruleSetVersion,
    },
  };
}
export type ProcessingRecord = Awaited<ReturnType<typeof processingRecord>>;

/** The record for the caller's municipality. It names nobody, but it is drawn from every consent there: who read it is logged. */
export async function readProcessingRecord(deps: AppDeps, principal: Principal): Promise<ProcessingRecord> {
  const record = await processingRecord(deps, principal.tenant);
  await deps.store.audit.append(principal.tenant, { at: record.generatedAt, actor: actorOf(principal), action: 'processing-record.read', targetType: 'tenant', targetId: principal.tenant, citizenId: null, detail: {} });
  return record;
}
