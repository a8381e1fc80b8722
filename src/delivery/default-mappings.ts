/**
 * The reverse mappings this deployment delivers with, per target and model-side operation. The
 * mappings live in `mappings/<adapter>/` (owned with their adapters); this file only says which
 * one serves which operation and how the `Outbound` becomes that mapping's input.
 *
 * Target identifiers: an element registered here has a UUID id. DFDG and Ungedatabasen take a
 * GUID for the records they hold, so we hand them the element's own UUID (`dfdg:activity:<uuid>`,
 * `dfdg:job-goal:<uuid>`, `dfdg:job-search-agreement:<uuid>`, `dfdg:follow-up:<uuid>`,
 * `education:plan-activity:<uuid>`): added, changed, done and ended then address ONE record at the
 * target, and a replay under the same idempotency key is a no-op. Elements that came from the
 * target keep the target's id; an element that came from another source (Ungedatabasen's follow-up
 * sent on to DFDG, R20) gets a name-based UUID of the tenant and its element id, the same on every
 * delivery. Each entry says what the target's records then read back as (`heldAs`), which the
 * relay records with the delivery, so the next pull maps them onto our element
 * (`education:education-goal:<plan id>` for our education goal, decision 0005). The FHIR servers name their resources themselves: the first
 * delivery of an element is a conditional create (If-None-Exist on the idempotency key), and a
 * later change of it an update of that resource with If-Match on the version its receipt gave
 * (`addressBy: 'receipt'`).
 *
 * What is not listed has no place at that target (e.g. a coordinator hand-over or a plan status
 * at DFDG, an education goal without a programme code at Ungedatabasen): the router then reports
 * the target as not routed, with that reason, instead of queueing a delivery that must fail.
 */
import { activityReverseMapping, followUpReverseMapping, jobGoalReverseMapping, jobSearchAgreementReverseMapping } from '../../mappings/dfdg';
import { educationGoalReverseMapping, educationProgrammes, planActivityReverseMapping, planFollowUpReverseMapping } from '../../mappings/education';
import { deterministicUuidNow } from '../../adapters/soap/identifiers';
import { ourElementIdOf } from '../../adapters/fhir/mapping-support';
import { ENPLAN_ELEMENT_SYSTEM } from '../../adapters/fhir/systems';
import { healthGoalReverse, healthServiceRequestReverse } from '../../mappings/health';
import { healthGoalElementId } from '../../mappings/health/careplan';
import { socialGoalReverse, socialInterventionReverse } from '../../mappings/social';
import { goalElementId, pushedCarePlanActivityElementId } from '../../mappings/social/careplan';
import type { Agreement, FollowUp, Goal, Intervention } from '../model';
import type { Outbound } from '../registrations/apply';
import { mapRecord, type Mapping, type ReverseMapping } from '../../mappings/mapping';
import { healthGoalMapping } from '../../mappings/health/goal';
import { socialGoalMapping } from '../../mappings/social/goal';
import { healthGoalCategoryScheme, ourDescriptionIn, placeInTheirGoal, socialGoalCategoryScheme, type CategoryScheme } from '../../mappings/their-goal';
import { reverseMappingRegistry, type HeldAs, type ReverseEntry, type TheirOwnRecord } from './reverse-mappings';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The namespace of the GUIDs derived for elements another source named (fixed: changing it changes every id). */
const ELEMENT_GUID_NAMESPACE = '3b7e9f64-2c1a-4d58-9e06-7f2b8c4d1a93';

/**
 * The id the target holds the element under (`<prefix><guid>`): the target's own where it came from
 * there; our UUID where it is ours; else a GUID named by the tenant and the element id, so every
 * delivery of the element addresses one record there.
 */
function targetGuid(prefix: string, id: string, tenant: string): string {
  if (id.startsWith(prefix)) return id;
  return `${prefix}${UUID.test(id) ? id : deterministicUuidNow(ELEMENT_GUID_NAMESPACE, `${tenant}\u0000${id}`)}`;
}

/** The element is held under the id `targetGuid` gave it (nothing to record where that is its own). */
const heldUnder = (prefix: string): HeldAs => (o) => {
  if (!o.elementId) return [];
  const targetElementId = targetGuid(prefix, o.elementId, o.tenant);
  return targetElementId === o.elementId ? [] : [{ targetElementId, elementId: o.elementId }];
};

/**
 * A FHIR system's own record, read in by a sync (`social:careplan:<id>:activity:<key>` …): no delivery
 * of ours made it, so no receipt names it. A change of it is not written there: an update replaces
 * the whole resource with the part the Én plan holds (a CarePlan's other activities), and a create
 * makes a second one, read back as a second element (decision 0005, "Later (2026-11-24, session 18)").
 */
const theSystemsOwnRecord = (system: 'social' | 'health') => (o: Outbound) =>
  o.elementId?.startsWith(`${system}:`)
    ? `the element is the ${system} system’s own record, which only that system names; a change made here is not written into it (an update would replace the whole resource with the part the Én plan holds, and a create would make a second one)`
    : undefined;

