/**
 * social.goal — an FFB or FSIII Goal becomes an Én plan goal: level from KL's goal category (the
 * citizen's own goals are overall goals), title from the goal text or its code, the targets
 * (goal type, functioning level) in words, status, target date and topic tags.
 */
import { Goal } from '../../adapters/fhir/contract';
import { danishDate, firstCoding, unreadFieldReporter } from '../../adapters/fhir/fhir-values';
import { firstText, fragment, goalStatus, isCalendarDate, MappingNotesCollector, ourElementIdOf, topicsOfLists } from '../../adapters/fhir/mapping-support';
import type { Mapping } from '../mapping';
import { goalCategoryRule, knownSystems, lookupCode, sectorOfCoding, sectorOfCodings, socialCodeListRefs, topicsForGoalType } from './codes';
import { goalElementId } from './careplan';

/** A code's list entry; a code in a system these lists cover but not listed is noted as unknown. */
function checkedCode(notes: MappingNotesCollector, system: string | undefined, code: string | undefined) {
  const entry = lookupCode(system, code);
  if (!entry && system && knownSystems.has(system)) notes.unknown(system, code);
  return entry;
}

const reportUnreadGoalFields = unreadFieldReporter('Goal', ['identifier', 'lifecycleStatus', 'achievementStatus', 'category', 'description', 'subject', 'target']);

