/**
 * The consents a plan's data rests on, as FHIR R4 (docs/decisions/0015-fhir-export.md, "Later"):
 * a pure function from the caseworker's listing of a plan's grants and legal-basis records
 * (`GET /v1/plans/{id}/consents`) to a `collection` Bundle of Consent resources — the same
 * read, the same role, another shape. A plan's own Bundle leaves consents out (a provider must not
 * learn them); its Provenance names each grant as `urn:enplan:consent:<id>` in `policy`, which is
 * what a Consent here carries in `identifier` (system `urn:enplan:consent`).
 *
 * - a grant (R9) → Consent, scope patient-privacy, category LOINC 59284-0 (patient consent):
 *   `provision` permits its data categories (`provision.code`) to flow from its source system
 *   (actor, role custodian) to its recipient (actor, role information recipient) for its period;
 *   the purpose is `policyRule.text`; who gave it is the performer (the member, or a custody holder
 *   as a RelatedPerson of the child); how it was given (method, document, text version, language,
 *   R15) is an extension; a revocation (R10) makes it `inactive` and says when.
 * - a legal-basis record (R11) → Consent of category "legal basis" (not a consent): the basis in
 *   `policyRule.text`, whether and when the citizen was told in an extension.
 * Members are the same Patients, with the same ids, as in the plan's Bundle. No CPR number.
 */
import type { Bundle, BundleEntry, CodeableConcept, Coding, Consent, Extension, Identifier, Patient, RelatedPerson, Resource } from '@medplum/fhirtypes';
import type { GrantStatus } from '../consent/service';
import type { ConsentGrant, LegalBasisRecord } from '../model';
import { categoriesInDanish, danishToday, partyName, systemName } from '../views/danish';
import { systems } from './codes';
import { fhirId } from './ids';
import { compact, instant, municipalityOrganization, providerOrganization } from './resources';

/** A plan's consents as `GET /v1/plans/{id}/consents` lists them. */
export interface PlanConsents {
  /** The municipality whose plan it is (the author of legal-basis records, the custodian organisation of every consent). */
  tenant: string;
  planId: string;
  grants: (ConsentGrant & { memberId: string; grantedByMemberId: string | null; status: GrantStatus })[];
  legalBases: (LegalBasisRecord & { memberId: string })[];
}

export interface ConsentBundleOptions {
  generatedAt?: Date;
}

export const consentSystems = {
  /** A grant's or legal-basis record's id: what Provenance.policy names as `urn:enplan:consent:<id>`. */
  consent: 'urn:enplan:consent',
  consentKind: 'urn:enplan:consent-kind',
  dataCategory: 'urn:enplan:data-category',
  /** Extension: how a grant was given (R15). */
  signature: 'urn:enplan:extension:consent-signature',
  /** Extension: when a grant was revoked (R10). */
  revokedAt: 'urn:enplan:extension:revoked-at',
  /** Extension: whether the citizen has been told of a legal basis (R11), and when. */
  citizenInformed: 'urn:enplan:extension:citizen-informed',
  recipient: 'urn:enplan:recipient',
} as const;

const LOINC_PATIENT_CONSENT: Coding = { system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' };
const PATIENT_PRIVACY: CodeableConcept = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy', display: 'Privacy Consent' }] };
const participation = (code: string, display: string): CodeableConcept => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code, display }] });
const CUSTODIAN = participation('CST', 'custodian');
const RECIPIENT = participation('IRCP', 'information recipient');
const GUARDIAN: CodeableConcept = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'GUARD', display: 'guardian' }] };

/** A grant's state as a Consent state: one that has not begun or has ended still is the citizen's decision, the period says when. */
const consentState: Readonly<Record<GrantStatus, Consent['status']>> = { active: 'active', 'not-yet-valid': 'active', expired: 'inactive', revoked: 'inactive' };

/** A reference not tied to one resource type, so it fits every Reference(…) element (as in plan-bundle.ts). */
interface Ref {
  reference?: string;
  type?: Resource['resourceType'];
  identifier?: Identifier;
  display?: string;
}

