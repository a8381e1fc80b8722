/**
 * The region's own Consent records: evidence of what the citizen let the region share with the
 * municipality, for coordination of care — not plan content, so `health.consent` yields no
 * fragments. `readRegionalConsent` reads one into what a gate needs. Health data flows on the
 * citizen's explicit consent recorded with us (src/consent/policy.ts, R9), which a region's permit
 * cannot stand in for; but the region's refusal, withdrawal or ended period stops the flow and takes
 * out what flowed (src/consent/regional.ts) — the adapter reads the citizen's Consents whole on
 * every pull, a feed pull too. A recipient counts as a municipality by its DK-core municipality code
 * (`reference.identifier`), not by a name in words.
 */
import { Consent } from '../../adapters/fhir/contract';
import { danishDate, unreadFieldReporter } from '../../adapters/fhir/fhir-values';
import { isCalendarDate, MappingNotesCollector } from '../../adapters/fhir/mapping-support';
import { ACT_REASON_SYSTEM, MUNICIPALITY_CODE_SYSTEM, PARTICIPATION_TYPE_SYSTEM } from '../../adapters/fhir/systems';
import type { Mapping } from '../mapping';

export interface RegionalConsent {
  consentId: string | undefined;
  /** Active, a permit, and inside its period on the given date. */
  inForce: boolean;
  status: Consent['status'];
  validFrom?: string;
  validTo?: string;
  /** Who may receive the data, as the region names them (provision.actor with role IRCP). */
  recipients: string[];
  /** Whether the Consent names any recipient at all, identified or not. */
  namesRecipients: boolean;
  /** The recipients that are municipalities, by kommunekode (three digits), from their DK-core municipality code. */
  recipientMunicipalities: string[];
  /** HL7 ActReason purposes, e.g. COC (coordination of care). */
  purposes: string[];
}

/** A kommunekode as DK-core writes it (four digits, 0101) or as we do (three, 101): three digits, or undefined. */
const kommunekodeOf = (value: string | undefined) => (value && /^\d{1,4}$/.test(value) && Number(value) > 0 && Number(value) < 1000 ? String(Number(value)).padStart(3, '0') : undefined);

/** What a regional Consent says, for the consent gate; `onDate` is a YYYY-MM-DD date. */
export function readRegionalConsent(consent: Consent, onDate: string): RegionalConsent {
  const recipientActors = (consent.provision?.actor ?? []).filter((a) => a.role.coding?.some((c) => c.system === PARTICIPATION_TYPE_SYSTEM && c.code === 'IRCP'));
  const validFrom = danishDate(consent.provision?.period?.start);
  const validTo = danishDate(consent.provision?.period?.end);
  const inPeriod = (!isCalendarDate(validFrom) || validFrom <= onDate) && (!isCalendarDate(validTo) || onDate <= validTo);
  return {
    consentId: consent.id,
    inForce: consent.status === 'active' && consent.provision?.type !== 'deny' && inPeriod,
    status: consent.status,
    ...(isCalendarDate(validFrom) ? { validFrom } : {}),
    ...(isCalendarDate(validTo) ? { validTo } : {}),
    recipients: recipientActors.map((a) => a.reference.display ?? a.reference.reference ?? a.reference.identifier?.value ?? '').filter(Boolean),
    namesRecipients: recipientActors.length > 0,
    recipientMunicipalities: recipientActors.flatMap((a) => {
      const { identifier } = a.reference;
      const code = identifier?.system === MUNICIPALITY_CODE_SYSTEM ? kommunekodeOf(identifier.value) : undefined;
      return code ? [code] : [];
    }),
    purposes: (consent.provision?.purpose ?? []).filter((p) => p.system === ACT_REASON_SYSTEM && p.code).map((p) => p.code!),
  };
}

/** `readRegionalConsent` reads a Consent; the mapping itself reads none of its fields. */
const reportUnreadConsentFields = unreadFieldReporter('Consent', []);

export const healthConsentMapping: Mapping<Consent> = {
  id: 'health.consent',
  version: '1.0.0',
  adapter: 'health',
  recordType: 'Consent',
  description: 'The region’s consent to share: evidence, read by readRegionalConsent, never merged into the plan.',
  sourceSchema: Consent,
  rules: [{ id: 'consent.evidence', source: 'Consent', target: '— (evidence)', description: 'Status, period, recipients and purposes are read by readRegionalConsent; no fragment is made. Health data flows on the citizen’s explicit consent recorded with the municipality, and not while the region’s current Consent does not permit sharing.' }],
  codeLists: [],
  map(consent) {
    const notes = new MappingNotesCollector();
    reportUnreadConsentFields(consent, notes);
    return notes.ok([]);
  },
};
