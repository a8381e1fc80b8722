/**
 * Realistic FHIR R4 records of a regional health system (DK-core) for the synthetic population: the
 * Patient with its CPR identifier, a psychiatric treatment plan, discharge agreement, coordination
 * plan, rehabilitation plan or dual-diagnosis plan as a CarePlan with activities, its Goals, the
 * treating CareTeam, and the Consent under which the region shares with the municipality
 * (Sundhedsloven §43: health data needs explicit consent).
 *
 * Plan types and activities use the modelled regional code lists in mappings/health/codes; goal
 * categories are HL7's; the consent codes are HL7/LOINC as in the FHIR R4 Consent examples.
 */
import type { CarePlan, CarePlanActivity, CareTeam, Consent, Goal, Patient } from '@medplum/fhirtypes';
import { generatePopulation, type SyntheticCitizen } from '../shared/population';
import { goalCategories, regionalActivities, regionalPlanTypes } from '../../mappings/health/codes';
import { citizenRandom, daysAfter, daysBefore, pick, seedId, seedLastUpdatedMs } from '../fhir/seed';
import {
  ACT_REASON_SYSTEM,
  CARE_TEAM_ROLE_SYSTEM,
  CONSENT_SCOPE_SYSTEM,
  CPR_SYSTEM,
  GOAL_CATEGORY_SYSTEM,
  LOINC_SYSTEM,
  MUNICIPALITY_CODE_SYSTEM,
  PARTICIPATION_TYPE_SYSTEM,
  REGIONAL_ACTIVITY_SYSTEM,
  REGIONAL_PLAN_TYPE_SYSTEM,
} from '../fhir/systems';

export const HEALTH_SECTOR = 'health';
export const DK_CORE_PATIENT_PROFILE = 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-patient';
const MUNICIPALITY_CODE_EXTENSION = 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-municipalityCodes';

export type HealthRecord = Patient | CarePlan | Goal | CareTeam | Consent;

const planType = (code: string) => {
  const entry = regionalPlanTypes.concepts.find((c) => c.code === code);
  if (!entry) throw new Error(`regional-plan-types has no ${code}`);
  return { system: REGIONAL_PLAN_TYPE_SYSTEM, code: entry.code, display: entry.display };
};
const activity = (code: string) => {
  const entry = regionalActivities.concepts.find((c) => c.code === code);
  if (!entry) throw new Error(`regional-activities has no ${code}`);
  return { system: REGIONAL_ACTIVITY_SYSTEM, code: entry.code, display: entry.display };
};
const category = (code: string) => {
  const entry = goalCategories.concepts.find((c) => c.code === code);
  if (!entry) throw new Error(`goal-categories has no ${code}`);
  return { system: GOAL_CATEGORY_SYSTEM, code: entry.code, display: entry.display };
};

/** Plan types with their share of plans, the activities they hold, and typical goals. */
const plans = [
  {
    weight: 0.5,
    type: planType('psychiatric-treatment-plan'),
    activities: ['outpatient-psychiatric-treatment', 'medication-review', 'psychoeducation', 'follow-up-consultation'],
    goals: [
      { text: 'Stabil medicinsk behandling uden bivirkninger, der hindrer hverdagen', category: 'behavioral' },
      { text: 'Færre akutte indlæggelser det næste år', category: 'behavioral' },
      { text: 'Kender egne tidlige tegn på tilbagefald', category: 'behavioral' },
    ],
    unit: 'Distriktspsykiatrien',
  },
  {
    weight: 0.2,
    type: planType('discharge-agreement'),
    activities: ['discharge-conference', 'follow-up-consultation', 'medication-review'],
    goals: [
      { text: 'Har kontakt til egen læge senest to uger efter udskrivning', category: 'behavioral' },
      { text: 'Har et sted at bo ved udskrivning', category: 'safety' },
    ],
    unit: 'Psykiatrisk Center, sengeafsnit',
  },
  {
    weight: 0.1,
    type: planType('coordination-plan'),
    activities: ['coordination-meeting', 'follow-up-consultation'],
    goals: [{ text: 'Fælles aftale mellem region og kommune om opfølgning', category: 'safety' }],
    unit: 'Psykiatrisk Center, udgående team',
  },
  {
    weight: 0.1,
    type: planType('dual-diagnosis-coordinated-plan'),
    activities: ['addiction-treatment-coordination', 'outpatient-psychiatric-treatment', 'coordination-meeting'],
    goals: [
      { text: 'Nedsat forbrug af rusmidler', category: 'behavioral' },
      { text: 'Fast kontaktperson i både psykiatri og misbrugsbehandling', category: 'safety' },
    ],
    unit: 'Dobbeltdiagnoseteamet',
  },
  {
    weight: 0.1,
    type: planType('rehabilitation-plan'),
    activities: ['specialised-rehabilitation', 'follow-up-consultation'],
    goals: [
      { text: 'Kan gå 500 meter uden hvil', category: 'physiotherapy' },
      { text: 'Kan selv tilberede et enkelt måltid', category: 'dietary' },
    ],
    unit: 'Afdeling for neurorehabilitering',
  },
] as const;

