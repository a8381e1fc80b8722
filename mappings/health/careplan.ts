/**
 * health.careplan — a regional plan (psychiatric treatment plan, discharge agreement, coordination
 * plan, rehabilitation plan, dual-diagnosis plan) becomes interventions in sector `health` and data
 * category `health`: one per coded activity, or one for the plan itself when it lists none. Health
 * data flows only on explicit consent (Sundhedsloven §43); the category is what the gate checks.
 */
import { CarePlan, type CarePlanActivity } from '../../adapters/fhir/contract';
import { codingIn, danishDate, extensionString, firstCoding, unreadFieldReporter } from '../../adapters/fhir/fhir-values';
import { codedActivity, firstText, fragment, interventionStatus, isCalendarDate, MappingNotesCollector, NOT_STATED, referencedElementIds, renamedFragment, usableLegalBasis } from '../../adapters/fhir/mapping-support';
import { LEGAL_BASIS_EXTENSION, REGIONAL_PLAN_TYPE_SYSTEM } from '../../adapters/fhir/systems';
import { activityKeys } from '../careplan-activity';
import type { Mapping } from '../mapping';
import { activityFor, healthCodeListRefs, planTypeFor } from './codes';

/**
 * `health:careplan:<id>` for a plan that is itself the intervention, `health:careplan:<id>:activity:<key>`
 * for an activity, the key naming it whatever its place in the plan (mappings/careplan-activity.ts).
 */
export const healthCarePlanElementId = (carePlanId: string, activityKey?: string) =>
  activityKey === undefined ? `health:careplan:${carePlanId}` : `health:careplan:${carePlanId}:activity:${activityKey}`;
export const healthGoalElementId = (goalId: string) => `health:goal:${goalId}`;

/**
 * One intervention's content, or undefined without a start date. One object literal: spreading a
 * shared part into each intervention (`{ ...base, … }`) made V8 build every fragment property by
 * property on a slow path; a module-level function costs no closure per record, and plain
 * parameters no object per activity.
 */
function intervention(
  unit: string,
  topics: readonly string[] | undefined,
  title: string,
  start: string | undefined,
  end: string | undefined,
  performer: string | undefined,
  legalBasis: string,
  type: { system: string; code: string; display: string },
  status: string,
  goalIds: string[],
) {
  if (!isCalendarDate(start)) return undefined;
  const name = performer?.trim() || unit;
  return {
    sector: 'health',
    title,
    responsibleUnit: unit,
    contact: unit !== NOT_STATED ? { name, unit } : { name },
    period: isCalendarDate(end) && end >= start ? { start, end } : { start },
    dependsOn: [],
    confidentiality: 'normal',
    // The plan type's own list (the model check copies it into the fragment).
    topics: topics ?? [],
    legalBasis,
    type,
    // Not the activity's place in the plan: that shifts when the region removes an earlier activity,
    // and every later intervention would read as changed.
    order: 0,
    status,
    goalIds,
  };
}

/**
 * What health.careplan before 1.1.0 named an activity: its position among the plan's activities. A
 * fragment carries it as `formerElementId`, so the merge can move a plan's element from it (see
 * `Fragment.formerElementId`); it names the same activity only in the CarePlan version 1.0.0 read.
 */
const healthCarePlanPositionId = (carePlanId: string, activityIndex: number) => `health:careplan:${carePlanId}:activity:${activityIndex}`;

const reportUnreadPlanFields = unreadFieldReporter('CarePlan', ['status', 'category', 'title', 'subject', 'period', 'created', 'author', 'activity']);
const NO_ACTIVITIES: readonly CarePlanActivity[] = [];

