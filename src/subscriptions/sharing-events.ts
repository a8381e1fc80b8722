/**
 * `plan.shared` and `plan.unshared` (decision 0014, session 19): granting or ending a consent changes
 * no plan, and a member leaving a family plan changes its members but not its data, so no plan event
 * tells a subscription that a plan now concerns its system, or no longer does. The consent service
 * and the membership service ask here, before they store their change, which plans it lets data flow
 * with a system for the first time — or ends the last such flow for — and the events go in the same
 * batch as the change (as the plan triggers write theirs in the plan write's transaction). Likewise
 * `plan.purged` for a plan retention deletes, in the purge's batch. Ids only: the plan and the system,
 * never content, never a CPR number.
 */
import type { AppDeps } from '../api/context';
import { SourceSystem } from '../model';
import type { ConsentDocument } from '../store';
import type { Statement } from '../store/db';
import type { PlanMemberConsentRow, SourceSays } from '../store/subscriptions';
import { membersByPlan, systemHasPartIn, type MemberConsents } from './consent-gate';

/** One consent document of a citizen as it was before a change and as it is after (null: none). */
export interface ConsentChange {
  citizenId: string;
  before: ConsentDocument | null;
  after: ConsentDocument | null;
}

/** The members with the changed document as it is in `state` (whatever of it the read found is replaced). */
function withDocument(members: readonly MemberConsents[], citizenId: string, id: string, state: ConsentDocument | null): MemberConsents[] {
  return members.map((member) => {
    if (member.citizenId !== citizenId) return member;
    const grants = member.grants.filter((g) => g.id !== id);
    const legalBases = member.legalBases.filter((r) => r.id !== id);
    if (state?.kind === 'grant') grants.push(state);
    else if (state?.kind === 'legal-basis') legalBases.push(state);
    return { ...member, grants, legalBases };
  });
}

/** The systems the tenant's active subscriptions serve: only a flip of sharing with one of them is worth an event. */
async function subscribedSystems(store: AppDeps['store'], tenant: string): Promise<SourceSystem[]> {
  return (await store.subscriptions.activeSystemsOf(tenant)).filter((s): s is SourceSystem => SourceSystem.safeParse(s).success);
}

/** A plan's active members with their consent documents as they are before a change and as they will be after it. */
type MembersChange = (members: readonly MemberConsents[]) => { before: readonly MemberConsents[]; after: readonly MemberConsents[] };

/**
 * The statements recording `plan.shared` / `plan.unshared` for each of the tenant's plans (in `rows`,
 * from `membersWithConsents`) and each system whose sharing the change flips: no to yes, or yes to no.
 */
function flippedSharingStatements(store: AppDeps['store'], tenant: string, systems: readonly SourceSystem[], rows: readonly PlanMemberConsentRow[], change: MembersChange, at: Date): Statement[] {
  const statements: Statement[] = [];
  for (const [key, members] of membersByPlan(rows)) {
    const [planTenant, planId] = key.split('|') as [string, string];
    if (planTenant !== tenant) continue;
    const { before, after } = change(members);
    for (const system of systems) {
      const had = systemHasPartIn(system, before, at);
      const has = systemHasPartIn(system, after, at);
      if (had !== has) statements.push(store.subscriptions.recordSharingEventStatement(tenant, has ? 'plan.shared' : 'plan.unshared', { planId, system }, at.toISOString()));
    }
  }
  return statements;
}

/**
 * The statements recording `plan.shared` / `plan.unshared` for a consent change, to go in the batch
 * that stores it. Only for systems an active subscription of the tenant serves: a tenant without one
 * pays one probe. Read before the batch: a change racing another of the same citizen's may record an
 * event the other makes moot (a vendor then hears `plan.shared` twice, say) — the fan-out and send
 * checks still decide on the consent as it is then.
 */
export async function sharingEventStatements(store: AppDeps['store'], tenant: string, change: ConsentChange, at: Date): Promise<Statement[]> {
  const id = change.after?.id ?? change.before?.id;
  if (!id) return [];
  const systems = await subscribedSystems(store, tenant);
  if (systems.length === 0) return [];
  const planIds = await store.plans.idsForCitizen(tenant, change.citizenId);
  if (planIds.length === 0) return [];
  return flippedSharingStatements(store, tenant, systems, await store.subscriptions.membersWithConsents(planIds), (members) => ({
    before: withDocument(members, change.citizenId, id, change.before),
    after: withDocument(members, change.citizenId, id, change.after),
  }), at);
}

