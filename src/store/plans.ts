/** Plans as whole, validated documents with an optimistic version; members indexed for enrolment. */
import { and, asc, desc, eq, exists, getTableName, gt, gte, inArray, lt, notExists, sql, type SQL } from 'drizzle-orm';
import type { Plan } from '../model';
import { enrolledStatuses, membersOf } from '../model';
import { distinctLeading, inList, sameTenant, writeStatement } from './query';
import { abortUnless, isLostWriteAbort } from './write-guard';
import type { Commit, Database, Statement } from './db';
import { appliedRecords, citizens, consents, heldElements, outbox, planLinks, planMembers, plans, pulledCitizens, regionalConsentEnds, regionalRefusals, registrations, satisfactionAnswers } from './schema';

/** How a plan's purge is committed: the plan's deletion, and that of the members left without a plan (who are named). */
export interface PurgeCommits {
  plan?: Commit;
  citizens?: (citizenIds: string[]) => Commit;
}

/** Plan statuses that take changes and registrations (R6): requested to active. */
const openPlanStatuses = ['requested', 'offered', 'accepted', 'active'];

/** Conflicts of the plan still waiting for a person. */
export const openConflictsOf = (plan: Pick<Plan, 'conflicts'>) => plan.conflicts.filter((c) => !c.resolvedAt).length;

/** The earliest due date of the plan's follow-ups not yet done (R7), or null. */
export const nextFollowUpOf = (plan: Pick<Plan, 'followUps'>): string | null =>
  plan.followUps.reduce<string | null>((earliest, f) => (f.done || (earliest !== null && earliest <= f.due) ? earliest : f.due), null);

/** The responsible coordinator's name (R5), or null while there is none. */
export const coordinatorNameOf = (plan: Pick<Plan, 'coordinator'>): string | null => plan.coordinator?.name ?? null;

/** The plans table's name as SQL text (for `writeStatement`). */
const plansTable = `"${getTableName(plans)}"`;