export const healthCarePlanMapping: Mapping<CarePlan> = {
  id: 'health.careplan',
  // 1.1.0: an activity is named by its own id, its reference or its lasting content, not its position;
  // its place in the plan is no longer its `order` (that shifted too).
  version: '1.1.0',
  adapter: 'health',
  recordType: 'CarePlan',
  description: 'A regional plan: its activities (or the plan itself) as health interventions, in data category health.',
  sourceSchema: CarePlan,
  rules: [
    { id: 'careplan.id', source: 'CarePlan.id', target: 'intervention element id', description: 'health:careplan:<id>[:activity:<key>], the key a hash of the activity’s own element id, else its reference, else its kind, code and instantiates — never its position, status, period or progress; a second activity with the same key gets -2, -3 …; a CarePlan without id fails.' },
    { id: 'careplan.type', source: 'CarePlan.category (regional plan type)', target: 'legal basis, topics', description: 'The plan type gives the legal basis (PsykL §13 a/b, SUL §84 …) and topics (mental-health, discharge …).' },
    { id: 'activity.type', source: 'activity.detail.code (regional activity)', target: 'intervention.type, title', description: 'The activity code with the list’s display text; unlisted codes are reported and keep the source display.' },
    { id: 'activity.legalBasis', source: 'activity.detail.extension[legal-basis] | plan type', target: 'intervention.legalBasis', description: 'Stated by the source, else the plan type’s, else Sundhedsloven.' },
    { id: 'activity.period', source: 'activity.detail.scheduledPeriod | CarePlan.period | created', target: 'intervention.period', description: 'Danish calendar dates; a period without start fails.' },
    { id: 'activity.status', source: 'activity.detail.status, CarePlan.status', target: 'intervention.status', description: 'As for social plans; a revoked plan cancels all.' },
    { id: 'activity.responsible', source: 'CarePlan.author, activity.detail.performer', target: 'intervention.responsibleUnit, contact', description: 'The treating unit and the named clinician.' },
    { id: 'careplan.category', source: '—', target: 'data category', description: 'Always health, sector health.' },
  ],
  codeLists: [healthCodeListRefs.planTypes, healthCodeListRefs.activities],
  map(plan) {
    const notes = new MappingNotesCollector();
    if (!plan.id) return notes.fail('careplan.id', 'the CarePlan has no id');
    reportUnreadPlanFields(plan, notes);

    const typeCoding = codingIn(plan.category, REGIONAL_PLAN_TYPE_SYSTEM) ?? firstCoding(plan.category);
    const planType = planTypeFor(typeCoding?.system, typeCoding?.code);
    if (typeCoding && !planType) notes.unknown(typeCoding.system, typeCoding.code);
    const unit = plan.author?.display?.trim() || NOT_STATED;
    const planStart = danishDate(plan.period?.start) ?? danishDate(plan.created);
    const planEnd = danishDate(plan.period?.end);

    const fragments = [];
    const activities = plan.activity ?? NO_ACTIVITIES;
    const keys = activityKeys(activities);
    for (let index = 0; index < activities.length; index++) {
      const coded = codedActivity(activities[index]!, notes, activityFor);
      if (!coded) continue;
      const { detail, coding, display } = coded;
      const content = intervention(
        unit,
        planType?.topics,
        firstText(detail.description) ?? display,
        danishDate(detail.scheduledPeriod?.start) ?? planStart,
        danishDate(detail.scheduledPeriod?.end) ?? planEnd,
        detail.performer?.[0]?.display,
        usableLegalBasis(extensionString(detail.extension, LEGAL_BASIS_EXTENSION)) ?? planType?.legalBasis ?? 'Sundhedsloven',
        { system: coding.system, code: coding.code, display },
        interventionStatus(detail.status, plan.status),
        referencedElementIds(detail.goal, 'Goal', healthGoalElementId),
      );
      if (!content) return notes.fail('activity.period', `activity ${index} has no start date, and neither has the plan`);
      fragments.push(renamedFragment('intervention', healthCarePlanElementId(plan.id, keys[index]!), healthCarePlanPositionId(plan.id, index), 'health', content));
    }

    if (!fragments.length) {
      // A plan without coded activities is itself the intervention: "Udskrivningsaftale" from <unit>.
      if (!typeCoding?.code || !typeCoding.system) return notes.ok([]);
      const display = firstText(planType?.display, typeCoding.display, plan.title) ?? typeCoding.code;
      const planStatus = plan.status === 'completed' ? 'ended' : plan.status === 'revoked' || plan.status === 'entered-in-error' ? 'cancelled' : plan.status === 'active' ? 'active' : 'planned';
      const content = intervention(
        unit,
        planType?.topics,
        firstText(plan.title) ?? display,
        planStart,
        planEnd,
        undefined,
        planType?.legalBasis ?? 'Sundhedsloven',
        { system: typeCoding.system, code: typeCoding.code, display },
        planStatus,
        referencedElementIds(plan.goal, 'Goal', healthGoalElementId),
      );
      if (!content) return notes.fail('activity.period', 'the plan has no start date');
      fragments.push(fragment('intervention', healthCarePlanElementId(plan.id), 'health', content));
    } else if (plan.goal?.length) notes.ignoreField('CarePlan.goal');

    return notes.ok(fragments);
  },
};
