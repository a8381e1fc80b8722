/**
 * social.careplan — a care-social / FFB CarePlan (or a KL Gateway planned intervention) becomes one
 * Én plan intervention per coded activity: the FFB or FSIII code with KL's display text, the sector
 * and legal basis the code sits under, period, status, provider and the goals it serves.
 */
import { CarePlan, type CarePlanActivity } from '../../adapters/fhir/contract';
import { danishDate, extensionString, referencedId, unreadFieldReporter } from '../../adapters/fhir/fhir-values';
import { codedActivity, firstText, interventionStatus, isCalendarDate, MappingNotesCollector, NOT_STATED, ourElementIdOf, referencedElementIds, renamedFragment, usableLegalBasis } from '../../adapters/fhir/mapping-support';
import { ENPLAN_ELEMENT_SYSTEM, LEGAL_BASIS_EXTENSION } from '../../adapters/fhir/systems';
import { isAnonymousTreatmentBasis } from '../../src/model';
import { activityKeys } from '../careplan-activity';
import type { Mapping } from '../mapping';
import { lookupCode, sectorOfCodings, socialCodeListRefs } from './codes';

const PROVIDER_ID = /^[A-Za-z0-9._-]+$/;
const NO_ACTIVITIES: readonly CarePlanActivity[] = [];
/**
 * Not the activity's place in the CarePlan: that shifts when the source removes an earlier activity,
 * and every later intervention would read as changed (as DFDG's activities, all 0).
 */
const ACTIVITY_ORDER = 0;

/** Used when neither the activity nor the code list states a section: the act itself. */
const FALLBACK_LEGAL_BASIS = { social: 'Serviceloven', health: 'Sundhedsloven' } as const;

/**
 * The element id of a social CarePlan's activity: `social:careplan:<id>:activity:<key>`, the key
 * naming the activity whatever its place in the plan (mappings/careplan-activity.ts).
 */
export const socialCarePlanActivityElementId = (carePlanId: string, activityKey: string) => `social:careplan:${carePlanId}:activity:${activityKey}`;

/**
 * What the one activity of a CarePlan we pushed reads back as when our element id is no UUID (an
 * element another source named): the delivery records it as held under this id (`heldAs`), so it
 * stays the form it has always had.
 */
export const pushedCarePlanActivityElementId = (carePlanId: string) => `social:careplan:${carePlanId}:activity:0`;

/**
 * The element id of each activity of a CarePlan (by index; undefined for one that makes no
 * intervention). A CarePlan we pushed (`social.intervention.reverse`: one activity, our element's
 * id under ENPLAN_ELEMENT_SYSTEM) comes back under the server's own id; its first activity is our
 * intervention, so it maps back onto that element's id (a UUID) or onto the id its delivery recorded
 * as held (`pushedCarePlanActivityElementId`), instead of becoming a second intervention (R18).
 * Every other activity is named by its key.
 */
export function carePlanActivityElementIds(plan: Pick<CarePlan, 'id' | 'identifier' | 'activity'>): (string | undefined)[] {
  const keys = activityKeys(plan.activity ?? NO_ACTIVITIES);
  const pushed = plan.identifier?.some((i) => i.system === ENPLAN_ELEMENT_SYSTEM) === true;
  const ids = new Array<string | undefined>(keys.length);
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index];
    if (key === undefined) continue;
    ids[index] = pushed && index === 0 ? (ourElementIdOf(plan) ?? pushedCarePlanActivityElementId(plan.id!)) : socialCarePlanActivityElementId(plan.id!, key);
  }
  return ids;
}
/**
 * What social.careplan before 1.3.0 named the activity at `activityIndex`: our element's id for the
 * first activity of a CarePlan we pushed, else its position. A fragment carries it as
 * `formerElementId`, so the merge can move a plan's element from it (see `Fragment.formerElementId`);
 * it names the same activity only in the CarePlan version the older mapping read.
 */
export const carePlanActivityPositionId = (plan: Pick<CarePlan, 'id' | 'identifier'>, activityIndex: number) =>
  (activityIndex === 0 ? ourElementIdOf(plan) : undefined) ?? `social:careplan:${plan.id}:activity:${activityIndex}`;
/** A Goal's element id as a reference to it names it (`social:goal:<id>`). */
export const goalElementId = (goalId: string) => `social:goal:${goalId}`;

const reportUnreadPlanFields = unreadFieldReporter('CarePlan', ['identifier', 'status', 'subject', 'period', 'created', 'activity']);