/** The plan's consents as a FHIR R4 `collection` Bundle. */
export function planConsentsToFhirBundle(consents: PlanConsents, options: ConsentBundleOptions = {}): Bundle {
  const idFor = (kind: string, key: string) => fhirId(consents.planId, kind, key);
  const entries = new Map<string, Resource>();
  const add = (resource: Resource): Ref => {
    if (!entries.has(resource.id!)) entries.set(resource.id!, resource);
    return { reference: `urn:uuid:${resource.id}`, type: resource.resourceType };
  };
  // The same Patient, by the same id, as the plan's Bundle makes for the member.
  const patient = (memberId: string, citizenId: string) =>
    add({ resourceType: 'Patient', id: idFor('member', memberId), identifier: [{ system: systems.citizen, value: citizenId }, { system: systems.member, value: memberId }] } satisfies Patient);
  const municipality = (code: string) => add(municipalityOrganization(idFor('municipality', code), code));
  const recipientRef = (recipient: string): Ref => {
    if (recipient.startsWith('municipality:')) return municipality(recipient.slice('municipality:'.length));
    if (recipient.startsWith('provider:')) {
      const providerId = recipient.slice('provider:'.length);
      return add(providerOrganization(idFor('provider', providerId), providerId));
    }
    return { identifier: { system: consentSystems.recipient, value: recipient }, display: partyName(recipient) };
  };
  const sourceRef = (source: string): Ref => ({ type: 'Device', identifier: { system: systems.sourceSystem, value: source }, display: systemName(source) });
  const provision = (record: { source: string; recipient: string; categories: readonly string[]; validTo?: string }, start: string) =>
    compact({
      type: 'permit' as const,
      period: compact({ start, end: record.validTo }),
      actor: [
        { role: CUSTODIAN, reference: sourceRef(record.source) },
        { role: RECIPIENT, reference: recipientRef(record.recipient) },
      ],
      code: [{ coding: record.categories.map((category) => ({ system: consentSystems.dataCategory, code: category })), text: categoriesInDanish(record.categories) }],
    });

  const organization = () => municipality(consents.tenant);
  for (const grant of consents.grants) {
    const subject = patient(grant.memberId, grant.citizenId);
    let performer: Ref;
    if (grant.grantedBy.capacity === 'self') performer = subject;
    else if (grant.grantedByMemberId) performer = patient(grant.grantedByMemberId, grant.grantedBy.citizenId);
    else
      performer = add({
        resourceType: 'RelatedPerson',
        id: idFor('related-person', `${grant.citizenId}|${grant.grantedBy.citizenId}`),
        identifier: [{ system: systems.citizen, value: grant.grantedBy.citizenId }],
        patient: subject,
        relationship: [{ ...GUARDIAN, text: grant.grantedBy.capacity === 'custody-holder' ? 'forældremyndighedsindehaver' : 'værge' }],
      } satisfies RelatedPerson);
    const extension: Extension[] = [
      {
        url: consentSystems.signature,
        extension: [
          { url: 'method', valueCode: grant.signed.method },
          { url: 'document', valueString: grant.signed.documentRef },
          { url: 'textVersion', valueString: grant.signed.textVersion },
          { url: 'language', valueCode: grant.signed.language },
        ],
      },
    ];
    if (grant.revokedAt) extension.push({ url: consentSystems.revokedAt, valueDateTime: instant(grant.revokedAt) });
    add(
      compact<Consent>({
        resourceType: 'Consent',
        id: idFor('consent', grant.id),
        extension,
        identifier: [{ system: consentSystems.consent, value: grant.id }],
        status: consentState[grant.status],
        scope: PATIENT_PRIVACY,
        category: [{ coding: [LOINC_PATIENT_CONSENT, { system: consentSystems.consentKind, code: 'consent', display: 'Samtykke' }] }],
        patient: subject,
        dateTime: instant(grant.createdAt),
        performer: [performer],
        organization: [organization()],
        policyRule: { text: grant.purpose },
        provision: provision(grant, grant.validFrom),
      }),
    );
  }
  for (const record of consents.legalBases) {
    const informed: Extension[] = [{ url: 'informed', valueBoolean: record.citizenInformed }];
    if (record.informedAt) informed.push({ url: 'informedAt', valueDateTime: instant(record.informedAt) });
    add(
      compact<Consent>({
        resourceType: 'Consent',
        id: idFor('consent', record.id),
        extension: [{ url: consentSystems.citizenInformed, extension: informed }],
        identifier: [{ system: consentSystems.consent, value: record.id }],
        // Ended by the municipality, or past its last day: no longer in force.
        status: record.endedAt || (record.validTo && danishToday(options.generatedAt ?? new Date()) > record.validTo) ? 'inactive' : 'active',
        scope: PATIENT_PRIVACY,
        category: [{ coding: [{ system: consentSystems.consentKind, code: 'legal-basis', display: 'Anden hjemmel end samtykke' }] }],
        patient: patient(record.memberId, record.citizenId),
        dateTime: instant(record.recordedAt),
        performer: [organization()],
        organization: [organization()],
        policyRule: { text: record.basis },
        provision: provision(record, danishToday(new Date(record.recordedAt))),
      }),
    );
  }
  const order = ['Consent', 'Patient', 'RelatedPerson', 'Organization'];
  const entry: BundleEntry[] = [...entries.values()]
    .map((resource, index) => ({ resource, index }))
    .sort((a, b) => order.indexOf(a.resource.resourceType) - order.indexOf(b.resource.resourceType) || a.index - b.index)
    .map(({ resource }) => ({ fullUrl: `urn:uuid:${resource.id}`, resource }));
  return compact<Bundle>({
    resourceType: 'Bundle',
    meta: { tag: [{ system: systems.view, code: 'caseworker' }] },
    identifier: { system: systems.plan, value: consents.planId },
    type: 'collection',
    timestamp: options.generatedAt?.toISOString(),
    entry,
  });
}
