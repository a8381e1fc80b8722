/**
 * Resolving a conflict the merge flagged (issue 4: "flagged as a conflict for a person to
 * resolve"). Pure: the plan service reads the plan, calls this, and writes the result.
 *
 * A conflict holds the element's content as it was (`values[0]`, its writer then) and what another
 * writer reported instead (`values[1]`, …), for the fields they disagree on. The caseworker chooses
 * one: the element takes that value's fields and its writer becomes the element's writer (last in
 * the provenance), so a later change from the system not chosen is flagged again, not taken
 * silently. Choosing `values[0]` leaves the content as it is. Either way the conflict stays on the
 * plan, resolved, with who chose what and why. (The plan service then registers the settled fields
 * back to the sector systems: `settledConflictRegistration` below.)
 *
 * Other open conflicts on the same element (F4, R17): one whose value came from the same record as
 * this one's, flagged earlier, is superseded by this one and closed with it; the rest are re-based on
 * the element's content after the choice, or closed as settled when that content is what they said
 * (`rebaseOpenConflicts` in the merge, whose header states the rule). So settling never strands
 * another conflict on outdated content, and never settles on a value its writer has since replaced.
 *
 * Refused: a plan that is closed or declined (`plan-not-open`, R6: its sector plans apply again, and
 * nothing is written to it or registered from it); a conflict resolved already with another choice
 * (the same choice again is answered as done), or closed by the sync (superseded, or settled by the
 * sources: no person chose, so any choice is refused as `conflict-resolved`, naming why); a choice
 * that is not one of the values; a conflict whose value's record has since reported a newer value
 * flagged in another open conflict (`conflict-outdated`: settle that one); and a conflict whose
 * element no longer holds the content it recorded — changed by other means than the merge since,
 * and choosing blind could undo that change.
 */
import { createHash } from 'node:crypto';
import { ProblemError } from '../api/context';
import { GoalChanges, InterventionChanges, type RegistrationRequest } from '../registrations/kinds';
import type { Conflict, Plan, Provenance } from '../model';
import { Plan as PlanSchema } from '../model';
import { closedBySync, rebaseOpenConflicts, SETTLED_BY_SYNC, stableStringify } from '../sync/merge';
import { elementLists } from './references';

export interface ConflictChoice {
  /** Index into the conflict's `values`. */
  chosen: number;
  reason?: string;
  /** Register the settled value back to the sector systems (default); false when they are set right by other means. */
  push?: boolean;
}

export interface ResolvedConflict {
  plan: Plan;
  conflict: Conflict;
  /** False when the conflict was already resolved with this very choice: nothing was written. */
  changed: boolean;
}

const sameWriter = (a: Provenance, b: Provenance) =>
  a.kind === 'source' && b.kind === 'source' ? a.system === b.system && a.recordId === b.recordId : a.kind === 'registration' && b.kind === 'registration' && a.registrationId === b.registrationId;

/** Statuses whose plan takes no more changes (R6), as registrations refuse them. */
const finishedStatuses: ReadonlySet<string> = new Set(['closed', 'declined']);

/** Whether two conflicts on one element hold values (other than `values[0]`) from the same writer. */
const sameChallenger = (a: Conflict, b: Conflict) => a.values.slice(1).some((v) => v.provenance.some((p) => b.values.slice(1).some((w) => w.provenance.some((q) => sameWriter(p, q)))));

export function resolveConflict(plan: Plan, conflictId: string, choice: ConflictChoice, context: { at: string; by: string }): ResolvedConflict {
  const conflict = plan.conflicts.find((c) => c.id === conflictId);
  if (!conflict) throw new ProblemError('not-found', 'no such conflict in this plan');
  if (conflict.resolvedAt) {
    if (closedBySync(conflict)) throw new ProblemError('conflict-resolved', `the conflict was closed by the sync on ${conflict.resolvedAt}, no choice is needed: ${conflict.resolution?.reason ?? 'settled'}`);
    if (conflict.resolution?.chosen === choice.chosen) return { plan, conflict, changed: false };
    throw new ProblemError('conflict-resolved', `the conflict was resolved on ${conflict.resolvedAt} with value ${conflict.resolution?.chosen ?? '?'}`);
  }
  if (finishedStatuses.has(plan.status)) throw new ProblemError('plan-not-open', `the plan is ${plan.status}; its conflicts are no longer settled here`);
  const value = conflict.values[choice.chosen];
  if (!value) throw new ProblemError('validation-failed', `chosen must be one of the conflict's values, 0 to ${conflict.values.length - 1}`);
  // Open conflicts on the element from the same record: the later-flagged supersedes the earlier
  // (plans flagged before the merge closed the earlier one itself still hold both).
  const position = plan.conflicts.indexOf(conflict);
  const sameRecord = plan.conflicts.filter((c) => c !== conflict && !c.resolvedAt && c.elementId === conflict.elementId && sameChallenger(c, conflict));
  const newer = sameRecord.find((c) => plan.conflicts.indexOf(c) > position);
  if (newer) throw new ProblemError('conflict-outdated', `the source reported a newer value since, flagged as conflict ${newer.id}; settle that one`);

  const list = elementLists.find((l) => plan[l].some((e) => e.id === conflict.elementId));
  if (!list) throw new ProblemError('not-found', 'the element of this conflict is no longer in the plan');
  const element = (plan[list] as { id: string; provenance: Provenance[] }[]).find((e) => e.id === conflict.elementId)! as Record<string, unknown> & { provenance: Provenance[] };
  const fields = conflict.field.split(',').filter(Boolean);
  const recorded = conflict.values[0]!.value as Record<string, unknown>;
  if (fields.some((f) => stableStringify(element[f]) !== stableStringify(recorded[f])))
    throw new ProblemError('conflict-outdated', 'the element changed after the conflict was flagged; read the plan again and decide on what it holds now');

  let next = element;
  if (choice.chosen > 0) {
    const chosenValue = value.value as Record<string, unknown>;
    const content: Record<string, unknown> = { ...element };
    for (const f of fields) {
      if (f in chosenValue && chosenValue[f] !== undefined) content[f] = chosenValue[f];
      else delete content[f];
    }
    // The chosen writer writes the content now: its entries go last (added if a revocation re-pointed them away).
    const writers = value.provenance;
    const others = element.provenance.filter((p) => !writers.some((w) => sameWriter(p, w)));
    const carried = element.provenance.filter((p) => writers.some((w) => sameWriter(p, w)));
    next = { ...content, provenance: [...others, ...(carried.length > 0 ? carried : writers)] } as typeof element;
  }
  const resolved: Conflict = { ...conflict, resolvedAt: context.at, resolution: { by: context.by, chosen: choice.chosen, ...(choice.reason ? { reason: choice.reason } : {}) } };
  const conflicts = plan.conflicts.map((c) =>
    c.id === conflictId ? resolved : sameRecord.includes(c) ? { ...c, resolvedAt: context.at, resolution: { by: SETTLED_BY_SYNC, chosen: 0, reason: `superseded by ${conflictId}: the source reported a newer value` } } : c,
  );
  rebaseOpenConflicts(conflicts, conflict.elementId, next, next.provenance.at(-1)!, context.at, conflictId);
  const updated = PlanSchema.parse({
    ...plan,
    [list]: (plan[list] as { id: string }[]).map((e) => (e.id === conflict.elementId ? next : e)),
    conflicts,
    updatedAt: context.at,
    version: plan.version + 1,
  });
  return { plan: updated, conflict: resolved, changed: true };
}