export function planRepository({ db, batch }: Database) {
  /** A condition on a citizen column: one of `members`, and member of no plan when the statement runs. */
  const unplannedAmong = (tenant: string, members: readonly string[]) => {
    const memberList = JSON.stringify(members);
    return (citizenColumn: SQL) =>
      and(sql`${citizenColumn} in (select value from json_each(${memberList}))`, notExists(db.select({ one: sql`1` }).from(planMembers).where(and(eq(planMembers.tenant, tenant), sql`${planMembers.citizenId} = ${citizenColumn}`))));
  };
  const memberRows = (plan: Plan) =>
    membersOf(plan).map((m) => ({ tenant: plan.tenant, planId: plan.id, citizenId: m.citizenId, active: !m.leftAt }));

  /** (citizen, plan) of active members of enrolled plans whom `adapter` never pulled in full, where `which` holds. */
  const enrolledNotPulledWhere = (tenant: string, adapter: string, which: SQL) =>
    db
      .select({ citizenId: planMembers.citizenId, planId: planMembers.planId })
      .from(planMembers)
      .innerJoin(plans, eq(plans.id, planMembers.planId))
      .where(
        and(
          eq(planMembers.tenant, tenant),
          which,
          eq(planMembers.active, true),
          inArray(plans.status, [...enrolledStatuses]),
          notExists(
            db
              .select({ one: sql`1` })
              .from(pulledCitizens)
              .where(and(eq(pulledCitizens.tenant, tenant), eq(pulledCitizens.adapter, adapter), eq(pulledCitizens.citizenId, planMembers.citizenId))),
          ),
        ),
      );

  return {
    insertStatements(plan: Plan): Statement[] {
      return [
        db.insert(plans).values({
          id: plan.id,
          tenant: plan.tenant,
          status: plan.status,
          document: JSON.stringify(plan),
          version: plan.version,
          createdAt: plan.createdAt,
          updatedAt: plan.updatedAt,
          openConflicts: openConflictsOf(plan),
          nextFollowUp: nextFollowUpOf(plan),
          coordinatorName: coordinatorNameOf(plan),
          writeId: crypto.randomUUID(),
        }),
        ...memberRows(plan).map((row) => db.insert(planMembers).values(row)),
      ];
    },
    async insert(plan: Plan, commit: Commit = batch): Promise<void> {
      await commit(this.insertStatements(plan));
    },
    async get(tenant: string, id: string): Promise<Plan | null> {
      const rows = await db.select({ document: plans.document }).from(plans).where(and(eq(plans.tenant, tenant), eq(plans.id, id))).limit(1);
      return rows[0] ? (JSON.parse(rows[0].document) as Plan) : null;
    },
    async getMany(tenant: string, ids: string[]): Promise<Plan[]> {
      if (ids.length === 0) return [];
      const rows = await db.select({ document: plans.document }).from(plans).where(and(sameTenant(plans.tenant, tenant), inList(plans.id, ids)));
      return rows.map((r) => JSON.parse(r.document) as Plan);
    },
    /** Version, update time and write id per plan: the write id tells whose write won. */
    async versions(tenant: string, ids: string[]): Promise<Map<string, { version: number; updatedAt: string; writeId: string | null }>> {
      if (ids.length === 0) return new Map();
      const rows = await db.select({ id: plans.id, version: plans.version, updatedAt: plans.updatedAt, writeId: plans.writeId }).from(plans).where(and(sameTenant(plans.tenant, tenant), inList(plans.id, ids)));
      return new Map(rows.map((r) => [r.id, { version: r.version, updatedAt: r.updatedAt, writeId: r.writeId }]));
    },
    /**
     * Statements that replace the plan if it is still at `expectedVersion`; run them in a batch
     * (`update` does, and tells whether the write won). With `previous` (the plan as read), the
     * member rows are rewritten only if the membership changed. `writeId` marks this write (fresh
     * unless given): whoever must know whether it won against a rival of the same version compares
     * it with the stored one (`versions`).
     */
    updateStatements(plan: Plan, expectedVersion: number, previous?: Plan, writeId: string = crypto.randomUUID()): Statement[] {
      // Indexed columns are set only when they change: SQLite rewrites an index entry for every
      // indexed column an UPDATE assigns, changed or not — two page writes per plan a sync merges
      // into (measured: ~30 % of a plan update's cost, decision 0008's "Later").
      const openConflicts = openConflictsOf(plan);
      const nextFollowUp = nextFollowUpOf(plan);
      const coordinatorName = coordinatorNameOf(plan);
      // SQL text, not drizzle's update builder: a sync builds one per citizen (writeStatement).
      const assigned: [string, string | number | null][] = [[plans.document.name, JSON.stringify(plan)], [plans.version.name, plan.version], [plans.updatedAt.name, plan.updatedAt], [plans.writeId.name, writeId]];
      if (previous?.status !== plan.status) assigned.push([plans.status.name, plan.status]);
      if (!previous || openConflictsOf(previous) !== openConflicts) assigned.push([plans.openConflicts.name, openConflicts]);
      if (!previous || nextFollowUpOf(previous) !== nextFollowUp) assigned.push([plans.nextFollowUp.name, nextFollowUp]);
      if (!previous || coordinatorNameOf(previous) !== coordinatorName) assigned.push([plans.coordinatorName.name, coordinatorName]);
      const update = writeStatement(
        db,
        `update ${plansTable} set ${assigned.map(([column]) => `"${column}" = ?`).join(', ')} where "${plans.tenant.name}" = ? and "${plans.id.name}" = ? and "${plans.version.name}" = ?`,
        [...assigned.map(([, value]) => value), plan.tenant, plan.id, expectedVersion],
      );
      if (previous && JSON.stringify(memberRows(previous)) === JSON.stringify(memberRows(plan))) return [update];
      // The member rows change only if the plan update itself won (the plan holds this write).
      const thisWrite = and(eq(plans.tenant, plan.tenant), eq(plans.id, plan.id), eq(plans.writeId, writeId));
      return [
        update,
        db.delete(planMembers).where(and(eq(planMembers.tenant, plan.tenant), eq(planMembers.planId, plan.id), exists(db.select({ one: sql`1` }).from(plans).where(thisWrite)))),
        ...memberRows(plan).map((row) =>
          db
            .insert(planMembers)
            .select(
              db
                .select({
                  tenant: sql<string>`${row.tenant}`.as('tenant'),
                  planId: sql<string>`${row.planId}`.as('plan_id'),
                  citizenId: sql<string>`${row.citizenId}`.as('citizen_id'),
                  active: sql<boolean>`${row.active ? 1 : 0}`.as('active'),
                })
                .from(plans)
                .where(thisWrite),
            )
            .onConflictDoNothing(),
        ),
      ];
    },
    /** Statements that fail, rolling back their batch, unless the plan holds this write (src/store/write-guard.ts). */
    abortUnlessWonStatements(tenant: string, planId: string, writeId: string): Statement[] {
      return abortUnless(db, sql`select count(*) from ${plans} where ${plans.tenant} = ${tenant} and ${plans.id} = ${planId} and ${plans.writeId} = ${writeId}`);
    },
    /**
     * The same for several plan writes at once: the batch rolls back unless every plan holds its write.
     * The writes go as one JSON parameter (D1 binds at most 100 per statement).
     */
    abortUnlessAllWonStatements(tenant: string, writes: readonly { planId: string; writeId: string }[]): Statement[] {
      const json = JSON.stringify(writes.map((w) => [w.planId, w.writeId]));
      return abortUnless(
        db,
        sql`select count(*) = ${writes.length} from json_each(${json}) as j where exists (select 1 from ${plans} where ${plans.tenant} = ${tenant} and ${plans.id} = json_extract(j.value, '$[0]') and ${plans.writeId} = json_extract(j.value, '$[1]'))`,
      );
    },
    /**
     * Optimistic update, with `extra` statements written only if it wins: false when someone else
     * changed the plan first. `commit`: e.g. together with the audit entries that record the change.
     */
    async update(plan: Plan, expectedVersion: number, extra: Statement[] = [], commit?: Commit): Promise<boolean> {
      const current = await db
        .select({ version: plans.version })
        .from(plans)
        .where(and(eq(plans.tenant, plan.tenant), eq(plans.id, plan.id)))
        .limit(1);
      if (current[0]?.version !== expectedVersion) return false;
      // A rival write of the same version (even in the same millisecond) has another write id.
      const writeId = crypto.randomUUID();
      // A rival may still land between the check above and this batch: then what the update carries
      // must not be written either, so the guard aborts the batch unless this write won.
      const guard = extra.length > 0 || commit ? this.abortUnlessWonStatements(plan.tenant, plan.id, writeId) : [];
      try {
        await (commit ?? batch)([...this.updateStatements(plan, expectedVersion, undefined, writeId), ...guard, ...extra]);
      } catch (error) {
        if (guard.length > 0 && isLostWriteAbort(error)) return false;
        throw error;
      }
      const after = await db.select({ writeId: plans.writeId }).from(plans).where(and(eq(plans.tenant, plan.tenant), eq(plans.id, plan.id))).limit(1);
      return after[0]?.writeId === writeId;
    },
    async idsForCitizen(tenant: string, citizenId: string, onlyActiveMembers = true): Promise<string[]> {
      const rows = await db
        .select({ planId: planMembers.planId })
        .from(planMembers)
        .where(and(eq(planMembers.tenant, tenant), eq(planMembers.citizenId, citizenId), onlyActiveMembers ? eq(planMembers.active, true) : sql`1 = 1`));
      return rows.map((r) => r.planId);
    },
    /** The enrolled plans (accepted or active, as an active member) of these citizens: only they are pulled for (R12). */
    async enrolledPlansOf(tenant: string, citizenIds: string[]): Promise<{ citizenId: string; planId: string }[]> {
      if (citizenIds.length === 0) return [];
      return db
        .select({ citizenId: planMembers.citizenId, planId: planMembers.planId })
        .from(planMembers)
        .innerJoin(plans, eq(plans.id, planMembers.planId))
        .where(and(eq(planMembers.tenant, tenant), eq(planMembers.active, true), inArray(plans.status, [...enrolledStatuses]), inList(planMembers.citizenId, citizenIds)));
    },
    /**
     * Enrolled citizens (with their enrolled plans) never pulled in full from this adapter, among
     * the given citizens: the catch-up's work, found in the database.
     */
    async enrolledNotPulled(tenant: string, adapter: string, among: readonly string[]): Promise<{ citizenId: string; planId: string }[]> {
      const rows = await enrolledNotPulledWhere(tenant, adapter, inList(planMembers.citizenId, among));
      return rows;
    },
    /**
     * The same a page at a time: rows (citizen, plan) in citizen id order from `fromCitizenId`
     * (inclusive), at most `limit`. The catch-up asks each adapter for its next page this way, so a
     * run with nothing to catch up costs one pass of the enrolment index per adapter, and memory
     * does not grow with the enrolled population.
     */
    async enrolledNotPulledFrom(tenant: string, adapter: string, fromCitizenId: string, limit: number): Promise<{ citizenId: string; planId: string }[]> {
      const rows = await this.enrolledNotPulledFromQuery(tenant, adapter, fromCitizenId, limit);
      return rows;
    },
    /** The query of `enrolledNotPulledFrom`, unrun (its query plan is tested). */
    enrolledNotPulledFromQuery(tenant: string, adapter: string, fromCitizenId: string, limit: number) {
      return enrolledNotPulledWhere(tenant, adapter, gte(planMembers.citizenId, fromCitizenId)).orderBy(asc(planMembers.citizenId)).limit(limit);
    },
    async tenantsWithEnrolled(): Promise<string[]> {
      const rows = await db.selectDistinct({ tenant: plans.tenant }).from(plans).where(inArray(plans.status, [...enrolledStatuses]));
      return rows.map((r) => r.tenant);
    },
    async tenants(): Promise<string[]> {
      return distinctLeading(db, plans, plans.tenant);
    },
    /** Plans that ended (closed, or declined by the citizen) and have not changed since `before`. */
    async endedBefore(tenant: string, before: string): Promise<string[]> {
      const rows = await db.select({ id: plans.id }).from(plans).where(and(eq(plans.tenant, tenant), inArray(plans.status, ['closed', 'declined']), lt(plans.updatedAt, before)));
      return rows.map((r) => r.id);
    },
    /** Whether a delivery of one of the plan's registrations is still to be made (such a plan is not purged yet). */
    async hasOpenDeliveries(tenant: string, id: string): Promise<boolean> {
      const registrationIds = db.select({ id: registrations.id }).from(registrations).where(and(eq(registrations.tenant, tenant), eq(registrations.planId, id)));
      const open = await db
        .select({ id: outbox.id })
        .from(outbox)
        .where(and(eq(outbox.tenant, tenant), inArray(outbox.registrationId, registrationIds), inArray(outbox.status, ['pending', 'retrying'])))
        .limit(1);
      return open.length > 0;
    },
    /** How many deliveries of the plan's registrations are still to be made (pending or retrying). */
    async openDeliveryCount(tenant: string, id: string): Promise<number> {
      const registrationIds = db.select({ id: registrations.id }).from(registrations).where(and(eq(registrations.tenant, tenant), eq(registrations.planId, id)));
      const [row] = await db
        .select({ count: sql<number>`count(*)` })
        .from(outbox)
        .where(and(eq(outbox.tenant, tenant), inArray(outbox.registrationId, registrationIds), inArray(outbox.status, ['pending', 'retrying'])));
      return Number(row?.count ?? 0);
    },
    /** Those of these plans with a member (now or earlier) other than this citizen: a family plan. */
    async withOtherMembers(tenant: string, planIds: readonly string[], citizenId: string): Promise<string[]> {
      if (planIds.length === 0) return [];
      const rows = await db
        .selectDistinct({ planId: planMembers.planId })
        .from(planMembers)
        .where(and(eq(planMembers.tenant, tenant), inList(planMembers.planId, planIds), sql`${planMembers.citizenId} <> ${citizenId}`));
      return rows.map((r) => r.planId);
    },
    /**
     * The membership a citizen who left this family plan keeps in it (the plan's history of who was
     * in it), forgotten when the citizen is erased: the plan is the others', not theirs to erase.
     */
    forgetLeftMembershipStatement(tenant: string, planId: string, citizenId: string): Statement {
      return db.delete(planMembers).where(and(eq(planMembers.tenant, tenant), eq(planMembers.planId, planId), eq(planMembers.citizenId, citizenId), eq(planMembers.active, false)));
    },
    /**
     * Aborts the batch unless the plan is still ended (closed or declined) and unchanged since before
     * `before`: the retention job reads which plans are due, then deletes them page by page, and a
     * declined plan offered again meanwhile is open.
     */
    stillEndedStatements(tenant: string, planId: string, before: string): Statement[] {
      return abortUnless(db, sql`exists (select 1 from ${plans} where ${plans.tenant} = ${tenant} and ${plans.id} = ${planId} and ${plans.status} in ('closed', 'declined') and ${plans.updatedAt} < ${before})`);
    },
    /** Aborts the batch if the plan has (or had) a member other than this citizen: checked in the batch that deletes it. */
    aloneInPlanStatements(tenant: string, planId: string, citizenId: string): Statement[] {
      return abortUnless(db, sql`not exists (select 1 from ${planMembers} where ${planMembers.tenant} = ${tenant} and ${planMembers.planId} = ${planId} and ${planMembers.citizenId} <> ${citizenId})`);
    },
    /**
     * Deletes a plan and what hangs on it — its registrations (their documents hold the plan's
     * content) and their finished deliveries — and then every member who has no plan left: their CPR
     * ciphertext, consents and legal-basis records, and sync marks. The audit rows (no content) stay.
     * Answers the citizens deleted. `commits`: how the plan's deletion and the citizens' are
     * committed (e.g. each with its audit entries; the citizens' knows who they are).
     */
    async purge(tenant: string, id: string, commits: PurgeCommits = {}): Promise<string[]> {
      const members = (await db.select({ citizenId: planMembers.citizenId }).from(planMembers).where(and(eq(planMembers.tenant, tenant), eq(planMembers.planId, id)))).map((r) => r.citizenId);
      await (commits.plan ?? batch)(this.purgePlanStatements(tenant, id));
      return this.purgeCitizensWithoutPlan(tenant, members, commits.citizens);
    },
    /** The statements that delete a plan and what hangs on it (as `purge` does), to be committed with others. */
    purgePlanStatements(tenant: string, id: string): Statement[] {
      const registrationIds = db.select({ id: registrations.id }).from(registrations).where(and(eq(registrations.tenant, tenant), eq(registrations.planId, id)));
      // The marks first, while the member rows still say whose they are: marks are keyed by citizen.
      return [
        this.purgeMarksStatement(tenant, id),
        db.delete(outbox).where(and(eq(outbox.tenant, tenant), inArray(outbox.registrationId, registrationIds))),
        db.delete(registrations).where(and(eq(registrations.tenant, tenant), eq(registrations.planId, id))),
        db.delete(satisfactionAnswers).where(and(eq(satisfactionAnswers.tenant, tenant), eq(satisfactionAnswers.planId, id))),
        db.delete(planMembers).where(and(eq(planMembers.tenant, tenant), eq(planMembers.planId, id))),
        db.delete(planLinks).where(and(eq(planLinks.ownerTenant, tenant), eq(planLinks.planId, id))),
        db.delete(plans).where(and(eq(plans.tenant, tenant), eq(plans.id, id))),
      ];
    },
    /**
     * Deletes those of these citizens who are member of no plan — their CPR ciphertext, consents and
     * legal-basis records, sync marks, and what the targets hold for them — checked in the same statements, so a plan made for one of
     * them meanwhile keeps them. Answers the citizens deleted, for the audit log.
     */
    async purgeCitizensWithoutPlan(tenant: string, members: readonly string[], commitFor: (citizenIds: string[]) => Commit = () => batch): Promise<string[]> {
      if (members.length === 0) return [];
      const unplanned = unplannedAmong(tenant, members);
      const gone = (await db.select({ id: citizens.id }).from(citizens).where(and(eq(citizens.tenant, tenant), unplanned(sql`${citizens.id}`)))).map((r) => r.id);
      if (gone.length === 0) return [];
      await commitFor(gone)(this.citizensWithoutPlanStatements(tenant, members));
      return gone;
    },
    /**
     * The statements of `purgeCitizensWithoutPlan`, to be committed with others: each deletes only
     * what belongs to those of these citizens who are member of no plan when it runs.
     */
    citizensWithoutPlanStatements(tenant: string, members: readonly string[]): Statement[] {
      const unplanned = unplannedAmong(tenant, members);
      return [
        db.delete(consents).where(and(eq(consents.tenant, tenant), unplanned(sql`${consents.citizenId}`))),
        db.delete(pulledCitizens).where(and(eq(pulledCitizens.tenant, tenant), unplanned(sql`${pulledCitizens.citizenId}`))),
        db.delete(appliedRecords).where(and(eq(appliedRecords.tenant, tenant), unplanned(sql`${appliedRecords.citizenId}`))),
        db.delete(heldElements).where(and(eq(heldElements.tenant, tenant), unplanned(sql`${heldElements.citizenId}`))),
        db.delete(regionalConsentEnds).where(and(eq(regionalConsentEnds.tenant, tenant), unplanned(sql`${regionalConsentEnds.citizenId}`))),
        db.delete(regionalRefusals).where(and(eq(regionalRefusals.tenant, tenant), unplanned(sql`${regionalRefusals.citizenId}`))),
        db.delete(citizens).where(and(eq(citizens.tenant, tenant), unplanned(sql`${citizens.id}`))),
      ];
    },
    /** Statements that fail, rolling back their batch, unless the citizen's row is gone (a plan made for them meanwhile keeps it). */
    citizenGoneStatements(tenant: string, citizenId: string): Statement[] {
      return abortUnless(db, sql`not exists (select 1 from ${citizens} where ${citizens.tenant} = ${tenant} and ${citizens.id} = ${citizenId})`);
    },
    /**
     * Citizens recorded before `createdBefore` who are member of no plan: left by a plan creation that
     * failed after their row was written (a successful one makes them members in the same moment).
     */
    async citizensWithoutPlan(tenant: string, createdBefore: string, limit = 500): Promise<string[]> {
      const rows = await db
        .select({ id: citizens.id })
        .from(citizens)
        .where(and(eq(citizens.tenant, tenant), lt(citizens.createdAt, createdBefore), notExists(db.select({ one: sql`1` }).from(planMembers).where(and(eq(planMembers.tenant, tenant), eq(planMembers.citizenId, citizens.id))))))
        .limit(limit);
      return rows.map((r) => r.id);
    },
    /** The merged-record marks of a plan, found by its members (past ones too) through the marks' citizen key, not by walking the tenant's marks. */
    purgeMarksStatement(tenant: string, id: string) {
      const members = db.select({ citizenId: planMembers.citizenId }).from(planMembers).where(and(eq(planMembers.tenant, tenant), eq(planMembers.planId, id)));
      return db.delete(appliedRecords).where(and(eq(appliedRecords.tenant, tenant), inArray(appliedRecords.citizenId, members), eq(appliedRecords.planId, id)));
    },
    async listIds(tenant: string, limit = 100, offset = 0): Promise<{ id: string; status: string; updatedAt: string }[]> {
      return db
        .select({ id: plans.id, status: plans.status, updatedAt: plans.updatedAt })
        .from(plans)
        .where(eq(plans.tenant, tenant))
        .orderBy(plans.createdAt, plans.id)
        .limit(limit)
        .offset(offset);
    },
    /**
     * The tenant's plan documents in id order after `afterId` (exclusive), at most `limit`: for
     * reports that read every plan a page at a time (R22) without holding them all. Keyset, not
     * offset: each page continues where the last stopped in the id index, so a whole pass costs one
     * walk of the index instead of re-sorting the tenant for every page.
     */
    async documentsAfter(tenant: string, afterId: string, limit: number): Promise<{ id: string; plan: Plan }[]> {
      const rows = await this.documentsAfterQuery(tenant, afterId, limit);
      return rows.map((r) => ({ id: r.id, plan: JSON.parse(r.document) as Plan }));
    },
    /** The query of `documentsAfter`, unrun (its query plan is tested). */
    documentsAfterQuery(tenant: string, afterId: string, limit: number) {
      // `sameTenant`: with a plain equality SQLite takes the tenant's index and sorts the tenant's plans for every page.
      return db.select({ id: plans.id, document: plans.document }).from(plans).where(and(sameTenant(plans.tenant, tenant), gt(plans.id, afterId))).orderBy(asc(plans.id)).limit(limit);
    },
    /** Plans with conflicts waiting for a person, most recently changed first, a page at a time (by index). */
    async withOpenConflicts(tenant: string, limit = 50, offset = 0): Promise<{ id: string; openConflicts: number; updatedAt: string }[]> {
      const rows = await this.withOpenConflictsQuery(tenant).orderBy(desc(plans.updatedAt), asc(plans.id)).limit(limit).offset(offset);
      return rows;
    },
    /**
     * The query of `withOpenConflicts`, unordered and unrun (its query plan is tested). Open plans
     * only (R6): a closed or declined plan's conflicts are no one's to settle, though the document
     * (and its `open_conflicts`) still holds them. The status is checked on the rows the
     * tenant-and-count index finds, so the index still chooses them.
     */
    withOpenConflictsQuery(tenant: string) {
      return db.select({ id: plans.id, openConflicts: plans.openConflicts, updatedAt: plans.updatedAt }).from(plans).where(and(eq(plans.tenant, tenant), gt(plans.openConflicts, 0), inArray(plans.status, openPlanStatuses)));
    },
    /** Open plans with conflicts waiting for a person (the dashboard, `/metrics`): as the worklist finds them. */
    async countWithOpenConflicts(tenant: string): Promise<number> {
      const rows = await db.select({ n: sql<number>`count(*)` }).from(plans).where(and(eq(plans.tenant, tenant), gt(plans.openConflicts, 0), inArray(plans.status, openPlanStatuses)));
      return Number(rows[0]?.n ?? 0);
    },
    /** How many open plans have a follow-up due before `before` not yet done (R7). */
    async countWithOverdueFollowUps(tenant: string, before: string): Promise<number> {
      const rows = await db.select({ n: sql<number>`count(*)` }).from(plans).where(and(eq(plans.tenant, tenant), lt(plans.nextFollowUp, before), inArray(plans.status, ['requested', 'offered', 'accepted', 'active'])));
      return Number(rows[0]?.n ?? 0);
    },
    /** Open plans (requested to active) with a follow-up due before `before` not yet done, longest overdue first. */
    async withOverdueFollowUps(tenant: string, before: string, limit: number, offset: number): Promise<Plan[]> {
      const rows = await db
        .select({ document: plans.document })
        .from(plans)
        .where(and(eq(plans.tenant, tenant), lt(plans.nextFollowUp, before), inArray(plans.status, ['requested', 'offered', 'accepted', 'active'])))
        .orderBy(asc(plans.nextFollowUp), asc(plans.id))
        .limit(limit)
        .offset(offset);
      return rows.map((r) => JSON.parse(r.document) as Plan);
    },
    /**
     * A page of the tenant's plans as the index columns tell them: newest change first; by status,
     * by responsible coordinator, or those with none named yet. Open conflicts and the next
     * follow-up are those of open plans only, as in `withOpenConflicts` and the overdue worklist.
     * `restricted` is the document of an open plan with something to count that holds data consent
     * gives named departments alone (decision 0026): only there does the count depend on the
     * reader, so only there is a document parsed.
     */
    /**
     * `after`: the last plan of the page before (its `updatedAt` and id): the page starts after it in
     * the list's order, so writes between pages neither skip nor repeat a plan (an offset shifts).
     */
    async summaries(tenant: string, filter: { statuses?: string[]; coordinator?: string; withoutCoordinator?: boolean }, limit: number, offset: number, after?: { updatedAt: string; id: string }) {
      const conditions = [eq(plans.tenant, tenant)];
      if (after) conditions.push(sql`(${plans.updatedAt} < ${after.updatedAt} or (${plans.updatedAt} = ${after.updatedAt} and ${plans.id} > ${after.id}))`);
      if (filter.statuses?.length) conditions.push(inArray(plans.status, filter.statuses));
      if (filter.coordinator !== undefined) conditions.push(eq(plans.coordinatorName, filter.coordinator));
      if (filter.withoutCoordinator) conditions.push(sql`${plans.coordinatorName} is null`);
      const members = db.select({ n: sql<number>`count(*)` }).from(planMembers).where(and(eq(planMembers.tenant, tenant), eq(planMembers.planId, plans.id), eq(planMembers.active, true)));
      // Documents are written by JSON.stringify, so a provenance entry's audience is always the
      // text `"audience":` (a string value's quotes are escaped): a scan, no JSON parsed in SQL.
      const restricted = sql<string | null>`case when ${and(inArray(plans.status, openPlanStatuses), sql`(${plans.openConflicts} > 0 or ${plans.nextFollowUp} is not null)`)} and instr(${plans.document}, '"audience":') > 0 then ${plans.document} end`;
      const rows = await db
        .select({ id: plans.id, status: plans.status, coordinator: plans.coordinatorName, openConflicts: plans.openConflicts, nextFollowUp: plans.nextFollowUp, updatedAt: plans.updatedAt, members: sql<number>`(${members})`, restricted })
        .from(plans)
        .where(and(...conditions))
        .orderBy(desc(plans.updatedAt), asc(plans.id))
        .limit(limit)
        .offset(offset);
      // A closed or declined plan's conflicts and follow-ups wait for no one (R6).
      return rows.map(({ restricted: document, ...r }) => {
        const open = openPlanStatuses.includes(r.status);
        return { ...r, openConflicts: open ? r.openConflicts : 0, nextFollowUp: open ? r.nextFollowUp : null, members: Number(r.members), restricted: document ? (JSON.parse(document) as Plan) : null };
      });
    },
    /** Open plans (requested to active) per responsible coordinator (null: none named yet), R5. */
    async caseload(tenant: string): Promise<{ coordinator: string | null; openPlans: number }[]> {
      const rows = await db
        .select({ coordinator: plans.coordinatorName, openPlans: sql<number>`count(*)` })
        .from(plans)
        .where(and(eq(plans.tenant, tenant), inArray(plans.status, ['requested', 'offered', 'accepted', 'active'])))
        .groupBy(plans.coordinatorName)
        .orderBy(desc(sql`count(*)`), asc(plans.coordinatorName));
      return rows.map((r) => ({ coordinator: r.coordinator, openPlans: Number(r.openPlans) }));
    },
    async countByStatus(tenant: string): Promise<Record<string, number>> {
      const rows = await db.select({ status: plans.status, n: sql<number>`count(*)` }).from(plans).where(eq(plans.tenant, tenant)).groupBy(plans.status);
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
  };
}
export type PlanRepository = ReturnType<typeof planRepository>;
