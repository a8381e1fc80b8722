/**
 * `/v1/consents`: record a grant (R9, R15) or a non-consent legal basis (R11) for a plan member,
 * record that the citizen was told, read, list a plan's consents (as JSON or FHIR R4 Consent
 * resources), and revoke a grant (R10, S3).
 */
import { z } from '@hono/zod-openapi';
import { ConsentGrant, LegalBasisRecord } from '../model';
import type { Context } from 'hono';
import { consentService, GrantConsentRequest, RecordLegalBasisRequest, type AfterAnswer } from '../consent/service';
import { FHIR_JSON, planConsentsToFhirBundle } from '../fhir';
import { ProblemError } from './context';
import { fhirBundleSchema, formatOf, formatQuery } from './fhir-format';
import { PageQuery } from './paging';
import { problemResponses } from './problem';
import { newRouter } from './router';
import { securedRoute } from './security';

const IdParam = z.object({ id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' } }) });
const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const jsonBody = <T extends z.ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
const noSuchConsent = () => new ProblemError('not-found', 'no such consent in your municipality');
const ToInformResponse = z.object({ items: z.array(z.object({ record: LegalBasisRecord, planIds: z.array(z.string()) })), nextOffset: z.number().int().nullable() });

const GrantStatus = z.enum(['active', 'not-yet-valid', 'expired', 'revoked']);
const ListedGrant = ConsentGrant.safeExtend({ memberId: z.string(), grantedByMemberId: z.string().nullable(), status: GrantStatus });
const ListedLegalBasis = LegalBasisRecord.extend({ memberId: z.string() });
const ConsentDocumentResponse = z.union([
  ConsentGrant.safeExtend({ kind: z.literal('grant') }),
  LegalBasisRecord.extend({ kind: z.literal('legal-basis') }),
]);
const PlanConsentsResponse = z.object({ planId: z.string(), grants: z.array(ListedGrant), legalBases: z.array(ListedLegalBasis) });
const FhirConsentBundle = fhirBundleSchema(
  'FhirConsentBundle',
  'FHIR R4 Bundle (type collection): a Consent per grant (scope patient-privacy, LOINC 59284-0) and per legal-basis record (category legal-basis), the members as Patients (pseudonymous citizen ids, never a CPR number), custody holders as RelatedPersons, municipalities and providers as Organizations',
);
const EndLegalBasisRequest = z.strictObject({ reason: z.string().trim().min(1).max(500).openapi({ description: 'Why the basis no longer applies (kept with the record and in the audit log; no personal data)' }) }).openapi('EndLegalBasisRequest');
const RevocationResponse = z.object({
  grant: ConsentGrant,
  plans: z.array(
    z.object({
      planId: z.string(),
      removedElements: z.array(z.object({ list: z.string(), id: z.string() })),
      repointed: z.number().int(),
      dropped: z.number().int(),
      detachedFollowUps: z.array(z.string()),
    }),
  ),
  deliveries: z.object({ cancelled: z.number().int(), kept: z.number().int() }),
});
/**
 * Work a revocation starts for after its answer (reading the sources that stay again) is kept alive
 * by the Workers runtime's `waitUntil`; on Node (no execution context) it simply runs on.
 */
const afterAnswer = (c: Context): AfterAnswer => ({
  keepAlive: (work) => {
    try {
      c.executionCtx.waitUntil(work);
    } catch {
      // No execution context: a Node process outlives the request anyway.
    }
  },
});
const EndLegalBasisResponse = RevocationResponse.omit({ grant: true }).extend({ legalBasis: LegalBasisRecord });

export const consentRoutes = newRouter()
  .openapi(
    securedRoute(['caseworker'], {
      method: 'post',
      path: '/v1/consents',
      summary: 'Record a consent grant for a plan member: per source, recipient and data category, with the text version and language signed (R9, R15)',
      request: jsonBody(GrantConsentRequest),
      responses: { 201: json(ConsentGrant, 'The recorded grant'), ...problemResponses(403) },
    }),
    async (c) => {
      const grant = await consentService(c.get('deps')).grant(c.get('principal'), c.req.valid('json'));
      return c.json(grant, 201, { location: `/v1/consents/${grant.id}` });
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'post',
      path: '/v1/consents/legal-basis',
      summary: 'Record a flow on a legal basis other than consent; the citizen is to be informed (R11)',
      request: jsonBody(RecordLegalBasisRequest),
      responses: { 201: json(LegalBasisRecord, 'The recorded legal basis, citizenInformed false until informed') },
    }),
    async (c) => {
      const record = await consentService(c.get('deps')).recordLegalBasis(c.get('principal'), c.req.valid('json'));
      return c.json(record, 201, { location: `/v1/consents/${record.id}` });
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'get',
      path: '/v1/consents/legal-basis/to-inform',
      summary: 'Citizens who must still be told that their data flows on a legal basis without consent (R11), longest waiting first',
      request: { query: PageQuery },
      responses: { 200: json(ToInformResponse, 'A page of legal-basis records not yet told, each with the citizen’s plans') },
    }),
    async (c) => c.json(await consentService(c.get('deps')).legalBasesToInform(c.get('principal'), c.req.valid('query')), 200),
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'post',
      path: '/v1/consents/legal-basis/{id}/informed',
      summary: 'Record that the citizen was informed of a legal-basis record (R11)',
      request: { params: IdParam },
      responses: { 200: json(LegalBasisRecord, 'The record, marked as informed') },
    }),
    async (c) => {
      const record = await consentService(c.get('deps')).markInformed(c.get('principal'), c.req.valid('param').id);
      if (!record) throw new ProblemError('not-found', 'no such legal-basis record in your municipality');
      return c.json(record, 200);
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'post',
      path: '/v1/consents/legal-basis/{id}/end',
      summary: 'End a legal-basis record whose basis no longer applies: nothing more flows on it, queued deliveries on it are cancelled, and data that rests on it alone leaves the plans (R11, R16)',
      request: { params: IdParam, body: { content: { 'application/json': { schema: EndLegalBasisRequest } }, required: true } },
      responses: { 200: json(EndLegalBasisResponse, 'The ended record and what was removed (ending it again changes nothing)') },
    }),
    async (c) => {
      const report = await consentService(c.get('deps')).endLegalBasis(c.get('principal'), c.req.valid('param').id, c.req.valid('json').reason, afterAnswer(c));
      if (!report) throw new ProblemError('not-found', 'no such legal-basis record in your municipality');
      return c.json(report, 200);
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'get',
      path: '/v1/consents/{id}',
      summary: 'Read one consent grant or legal-basis record',
      request: { params: IdParam },
      responses: { 200: json(ConsentDocumentResponse, 'The grant or record') },
    }),
    async (c) => {
      const document = await consentService(c.get('deps')).get(c.get('principal'), c.req.valid('param').id);
      if (!document) throw noSuchConsent();
      return c.json(document, 200);
    },
  )
  .openapi(
    securedRoute(['caseworker', 'citizen'], {
      method: 'post',
      path: '/v1/consents/{id}/revoke',
      summary: 'Revoke a consent grant: nothing more flows on it, queued deliveries on it are cancelled, and data merged on it is removed from the plans (R10, S3)',
      request: { params: IdParam },
      responses: { 200: json(RevocationResponse, 'The revoked grant and what was removed') },
    }),
    async (c) => {
      const report = await consentService(c.get('deps')).revoke(c.get('principal'), c.req.valid('param').id, afterAnswer(c));
      if (!report) throw new ProblemError('not-found', 'no such consent grant');
      return c.json(report, 200);
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'get',
      path: '/v1/plans/{id}/consents',
      summary: 'The consent grants and legal-basis records of the plan’s members, with their status now; as JSON or as FHIR R4 Consent resources',
      request: { params: IdParam, query: formatQuery('the grants and legal-basis records') },
      responses: {
        200: {
          description: 'Grants and legal-basis records; with `format=fhir`, the same as a FHIR R4 Bundle of Consent resources',
          content: { 'application/json': { schema: PlanConsentsResponse }, [FHIR_JSON]: { schema: FhirConsentBundle } },
        },
      },
    }),
    async (c) => {
      const format = formatOf(c.req.valid('query').format, c.req.header('accept'));
      // The one read (roles, 404, audit); the FHIR Bundle is that listing, reshaped.
      const principal = c.get('principal');
      const listing = await consentService(c.get('deps')).listForPlan(principal, c.req.valid('param').id);
      if (!listing) throw new ProblemError('not-found', 'no such plan in your municipality');
      if (format === 'fhir')
        return c.json(planConsentsToFhirBundle({ tenant: principal.tenant, ...listing }, { generatedAt: c.get('deps').clock.now() }) as z.infer<typeof FhirConsentBundle>, 200, { 'Content-Type': FHIR_JSON });
      return c.json(listing, 200);
    },
  );
