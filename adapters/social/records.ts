/**
 * Realistic FHIR R4 records of a municipal social fagsystem (Nexus, Cura, Sensum …) for the
 * synthetic population: a care-social CarePlan carrying KL's FFB municipality case number, with
 * FFB (adults, VUM) or FSIII (home care) interventions as activities, FFB/FSIII goals, conditions
 * with their functioning level, and the CareTeam of the coordinating caseworker.
 *
 * Codes and display texts come from KL's code lists (mappings/social/codes); a code used here that
 * disappears from a list fails at load. About one activity in a hundred carries a local code no list
 * knows, as real fagsystemer do, so the unknown-code path is exercised by ordinary data.
 */
import type { CarePlan, CarePlanActivity, CareTeam, Condition, Goal, Patient } from '@medplum/fhirtypes';
import { generatePopulation, type SyntheticCitizen } from '../shared/population';
import { careSocialCodes, ffb, fsiii, type CodeList } from '../../mappings/social/codes';
import { citizenRandom, daysAfter, daysBefore, pick, seedId, seedLastUpdatedMs } from '../fhir/seed';
import { CARE_TEAM_ROLE_SYSTEM, CPR_SYSTEM, enplanNamespace, FFB_SYSTEM, MUNICIPALITY_CASE_NUMBER_EXTENSION } from '../fhir/systems';

export const SOCIAL_SECTOR = 'social';

export type SocialRecord = Patient | CarePlan | Goal | Condition | CareTeam;

interface Code {
  system: string;
  code: string;
  display: string;
}

/** A code from a list by its display text (and group), checked when this module loads. */
function codeOf(list: CodeList, display: string, group?: string): Code {
  const entry = list.concepts.find((c) => c.display === display && (!group || c.group === group));
  if (!entry) throw new Error(`${list.id} has no concept "${display}"${group ? ` in "${group}"` : ''}`);
  return { system: list.system, code: entry.code, display: entry.display };
}

const ffbInterventions = [
  'Støtte til daglige opgaver i hjemmet',
  'Støtte til sund levevis',
  'Social aktivitet',
  'Kompetenceudviklende aktivitet',
  'Støtte til beskæftigelse',
  'Støtte til administration',
  'Støtte til sociale relationer',
  'Støtte til psykisk trivsel',
  'Produktion og værksted',
  'Individuel tidsbegrænset socialpædagogisk hjælp og støtte',
  'Gruppebaseret hjælp og støtte',
  'Pædagogisk udredning',
].map((d) => codeOf(ffb, d, 'Social indsats'));

/** FFB states with the goal a caseworker would typically set for them. */
const ffbStates: { state: Code; goal: string }[] = [
  { state: codeOf(ffb, 'Indgå i samspil og kontakt', 'FFB tilstande'), goal: 'Deltager i et fællesskab mindst én gang om ugen' },
  { state: codeOf(ffb, 'Varetage beskæftigelse', 'FFB tilstande'), goal: 'Møder stabilt i beskyttet beskæftigelse tre dage om ugen' },
  { state: codeOf(ffb, 'Købe ind', 'FFB tilstande'), goal: 'Kan selv købe ind en gang om ugen' },
  { state: codeOf(ffb, 'Varetage økonomi', 'FFB tilstande'), goal: 'Betaler selv faste regninger til tiden' },
  { state: codeOf(ffb, 'Døgnrytme', 'FFB tilstande'), goal: 'Har en stabil døgnrytme på hverdage' },
  { state: codeOf(ffb, 'Boligsituation', 'FFB tilstande'), goal: 'Bevarer egen bolig' },
  { state: codeOf(ffb, 'Igangsætning og motivation', 'FFB tilstande'), goal: 'Tager selv initiativ til daglige gøremål' },
];
const ffbTargetGroups = ['Hjemløshed', 'Angst', 'Depression', 'Alkoholmisbrug', 'Social isolation', 'Udviklingshæmning', 'Erhvervet hjerneskade'].map((d) =>
  codeOf(ffb, d, 'Social indsats'),
);
const ffbLevels = ['Let nedsat funktionsevne', 'Moderat nedsat funktionsevne', 'Svært nedsat funktionsevne'].map((d) => codeOf(ffb, d, 'Funktionsevneniveau'));
const ffbGoalTypes = ['Udvikle funktionsevne', 'Fastholde funktionsevne', 'Begrænse tab af funktionsevne'].map((d) => codeOf(ffb, d, 'Måltype'));

