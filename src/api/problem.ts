/**
 * RFC 9457 problem details. Every error the API returns is `application/problem+json` with a
 * stable `type`; the types are relative URIs this service documents at `/problems/<slug>`.
 */
import { z } from '@hono/zod-openapi';
import { redactCpr } from '../security/redact';

export const problemTypes = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  unauthenticated: { status: 401, title: 'A valid bearer token is required' },
  'webhook-signature-invalid': { status: 401, title: 'The webhook is not signed as Standard Webhooks requires, or not by the source' },
  forbidden: { status: 403, title: 'Your role does not allow this' },
  'not-found': { status: 404, title: 'Not found' },
  'invalid-transition': { status: 409, title: 'The plan cannot move to that status' },
  'version-conflict': { status: 409, title: 'The resource changed while you were working on it' },
  'idempotency-key-reused': { status: 409, title: 'The Idempotency-Key was used with another request' },
  'duplicate-plan': { status: 409, title: 'The citizen already has an open plan' },
  'plan-not-open': { status: 409, title: 'The plan is closed or declined and takes no registrations' },
  'outbox-not-retryable': { status: 409, title: 'Only a dead or retrying delivery can be retried' },
  'quarantine-resolved': { status: 409, title: 'The quarantined record was resolved already' },
  'consent-text-exists': { status: 409, title: 'That consent text version is registered already in that language, with other words: a new wording is a new version' },
  'erasure-shared-plan': { status: 409, title: 'The citizen shares a plan with other members: they leave it before their data can be erased' },
  'conflict-resolved': { status: 409, title: 'The conflict was resolved already, with another choice' },
  'conflict-outdated': { status: 409, title: 'The element changed after the conflict was flagged' },
  'quarantine-not-retryable': { status: 409, title: 'The quarantined record cannot be read again' },
  'quarantine-payload-absent': { status: 404, title: 'No payload is kept for this quarantined record' },
  'quarantine-payload-pruned': { status: 410, title: 'Retention removed this quarantined record’s payload' },
  'quarantine-payload-unreadable': { status: 409, title: 'The quarantined record’s stored payload cannot be opened' },
  'consent-required': { status: 403, title: 'The citizen has not consented to this flow' },
  'not-a-party': { status: 403, title: 'Your department takes no part in this plan' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'subscription-ended': { status: 409, title: 'The subscription has ended' },
  'subscription-limit-reached': { status: 409, title: 'No more active subscriptions may be made: end one first' },
  'delivery-not-replayable': { status: 409, title: 'Only a dead delivery can be sent again' },
  'inbound-notice-not-retryable': { status: 409, title: 'Only a dead change notice can be processed again' },
  'subscription-address-refused': { status: 422, title: 'Events are not delivered to that address' },
  'personal-data-in-webhook': { status: 422, title: 'A webhook must not carry a CPR number: send a notice, we read the data' },
  'method-not-allowed': { status: 405, title: 'The address exists, but not with this method (see the Allow header)' },
  'unsupported-media-type': { status: 415, title: 'The request body must be JSON' },
  'internal-error': { status: 500, title: 'Something went wrong on our side' },
  'identity-provider-unavailable': { status: 503, title: 'The identity provider’s signing keys cannot be read now; the token could not be checked' },
  'sync-interrupted': { status: 503, title: 'The sync stopped before it finished; its run is marked interrupted — ask again' },
} as const;
export type ProblemType = keyof typeof problemTypes;

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: '/problems/validation-failed' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');
export type Problem = z.infer<typeof ProblemSchema>;

/**
 * A problem document. Its detail and errors may quote what the client sent — a content type, an
 * unknown key — so anything shaped like a CPR number is masked there (S4: never in a response).
 */
export function problem(type: ProblemType, detail?: string, extra: Partial<Problem> = {}): Problem {
  const { status, title } = problemTypes[type];
  const errors = extra.errors?.map((e) => ({ path: redactCpr(e.path), message: redactCpr(e.message) }));
  return { type: `/problems/${type}`, title, status, ...(detail ? { detail: redactCpr(detail) } : {}), ...extra, ...(errors ? { errors } : {}) };
}

export function problemResponse(type: ProblemType, detail?: string, extra: Partial<Problem> = {}): Response {
  const body = problem(type, detail, extra);
  return new Response(JSON.stringify(body), { status: body.status, headers: { 'content-type': 'application/problem+json' } });
}

/**
 * Zod issues as a readable list; never echoes the rejected value (it may be a CPR). Zod does quote
 * unknown keys in its message ("Unrecognized key: …"), and a key can be a CPR: those are masked.
 */
export function issuesOf(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }) {
  return error.issues.map((i) => ({ path: redactCpr(i.path.map(String).join('.') || '(body)'), message: redactCpr(i.message) }));
}

export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: Object.values(problemTypes).find((p) => p.status === status)?.title ?? 'Problem', content: { 'application/problem+json': { schema: ProblemSchema } } },
    ]),
  );