/** The goal fields a pull of a FHIR Goal reports; the rest of the element is ours alone. */
type ReadGoalFields = 'level' | 'title' | 'description' | 'sector' | 'status' | 'targetDate' | 'topics';

/**
 * The system's own Goal the element was read from (`social:goal:<id>` → `<id>`): a change of it is
 * patched into that Goal, our content placed among theirs (`placeInTheirGoal`), our level and topics
 * in their category where `scheme` says the pull reads them back. A write with no earlier payload is
 * compared with what our mapping makes of the element as `pull` reads their Goal at the version the
 * plan read, so only what differs here from that is written (not their own target texts sent back as
 * a note, nor their coded title as text), and what they changed since stays theirs; decision 0005, session 19.
 */
function theirOwnGoal(prefix: string, pull: Mapping<any>, reverse: ReverseMapping<Goal, unknown>, scheme: CategoryScheme): TheirOwnRecord {
  const placeGoal = (goal: Goal, payload: object, record: object) => placeInTheirGoal(payload, record, { ours: goal, scheme });
  return {
    idOf: (o) => (o.elementId?.startsWith(prefix) ? o.elementId.slice(prefix.length) || undefined : undefined),
    place: (o, payload, record) => placeGoal(elementOf(o, 'goal'), payload, record),
    asRead: (o, read, record) => {
      const result = mapRecord(pull, read, { now: o.at, ruleVersion: '' });
      const content = result.ok ? result.fragments[0]?.content : undefined;
      if (!content) return undefined;
      const goal = elementOf(o, 'goal');
      const { level: _l, title: _t, description: _d, sector: _s, status: _st, targetDate: _td, topics: _tp, ...ours } = goal;
      const { description: readDescription, ...readFields } = content as Pick<Goal, ReadGoalFields>;
      // Our description lives in our note there, not where the pull reads one (a social goal's targets in
      // words): changed here, it is compared with that note; unchanged, with itself (nothing to write).
      const description = goal.description === readDescription ? readDescription : ourDescriptionIn(read);
      const asRead = { ...ours, ...readFields, ...(description !== undefined ? { description } : {}) };
      const mapped = reverse.map(asRead);
      return mapped.ok ? placeGoal(asRead, mapped.payload as object, record) : undefined;
    },
  };
}

/**
 * What a FHIR server's record made by this delivery reads back as, where its pull mapping cannot find
 * our element in it: it names only an element id of ours that is a UUID (`ourElementIdOf`), so one of
 * another source (the social system's goal about health, sent to the region) reads back under the
 * server's id (`toElementId`), and is recorded as held for that element.
 */
const heldUnderServerId =
  (toElementId: (targetId: string) => string): HeldAs =>
  (o, receipt) =>
    o.elementId && ourElementIdOf({ identifier: [{ system: ENPLAN_ELEMENT_SYSTEM, value: o.elementId }] }) !== o.elementId && toElementId(receipt.targetId) !== o.elementId
      ? [{ targetElementId: toElementId(receipt.targetId), elementId: o.elementId }]
      : [];

class NotThisElement extends Error {}

function elementOf<K extends 'goal' | 'intervention' | 'followUp' | 'agreement'>(outbound: Outbound, type: K) {
  const element = outbound.element as { type: string } & Record<K, unknown>;
  if (element.type !== type) throw new NotThisElement(`expected a ${type}, got a ${element.type}`);
  return element[type] as K extends 'goal' ? Goal : K extends 'intervention' ? Intervention : K extends 'followUp' ? FollowUp : Agreement;
}

