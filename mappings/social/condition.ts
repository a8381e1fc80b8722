/**
 * social.condition — an FFB or FSIII Condition (a state with its functioning level, or an FFB
 * target group such as "Hjemløshed") becomes a situation note of the member
 * (`plan.situationNotes`: a barrier with its summary), in KL's words; the plan's own situation is
 * the caseworker's and is never written by a source. It is social data (data category `social`) only
 * when KL's lists place its codes in the social sector; health data when a code sits in an FSIII
 * Sundhedsloven group, and — failing closed — for a diagnosis (SKS, ICD-10) or any code no KL list holds.
 */
import { Condition } from '../../adapters/fhir/contract';
import { codingIn, firstCoding, unreadFieldReporter } from '../../adapters/fhir/fhir-values';
import { firstText, fragment, MappingNotesCollector } from '../../adapters/fhir/mapping-support';
import { CONDITION_CLINICAL_SYSTEM, CONDITION_VERIFICATION_SYSTEM, FSIII_SYSTEM } from '../../adapters/fhir/systems';
import type { Mapping } from '../mapping';
import { knownSystems, lookupCode, sectorOfCodings, socialCodeListRefs } from './codes';

export const conditionElementId = (conditionId: string) => `social:condition:${conditionId}`;

/** Module-level: a regular expression literal makes a new RegExp object every time it is evaluated. */
const ONE_DIGIT = /^\d$/;

/** The condition in words, e.g. "Personlig pleje (funktionsevneniveau 3)" or "Købe ind (Moderat nedsat funktionsevne)". */
export function conditionText(condition: Condition, notes?: MappingNotesCollector): { text: string; sector: 'social' | 'health' } {
  const coding = firstCoding(condition.code);
  const entry = lookupCode(coding?.system, coding?.code);
  if (coding && !entry) notes?.unknown(coding.system, coding.code);
  const name = firstText(entry?.display, coding?.display, condition.code.text) ?? (coding?.code ? `Ukendt tilstand (${coding.code})` : 'Ukendt tilstand');
  const severity = firstCoding(condition.severity);
  const severityEntry = lookupCode(severity?.system, severity?.code);
  if (severity && !severityEntry && knownSystems.has(severity.system ?? '')) notes?.unknown(severity.system, severity.code);
  const level = firstText(severityEntry?.display, severity?.display);
  // FSIII scores functioning 0–4 (display "3"); FFB names the level in words.
  const levelText = level ? (severity?.system === FSIII_SYSTEM && ONE_DIGIT.test(level) ? `funktionsevneniveau ${level}` : level) : undefined;
  // Fail closed (R9, Sundhedsloven § 43): social only when KL's lists place every code of the
  // condition in the social sector; a diagnosis (SKS, ICD-10), any other code and an uncoded
  // condition (free text may name a diagnosis) are health data. See `sectorOfCoding`.
  const codings = condition.code.coding;
  const sector = codings?.some((c) => c.system && c.code) ? sectorOfCodings(codings) : 'health';
  return { text: levelText ? `${name} (${levelText})` : name, sector };
}

const reportUnreadConditionFields = unreadFieldReporter('Condition', ['clinicalStatus', 'verificationStatus', 'severity', 'code', 'subject']);

export const socialConditionMapping: Mapping<Condition> = {
  id: 'social.condition',
  version: '1.1.0',
  adapter: 'social',
  recordType: 'Condition',
  description: 'An FFB / FSIII Condition: a situation note of the member (a barrier), with its functioning level.',
  sourceSchema: Condition,
  rules: [
    { id: 'condition.id', source: 'Condition.id', target: 'situation note id', description: 'social:condition:<id>; a Condition without id fails.' },
    { id: 'condition.text', source: 'Condition.code, Condition.severity', target: 'situationNotes[].summary, barriers', description: 'KL’s display text of the code, with the functioning level (FSIII 0–4 or FFB in words).' },
    { id: 'condition.status', source: 'Condition.clinicalStatus, verificationStatus', target: 'situationNotes[].barriers', description: 'inactive/resolved/remission: kept in the summary as no longer current, not a barrier; refuted or entered-in-error: nothing. A clinical or verification status outside its FHIR code system’s six codes fails the contract.' },
    { id: 'condition.category', source: 'code', target: 'data category', description: 'social when KL’s lists place every code in the social sector; health for FSIII Sundhedsloven groups and, failing closed (Sundhedsloven § 43), for a diagnosis (SKS, ICD-10), any code no KL list holds and an uncoded condition.' },
  ],
  codeLists: [socialCodeListRefs.ffb, socialCodeListRefs.fsiii],
  map(condition) {
    const notes = new MappingNotesCollector();
    if (!condition.id) return notes.fail('condition.id', 'the Condition has no id');
    reportUnreadConditionFields(condition, notes);
    // The contract admits only condition-ver-status's codes here; codings of other systems say nothing.
    const verification = codingIn(condition.verificationStatus, CONDITION_VERIFICATION_SYSTEM)?.code;
    if (verification === 'refuted' || verification === 'entered-in-error') return notes.ok([]);
    const { text, sector } = conditionText(condition, notes);
    // The contract admits only condition-clinical's codes here; codings of other systems say nothing.
    const clinical = codingIn(condition.clinicalStatus, CONDITION_CLINICAL_SYSTEM)?.code;
    const current = !clinical || clinical === 'active' || clinical === 'recurrence' || clinical === 'relapse';
    return notes.ok([
      fragment('situation', conditionElementId(condition.id), sector === 'health' ? 'health' : 'social', {
        summary: current ? text : `${text} — ikke længere aktuel`,
        barriers: current ? [text] : [],
        resources: [],
      }),
    ]);
  },
};