/**
 * The plan with the open conflicts on the element of `conflictId` re-based on what the element holds
 * now (`rebaseOpenConflicts`, the merge's rule), or null when there is nothing to re-base. For a
 * conflict refused as outdated because its element changed by other means than the merge (a
 * caseworker's registration, or before the merge kept conflicts true to their elements): written, the
 * next request decides on the content the element holds, so the conflict is never stuck.
 */
export function rebasedConflicts(plan: Plan, conflictId: string, at: string): Plan | null {
  const conflict = plan.conflicts.find((c) => c.id === conflictId);
  if (!conflict || conflict.resolvedAt || finishedStatuses.has(plan.status)) return null;
  const list = elementLists.find((l) => plan[l].some((e) => e.id === conflict.elementId));
  if (!list) return null;
  const element = (plan[list] as { id: string; provenance: Provenance[] }[]).find((e) => e.id === conflict.elementId)!;
  const conflicts = [...plan.conflicts];
  if (!rebaseOpenConflicts(conflicts, conflict.elementId, element as unknown as Record<string, unknown>, element.provenance.at(-1)!, at)) return null;
  return PlanSchema.parse({ ...plan, conflicts, updatedAt: at, version: plan.version + 1 });
}

/**
 * The idempotency key of the registration that sends a settled conflict back (once, however often
 * it is settled again). The relay knows such a delivery by it: the person's choice is written even
 * where the system holds a value of its own (decision 0005, "Later … session 19").
 */
export function settlementKey(planId: string, conflictId: string): string {
  return `conflict-${createHash('sha256').update(`${planId}\u0000${conflictId}`).digest('hex').slice(0, 40)}`;
}

/**
 * What a settled conflict sends back to the sector systems: the element's fields the conflict was
 * about, as they now stand, as one `goal.changed` / `intervention.changed` registration — so the
 * system whose value was not chosen is told, and nobody types the choice in twice. Null (with the
 * reason) when there is nothing a registration can carry: another kind of element, an intervention
 * that has ended, or only fields a change may not touch (sector, member).
 */
export function settledConflictRegistration(plan: Plan, conflict: Conflict): { request: RegistrationRequest } | { request: null; reason: string } {
  const fields = conflict.field.split(',').filter(Boolean);
  const pick = (element: Record<string, unknown>, allowed: readonly string[]) => Object.fromEntries(fields.filter((f) => allowed.includes(f) && element[f] !== undefined).map((f) => [f, element[f]]));
  const goal = plan.goals.find((g) => g.id === conflict.elementId);
  if (goal) {
    const changes = pick(goal, Object.keys(GoalChanges.shape));
    if (Object.keys(changes).length === 0) return { request: null, reason: `no field of the conflict (${conflict.field}) can be registered as a change of a goal` };
    return { request: { planId: plan.id, kind: 'goal.changed', goalId: goal.id, changes: changes as never } };
  }
  const intervention = plan.interventions.find((i) => i.id === conflict.elementId);
  if (intervention) {
    if (intervention.status === 'ended' || intervention.status === 'cancelled') return { request: null, reason: `the intervention is ${intervention.status}` };
    const changes = pick(intervention, Object.keys(InterventionChanges.shape));
    if (Object.keys(changes).length === 0) return { request: null, reason: `no field of the conflict (${conflict.field}) can be registered as a change of an intervention` };
    return { request: { planId: plan.id, kind: 'intervention.changed', interventionId: intervention.id, changes: changes as never } };
  }
  return { request: null, reason: 'only goals and interventions are registered back to the sector systems' };
}
