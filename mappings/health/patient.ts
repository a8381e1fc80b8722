/**
 * health.patient — a DK-core Patient identifies the citizen and nothing more: the adapter matches
 * it by CPR, and no part of it (name, address, CPR, GP) enters the plan (data minimisation, R16).
 * The mapping exists so the Patient is run through the contract and IT staff see which personal
 * fields were left behind.
 */
import { Patient } from '../../adapters/fhir/contract';
import { unreadFieldReporter } from '../../adapters/fhir/fhir-values';
import { MappingNotesCollector } from '../../adapters/fhir/mapping-support';
import type { Mapping } from '../mapping';

const reportUnreadPatientFields = unreadFieldReporter('Patient', []);

export const healthPatientMapping: Mapping<Patient> = {
  id: 'health.patient',
  version: '1.0.0',
  adapter: 'health',
  recordType: 'Patient',
  description: 'A DK-core Patient: identity only; yields no plan content.',
  sourceSchema: Patient,
  rules: [
    { id: 'patient.identity', source: 'Patient.*', target: '—', description: 'Used to find the citizen; every personal field is reported as ignored, none is mapped.' },
  ],
  codeLists: [],
  map(patient) {
    const notes = new MappingNotesCollector();
    reportUnreadPatientFields(patient, notes);
    return notes.ok([]);
  },
};
