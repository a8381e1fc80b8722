/**
 * Consent operations behind the API (R9–R11, R15): record a grant for a plan member, record a
 * non-consent legal basis and that the citizen was told about it, list a plan's consents, and
 * revoke a grant (R10, S3) — which stops every further flow on it (the policy honours
 * `revokedAt`), cancels queued deliveries resting on it, and removes the data merged on it from
 * every plan of the citizen. Every grant, revocation and legal-basis record is audited.
 */
import { z } from 'zod';
import type { AppDeps } from '../api/context';
import { ProblemError } from '../api/context';
import { cancelDeliveriesForRevokedConsent } from '../delivery';
import {
  ageOn,
  ConsentGrant,
  ConsentSource,
  DataCategory,
  Id,
  IsoDate,
  LegalBasisRecord,
  membersOf,
  Plan,
  Recipient,
  Signature,
  type Member,
  type SourceSystem,
} from '../model';
import { actorOf, type Principal } from '../security';
import type { ConsentDocument, RegionalConsentEnd, RegionalRefusal } from '../store';
import { danishToday } from '../views/danish';
import { isLostWriteAbort } from '../store/write-guard';
import { readAgainSoon } from '../sync/on-demand';
import { carriesGrant, reconsiderOnAge, removeRevokedData, removeWithdrawnSourceData, type RevocationOutcome } from './revocation';
import { recipientProblem } from './policy';
import { regionalConsentEndedReason } from './regional';
import { sharingEventStatements, sourceSayChangeStatements, withSourceSay } from '../subscriptions/sharing-events';

/** The citizen is named by plan and member, never by CPR; unknown fields (a `cpr`, say) are refused. */
export const GrantConsentRequest = z.strictObject({
  planId: Id,
  memberId: Id,
  source: ConsentSource,
  recipient: Recipient,
  categories: z.array(DataCategory).min(1).max(DataCategory.options.length),
  explicitHealth: z.boolean().default(false),
  purpose: z.string().trim().min(1).max(2000),
  validFrom: IsoDate,
  validTo: IsoDate.optional(),
  signed: Signature,
  grantedBy: z.strictObject({ memberId: Id, capacity: z.enum(['self', 'custody-holder', 'guardian']) }),
});
export type GrantConsentRequest = z.infer<typeof GrantConsentRequest>;

export const RecordLegalBasisRequest = z.strictObject({
  planId: Id,
  memberId: Id,
  source: ConsentSource,
  recipient: Recipient,
  categories: z.array(DataCategory).min(1).max(DataCategory.options.length),
  /** The legal basis used instead of consent, e.g. "SEL § 49 b" or "Barnets lov § 133". */
  basis: z.string().trim().min(2).max(200),
  validTo: IsoDate.optional(),
});
export type RecordLegalBasisRequest = z.infer<typeof RecordLegalBasisRequest>;

export type GrantStatus = 'active' | 'not-yet-valid' | 'expired' | 'revoked';

/** The grant's status at `at`, by the Danish calendar day as the consent gate reads it. */
export function grantStatus(grant: ConsentGrant, at: Date): GrantStatus {
  const day = danishToday(at);
  if (grant.revokedAt && new Date(grant.revokedAt) <= at) return 'revoked';
  if (day < grant.validFrom) return 'not-yet-valid';
  if (grant.validTo && day > grant.validTo) return 'expired';
  return 'active';
}

export interface PlanRevocationReport {
  planId: string;
  removedElements: { list: string; id: string }[];
  repointed: number;
  dropped: number;
  detachedFollowUps: string[];
}

export interface RevocationReport {
  grant: ConsentGrant;
  plans: PlanRevocationReport[];
  deliveries: { cancelled: number; kept: number };
}

const asGrant = (document: ConsentDocument | null): ConsentGrant | null => {
  if (!document || document.kind !== 'grant') return null;
  const { kind: _kind, ...grant } = document;
  return grant;
};
const asLegalBasis = (document: ConsentDocument | null): LegalBasisRecord | null => {
  if (!document || document.kind !== 'legal-basis') return null;
  const { kind: _kind, ...record } = document;
  return record;
};

const MAX_ATTEMPTS = 5;

const childRoles: ReadonlySet<string> = new Set(['child', 'young-person']);
/** A child or young person: by role in the plan or by age on the (Danish) day — either is enough. */
const isMinor = (member: Member, day: string) => childRoles.has(member.role) || ageOn(member.birthDate, day) < 18;

/**
 * The citizen is read in full again from `sources` on their next run, their records merged anew: an
 * element that left with another writer's words (`RevocationOutcome.readAgain`) comes back in theirs.
 */
function readAgainStatements(store: AppDeps['store'], tenant: string, sources: readonly SourceSystem[], citizenId: string) {
  return sources.flatMap((source) => [store.sync.forgetAppliedStatement(tenant, source, citizenId), store.sync.forgetPulledFromStatement(tenant, source, [citizenId])]);
}

/**
 * Removes what flowed on a grant that no longer allows anything (revoked; also usable for an
 * expired grant) from every plan of its citizen. Idempotent: running it again changes nothing,
 * and running it after an interrupted revocation finishes the job. Each plan is updated
 * optimistically and re-read on a lost race. The sync engine may call this too. `readAgain`, if
 * given, collects the sources marked to be read again for the citizen (for `readAgainSoon`).
 */