export const socialCarePlanMapping: Mapping<CarePlan> = {
  id: 'social.careplan',
  // 1.2.0: a CarePlan we pushed maps its activity back onto our intervention's id.
  // 1.3.0: an activity is named by its own id, its reference or its lasting content, not its position;
  // its place in the plan is no longer its `order` (that shifted too).
  version: '1.3.0',
  adapter: 'social',
  recordType: 'CarePlan',
  description: 'A care-social / FFB CarePlan: each coded activity becomes an intervention with its FFB or FSIII code, legal basis, period and status.',
  sourceSchema: CarePlan,
  rules: [
    { id: 'careplan.id', source: 'CarePlan.id, CarePlan.identifier[enplan element]', target: 'intervention element id', description: 'social:careplan:<id>:activity:<key>, the key a hash of the activity’s own element id, else its reference, else its kind, code and instantiates — never its position, status, period or progress; a second activity with the same key gets -2, -3 …; a CarePlan we pushed maps its first activity back onto our element (its UUID under the Én plan element system, or :activity:0 as its delivery recorded); a CarePlan without id cannot be merged in place, so it fails.' },
    { id: 'activity.type', source: 'activity.detail.code', target: 'intervention.type', description: 'The FFB or FSIII coding, display text from KL’s code list; unlisted codes are reported and keep the source display.' },
    { id: 'activity.sector', source: 'activity.detail.code', target: 'intervention.sector', description: 'health for FSIII Sundhedsloven groups (nursing, rehabilitation after hospital, health promotion) and, failing closed (Sundhedsloven § 43), for any code no KL list holds (SKS, ICD-10, local codes); social only when KL’s lists place every code there; health goes in data category health.' },
    { id: 'activity.legalBasis', source: 'activity.detail.extension[legal-basis] | code list', target: 'intervention.legalBasis', description: 'Stated by the source, else the section the code sits under (FSIII) or the modelled FFB table, else the act (Serviceloven / Sundhedsloven; Serviceloven for a code no list holds).' },
    { id: 'activity.confidentiality', source: 'legal basis', target: 'intervention.confidentiality', description: 'SEL § 101 a (anonymous treatment) is never shown to other members: any reference to a section 101 a, however the act is named (SEL, Serviceloven, lov om social service, none).' },
    { id: 'activity.title', source: 'activity.detail.description | code display', target: 'intervention.title', description: 'The activity’s own description, else the code’s display text.' },
    { id: 'activity.period', source: 'activity.detail.scheduledPeriod | CarePlan.period | CarePlan.created', target: 'intervention.period', description: 'Danish calendar dates; a period without a start fails.' },
    { id: 'activity.status', source: 'activity.detail.status, CarePlan.status', target: 'intervention.status', description: 'not-started/scheduled → planned, in-progress/on-hold → active, completed/stopped → ended, cancelled → cancelled; a revoked plan cancels all.' },
    { id: 'activity.provider', source: 'activity.detail.performer', target: 'intervention.responsibleUnit, contact, providerId', description: 'The performing provider; "Ikke oplyst i kilden" when absent.' },
    { id: 'activity.goals', source: 'activity.detail.goal', target: 'intervention.goalIds', description: 'Referenced Goals as social:goal:<id>.' },
  ],
  codeLists: [socialCodeListRefs.ffb, socialCodeListRefs.fsiii],
  map(plan) {
    const notes = new MappingNotesCollector();
    if (!plan.id) return notes.fail('careplan.id', 'the CarePlan has no id');
    reportUnreadPlanFields(plan, notes);

    const fragments = [];
    const activities = plan.activity ?? NO_ACTIVITIES;
    const elementIds = carePlanActivityElementIds(plan);
    for (let index = 0; index < activities.length; index++) {
      const coded = codedActivity(activities[index]!, notes, lookupCode);
      if (!coded) continue;
      const { detail, coding, listed, display } = coded;
      // Fail closed (R9, Sundhedsloven § 43): social only when KL's lists place every code of the
      // activity in the social sector; an SKS procedure or diagnosis, a local code, any code no KL list
      // holds is health. See `sectorOfCoding`.
      const sector = sectorOfCodings(detail.code?.coding);
      const stated = extensionString(detail.extension, LEGAL_BASIS_EXTENSION);
      const usable = usableLegalBasis(stated);
      if (stated !== undefined && !usable) notes.ignoreField('CarePlan.activity.detail.extension[legal-basis] (not a usable legal basis)');
      // A code no list holds is health only to protect it: the act it falls under is still the
      // social system's own (Serviceloven), not one we would guess from the sector.
      const legalBasis = usable ?? listed?.legalBasis ?? (listed ? FALLBACK_LEGAL_BASIS[sector] : FALLBACK_LEGAL_BASIS.social);

      const start = danishDate(detail.scheduledPeriod?.start) ?? danishDate(plan.period?.start) ?? danishDate(plan.created);
      const end = danishDate(detail.scheduledPeriod?.end) ?? danishDate(plan.period?.end);
      if (!isCalendarDate(start)) return notes.fail('activity.period', `activity ${index} has no start date, and neither has the plan`);
      const period = isCalendarDate(end) && end >= start ? { start, end } : { start };

      const performer = detail.performer?.[0];
      const performerName = firstText(performer?.display) ?? NOT_STATED;
      const providerId = referencedId(performer, 'Organization');
      const title = firstText(detail.description) ?? display;
      const type = { system: coding.system, code: coding.code, display };
      const status = interventionStatus(detail.status, plan.status);
      const goalIds = referencedElementIds(detail.goal, 'Goal', goalElementId);
      // SEL § 101 a however it is written (fail closed, R4): see `isAnonymousTreatmentBasis`.
      const confidentiality = isAnonymousTreatmentBasis(legalBasis) ? 'anonymous-treatment' : 'normal';
      const provider = providerId && PROVIDER_ID.test(providerId) ? providerId : undefined;
      // Two literals, not one and a key set afterwards: a literal's hidden class lives as long as this
      // code, where a key added later makes a class that a full garbage collection between two syncs
      // can collect — and V8 then drops the optimised code built on it. (Nor a spread: a slow runtime copy.)
      // The model check builds the fragment in the model's own field order anyway.
      // prettier-ignore
      const content = provider
        ? { sector, legalBasis, type, title, responsibleUnit: performerName, contact: { name: performerName }, period, order: ACTIVITY_ORDER, dependsOn: [], status, goalIds, confidentiality, topics: [], providerId: provider }
        : { sector, legalBasis, type, title, responsibleUnit: performerName, contact: { name: performerName }, period, order: ACTIVITY_ORDER, dependsOn: [], status, goalIds, confidentiality, topics: [] };
      fragments.push(renamedFragment('intervention', elementIds[index]!, carePlanActivityPositionId(plan, index), sector === 'health' ? 'health' : 'interventions', content));
    }
    return notes.ok(fragments);
  },
};
