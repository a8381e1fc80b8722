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
 * it on time even when nothing at the region changes (`handleLapsedRegionalConsents`). A Consent the
 * region holds that we cannot read (quarantined) is no say we can weigh, so health data fails closed:
 * unless a readable decision issued later outvotes it, new flows are refused — but what flowed stays,
 * for an unreadable record is not the citizen's withdrawal (decision 0004, session 18).
 */
import type { QuarantinedRecord, SourceRecord } from '../../adapters/adapter';
import type { Consent } from '../../adapters/fhir/contract';
import { readRegionalConsent, type RegionalConsent } from '../../mappings/health/consent';
import type { SourceSystem } from '../model';
import { redactCpr } from '../security/redact';
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
  /** A permit not started yet: its first day (Danish calendar day), from which it permits with no change at the source. */
  permitsFrom?: string;
}

/**
 * The region's say when a Consent of its that we cannot read stands: not a permit, and not a
 * refusal by the citizen either — new flows are refused, nothing is taken out.
 */
export interface UnreadableRegionalConsent {
  permits: false;
  unreadable: true;
  /** The unreadable record, when the quarantine could name it (a cut search page names none). */
  recordId: string | null;
  reason: string;
}

/** What `regionalSharingOf` finds: the region's readable current Consent, or one it holds that we cannot read. */
export type RegionalSay = RegionalSharing | UnreadableRegionalConsent;

/** The reason a permit whose period ended gives, in the sync's refusals and the nightly job's removals alike. */
export const regionalConsentEndedReason = (lastDay: string) => `the region's consent to share health data with the municipality ended on ${lastDay}`;

/** The reason when every Consent of the region's is about other recipients: said apart from a refusal, which it is not. */
export const regionalConsentOtherRecipientsReason = "the region's consents on sharing health data concern recipients other than this municipality";

/** How the reason for a Consent we cannot read starts; the quarantine's reason follows it. */
export const unreadableRegionalConsentReason = "the region's consent to share health data with the municipality could not be read";

/** A Consent naming no recipient is taken to be about sharing with the municipality; one naming some, only if this one is among them. */
const isAboutUs = (read: RegionalConsent, municipality: string) => !read.namesRecipients || read.recipientMunicipalities.includes(municipality);

const instantOf = (record: SourceRecord) => {
  const issued = Date.parse((record.payload as Consent).dateTime ?? '');
  return Number.isNaN(issued) ? Date.parse(record.updatedAt) : issued;
};

/** Statuses that say the record decides nothing; legible in an unreadable Consent, they still say so. */
const decidesNothing: ReadonlySet<string> = new Set(['draft', 'proposed', 'entered-in-error']);

const instantIn = (value: unknown) => {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * The Consents the source holds for the citizen that we cannot read (quarantined by the adapter),
 * with when each was issued and written where its kept payload still shows it. A cut search page is
 * one too: the Consents on it are unknown.
 */
function unreadableConsentsOf(recordType: string, quarantined: readonly QuarantinedRecord[]) {
  return quarantined
    .filter((q) => q.recordType === recordType)
    .flatMap((q) => {
      let raw: { resourceType?: unknown; status?: unknown; dateTime?: unknown; meta?: { lastUpdated?: unknown } } | undefined;
      try {
        const parsed = JSON.parse(q.raw) as typeof raw | null;
        raw = parsed && typeof parsed === 'object' && parsed.resourceType === recordType ? parsed : undefined;
      } catch {
        raw = undefined;
      }
      if (typeof raw?.status === 'string' && decidesNothing.has(raw.status)) return [];
      const writtenAt = instantIn(raw?.meta?.lastUpdated);
      return [{ recordId: q.recordId, reason: q.reason, issuedAt: instantIn(raw?.dateTime) ?? writtenAt, writtenAt }];
    });
}

/** A readable decision outvotes an unreadable Consent issued before it (or at once, written before); one that cannot be placed, never. */
const outvotes = (current: SourceRecord, unreadable: { issuedAt?: number; writtenAt?: number }) => {
  if (unreadable.issuedAt === undefined) return false;
  const byIssue = instantOf(current) - unreadable.issuedAt;
  return byIssue > 0 || (byIssue === 0 && unreadable.writtenAt !== undefined && Date.parse(current.updatedAt) > unreadable.writtenAt);
};

/**
 * The region's say for one citizen towards `municipality` (the tenant's kommunekode), from the records
 * a pull of the source read and those it quarantined (the health adapter returns every Consent of the
 * citizen on every pull, a feed pull too). The current Consent is the decided one issued last
 * (`dateTime`, else when it was last written), then the one written last: an older consent the region
 * marked replaced does not outvote the newer one, and a later refusal outvotes an earlier permit.
 * Consents about this municipality (naming it, or no recipient) are weighed first; where the region
 * holds only Consents about others, the current of those decides, and it is no permit for us. A
 * Consent we cannot read stands unless the current readable one about us was issued after it: its
 * recipients cannot be told, so it may be about us (fail closed). Undefined when the source keeps no
 * such records, or holds no decided one and none it cannot read.
 */
export function regionalSharingOf(source: SourceSystem, records: readonly SourceRecord[], at: Date, municipality: string, quarantined: readonly QuarantinedRecord[] = []): RegionalSay | undefined {
  const recordType = regionalConsentRecordTypes[source];
  if (!recordType) return undefined;
  const readable = readableSharingOf(recordType, records, at, municipality);
  const standing = unreadableConsentsOf(recordType, quarantined).find((unreadable) => !(readable?.aboutUs && outvotes(readable.current, unreadable)));
  if (standing) return { permits: false, unreadable: true, recordId: standing.recordId, reason: `${unreadableRegionalConsentReason}: ${redactCpr(standing.reason)}` };
  return readable?.sharing;
}

function readableSharingOf(recordType: string, records: readonly SourceRecord[], at: Date, municipality: string): { sharing: RegionalSharing; current: SourceRecord; aboutUs: boolean } | undefined {
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
  const decides = (say: RegionalSharing) => ({ sharing: say, current, aboutUs: aboutUs.length > 0 });
  if (aboutUs.length === 0) return decides({ ...sharing, permits: false, reason: regionalConsentOtherRecipientsReason });
  if (read.inForce) return decides(read.validTo ? { ...sharing, lastDay: read.validTo } : sharing);
  if (consent.status === 'rejected' || (consent.status === 'active' && consent.provision?.type === 'deny'))
    return decides({ ...sharing, reason: 'the region records that the citizen refused to let it share health data with the municipality' });
  if (consent.status === 'inactive') return decides({ ...sharing, reason: 'the region records that the citizen withdrew its consent to share health data with the municipality' });
  if (read.validTo && read.validTo < today) return decides({ ...sharing, reason: regionalConsentEndedReason(read.validTo) });
  return decides({ ...sharing, reason: `the region's consent to share health data with the municipality starts on ${read.validFrom ?? 'a later day'}`, ...(read.validFrom ? { permitsFrom: read.validFrom } : {}) });
}