const clinicians = ['Overlæge Hanne Holm', 'Psykolog Ali Demir', 'Sygeplejerske Line Krogh', 'Fysioterapeut Per Vang', 'Socialrådgiver Eva Nygaard'];
const regionCentres = ['Psykiatrisk Center København', 'Psykiatrisk Center Amager', 'Psykiatrien Region Syddanmark', 'Aarhus Universitetshospital, Psykiatrien'];

const concept = (code: { system: string; code: string; display: string }) => ({ coding: [{ ...code }] });
const ref = (type: string, id: string) => ({ reference: `${type}/${id}` });

function meta(seed: number, ordinal: number, slot: number) {
  return { versionId: '1', lastUpdated: new Date(seedLastUpdatedMs(seed, HEALTH_SECTOR, ordinal, slot)).toISOString() };
}

function choosePlan(random: () => number) {
  let r = random();
  for (const plan of plans) {
    if ((r -= plan.weight) < 0) return plan;
  }
  return plans[0];
}

/**
 * All records of one citizen, in slot order: Patient, CarePlan, Goals, CareTeam, Consent.
 * Deterministic for (seed, ordinal).
 */
export function healthRecordsFor(citizen: SyntheticCitizen, ordinal: number, seed: number): HealthRecord[] {
  const random = citizenRandom(seed, HEALTH_SECTOR, ordinal);
  const id = (slot: number) => seedId(seed, HEALTH_SECTOR, ordinal, slot);
  const plan = choosePlan(random);
  const goalCount = 1 + Math.floor(random() * Math.min(2, plan.goals.length));
  const slots = { patient: 0, plan: 1, goal: 2, team: 2 + goalCount, consent: 3 + goalCount };
  const patientRef = ref('Patient', id(slots.patient));
  const planMeta = meta(seed, ordinal, slots.plan);
  const planMs = Date.parse(planMeta.lastUpdated);
  const planStart = daysBefore(planMs, 14 + Math.floor(random() * 300));
  const centre = pick(random, regionCentres);
  const unit = `${centre}, ${plan.unit}`;

  const patient: Patient = {
    resourceType: 'Patient',
    id: id(slots.patient),
    meta: { ...meta(seed, ordinal, slots.patient), profile: [DK_CORE_PATIENT_PROFILE] },
    identifier: [{ use: 'official', system: CPR_SYSTEM, value: citizen.cpr }],
    name: [{ use: 'official', family: citizen.familyName, given: [citizen.givenName] }],
    // The CPR office's rule: an odd last digit is a man.
    gender: Number(citizen.cpr.at(-1)) % 2 === 1 ? 'male' : 'female',
    birthDate: citizen.birthDate,
    address: [
      {
        extension: [
          { url: MUNICIPALITY_CODE_EXTENSION, valueCodeableConcept: { coding: [{ system: MUNICIPALITY_CODE_SYSTEM, code: citizen.municipality.padStart(4, '0') }] } },
        ],
        use: 'home',
        country: 'DK',
      },
    ],
    generalPractitioner: [{ display: `Lægehuset ${pick(random, ['Nørrebro', 'Valby', 'Amager', 'Vesterbro'])}` }],
  };

  const goals: Goal[] = [];
  for (let i = 0; i < goalCount; i++) {
    const slot = slots.goal + i;
    const m = meta(seed, ordinal, slot);
    const ms = Date.parse(m.lastUpdated);
    const template = plan.goals[i % plan.goals.length]!;
    const lifecycleStatus = pick(random, ['active', 'active', 'proposed', 'completed'] as const);
    goals.push({
      resourceType: 'Goal',
      id: id(slot),
      meta: m,
      lifecycleStatus,
      category: [concept(category(template.category))],
      description: { text: template.text },
      subject: patientRef,
      startDate: daysBefore(ms, 7 + Math.floor(random() * 200)),
      target: [{ dueDate: daysAfter(ms, 30 + Math.floor(random() * 250)) }],
    });
  }

  const careTeam: CareTeam = {
    resourceType: 'CareTeam',
    id: id(slots.team),
    meta: meta(seed, ordinal, slots.team),
    status: 'active',
    name: unit,
    subject: patientRef,
    period: { start: planStart },
    participant: [
      {
        role: [{ coding: [{ system: CARE_TEAM_ROLE_SYSTEM, code: 'contact-person', display: 'Kontaktperson' }] }],
        member: { display: pick(random, clinicians) },
      },
      { role: [{ coding: [{ system: CARE_TEAM_ROLE_SYSTEM, code: 'responsible-physician', display: 'Behandlingsansvarlig læge' }] }], member: { display: clinicians[0] } },
    ],
    managingOrganization: [{ display: centre }],
    telecom: [{ system: 'phone', value: `+45 38 64 ${String(10 + Math.floor(random() * 89))} ${String(10 + Math.floor(random() * 89))}`, use: 'work' }],
  };

  const activityCount = 1 + Math.floor(random() * plan.activities.length);
  const activities: CarePlanActivity[] = [];
  // Some regional systems give each activity an element id of their own, which it keeps for life;
  // others send detail only. Every other citizen's plan has them, so both ways of naming an activity
  // (mappings/careplan-activity.ts) meet ordinary data. Decided by the ordinal, not the random
  // stream, so every other record stays as it was.
  const activityIds = ordinal % 2 === 1;
  for (let i = 0; i < activityCount; i++) {
    const status = pick(random, ['in-progress', 'scheduled', 'completed'] as const);
    const start = daysAfter(Date.parse(`${planStart}T00:00:00Z`), i * 7);
    activities.push({
      ...(activityIds ? { id: `aktivitet-${i + 1}` } : {}),
      detail: {
        kind: 'ServiceRequest',
        code: concept(activity(plan.activities[i]!)),
        status,
        scheduledPeriod: status === 'completed' ? { start, end: daysAfter(Date.parse(`${start}T00:00:00Z`), 60) } : { start },
        performer: [{ display: pick(random, clinicians) }],
        goal: goals.length ? [ref('Goal', goals[i % goals.length]!.id!)] : [],
      },
    });
  }

  const carePlan: CarePlan = {
    resourceType: 'CarePlan',
    id: id(slots.plan),
    meta: planMeta,
    status: 'active',
    intent: 'plan',
    category: [concept(plan.type)],
    title: plan.type.display,
    subject: patientRef,
    period: { start: planStart },
    created: planStart,
    author: { display: unit },
    careTeam: [ref('CareTeam', careTeam.id!)],
    goal: goals.map((g) => ref('Goal', g.id!)),
    activity: activities,
  };

  const consentMeta = meta(seed, ordinal, slots.consent);
  const consentStart = daysBefore(Date.parse(consentMeta.lastUpdated), 5 + Math.floor(random() * 100));
  const consent: Consent = {
    resourceType: 'Consent',
    id: id(slots.consent),
    meta: consentMeta,
    // A permit in force until withdrawn: the sync's consent gate reads it (src/consent/regional.ts), so
    // seeded data must neither refuse at random nor run out by the wall clock. Tests write refusals.
    status: 'active',
    scope: { coding: [{ system: CONSENT_SCOPE_SYSTEM, code: 'patient-privacy', display: 'Privacy Consent' }] },
    category: [{ coding: [{ system: LOINC_SYSTEM, code: '59284-0', display: 'Patient Consent' }] }],
    patient: patientRef,
    dateTime: `${consentStart}T10:00:00+01:00`,
    organization: [{ display: centre }],
    // R4 requires a policy or policy rule (ppc-1): an opt-in consent directive.
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN', display: 'opt-in' }] },
    provision: {
      type: 'permit',
      period: { start: consentStart },
      actor: [
        {
          role: { coding: [{ system: PARTICIPATION_TYPE_SYSTEM, code: 'IRCP', display: 'information recipient' }] },
          // Named by its kommunekode: the gate counts a permit only for the municipality it names.
          reference: {
            identifier: { system: MUNICIPALITY_CODE_SYSTEM, value: citizen.municipality.padStart(4, '0') },
            display: `Kommune ${citizen.municipality}, koordinerende sagsbehandler`,
          },
        },
      ],
      purpose: [{ system: ACT_REASON_SYSTEM, code: 'COC', display: 'coordination of care' }],
    },
  };

  return [patient, carePlan, ...goals, careTeam, consent];
}

export function healthCitizens(population: readonly SyntheticCitizen[]): SyntheticCitizen[] {
  return population.filter((c) => c.sectors.health);
}

/** Realistic health records for throughput benchmarks: `count` non-Patient records (about 5 per citizen). */
export function* healthRecordStream(count: number, seed = 2026): Generator<{ recordType: string; resource: Exclude<HealthRecord, Patient> }> {
  let emitted = 0;
  const batch = 2000;
  for (let round = 0; emitted < count; round++) {
    const citizens = healthCitizens(generatePopulation(batch, seed + round));
    for (let i = 0; i < citizens.length && emitted < count; i++) {
      for (const resource of healthRecordsFor(citizens[i]!, round * batch + i, seed)) {
        if (resource.resourceType === 'Patient') continue;
        yield { recordType: resource.resourceType, resource };
        if (++emitted >= count) return;
      }
    }
  }
}

export function generateHealthRecords(count: number, seed = 2026): { recordType: string; resource: Exclude<HealthRecord, Patient> }[] {
  return [...healthRecordStream(count, seed)];
}