/**
 * The same for a member leaving a plan (R4), to go in the batch that stores the plan without them:
 * their consent may have been the only one sharing the plan with a system, and the plan's own
 * `plan.changed` is then withheld from it. Only the plan left is asked; the leaver's new plan is
 * told by its `plan.created`, which passes the consent gate on the leaver's consent. Only for systems
 * an active subscription serves (one probe for a tenant without); read before the batch, as above.
 */
export async function memberLeavingSharingEventStatements(store: AppDeps['store'], tenant: string, planId: string, leavingCitizenId: string, at: Date): Promise<Statement[]> {
  const systems = await subscribedSystems(store, tenant);
  if (systems.length === 0) return [];
  return flippedSharingStatements(store, tenant, systems, await store.subscriptions.membersWithConsents([planId]), (members) => ({
    before: members,
    after: members.filter((member) => member.citizenId !== leavingCitizenId),
  }), at);
}

/**
 * `plan.purged` for a page of plans about to be purged (retention, R16): for each plan, the statements
 * recording it for every system an active subscription of the tenant serves and the plan concerned just
 * before the purge, to go in the plan's purge batch. A vendor holding the plan must delete what it holds
 * (GDPR art. 17, 19); the purge takes the members and, with the last plan, their consents, so they are
 * read here, once for the page, before any of it is deleted. A tenant without a subscription pays one probe.
 */
export async function purgeEventStatements(store: AppDeps['store'], tenant: string, planIds: readonly string[], at: Date): Promise<(planId: string) => Statement[]> {
  if (planIds.length === 0) return () => [];
  const systems = await subscribedSystems(store, tenant);
  if (systems.length === 0) return () => [];
  const membersOf = membersByPlan(await store.subscriptions.membersWithConsents(planIds));
  return (planId) => {
    const members = membersOf.get(`${tenant}|${planId}`) ?? [];
    return systems.filter((system) => systemHasPartIn(system, members, at)).map((system) => store.subscriptions.recordPurgeEventStatement(tenant, { planId, system }, at.toISOString()));
  };
}

/** One citizen whose source's own say on sharing changes: their say as it was and as it will be. */
export interface SourceSayChange {
  citizenId: string;
  planIds: readonly string[];
  before: (says: SourceSays) => SourceSays;
  after: (says: SourceSays) => SourceSays;
}

/**
 * The same for a change in a source's own say on sharing (the region's Consent, decision 0014,
 * session 24): a refusal read by the sync, a permit read again, a permit the nightly job ends. Only the
 * source's own system can flip (the say concerns data flowing in from it), and only when an active
 * subscription serves it: a tenant without one pays one probe, and only chunks where a say changes ask.
 */
export async function sourceSayChangeStatements(store: AppDeps['store'], tenant: string, source: SourceSystem, changes: readonly SourceSayChange[], at: Date): Promise<Statement[]> {
  if (changes.length === 0) return [];
  if (!(await subscribedSystems(store, tenant)).includes(source)) return [];
  const byCitizen = new Map(changes.map((change) => [change.citizenId, change]));
  const says = (member: MemberConsents) => member.sourceSays ?? { refusals: [], permitEnds: [] };
  const planIds = [...new Set(changes.flatMap((change) => change.planIds))];
  return flippedSharingStatements(store, tenant, [source], await store.subscriptions.membersWithConsents(planIds), (members) => ({
    before: members.map((member) => (byCitizen.has(member.citizenId) ? { ...member, sourceSays: byCitizen.get(member.citizenId)!.before(says(member)) } : member)),
    after: members.map((member) => (byCitizen.has(member.citizenId) ? { ...member, sourceSays: byCitizen.get(member.citizenId)!.after(says(member)) } : member)),
  }), at);
}

/** `says` with the source's refusal and permit end replaced by these (null: none; a permit end left undefined stays as it is). */
export function withSourceSay(says: SourceSays, source: string, refusal: { permitsFrom: string | null } | null, permitEnd?: { lastDay: string } | null): SourceSays {
  return {
    refusals: [...says.refusals.filter((r) => r.source !== source), ...(refusal ? [{ source, permitsFrom: refusal.permitsFrom }] : [])],
    permitEnds: permitEnd === undefined ? says.permitEnds : [...says.permitEnds.filter((e) => e.source !== source), ...(permitEnd ? [{ source, lastDay: permitEnd.lastDay }] : [])],
  };
}
