/**
 * social.delivery-report — a KL Gateway delivery report (a FHIR Bundle of type collection, as a
 * municipality reports FSIII/FFB data to KL) mapped as a whole: every Condition, Goal, CarePlan and
 * CareTeam entry through its own mapping (same element ids as when pulled one by one), and each
 * planned follow-up Encounter ("opfølgning") as a follow-up on the intervention that treats the
 * condition it is about. The Patient entry identifies the citizen only and is not mapped.
 */
import { Bundle, CarePlan, CareTeam, Condition, Encounter, Goal } from '../../adapters/fhir/contract';
import { danishDate, firstCoding, referencedId } from '../../adapters/fhir/fhir-values';
import { fragment, isCalendarDate, MappingNotesCollector } from '../../adapters/fhir/mapping-support';
import { CARE_SOCIAL_SYSTEM } from '../../adapters/fhir/systems';
import type { Mapping, MappingContext, MappingResult } from '../mapping';
import { carePlanActivityElementIds, socialCarePlanMapping } from './careplan';
import { socialCareTeamMapping } from './careteam';
import { conditionText, socialConditionMapping } from './condition';
import { lookupCode, socialCodeListRefs } from './codes';
import { socialGoalMapping } from './goal';

/** CareSocialCodes "opfølgning" (kontaktaktivitet). */
const FOLLOW_UP = { system: CARE_SOCIAL_SYSTEM, code: '9f03dfbb-7a97-45a5-94db-d4c3501714a9' };

export const encounterElementId = (encounterId: string) => `social:encounter:${encounterId}`;

const entryMappings = {
  CarePlan: { schema: CarePlan, mapping: socialCarePlanMapping },
  Goal: { schema: Goal, mapping: socialGoalMapping },
  Condition: { schema: Condition, mapping: socialConditionMapping },
  CareTeam: { schema: CareTeam, mapping: socialCareTeamMapping },
} as const;

export const socialDeliveryReportMapping: Mapping<Bundle> = {
  id: 'social.delivery-report',
  // 1.1.0: its entries go through social.careplan, social.goal and social.condition 1.1.0.
  // 1.2.0: social.careplan 1.2.0 (a CarePlan we pushed maps back onto our intervention).
  // 1.3.0: social.goal 1.2.0 (a Goal we pushed maps back onto our goal).
  // 1.4.0: social.careplan 1.3.0 (an activity named by what it is, not its position); a follow-up is
  // about an intervention only where the activity treating its condition makes one.
  version: '1.4.0',
  adapter: 'social',
  recordType: 'DeliveryReport',
  description: 'A KL Gateway delivery report bundle: conditions, goals, planned interventions and planned follow-ups.',
  sourceSchema: Bundle,
  rules: [
    { id: 'entry', source: 'Bundle.entry.resource', target: 'per entry mapping', description: 'Each Condition, Goal, CarePlan and CareTeam through social.condition, social.goal, social.careplan and social.careteam; one entry failing its contract fails the report.' },
    { id: 'entry.Encounter', source: 'Encounter (type opfølgning)', target: 'followUp', description: 'A planned follow-up: due on period.start, about the intervention that treats its reason condition, done when finished.' },
    { id: 'entry.Patient', source: 'Patient', target: '—', description: 'Identifies the citizen; nothing of it enters the plan.' },
  ],
  codeLists: [socialCodeListRefs.fsiii, socialCodeListRefs.ffb, socialCodeListRefs.careSocialCodes],
  map(report, context) {
    const notes = new MappingNotesCollector();
    if (report.type !== 'collection') notes.ignore(`Bundle.type (${report.type}, expected collection)`);
    const resources = (report.entry ?? []).map((e) => e.resource as { resourceType?: string; id?: string } | undefined);
    const fragments: unknown[] = [];

    const conditions = new Map<string, Condition>();
    const treatedBy = new Map<string, string>();
    for (const resource of resources) {
      if (resource?.resourceType === 'Condition' && resource.id) {
        const parsed = Condition.safeParse(resource);
        if (parsed.success) conditions.set(resource.id, parsed.data);
      }
      if (resource?.resourceType === 'CarePlan' && resource.id) {
        const parsed = CarePlan.safeParse(resource);
        const elementIds = parsed.success ? carePlanActivityElementIds(parsed.data) : [];
        parsed.data?.activity?.forEach((activity, index) => {
          // An activity that makes no intervention (no code) has nothing to follow up on.
          const elementId = elementIds[index];
          if (elementId === undefined) return;
          for (const reason of activity.detail?.reasonReference ?? []) {
            const conditionId = referencedId(reason, 'Condition');
            if (conditionId && !treatedBy.has(conditionId)) treatedBy.set(conditionId, elementId);
          }
        });
      }
    }

    for (const [index, resource] of resources.entries()) {
      const type = resource?.resourceType;
      if (type === 'Patient') {
        notes.ignore('Bundle.entry.Patient');
        continue;
      }
      if (type === 'Encounter') {
        const failed = mapEncounter(resource, index, conditions, treatedBy, notes, fragments);
        if (failed) return failed;
        continue;
      }
      const entry = type ? entryMappings[type as keyof typeof entryMappings] : undefined;
      if (!entry) {
        notes.ignore(`Bundle.entry.${type ?? 'unknown'}`);
        continue;
      }
      const result = runEntry(entry.schema, entry.mapping as Mapping<unknown>, resource, context);
      notes.absorb(result);
      if (!result.ok) return notes.fail('entry', `entry ${index} (${type}/${resource?.id ?? '?'}): ${result.ruleId}: ${result.reason}`);
      fragments.push(...result.fragments);
    }
    return notes.ok(fragments);
  },
};

