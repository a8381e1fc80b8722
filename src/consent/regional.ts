/**
 * The region's own say (R9, R10): the regional health system keeps Consent records of what the
 * citizen let it share with the municipality. Health data flows into the plan on the citizen's
 * explicit consent recorded with us; when the region's current Consent says sharing is not
 * permitted, that consent cannot carry the region's data (the region may not disclose it), so the
 * sync gate refuses it and takes out what flowed on it before — as on a revocation (decision 0004,
 * "Later (2026-11-24): the region's own consent"). A legal basis other than consent (R11) does not
 * rest on consent and is not stopped by it. A region with no decided Consent for the citizen says
 * nothing: our explicit consent decides alone, as before. A Consent that names its recipients is
 * about this municipality only if it names it by its kommunekode; one about others alone is no permit
 * for us. A permit with a last day is remembered (store `regionalConsents`), so the nightly job ends
 * it on time even when nothing at the region changes (`handleLapsedRegionalConsents`).
 */
import type { SourceRecord } from '../../adapters/adapter';
import type { Consent } from '../../adapters/fhir/contract';
import { readRegionalConsent, type RegionalConsent } from '../../mappings/health/consent';
import type { SourceSystem } from '../model';
import { danishToday } from '../views/danish';

/** The sources whose Consent records are their own say on sharing with the municipality, and their record type. */
export const regionalConsentRecordTypes: Readonly<Partial<Record<SourceSystem, string>>> = { health: 'Consent' };

/** Statuses that are the region's decision; draft, proposed and entered-in-error decide nothing. */
const decided: ReadonlySet<string> = new Set(['active', 'rejected', 'inactive']);

export interface RegionalSharing {
  /** Whether the region's current Consent lets it share with the municipality today. */
  permits: boolean;
  /** The Consent record that decides, and its version. */
  recordId: string;
  version: string;
  status: Consent['status'];
  /** A permit's last day (Danish calendar day), when it has one: after it, the nightly job ends it. */
  lastDay?: string;
  /** Why it does not permit, in words for the audit log (`data.refused`, `plan.consent-data-removed`). */
  reason?: string;
}

/** The reason a permit whose period ended gives, in the sync's refusals and the nightly job's removals alike. */
export const regionalConsentEndedReason = (lastDay: string) => `the region's consent to share health data with the municipality ended on ${lastDay}`;

/** The reason when every Consent of the region's is about other recipients: said apart from a refusal, which it is not. */
export const regionalConsentOtherRecipientsReason = "the region's consents on sharing health data concern recipients other than this municipality";

/** A Consent naming no recipient is taken to be about sharing with the municipality; one naming some, only if this one is among them. */
const isAboutUs = (read: RegionalConsent, municipality: string) => !read.namesRecipients || read.recipientMunicipalities.includes(municipality);

const instantOf = (record: SourceRecord) => {
  const issued = Date.parse((record.payload as Consent).dateTime ?? '');
  return Number.isNaN(issued) ? Date.parse(record.updatedAt) : issued;
};

/**
 * The region's say for one citizen towards `municipality` (the tenant's kommunekode), from the records
 * a pull of the source read (the health adapter returns every Consent of the citizen on every pull, a
 * feed pull too). The current Consent is the decided one issued last (`dateTime`, else when it was
 * last written), then the one written last: an older consent the region marked replaced does not
 * outvote the newer one, and a later refusal outvotes an earlier permit. Consents about this
 * municipality (naming it, or no recipient) are weighed first; where the region holds only Consents
 * about others, the current of those decides, and it is no permit for us. Undefined when the source
 * keeps no such records or holds no decided one.
 */
export function regionalSharingOf(source: SourceSystem, records: readonly SourceRecord[], at: Date, municipality: string): RegionalSharing | undefined {
  const recordType = regionalConsentRecordTypes[source];
  if (!recordType) return undefined;
  const decidedOnes = records.filter((r) => r.recordType === recordType && decided.has((r.payload as Consent).status));
  if (decidedOnes.length === 0) return undefined;
  const today = danishToday(at);
  const aboutUs = decidedOnes.filter((r) => isAboutUs(readRegionalConsent(r.payload as Consent, today), municipality));
  const candidates = aboutUs.length > 0 ? aboutUs : decidedOnes;
  const current = candidates.reduce((best, next) => {
    const byIssue = instantOf(next) - instantOf(best);
    if (byIssue !== 0) return byIssue > 0 ? next : best;
    const byWrite = Date.parse(next.updatedAt) - Date.parse(best.updatedAt);
    return byWrite > 0 || (byWrite === 0 && next.recordId > best.recordId) ? next : best;
  });
  const consent = current.payload as Consent;
  const read = readRegionalConsent(consent, today);
  const sharing = { permits: read.inForce, recordId: current.recordId, version: current.version, status: consent.status };
  if (aboutUs.length === 0) return { ...sharing, permits: false, reason: regionalConsentOtherRecipientsReason };
  if (read.inForce) return read.validTo ? { ...sharing, lastDay: read.validTo } : sharing;
  const reason =
    consent.status === 'rejected' || (consent.status === 'active' && consent.provision?.type === 'deny')
      ? 'the region records that the citizen refused to let it share health data with the municipality'
      : consent.status === 'inactive'
        ? 'the region records that the citizen withdrew its consent to share health data with the municipality'
        : read.validTo && read.validTo < today
          ? regionalConsentEndedReason(read.validTo)
          : `the region's consent to share health data with the municipality starts on ${read.validFrom ?? 'a later day'}`;
  return { ...sharing, reason };
}