const fsiiiInterventions = ['Personlig hygiejne', 'Rengøring', 'Madservice', 'Hverdagens aktiviteter', 'Mobilitet', 'Indkøb', 'Tøjvask'].map((d) =>
  codeOf(fsiii, d, 'Kommunale pleje- og omsorgsindsatser'),
);
const fsiiiNursing = codeOf(fsiii, 'Psykiatrisk pleje', 'Kommunale sygeplejeindsatser');
const fsiiiStates = ['Personlig pleje', 'Lave mad', 'Lave husligt arbejde', 'Mobilitet og bevægelse'].map((d) => codeOf(fsiii, d, 'Kommunale pleje- og omsorgstilstande'));
const fsiiiLevels = ['1', '2', '3'].map((d) => codeOf(fsiii, d, 'Funktionsevne skalering'));
const fsiiiGoalType = codeOf(fsiii, 'Tilstand forsvinder, mindskes eller forbliver uændret', 'Måltype');

const goalCategory = {
  ffb: codeOf(careSocialCodes, 'FFB indsatsmål'),
  ffbOwn: codeOf(careSocialCodes, 'FFB borgers mål og ønsker'),
  fsiii: codeOf(careSocialCodes, 'FSIII tilstandsmål'),
};
const measure = { goalType: codeOf(careSocialCodes, 'måltype'), level: codeOf(careSocialCodes, 'funktionsevneniveau') };

/** A local code real systems send alongside the national ones; no list knows it. */
const localIntervention: Code = { system: FFB_SYSTEM, code: 'lokal-vaerested-4711', display: 'Lokal indsats: værestedsordning' };

const providers = ['Bostøtten Nord', 'Værestedet Solstrålen', 'Beskyttet værksted Måneskinnet', 'Aktivitetshuset Fyrtårnet'];
const homeCareProviders = ['Hjemmeplejen Nord', 'Hjemmeplejen Syd', 'Privat leverandør Omsorg & Co'];
const staff = [
  ['Mette', 'Holm'],
  ['Søren', 'Kjær'],
  ['Aisha', 'Rahimi'],
  ['Jonas', 'Bech'],
  ['Birgitte', 'Lund'],
  ['Henrik', 'Dahl'],
  ['Camilla', 'Friis'],
] as const;
const socialUnits = ['Socialforvaltningen, Voksenhandicap', 'Socialforvaltningen, Socialpsykiatri', 'Socialforvaltningen, Udsatte voksne'];
const careUnits = ['Sundheds- og Omsorgsforvaltningen, Visitationen'];

const concept = (code: Code) => ({ coding: [{ system: code.system, code: code.code, display: code.display }] });
const ref = (type: string, id: string) => ({ reference: `${type}/${id}` });
const asciiMail = (text: string) =>
  text
    .toLowerCase()
    .replace(/æ/g, 'ae')
    .replace(/ø/g, 'oe')
    .replace(/å/g, 'aa')
    .replace(/[^a-z]/g, '');

function meta(seed: number, ordinal: number, slot: number) {
  return { versionId: '1', lastUpdated: new Date(seedLastUpdatedMs(seed, SOCIAL_SECTOR, ordinal, slot)).toISOString() };
}

/**
 * All records of one citizen, in slot order: Patient, CarePlan, Goals, Conditions, CareTeam.
 * Deterministic for (seed, ordinal); `ordinal` is the citizen's place among the sector's citizens.
 */