function runEntry(schema: { safeParse(input: unknown): { success: boolean; data?: unknown; error?: { issues: { path: PropertyKey[]; message: string }[] } } }, mapping: Mapping<unknown>, resource: unknown, context: MappingContext): MappingResult {
  const parsed = schema.safeParse(resource);
  if (!parsed.success) {
    const issue = parsed.error?.issues[0];
    return { ok: false, ruleId: 'contract', reason: `${issue?.path.join('.') || 'record'}: ${issue?.message ?? 'does not match the contract'}`, unknownCodes: [], ignoredFields: [] };
  }
  return mapping.map(parsed.data, context);
}

function mapEncounter(
  resource: unknown,
  index: number,
  conditions: ReadonlyMap<string, Condition>,
  treatedBy: ReadonlyMap<string, string>,
  notes: MappingNotesCollector,
  fragments: unknown[],
): MappingResult | undefined {
  const parsed = Encounter.safeParse(resource);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return notes.fail('entry', `entry ${index} (Encounter): ${issue?.path.join('.') || 'record'}: ${issue?.message}`);
  }
  const encounter = parsed.data;
  const kind = firstCoding(encounter.type);
  if (kind?.system !== FOLLOW_UP.system || kind.code !== FOLLOW_UP.code) {
    if (kind && !lookupCode(kind.system, kind.code)) notes.unknown(kind.system, kind.code);
    notes.ignore('Bundle.entry.Encounter (not a follow-up)');
    return undefined;
  }
  const due = danishDate(encounter.period?.start);
  if (!encounter.id || !isCalendarDate(due)) {
    notes.ignore('Bundle.entry.Encounter (follow-up without id or date)');
    return undefined;
  }
  const conditionId = encounter.reasonReference?.map((r) => referencedId(r, 'Condition')).find((id): id is string => !!id);
  const condition = conditionId ? conditions.get(conditionId) : undefined;
  const about = condition ? conditionText(condition).text : undefined;
  // Only goals and interventions are followed up in the model; a condition no intervention treats stays in the text.
  const followed = conditionId ? treatedBy.get(conditionId) : undefined;
  fragments.push(
    fragment('followUp', encounterElementId(encounter.id), 'plan-core', {
      due,
      text: about ? `Opfølgning: ${about}` : 'Opfølgning',
      ...(followed ? { elementId: followed } : {}),
      done: encounter.status === 'finished',
    }),
  );
  return undefined;
}