export const defaultReverseEntries: readonly ReverseEntry<any>[] = [
  // DFDG (employment): activities, job goals, job-search agreements and follow-ups in Min Plan.
  {
    target: 'dfdg',
    operations: ['intervention.upsert', 'intervention.end'],
    mapping: activityReverseMapping,
    toInput: (o: Outbound) => {
      const intervention = elementOf(o, 'intervention');
      return { intervention: { ...intervention, id: targetGuid('dfdg:activity:', intervention.id, o.tenant) }, authorityCode: o.tenant };
    },
    heldAs: heldUnder('dfdg:activity:'),
  },
  // Job goals, job-search agreements and follow-ups too: a changed goal or a follow-up marked done
  // updates the one record at DFDG (decision 0005: an update is never sent as a create).
  {
    target: 'dfdg',
    operations: ['goal.upsert'],
    mapping: jobGoalReverseMapping,
    toInput: (o: Outbound) => {
      const goal = elementOf(o, 'goal');
      return { goal: { ...goal, id: targetGuid('dfdg:job-goal:', goal.id, o.tenant) } };
    },
    heldAs: heldUnder('dfdg:job-goal:'),
  },
  {
    target: 'dfdg',
    operations: ['agreement.upsert'],
    mapping: jobSearchAgreementReverseMapping,
    toInput: (o: Outbound) => {
      const agreement = elementOf(o, 'agreement');
      return { agreement: { ...agreement, id: targetGuid('dfdg:job-search-agreement:', agreement.id, o.tenant) } };
    },
    heldAs: heldUnder('dfdg:job-search-agreement:'),
  },
  {
    target: 'dfdg',
    operations: ['followup.upsert'],
    mapping: followUpReverseMapping,
    toInput: (o: Outbound) => {
      const followUp = elementOf(o, 'followUp');
      return { followUp: { ...followUp, id: targetGuid('dfdg:follow-up:', followUp.id, o.tenant) } };
    },
    heldAs: heldUnder('dfdg:follow-up:'),
  },
  // Ungedatabasen / KUI (education): planned activities and the next follow-up of the education plan.
  {
    target: 'education',
    operations: ['intervention.upsert', 'intervention.end'],
    mapping: planActivityReverseMapping,
    toInput: (o: Outbound) => {
      const intervention = elementOf(o, 'intervention');
      return { intervention: { ...intervention, id: targetGuid('education:plan-activity:', intervention.id, o.tenant) } };
    },
    heldAs: heldUnder('education:plan-activity:'),
  },
  {
    target: 'education',
    operations: ['goal.upsert'],
    mapping: educationGoalReverseMapping,
    toInput: (o: Outbound) => {
      const goal = elementOf(o, 'goal');
      // The programme aimed at comes from the goal's code when it is one of Ungedatabasen's programmes.
      return { goal, programmeCode: goal.code?.system === educationProgrammes.system ? goal.code.code : '' };
    },
    // The education plan holds one goal, read back as `education:education-goal:<plan id>`: ours, once sent.
    heldAs: (o, receipt) => (o.elementId ? [{ targetElementId: `education:education-goal:${receipt.targetId}`, elementId: o.elementId }] : []),
  },
  {
    target: 'education',
    operations: ['followup.upsert'],
    mapping: planFollowUpReverseMapping,
    // Ungedatabasen holds the plan's NEXT follow-up: the earliest one still open, which the outbound carries.
    toInput: (o: Outbound) => {
      const followUp = elementOf(o, 'followUp');
      const { nextOpenDue } = o.element as Extract<Outbound['element'], { type: 'followUp' }>;
      return nextOpenDue === undefined ? { followUp } : { followUp, nextOpenDue };
    },
    // Its one next follow-up (`education:plan-follow-up:<plan id>`) is now the one whose date was sent;
    // that may be another follow-up than this one, or the plan's own again (recorded all the same:
    // the latest delivery says what the target holds).
    heldAs: (o, receipt) => {
      const { followUp, nextOpenDue, nextOpenId } = o.element as Extract<Outbound['element'], { type: 'followUp' }>;
      // Rows queued before `nextOpenId` was carried sent this follow-up's own date only when it was open.
      const held = nextOpenId !== undefined ? nextOpenId : nextOpenDue === undefined && !followUp.done ? followUp.id : null;
      return held ? [{ targetElementId: `education:plan-follow-up:${receipt.targetId}`, elementId: held }] : [];
    },
  },
  // Social (KL FHIR): goals and interventions as Goal and CarePlan. A change of the system's own Goal
  // is patched into it, ours placed among theirs; its own CarePlans are never written (their other activities).
  {
    target: 'social',
    operations: ['goal.upsert'],
    mapping: socialGoalReverse,
    toInput: (o: Outbound) => elementOf(o, 'goal'),
    addressBy: 'receipt',
    theirOwnRecord: theirOwnGoal('social:goal:', socialGoalMapping, socialGoalReverse, socialGoalCategoryScheme),
    heldAs: heldUnderServerId(goalElementId),
  },
  {
    target: 'social',
    operations: ['intervention.upsert', 'intervention.end'],
    mapping: socialInterventionReverse,
    toInput: (o: Outbound) => elementOf(o, 'intervention'),
    addressBy: 'receipt',
    updatesOnly: theSystemsOwnRecord('social'),
    // Its one activity is what reads back as the element.
    heldAs: heldUnderServerId(pushedCarePlanActivityElementId),
  },
  // Regional health (FHIR R4): proposed goals and service requests; the region keeps its own plan.
  {
    target: 'health',
    operations: ['goal.upsert'],
    mapping: healthGoalReverse,
    toInput: (o: Outbound) => elementOf(o, 'goal'),
    addressBy: 'receipt',
    theirOwnRecord: theirOwnGoal('health:goal:', healthGoalMapping, healthGoalReverse, healthGoalCategoryScheme),
    heldAs: heldUnderServerId(healthGoalElementId),
  },
  // A cancelled or ended intervention updates the request the region holds (status revoked /
  // completed); one the region was never sent has nothing there to end (R18).
  {
    target: 'health',
    operations: ['intervention.upsert', 'intervention.end'],
    mapping: healthServiceRequestReverse,
    toInput: (o: Outbound) => elementOf(o, 'intervention'),
    addressBy: 'receipt',
    updatesOnly: (o: Outbound) => {
      const { status } = elementOf(o, 'intervention');
      return status === 'cancelled' || status === 'ended' ? `the region was never sent a request for this intervention, so there is nothing there to mark ${status}` : undefined;
    },
  },
];

export const defaultReverseMappings = reverseMappingRegistry(defaultReverseEntries);
