/**
 * health.goal — a regional treatment goal becomes an Én plan goal in sector `health`, data category
 * `health`, with topics from its HL7 goal category.
 */
import { Goal } from '../../adapters/fhir/contract';
import { danishDate, firstCoding, unreadFieldReporter } from '../../adapters/fhir/fhir-values';
import { firstText, fragment, goalStatus, isCalendarDate, MappingNotesCollector, ourElementIdOf, topicsOfLists } from '../../adapters/fhir/mapping-support';
import type { Mapping } from '../mapping';
import { goalCategoryFor, healthCodeListRefs, knownHealthSystems } from './codes';
import { healthGoalElementId } from './careplan';

const reportUnreadGoalFields = unreadFieldReporter('Goal', ['identifier', 'lifecycleStatus', 'achievementStatus', 'category', 'description', 'subject', 'target']);
const HEALTH_TOPIC: readonly string[] = ['health'];

export const healthGoalMapping: Mapping<Goal> = {
  id: 'health.goal',
  // 1.1.0: a Goal we proposed maps back onto our goal's id.
  version: '1.1.0',
  adapter: 'health',
  recordType: 'Goal',
  description: 'A regional treatment goal: a health goal with status, target date and topics.',
  sourceSchema: Goal,
  rules: [
    { id: 'goal.id', source: 'Goal.id, Goal.identifier[enplan element]', target: 'goal element id', description: 'health:goal:<id>; a Goal we proposed maps back onto our goal (its UUID under the Én plan element system); a Goal without id fails.' },
    { id: 'goal.title', source: 'Goal.description', target: 'goal.title', description: 'The goal text, else its code display.' },
    { id: 'goal.status', source: 'Goal.lifecycleStatus, achievementStatus', target: 'goal.status', description: 'As for social goals.' },
    { id: 'goal.targetDate', source: 'Goal.target.dueDate', target: 'goal.targetDate', description: 'The earliest due date.' },
    { id: 'goal.topics', source: 'Goal.category (HL7 goal-category)', target: 'goal.topics', description: 'behavioral → mental-health, physiotherapy → rehabilitation …; always also "health".' },
    { id: 'goal.category', source: '—', target: 'data category', description: 'Always health, sector health, level sub.' },
  ],
  codeLists: [healthCodeListRefs.goalCategories],
  map(goal) {
    const notes = new MappingNotesCollector();
    if (!goal.id) return notes.fail('goal.id', 'the Goal has no id');
    reportUnreadGoalFields(goal, notes);
    const topics: (readonly string[])[] = [HEALTH_TOPIC];
    const categories = goal.category;
    if (categories)
      for (let c = 0; c < categories.length; c++) {
        const codings = categories[c]!.coding;
        if (!codings) continue;
        for (let i = 0; i < codings.length; i++) {
          const coding = codings[i]!;
          const entry = goalCategoryFor(coding.system, coding.code);
          if (entry) topics.push(entry.topics);
          else if (coding.code) notes.unknown(coding.system, coding.code);
        }
      }
    const coding = firstCoding(goal.description);
    if (coding && !knownHealthSystems.has(coding.system ?? '')) notes.unknown(coding.system, coding.code);
    const title = firstText(goal.description.text, coding?.display);
    if (!title) return notes.fail('goal.title', 'the Goal has neither text nor a code with a display');
    // The earliest due date (the smallest in the order `sort()` puts strings in, which `<` compares), and whether a target measures anything.
    let earliestDue: string | undefined;
    let measured = false;
    const targets = goal.target;
    if (targets)
      for (let t = 0; t < targets.length; t++) {
        const target = targets[t]!;
        const due = danishDate(target.dueDate);
        if (isCalendarDate(due) && (earliestDue === undefined || due < earliestDue)) earliestDue = due;
        if (target.measure || target.detailCodeableConcept || target.detailString) measured = true;
      }
    if (measured) notes.ignoreField('Goal.target (measures)');
    const status = goalStatus(goal);
    const goalTopics = topicsOfLists(topics);
    // Two literals, not one and a key set afterwards (see social.careplan), nor a spread (a slow
    // runtime copy); the model check builds the fragment in the model's own field order anyway.
    const content = earliestDue
      ? { level: 'sub', title, sector: 'health', status, topics: goalTopics, targetDate: earliestDue }
      : { level: 'sub', title, sector: 'health', status, topics: goalTopics };
    // A Goal we proposed comes back under the region's id: it is our goal, not a second one (R18).
    return notes.ok([fragment('goal', ourElementIdOf(goal) ?? healthGoalElementId(goal.id), 'health', content)]);
  },
};