export function socialRecordsFor(citizen: SyntheticCitizen, ordinal: number, seed: number): SocialRecord[] {
  const random = citizenRandom(seed, SOCIAL_SECTOR, ordinal);
  const id = (slot: number) => seedId(seed, SOCIAL_SECTOR, ordinal, slot);
  const age = 2026 - Number(citizen.birthDate.slice(0, 4));
  const homeCare = age >= 55 && random() < 0.5;
  const goalCount = 1 + Math.floor(random() * 3);
  const conditionCount = 1 + Math.floor(random() * 3);
  const slots = { patient: 0, plan: 1, goal: 2, condition: 2 + goalCount, team: 2 + goalCount + conditionCount };
  const planMeta = meta(seed, ordinal, slots.plan);
  const planMs = Date.parse(planMeta.lastUpdated);
  const planStart = daysBefore(planMs, 30 + Math.floor(random() * 400));
  const patientRef = ref('Patient', id(slots.patient));
  const [staffGiven, staffFamily] = pick(random, staff);
  const unit = homeCare ? pick(random, careUnits) : pick(random, socialUnits);

  const patient: Patient = {
    resourceType: 'Patient',
    id: id(slots.patient),
    meta: meta(seed, ordinal, slots.patient),
    identifier: [{ use: 'official', system: CPR_SYSTEM, value: citizen.cpr }],
    name: [{ use: 'official', family: citizen.familyName, given: [citizen.givenName] }],
    birthDate: citizen.birthDate,
    managingOrganization: { display: `Kommune ${citizen.municipality}` },
  };

  const conditions: Condition[] = [];
  const statesUsed: { state: Code; goal: string }[] = [];
  for (let i = 0; i < conditionCount; i++) {
    const slot = slots.condition + i;
    const m = meta(seed, ordinal, slot);
    let code: Code;
    let severity: Code | undefined;
    if (homeCare) {
      code = fsiiiStates[(i + Math.floor(random() * fsiiiStates.length)) % fsiiiStates.length]!;
      severity = pick(random, fsiiiLevels);
    } else if (i === 0 && random() < 0.6) {
      code = pick(random, ffbTargetGroups);
    } else {
      const state = ffbStates[(i + Math.floor(random() * ffbStates.length)) % ffbStates.length]!;
      statesUsed.push(state);
      code = state.state;
      severity = pick(random, ffbLevels);
    }
    conditions.push({
      resourceType: 'Condition',
      id: id(slot),
      meta: m,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      code: concept(code),
      ...(severity ? { severity: concept(severity) } : {}),
      subject: patientRef,
      recordedDate: daysBefore(Date.parse(m.lastUpdated), 10 + Math.floor(random() * 200)),
    });
  }

  const goals: Goal[] = [];
  for (let i = 0; i < goalCount; i++) {
    const slot = slots.goal + i;
    const m = meta(seed, ordinal, slot);
    const ms = Date.parse(m.lastUpdated);
    const addressed = conditions[i % conditions.length]!;
    const state = statesUsed[i % Math.max(statesUsed.length, 1)];
    const ownGoal = !homeCare && i === 0 && random() < 0.3;
    const lifecycleStatus: Goal['lifecycleStatus'] = pick(random, ['active', 'active', 'active', 'planned', 'completed'] as const);
    goals.push({
      resourceType: 'Goal',
      id: id(slot),
      meta: m,
      lifecycleStatus,
      ...(lifecycleStatus === 'completed' ? { achievementStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-achievement', code: 'achieved' }] } } : {}),
      category: [concept(homeCare ? goalCategory.fsiii : ownGoal ? goalCategory.ffbOwn : goalCategory.ffb)],
      description: homeCare
        ? concept(fsiiiGoalType)
        : { text: ownGoal ? 'Jeg vil gerne have mit eget sted at bo og passe et arbejde' : (state?.goal ?? 'Bevarer egen bolig') },
      subject: patientRef,
      startDate: daysBefore(ms, 20 + Math.floor(random() * 300)),
      target: [
        { measure: concept(measure.goalType), detailCodeableConcept: concept(homeCare ? fsiiiGoalType : pick(random, ffbGoalTypes)) },
        { measure: concept(measure.level), detailCodeableConcept: concept(homeCare ? pick(random, fsiiiLevels) : pick(random, ffbLevels)), dueDate: daysAfter(ms, 60 + Math.floor(random() * 300)) },
      ],
      addresses: [ref('Condition', addressed.id!)],
    });
  }

  const teamMeta = meta(seed, ordinal, slots.team);
  const careTeam: CareTeam = {
    resourceType: 'CareTeam',
    id: id(slots.team),
    meta: teamMeta,
    status: 'active',
    name: `${unit}, team ${pick(random, ['Nord', 'Syd', 'Øst', 'Vest'])}`,
    subject: patientRef,
    period: { start: planStart },
    participant: [
      {
        role: [{ coding: [{ system: CARE_TEAM_ROLE_SYSTEM, code: 'coordinating-caseworker', display: 'Koordinerende sagsbehandler' }] }],
        member: { display: `${staffGiven} ${staffFamily}` },
      },
      ...(random() < 0.5
        ? [{ role: [{ coding: [{ system: CARE_TEAM_ROLE_SYSTEM, code: 'support-worker', display: 'Bostøttemedarbejder' }] }], member: { display: `${pick(random, staff)[0]} ${pick(random, staff)[1]}` } }]
        : []),
    ],
    managingOrganization: [{ display: unit }],
    telecom: [
      { system: 'phone', value: `+45 33 17 ${String(10 + Math.floor(random() * 89))} ${String(10 + Math.floor(random() * 89))}`, use: 'work' },
      { system: 'email', value: `${asciiMail(staffGiven)}.${asciiMail(staffFamily)}@kommune${citizen.municipality}.example`, use: 'work' },
    ],
  };

  const activityCount = 1 + Math.floor(random() * 3);
  const activities: CarePlanActivity[] = [];
  // Some fagsystemer give each activity an element id of their own, which it keeps for life; others
  // send detail only. Every other citizen's plan has them, so both ways of naming an activity
  // (mappings/careplan-activity.ts) meet ordinary data. Decided by the ordinal, not the random
  // stream, so every other record stays as it was.
  const activityIds = ordinal % 2 === 0;
  for (let i = 0; i < activityCount; i++) {
    let code: Code;
    if (random() < 0.01) code = localIntervention;
    else if (homeCare) code = random() < 0.1 ? fsiiiNursing : fsiiiInterventions[(i * 3 + Math.floor(random() * 7)) % fsiiiInterventions.length]!;
    else code = ffbInterventions[(i * 5 + Math.floor(random() * 12)) % ffbInterventions.length]!;
    const start = daysAfter(Date.parse(`${planStart}T00:00:00Z`), i * 14);
    const status = pick(random, ['in-progress', 'in-progress', 'scheduled', 'completed'] as const);
    activities.push({
      ...(activityIds ? { id: `indsats-${i + 1}` } : {}),
      detail: {
        kind: 'ServiceRequest',
        code: concept(code),
        status,
        scheduledPeriod: status === 'completed' ? { start, end: daysAfter(Date.parse(`${start}T00:00:00Z`), 90) } : { start },
        performer: [{ display: homeCare ? pick(random, homeCareProviders) : pick(random, providers) }],
        goal: goals.length ? [ref('Goal', goals[i % goals.length]!.id!)] : [],
      },
    });
  }

  const plan: CarePlan = {
    resourceType: 'CarePlan',
    id: id(slots.plan),
    meta: planMeta,
    extension: [
      {
        url: MUNICIPALITY_CASE_NUMBER_EXTENSION,
        extension: [
          {
            url: 'municipalitySpecific',
            valueIdentifier: {
              use: 'usual',
              system: `${enplanNamespace}/sid/municipality-case/${citizen.municipality}`,
              value: `SAG-${planStart.slice(0, 4)}-${String(100000 + ordinal).slice(-6)}`,
            },
          },
        ],
      },
    ],
    status: 'active',
    intent: 'plan',
    title: homeCare ? 'Plan for pleje og praktisk hjælp' : 'Handleplan for socialpædagogisk støtte',
    subject: patientRef,
    period: { start: planStart },
    created: planStart,
    careTeam: [ref('CareTeam', careTeam.id!)],
    addresses: conditions.map((c) => ref('Condition', c.id!)),
    goal: goals.map((g) => ref('Goal', g.id!)),
    activity: activities,
  };

  return [patient, plan, ...goals, ...conditions, careTeam];
}

/** The citizens of a population who have records in the social system. */
export function socialCitizens(population: readonly SyntheticCitizen[]): SyntheticCitizen[] {
  return population.filter((c) => c.sectors.social);
}

/**
 * Realistic social records for throughput benchmarks: `count` non-Patient records from consecutive
 * synthetic citizens (about 6.5 per citizen), deterministic for the seed.
 */
export function* socialRecordStream(count: number, seed = 2026): Generator<{ recordType: string; resource: Exclude<SocialRecord, Patient> }> {
  let emitted = 0;
  const batch = 2000;
  for (let round = 0; emitted < count; round++) {
    const citizens = socialCitizens(generatePopulation(batch, seed + round));
    for (let i = 0; i < citizens.length && emitted < count; i++) {
      for (const resource of socialRecordsFor(citizens[i]!, round * batch + i, seed)) {
        if (resource.resourceType === 'Patient') continue;
        yield { recordType: resource.resourceType, resource };
        if (++emitted >= count) return;
      }
    }
  }
}

/** `count` social records in an array (see `socialRecordStream`). */
export function generateSocialRecords(count: number, seed = 2026): { recordType: string; resource: Exclude<SocialRecord, Patient> }[] {
  return [...socialRecordStream(count, seed)];
}