export async function removeDataOfGrant(deps: AppDeps, tenant: string, grantId: string, actor: string, readAgain?: Set<SourceSystem>): Promise<PlanRevocationReport[]> {
  const { store } = deps;
  // A grant, or a legal-basis record whose period ended: what rests on it alone leaves alike.
  const document = await store.consents.get(tenant, grantId);
  const grant = asGrant(document) ?? asLegalBasis(document);
  if (!grant) return [];
  const documents = await store.consents.forCitizens(tenant, [grant.citizenId]);
  const grants = documents.map(asGrant).filter((g): g is ConsentGrant => !!g);
  const legalBases = documents.map(asLegalBasis).filter((r): r is LegalBasisRecord => !!r);
  return reconsiderPlansOf(deps, tenant, grant.citizenId, {
    actor,
    detail: { grantId },
    readAgain,
    reconsider: (plan, birthDate, at) => (carriesGrant(plan, grantId, grants, legalBases) ? removeRevokedData(plan, { grantId, citizenId: grant.citizenId, birthDate, at, grants, legalBases }) : undefined),
  });
}

/**
 * Writes what `reconsider` makes of each plan of the citizen (undefined or unchanged: nothing to do),
 * each with its `plan.consent-data-removed` audit row. Idempotent; each plan is updated optimistically
 * and re-read on a lost race. `readAgain` collects the sources marked to be read again for the citizen.
 */
async function reconsiderPlansOf(
  deps: AppDeps,
  tenant: string,
  citizenId: string,
  options: { actor: string; detail: Record<string, unknown>; readAgain?: Set<SourceSystem>; reconsider: (plan: Plan, birthDate: string, at: Date) => RevocationOutcome | undefined },
): Promise<PlanRevocationReport[]> {
  const { store, clock } = deps;
  const citizen = await store.citizens.get(tenant, citizenId);
  const reports: PlanRevocationReport[] = [];
  for (const planId of await store.plans.idsForCitizen(tenant, citizenId, false)) {
    for (let attempt = 1; ; attempt++) {
      const plan = await store.plans.get(tenant, planId);
      if (!plan) break;
      const birthDate = citizen?.birthDate ?? membersOf(plan).find((m) => m.citizenId === citizenId)?.birthDate;
      if (!birthDate) throw new Error(`no birth date known for the citizen of plan ${planId}`);
      const at = clock.now();
      const outcome = options.reconsider(plan, birthDate, at);
      if (!outcome?.changed) break;
      const next = Plan.parse({ ...outcome.plan, updatedAt: at.toISOString(), version: plan.version + 1 });
      const recorded = store.audit.committing(tenant, [
        {
          at: at.toISOString(),
          actor: options.actor,
          action: 'plan.consent-data-removed',
          targetType: 'plan',
          targetId: planId,
          citizenId,
          detail: {
            ...options.detail,
            removedElements: outcome.removed.map((r) => r.id),
            keptElements: outcome.kept.map((k) => k.id),
            provenanceRepointed: outcome.repointed,
            provenanceDropped: outcome.dropped,
            detachedFollowUps: outcome.detachedFollowUps,
            droppedConflicts: outcome.droppedConflicts,
            ...(outcome.readAgain.length > 0 ? { readAgainFrom: outcome.readAgain } : {}),
            version: next.version,
          },
        },
      ]);
      // An element that left with the words of what flowed on the grant is read again from the sources that stay.
      if (await store.plans.update(next, plan.version, readAgainStatements(store, tenant, outcome.readAgain, citizenId), recorded)) {
        reports.push({ planId, removedElements: outcome.removed, repointed: outcome.repointed, dropped: outcome.dropped, detachedFollowUps: outcome.detachedFollowUps });
        for (const source of outcome.readAgain) options.readAgain?.add(source);
        break;
      }
      if (attempt >= MAX_ATTEMPTS) throw new ProblemError('version-conflict', `plan ${planId} kept changing while data its consent no longer carries was removed; ask again to finish`);
    }
  }
  return reports;
}

/** The ages at which whose consent counts changes (Barnets lov § 110): 16 (the young person's own too) and 18 (theirs alone). */
const CONSENT_AGES = [16, 18] as const;
/** Birthdays looked back over: a night the job did not run is made up for (reconsidering twice changes nothing). */
const BIRTHDAY_DAYS = 7;

/** The same month and day `years` earlier; 29 February becomes the 28th in a year without it. */
function yearsBefore(day: string, years: number): string {
  const year = Number(day.slice(0, 4)) - years;
  const monthDay = day.slice(5);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return `${year}-${monthDay === '02-29' && !leap ? '02-28' : monthDay}`;
}

/**
 * A citizen who turned 16 or 18 in the last days: what rests on their grants is decided again on
 * the grants as they stand, and what no longer may flow leaves the plans (R4, R9), as on a lapse.
 * The young person's own consent, given with the custody holder's, keeps everything. Nightly.
 */