export const socialGoalMapping: Mapping<Goal> = {
  id: 'social.goal',
  // 1.2.0: a Goal we pushed maps back onto our goal's id.
  version: '1.2.0',
  adapter: 'social',
  recordType: 'Goal',
  description: 'An FFB / FSIII Goal: level, title, targets in words, status, target date and topics.',
  sourceSchema: Goal,
  rules: [
    { id: 'goal.id', source: 'Goal.id, Goal.identifier[enplan element]', target: 'goal element id', description: 'social:goal:<id>; a Goal we pushed maps back onto our goal (its UUID under the Én plan element system); a Goal without id fails.' },
    { id: 'goal.level', source: 'Goal.category (CareSocialCodes Mål/formål)', target: 'goal.level', description: '"FFB borgers mål og ønsker" / "Borgers ønsker og mål" → overall; other goal categories → sub.' },
    { id: 'goal.title', source: 'Goal.description | target goal type', target: 'goal.title', description: 'The goal text, else the display text of its code from KL’s list, else the goal type ("Udvikle funktionsevne").' },
    { id: 'goal.targets', source: 'Goal.target (measure, detailCodeableConcept)', target: 'goal.description', description: 'Each target as "<measure>: <value>" with KL’s display texts.' },
    { id: 'goal.status', source: 'Goal.lifecycleStatus, achievementStatus', target: 'goal.status', description: 'proposed/planned → proposed; accepted/active/on-hold → active; completed or achieved → achieved; else abandoned.' },
    { id: 'goal.targetDate', source: 'Goal.target.dueDate', target: 'goal.targetDate', description: 'The earliest due date.' },
    { id: 'goal.topics', source: 'Goal.category, target goal type', target: 'goal.topics', description: 'Modelled topic tags per goal category and goal type (goal-topics.modelled.json).' },
    { id: 'goal.sector', source: 'codes', target: 'goal.sector, data category', description: 'health when a code of the goal sits in an FSIII Sundhedsloven group or, failing closed (Sundhedsloven § 43), in no KL list at all (SKS, ICD-10, local codes; not the SNOMED “Goal” code KL’s FFB reporting profile fixes); else social.' },
  ],
  codeLists: [socialCodeListRefs.careSocialCodes, socialCodeListRefs.ffb, socialCodeListRefs.fsiii, socialCodeListRefs.goalTopics],
  map(goal) {
    const notes = new MappingNotesCollector();
    if (!goal.id) return notes.fail('goal.id', 'the Goal has no id');
    reportUnreadGoalFields(goal, notes);

    let level: 'overall' | 'sub' = 'sub';
    const topics: (readonly string[])[] = [];
    // Fail closed (R9, Sundhedsloven § 43): health when any code of the goal — category,
    // description, a target's measure or value — is one KL's lists place in health or do not hold
    // at all (a diagnosis, a local code …; see `sectorOfCoding`). A goal in words only stays social.
    let health = false;
    const categories = goal.category;
    if (categories)
      for (let c = 0; c < categories.length; c++) {
        const codings = categories[c]!.coding;
        if (!codings) continue;
        for (let i = 0; i < codings.length; i++) {
          const coding = codings[i]!;
          checkedCode(notes, coding.system, coding.code);
          if (sectorOfCoding(coding.system, coding.code) === 'health') health = true;
          const rule = goalCategoryRule(coding.system, coding.code);
          if (rule) {
            if (rule.level === 'overall') level = 'overall';
            topics.push(rule.topics);
          }
        }
      }

    const descriptionCoding = firstCoding(goal.description);
    const described = descriptionCoding ? checkedCode(notes, descriptionCoding.system, descriptionCoding.code) : undefined;
    if (descriptionCoding && !described && !knownSystems.has(descriptionCoding.system ?? '')) notes.unknown(descriptionCoding.system, descriptionCoding.code);
    if (sectorOfCodings(goal.description.coding) === 'health') health = true;
    // The targets in words ("<measure>: <value>", joined by "; ") and the earliest due date, built as
    // they come: no list of texts or dates per record.
    let targetText: string | undefined;
    let goalTypeText: string | undefined;
    let earliestDue: string | undefined;
    const targets = goal.target;
    if (targets)
      for (let t = 0; t < targets.length; t++) {
        const target = targets[t]!;
        const measure = firstCoding(target.measure);
        const value = firstCoding(target.detailCodeableConcept);
        const measureEntry = measure ? checkedCode(notes, measure.system, measure.code) : undefined;
        const valueEntry = value ? checkedCode(notes, value.system, value.code) : undefined;
        if (sectorOfCodings(target.measure?.coding) === 'health' || sectorOfCodings(target.detailCodeableConcept?.coding) === 'health') health = true;
        if (value) {
          const goalTypeTopics = topicsForGoalType(value.system, value.code);
          topics.push(goalTypeTopics);
          if (goalTypeTopics.length) goalTypeText ??= valueEntry?.display ?? value.display;
        }
        const measureText = firstText(measureEntry?.display, measure?.display, target.measure?.text);
        const valueText = firstText(valueEntry?.display, value?.display, target.detailCodeableConcept?.text, target.detailString);
        if (valueText) {
          const text = measureText ? `${measureText}: ${valueText}` : valueText;
          targetText = targetText === undefined ? text : `${targetText}; ${text}`;
        }
        const due = danishDate(target.dueDate);
        // The smallest in the order `sort()` puts strings in (which `<` compares).
        if (isCalendarDate(due) && (earliestDue === undefined || due < earliestDue)) earliestDue = due;
      }
    const sector = health ? 'health' : 'social';
    // Coded goals (FFB's indsatsmål) may carry no text: the goal type is then the best title.
    const title = firstText(goal.description.text, described?.display, descriptionCoding?.display, goalTypeText);
    if (!title) return notes.fail('goal.title', 'the Goal has no text, no listed code and no goal type');

    const status = goalStatus(goal);
    const goalTopics = topicsOfLists(topics);
    // Literals for each shape, not keys set afterwards: see social.careplan.
    // prettier-ignore
    const content = targetText !== undefined
      ? earliestDue ? { level, title, sector, status, topics: goalTopics, description: targetText, targetDate: earliestDue } : { level, title, sector, status, topics: goalTopics, description: targetText }
      : earliestDue ? { level, title, sector, status, topics: goalTopics, targetDate: earliestDue } : { level, title, sector, status, topics: goalTopics };
    // A Goal we pushed comes back under the server's id: it is our goal, not a second one (R18).
    return notes.ok([fragment('goal', ourElementIdOf(goal) ?? goalElementId(goal.id), health ? 'health' : 'goals', content)]);
  },
};