export async function handleConsentAges(deps: AppDeps, tenant: string): Promise<{ citizensReconsidered: number; plansChanged: number; failures: number }> {
  const { store, clock } = deps;
  const today = danishToday(clock.now());
  const since = new Date(Date.parse(`${today}T12:00:00Z`) - BIRTHDAY_DAYS * 86_400_000).toISOString().slice(0, 10);
  const readAgain = new Set<SourceSystem>();
  let plansChanged = 0;
  let citizensReconsidered = 0;
  let failures = 0;
  for (const age of CONSENT_AGES) {
    for (const citizenId of await store.citizens.bornBetween(tenant, yearsBefore(since, age), yearsBefore(today, age))) {
      try {
        const documents = await store.consents.forCitizens(tenant, [citizenId]);
        const grants = documents.map(asGrant).filter((g): g is ConsentGrant => !!g);
        const legalBases = documents.map(asLegalBasis).filter((r): r is LegalBasisRecord => !!r);
        if (grants.length === 0) continue;
        citizensReconsidered++;
        const reports = await reconsiderPlansOf(deps, tenant, citizenId, {
          actor: 'system:consent-age',
          detail: { reason: `turned ${age}: whose consent counts changed (Barnets lov § 110)`, age },
          readAgain,
          reconsider: (plan, birthDate, at) => reconsiderOnAge(plan, { citizenId, birthDate, at, grants, legalBases }),
        });
        plansChanged += reports.length;
      } catch (error) {
        failures++;
        deps.logger.warn('the consent of a citizen who came of a consent age could not be reconsidered; it is tried again on the next run', { tenant, citizenId, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  await readAgainSoon(deps, tenant, [...readAgain], 'read-again:consent-age');
  return { citizensReconsidered, plansChanged, failures };
}

/**
 * Works through what `due` names, a page at a time, until nothing is left. One that fails (a plan
 * that kept changing, say) is logged, counted and left for the next run: it holds back neither the
 * others nor the rest of the nightly job.
 */
async function workThrough(deps: AppDeps, tenant: string, what: string, due: (limit: number) => Promise<string[]>, handle: (id: string) => Promise<void>): Promise<{ handled: number; failures: number }> {
  const summary = { handled: 0, failures: 0 };
  const failed = new Set<string>();
  const page = 500;
  for (;;) {
    const ids = (await due(page + failed.size)).filter((id) => !failed.has(id));
    if (ids.length === 0) return summary;
    for (const id of ids) {
      try {
        await handle(id);
        summary.handled++;
      } catch (error) {
        failed.add(id);
        summary.failures++;
        deps.logger.warn(`${what} could not be handled; it is tried again on the next run`, { tenant, id, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
}

/** Today in Denmark: a grant "til og med" a day lapses, and one "fra" a day takes effect, at Danish midnight. */
const today = (deps: AppDeps) => danishToday(deps.clock.now());

/**
 * Time-limited consent (R9) ends by itself: once a grant's last valid day has passed, what flowed
 * only on it leaves the plans, as on revocation (R10) — no further flow was possible already (the
 * consent gate refuses it). Each lapsed grant is handled once (marked; a grant replaced later is
 * looked at afresh) and audited as `consent.lapsed`. Run by the nightly retention job.
 */
export async function handleLapsedGrants(deps: AppDeps, tenant: string): Promise<{ grantsLapsed: number; legalBasesLapsed: number; plansChanged: number; failures: number }> {
  const { store, clock } = deps;
  let plansChanged = 0;
  const readAgain = new Set<SourceSystem>();
  const { handled, failures } = await workThrough(deps, tenant, 'a lapsed consent grant', (limit) => store.consents.lapsedUnhandled(tenant, today(deps), limit), async (grantId) => {
    const grant = asGrant(await store.consents.get(tenant, grantId));
    const reports = await removeDataOfGrant(deps, tenant, grantId, 'system:consent-expiry', readAgain);
    const at = clock.now().toISOString();
    const unshared = grant ? await sharingEventStatements(store, tenant, { citizenId: grant.citizenId, before: { kind: 'grant', ...grant, validTo: undefined }, after: { kind: 'grant', ...grant } }, clock.now()) : [];
    // Marked handled with its audit entry: a run cut short between the two would log the lapse twice.
    await store.audit.appendMany(tenant, [{
      at, actor: 'system:consent-expiry', action: 'consent.lapsed', targetType: 'consent', targetId: grantId, citizenId: grant?.citizenId ?? null,
      detail: { validTo: grant?.validTo ?? null, source: grant?.source ?? null, recipient: grant?.recipient ?? null, plansChanged: reports.map((r) => r.planId), removedElements: reports.reduce((n, r) => n + r.removedElements.length, 0) },
    }], [store.consents.lapseHandledStatement(tenant, grantId, at), ...unshared]);
    plansChanged += reports.length;
  });
  // A legal basis other than consent (R11) that was recorded for a period ends by itself too: what
  // rests on it alone leaves the plans (R16: no basis, no keeping), logged the same way.
  const bases = await workThrough(deps, tenant, 'a lapsed legal-basis record', (limit) => store.consents.lapsedLegalBasesUnhandled(tenant, today(deps), limit), async (recordId) => {
    const record = asLegalBasis(await store.consents.get(tenant, recordId));
    const reports = await removeDataOfGrant(deps, tenant, recordId, 'system:consent-expiry', readAgain);
    const at = clock.now().toISOString();
    const unshared = record ? await sharingEventStatements(store, tenant, { citizenId: record.citizenId, before: { kind: 'legal-basis', ...record, validTo: undefined }, after: { kind: 'legal-basis', ...record } }, clock.now()) : [];
    await store.audit.appendMany(tenant, [{
      at, actor: 'system:consent-expiry', action: 'consent.lapsed', targetType: 'consent', targetId: recordId, citizenId: record?.citizenId ?? null,
      detail: { kind: 'legal-basis', basis: record?.basis ?? null, validTo: record?.validTo ?? null, source: record?.source ?? null, recipient: record?.recipient ?? null, plansChanged: reports.map((r) => r.planId), removedElements: reports.reduce((n, r) => n + r.removedElements.length, 0) },
    }], [store.consents.lapseHandledStatement(tenant, recordId, at), ...unshared]);
    plansChanged += reports.length;
  });
  // Once for all the lapses of the run: one read of each source that stays brings back every element that left.
  await readAgainSoon(deps, tenant, [...readAgain], 'read-again:consent-lapsed');
  return { grantsLapsed: handled, legalBasesLapsed: bases.handled, plansChanged, failures: failures + bases.failures };
}

/**
 * The source's own consent to share ends by itself too (decision 0004, "Later"): a region's permit
 * with a last day, remembered by the sync as it read it, is ended after that day (Danish calendar
 * day) though nothing at the region changed and so no feed notice names the citizen. What flowed
 * from the source on the citizen's grants leaves their plans as on the region's withdrawal (audited
 * `plan.consent-data-removed` with the region's record and reason), the merged-record marks go, so a
 * renewed permit read later lets it flow again (the next pull re-reads in full), and the end is
 * audited once as `consent.lapsed`. A renewed permit the sync wrote meanwhile wins: each plan write,
 * and the closing batch, go only while the remembered end is still this one (a renewal of data already
 * in the plan changes no plan, so the plan's version cannot tell it); one stored after some data left
 * has the citizen read in full again, so that data flows back under it.
 */
export async function handleLapsedRegionalConsents(deps: AppDeps, tenant: string): Promise<{ regionalConsentsLapsed: number; plansChanged: number; failures: number }> {
  const { store, clock } = deps;
  let plansChanged = 0;
  let lapsed = 0;
  const readAgain = new Set<SourceSystem>();
  const keyOf = (end: RegionalConsentEnd) => JSON.stringify([end.citizenId, end.source]);
  const { failures } = await workThrough(deps, tenant, 'an ended regional consent', async (limit) => (await store.regionalConsents.endedBefore(tenant, today(deps), limit)).map(keyOf), async (key) => {
    const [citizenId, source] = JSON.parse(key) as [string, SourceSystem];
    const end = await store.regionalConsents.get(tenant, citizenId, source);
    if (!end || end.lastDay >= today(deps)) return;
    const stillThisEnd = async () => {
      const now = await store.regionalConsents.get(tenant, citizenId, source);
      return !!now && now.recordId === end.recordId && now.recordVersion === end.recordVersion && now.lastDay === end.lastDay;
    };
    const documents = await store.consents.forCitizens(tenant, [citizenId]);
    const grants = documents.map(asGrant).filter((g): g is ConsentGrant => !!g);
    const legalBases = documents.map(asLegalBasis).filter((r): r is LegalBasisRecord => !!r);
    const birthDateOf = async (plan: Plan) => (await store.citizens.get(tenant, citizenId))?.birthDate ?? membersOf(plan).find((m) => m.citizenId === citizenId)?.birthDate;
    const reason = regionalConsentEndedReason(end.lastDay);
    const regionalConsent = { recordId: end.recordId, version: end.recordVersion, status: 'active' };
    const changedPlans: string[] = [];
    let removedElements = 0;
    // A renewal stored after some of the data left (its sync found it merged and read nothing again):
    // that it was merged is forgotten and the citizen read in full, so it flows again under the renewal.
    const readAgainInFull = async () => {
      if (changedPlans.length > 0) await store.audit.appendMany(tenant, [], [store.sync.forgetAppliedStatement(tenant, source, citizenId), store.sync.forgetPulledFromStatement(tenant, source, [citizenId])]);
    };
    for (const planId of await store.plans.idsForCitizen(tenant, citizenId, false)) {
      for (let attempt = 1; ; attempt++) {
        const plan = await store.plans.get(tenant, planId);
        if (!plan) break;
        if (!(await stillThisEnd())) return readAgainInFull();
        const birthDate = await birthDateOf(plan);
        if (!birthDate) throw new Error(`no birth date known for the citizen of plan ${planId}`);
        const at = clock.now();
        const outcome = removeWithdrawnSourceData(plan, { system: source, citizenId, birthDate, at, grants, legalBases });
        if (!outcome.changed) break;
        const next = Plan.parse({ ...outcome.plan, updatedAt: at.toISOString(), version: plan.version + 1 });
        const recorded = store.audit.committing(tenant, [{
          at: at.toISOString(), actor: 'system:consent-expiry', action: 'plan.consent-data-removed', targetType: 'plan', targetId: planId, citizenId,
          detail: {
            source, regionalConsent, reason, removedElements: outcome.removed.map((r) => r.id), keptElements: outcome.kept.map((k) => k.id), provenanceRepointed: outcome.repointed,
            provenanceDropped: outcome.dropped, detachedFollowUps: outcome.detachedFollowUps, droppedConflicts: outcome.droppedConflicts, ...(outcome.readAgain.length > 0 ? { readAgainFrom: outcome.readAgain } : {}), version: next.version,
          },
        }]);
        // Written only while this end is still remembered: a renewal stored since the check above wins.
        if (await store.plans.update(next, plan.version, [...store.regionalConsents.stillEndsStatements(tenant, end), ...readAgainStatements(store, tenant, outcome.readAgain, citizenId)], recorded)) {
          changedPlans.push(planId);
          removedElements += outcome.removed.length;
          for (const staying of outcome.readAgain) readAgain.add(staying);
          break;
        }
        if (attempt >= MAX_ATTEMPTS) throw new ProblemError('version-conflict', `plan ${planId} kept changing while the data of an ended regional consent was removed`);
      }
    }
    const now = clock.now();
    const at = now.toISOString();
    // The source's say is now a refusal (its permit ended), for what runs between syncs (the subscription
    // gate); the systems it shared the plans with hear `plan.unshared` — "as it was" is the permit before its last day.
    const refusal = { citizenId, source, recordId: end.recordId, recordVersion: end.recordVersion, reason, permitsFrom: null };
    const told = await sourceSayChangeStatements(store, tenant, source, [{
      citizenId,
      planIds: await store.plans.idsForCitizen(tenant, citizenId, false),
      before: (says) => withSourceSay(says, source, null, null),
      after: (says) => withSourceSay(says, source, { permitsFrom: null }, null),
    }], now);
    // Nothing from the source stays merged on the citizen's grants: its marks stop counting as merged, so a renewed permit
    // is read in full and what left flows again. Forgotten with the audit entry: logged once.
    try {
      await store.audit.appendMany(tenant, [{
        at, actor: 'system:consent-expiry', action: 'consent.lapsed', targetType: 'regional-consent', targetId: end.recordId, citizenId,
        detail: { kind: 'regional', source, recordVersion: end.recordVersion, validTo: end.lastDay, plansChanged: changedPlans, removedElements },
      }], [...store.regionalConsents.stillEndsStatements(tenant, end), ...told, store.sync.forgetAppliedStatement(tenant, source, citizenId), store.regionalConsents.handledStatement(tenant, end), store.regionalConsents.refuseStatement(tenant, refusal, at)]);
    } catch (error) {
      if (!isLostWriteAbort(error)) throw error;
      return readAgainInFull();
    }
    plansChanged += changedPlans.length;
    lapsed++;
  });
  await readAgainSoon(deps, tenant, [...readAgain], 'read-again:regional-consent-lapsed');
  return { regionalConsentsLapsed: lapsed, plansChanged, failures };
}

/**
 * A grant dated to start after it was recorded takes effect by itself: on its first day its
 * citizen is read again in full from the grant's source (as on a new grant), so what the consent
 * gate refused until then can flow. Each such grant is handled once and audited as
 * `consent.took-effect`. Run by the nightly retention job.
 */
export async function handleStartedGrants(deps: AppDeps, tenant: string): Promise<{ grantsStarted: number; failures: number }> {
  const { store, clock } = deps;
  const { handled, failures } = await workThrough(deps, tenant, 'a consent grant that took effect', (limit) => store.consents.startedUnhandled(tenant, today(deps), limit), async (grantId) => {
    const grant = asGrant(await store.consents.get(tenant, grantId));
    const at = clock.now().toISOString();
    // The citizen is read in full again, the grant marked handled and the act logged, all or none.
    const written = grant
      ? [
          store.sync.forgetPulledStatement(tenant, grant.citizenId),
          ...(grant.source !== 'enplan' ? [store.sync.forgetAppliedStatement(tenant, grant.source, grant.citizenId)] : []),
          ...(await sharingEventStatements(store, tenant, { citizenId: grant.citizenId, before: null, after: { kind: 'grant', ...grant } }, clock.now())),
        ]
      : [];
    await store.audit.appendMany(tenant, [{
      at, actor: 'system:consent-start', action: 'consent.took-effect', targetType: 'consent', targetId: grantId, citizenId: grant?.citizenId ?? null,
      detail: { validFrom: grant?.validFrom ?? null, source: grant?.source ?? null, recipient: grant?.recipient ?? null },
    }], [...written, store.consents.startHandledStatement(tenant, grantId, at)]);
  });
  return { grantsStarted: handled, failures };
}

/**
 * A source's permit dated to start later (the region's Consent with a period yet to begin) takes effect
 * on its first day with no change at the source, so no sync would read it: the nightly job does what a
 * permit read by the sync does — the citizen is read in full from the source again (so what was refused
 * flows), the refusal goes, the systems the plans are now shared with hear `plan.shared`, and the start
 * is audited once as `consent.took-effect`. A say the sync stored meanwhile wins (the batch is guarded
 * on this very refusal).
 */
export async function handleStartedRegionalPermits(deps: AppDeps, tenant: string): Promise<{ regionalPermitsStarted: number; failures: number }> {
  const { store, clock } = deps;
  const keyOf = (refusal: RegionalRefusal) => JSON.stringify([refusal.citizenId, refusal.source]);
  const { handled, failures } = await workThrough(deps, tenant, 'a regional permit that took effect', async (limit) => (await store.regionalConsents.permitsStartedBy(tenant, today(deps), limit)).map(keyOf), async (key) => {
    const [citizenId, source] = JSON.parse(key) as [string, SourceSystem];
    const [refusal] = await store.regionalConsents.refusalsOf(tenant, source, [citizenId]);
    if (!refusal?.permitsFrom || refusal.permitsFrom > today(deps)) return;
    const now = clock.now();
    const told = await sourceSayChangeStatements(store, tenant, source, [{
      citizenId: refusal.citizenId,
      planIds: await store.plans.idsForCitizen(tenant, refusal.citizenId, false),
      // As it was: refused until this day.
      before: (says) => withSourceSay(says, source, { permitsFrom: null }),
      after: (says) => withSourceSay(says, source, null),
    }], now);
    try {
      await store.audit.appendMany(tenant, [{
        at: now.toISOString(), actor: 'system:consent-start', action: 'consent.took-effect', targetType: 'regional-consent', targetId: refusal.recordId ?? source, citizenId: refusal.citizenId,
        detail: { kind: 'regional', source, recordVersion: refusal.recordVersion, validFrom: refusal.permitsFrom },
      }], [...store.regionalConsents.startedStatements(tenant, refusal), ...told, store.sync.forgetPulledFromStatement(tenant, source, [refusal.citizenId]), store.sync.forgetAppliedStatement(tenant, source, refusal.citizenId)]);
    } catch (error) {
      // The sync read the source's say meanwhile and stored what it says now: nothing left to do.
      if (!isLostWriteAbort(error)) throw error;
    }
  });
  return { regionalPermitsStarted: handled, failures };
}

/** What an API call hands on to run after its answer: `keepAlive` holds the invocation open for it (Workers' `waitUntil`). */
export interface AfterAnswer {
  keepAlive?: (work: Promise<unknown>) => void;
}

export function consentService(deps: AppDeps) {
  const { store, clock } = deps;
  const nowIso = () => clock.now().toISOString();

  async function planAndMember(principal: Principal, planId: string, memberId: string): Promise<{ plan: Plan; member: Member }> {
    const plan = await store.plans.get(principal.tenant, planId);
    if (!plan) throw new ProblemError('not-found', 'no such plan in your municipality');
    const member = membersOf(plan).find((m) => m.memberId === memberId);
    if (!member) throw new ProblemError('validation-failed', 'memberId is not a member of the plan');
    return { plan, member };
  }

  /**
   * An element that left with the words of the revoked flow is read again from the sources that
   * stay, started now and not awaited: the revocation is done and answered whatever becomes of it.
   */
  function readAgainAfterAnswer(tenant: string, sources: ReadonlySet<SourceSystem>, trigger: string, options: AfterAnswer) {
    if (sources.size === 0) return;
    const reading = readAgainSoon(deps, tenant, [...sources], trigger);
    options.keepAlive?.(reading);
  }

  function invalid(error: z.ZodError): never {
    throw new ProblemError('validation-failed', error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
  }

  return {
    async grant(principal: Principal, request: GrantConsentRequest): Promise<ConsentGrant> {
      const { plan, member } = await planAndMember(principal, request.planId, request.memberId);
      const grantor = membersOf(plan).find((m) => m.memberId === request.grantedBy.memberId);
      if (!grantor) throw new ProblemError('validation-failed', 'grantedBy.memberId is not a member of the plan');
      const capacity = request.grantedBy.capacity;
      if (capacity === 'self' && grantor.memberId !== member.memberId)
        throw new ProblemError('validation-failed', 'a grant in capacity "self" is given by the member it is about');
      if (capacity !== 'self' && grantor.memberId === member.memberId)
        throw new ProblemError('validation-failed', `a grant in capacity "${capacity}" is given by someone other than the member it is about`);
      if (capacity === 'custody-holder' && !['parent', 'custody-holder'].includes(grantor.role))
        throw new ProblemError('validation-failed', 'only a parent or custody holder of the plan can consent as custody holder');
      // A guardian (værge) is appointed for an adult under guardianship (værgemålsloven): never a
      // child or young person, and never for one — a child's consent comes from its custody holders
      // (forældremyndighedsindehaver, Barnets lov § 110), which the consent gate counts alone (R4).
      if (capacity === 'guardian') {
        const day = danishToday(clock.now());
        if (isMinor(grantor, day))
          throw new ProblemError('validation-failed', 'a child or young person under 18 cannot consent as guardian (et barn eller en ung under 18 kan ikke give samtykke som værge)');
        if (isMinor(member, day))
          throw new ProblemError(
            'validation-failed',
            'a child or young person under 18 has custody holders, not a guardian: a parent or custody holder consents in capacity "custody-holder" (et barn eller en ung under 18 har ikke en værge; forældremyndighedsindehaveren giver samtykke, Barnets lov § 110)',
          );
      }
      // R15: once the municipality keeps its consent texts here, a consent names one the citizen can be shown again.
      if ((await store.consentTexts.any(principal.tenant)) && !(await store.consentTexts.get(principal.tenant, request.signed.textVersion, request.signed.language)))
        throw new ProblemError('validation-failed', `signed: no consent text ${request.signed.textVersion} in ${request.signed.language} is registered; register its words first (POST /v1/consent-texts)`);
      const parsed = ConsentGrant.safeParse({
        id: crypto.randomUUID(),
        tenant: principal.tenant,
        citizenId: member.citizenId,
        grantedBy: { citizenId: grantor.citizenId, capacity },
        source: request.source,
        recipient: request.recipient,
        categories: [...new Set(request.categories)],
        explicitHealth: request.explicitHealth,
        purpose: request.purpose,
        validFrom: request.validFrom,
        validTo: request.validTo,
        signed: request.signed,
        createdAt: nowIso(),
      });
      if (!parsed.success) invalid(parsed.error);
      const grant = parsed.data;
      const pointless = recipientProblem(grant.source, grant.recipient);
      if (pointless) throw new ProblemError('validation-failed', `recipient: ${pointless}`);
      // What was refused or revoked before may flow now: the next sync pulls this citizen in full again.
      const written = [
        store.consents.insertStatement({ kind: 'grant', ...grant }),
        store.sync.forgetPulledStatement(principal.tenant, grant.citizenId),
        ...(grant.source !== 'enplan' ? [store.sync.forgetAppliedStatement(principal.tenant, grant.source, grant.citizenId)] : []),
        // The plans it lets data flow with a system for the first time: that system's subscriptions hear `plan.shared`.
        ...(await sharingEventStatements(store, principal.tenant, { citizenId: grant.citizenId, before: null, after: { kind: 'grant', ...grant } }, clock.now())),
      ];
      await store.audit.appendMany(principal.tenant, [{
        at: grant.createdAt,
        actor: actorOf(principal),
        action: 'consent.granted',
        targetType: 'consent',
        targetId: grant.id,
        citizenId: grant.citizenId,
        detail: {
          planId: plan.id,
          source: grant.source,
          recipient: grant.recipient,
          categories: grant.categories,
          explicitHealth: grant.explicitHealth,
          validFrom: grant.validFrom,
          validTo: grant.validTo ?? null,
          capacity,
          grantedBy: grant.grantedBy.citizenId,
          signedMethod: grant.signed.method,
          textVersion: grant.signed.textVersion,
          language: grant.signed.language,
        },
      }], written);
      return grant;
    },

    async recordLegalBasis(principal: Principal, request: RecordLegalBasisRequest): Promise<LegalBasisRecord> {
      const { plan, member } = await planAndMember(principal, request.planId, request.memberId);
      const parsed = LegalBasisRecord.safeParse({
        id: crypto.randomUUID(),
        tenant: principal.tenant,
        citizenId: member.citizenId,
        source: request.source,
        recipient: request.recipient,
        categories: [...new Set(request.categories)],
        basis: request.basis,
        recordedBy: actorOf(principal),
        recordedAt: nowIso(),
        validTo: request.validTo,
        citizenInformed: false,
      });
      if (!parsed.success) invalid(parsed.error);
      const record = parsed.data;
      const pointless = recipientProblem(record.source, record.recipient);
      if (pointless) throw new ProblemError('validation-failed', `recipient: ${pointless}`);
      await store.audit.appendMany(
        principal.tenant,
        [
          {
            at: record.recordedAt,
            actor: record.recordedBy,
            action: 'consent.legal-basis-recorded',
            targetType: 'consent',
            targetId: record.id,
            citizenId: record.citizenId,
            detail: { planId: plan.id, source: record.source, recipient: record.recipient, categories: record.categories, legalBasis: record.basis, validTo: record.validTo ?? null },
          },
        ],
        [
          store.consents.insertStatement({ kind: 'legal-basis', ...record }),
          store.sync.forgetPulledStatement(principal.tenant, record.citizenId),
          ...(await sharingEventStatements(store, principal.tenant, { citizenId: record.citizenId, before: null, after: { kind: 'legal-basis', ...record } }, clock.now())),
        ],
      );
      return record;
    },

    /**
     * Who must still be told (R11): legal-basis records whose citizen has not been informed, longest
     * waiting first, each with the citizen's plans so the caseworker can act on them.
     */
    async legalBasesToInform(principal: Principal, page: { limit: number; offset: number }) {
      const records = await store.consents.legalBasesToInform(principal.tenant, page.limit, page.offset);
      const items = [];
      for (const record of records) items.push({ record, planIds: await store.plans.idsForCitizen(principal.tenant, record.citizenId) });
      await store.audit.append(principal.tenant, { at: nowIso(), actor: actorOf(principal), action: 'consent.to-inform-listed', targetType: 'tenant', targetId: principal.tenant, citizenId: null, detail: { records: items.length } });
      return { items, nextOffset: records.length === page.limit ? page.offset + page.limit : null };
    },

    /** The caseworker's recorded act of telling the citizen (R11). Repeating it changes nothing. */
    async markInformed(principal: Principal, id: string): Promise<LegalBasisRecord | null> {
      const record = asLegalBasis(await store.consents.get(principal.tenant, id));
      if (!record) return null;
      if (record.citizenInformed) return record;
      const informed = LegalBasisRecord.parse({ ...record, citizenInformed: true, informedAt: nowIso() });
      await store.audit.appendMany(
        principal.tenant,
        [{ at: informed.informedAt!, actor: actorOf(principal), action: 'consent.citizen-informed', targetType: 'consent', targetId: informed.id, citizenId: informed.citizenId, detail: { legalBasis: informed.basis } }],
        [store.consents.replaceStatement({ kind: 'legal-basis', ...informed })],
      );
      return informed;
    },

    /**
     * The municipality ends a legal-basis record (R11) whose basis no longer applies: from then on
     * nothing flows on it, queued deliveries on it are cancelled, and what rests on it alone leaves the
     * plans — as a revocation does for a grant. Ending it again keeps the first end and finishes any
     * clean-up left undone. Telling the citizen of the flows it carried is still owed if it was not done.
     */
    async endLegalBasis(principal: Principal, id: string, reason: string, options: AfterAnswer = {}): Promise<{ legalBasis: LegalBasisRecord; plans: PlanRevocationReport[]; deliveries: { cancelled: number; kept: number } } | null> {
      const record = asLegalBasis(await store.consents.get(principal.tenant, id));
      if (!record) return null;
      const actor = actorOf(principal);
      let ended = record;
      if (!record.endedAt) {
        const at = nowIso();
        ended = LegalBasisRecord.parse({ ...record, endedAt: at, endedBy: actor, endReason: reason });
        await store.audit.appendMany(
          principal.tenant,
          [{ at, actor, action: 'legal-basis.ended', targetType: 'consent', targetId: record.id, citizenId: record.citizenId, detail: { basis: record.basis, source: record.source, recipient: record.recipient, categories: record.categories } }],
          [
            store.consents.replaceStatement({ kind: 'legal-basis', ...ended }),
            ...(await sharingEventStatements(store, principal.tenant, { citizenId: record.citizenId, before: { kind: 'legal-basis', ...record }, after: { kind: 'legal-basis', ...ended } }, new Date(at))),
          ],
        );
      }
      const deliveries = await cancelDeliveriesForRevokedConsent(deps, principal.tenant, record.id, actor);
      const readAgain = new Set<SourceSystem>();
      const plans = await removeDataOfGrant(deps, principal.tenant, record.id, actor, readAgain);
      readAgainAfterAnswer(principal.tenant, readAgain, 'read-again:legal-basis-ended', options);
      return { legalBasis: ended, plans, deliveries };
    },

    async get(principal: Principal, id: string): Promise<ConsentDocument | null> {
      const document = await store.consents.get(principal.tenant, id);
      if (document)
        await store.audit.append(principal.tenant, {
          at: nowIso(),
          actor: actorOf(principal),
          action: 'consent.read',
          targetType: 'consent',
          targetId: id,
          citizenId: document.citizenId,
        });
      return document;
    },

    /** Grants and legal-basis records of the plan's members, each with the member it is about and its status now. */
    async listForPlan(principal: Principal, planId: string) {
      const plan = await store.plans.get(principal.tenant, planId);
      if (!plan) return null;
      const members = membersOf(plan);
      const memberOf = new Map(members.map((m) => [m.citizenId, m.memberId]));
      const documents = await store.consents.forCitizens(principal.tenant, [...memberOf.keys()]);
      const at = clock.now();
      const byCreated = (a: { createdAt: string }, b: { createdAt: string }) => a.createdAt.localeCompare(b.createdAt);
      const grants = documents
        .map(asGrant)
        .filter((g): g is ConsentGrant => !!g)
        .map((g) => ({
          ...g,
          memberId: memberOf.get(g.citizenId)!,
          grantedByMemberId: memberOf.get(g.grantedBy.citizenId) ?? null,
          status: grantStatus(g, at),
        }))
        .sort(byCreated);
      const legalBases = documents
        .map(asLegalBasis)
        .filter((r): r is LegalBasisRecord => !!r)
        .map((r) => ({ ...r, memberId: memberOf.get(r.citizenId)! }))
        .sort((a, b) => a.recordedAt.localeCompare(b.recordedAt));
      await store.audit.append(principal.tenant, {
        at: at.toISOString(),
        actor: actorOf(principal),
        action: 'plan.consents-read',
        targetType: 'plan',
        targetId: plan.id,
        citizenId: members[0]!.citizenId,
        detail: { grants: grants.length, legalBases: legalBases.length },
      });
      return { planId: plan.id, grants, legalBases };
    },

    /**
     * Revokes a grant (R10). A caseworker may revoke any grant of the tenant; a citizen only a
     * grant about them or one they gave (as custody holder) — anything else is 404 to them.
     * Repeating a revocation keeps the first time and finishes any clean-up left undone.
     */
    async revoke(principal: Principal, id: string, options: AfterAnswer = {}): Promise<RevocationReport | null> {
      const grant = asGrant(await store.consents.get(principal.tenant, id));
      if (!grant) return null;
      const isCaseworker = principal.roles.includes('caseworker');
      const isOwn = !!principal.citizenId && (grant.citizenId === principal.citizenId || grant.grantedBy.citizenId === principal.citizenId);
      if (!isCaseworker && !isOwn) return null;
      const actor = actorOf(principal);
      let revoked = grant;
      if (!grant.revokedAt) {
        const at = nowIso();
        revoked = ConsentGrant.parse({ ...grant, revokedAt: at, revokedBy: actor });
        await store.audit.appendMany(
          principal.tenant,
          [{ at, actor, action: 'consent.revoked', targetType: 'consent', targetId: grant.id, citizenId: grant.citizenId, detail: { source: grant.source, recipient: grant.recipient, categories: grant.categories, byCitizen: !isCaseworker } }],
          [
            store.consents.replaceStatement({ kind: 'grant', ...revoked }),
            // The plans whose last flow with a system it ends: that system's subscriptions hear `plan.unshared`.
            ...(await sharingEventStatements(store, principal.tenant, { citizenId: grant.citizenId, before: { kind: 'grant', ...grant }, after: { kind: 'grant', ...revoked } }, new Date(at))),
          ],
        );
      }
      // Queued and retrying deliveries first: nothing more may leave on this grant (S3).
      const deliveries = await cancelDeliveriesForRevokedConsent(deps, principal.tenant, grant.id, actor);
      const readAgain = new Set<SourceSystem>();
      const plans = await removeDataOfGrant(deps, principal.tenant, grant.id, actor, readAgain);
      readAgainAfterAnswer(principal.tenant, readAgain, 'read-again:consent-revoked', options);
      return { grant: revoked, plans, deliveries };
    },
  };
}
export type ConsentService = ReturnType<typeof consentService>;
