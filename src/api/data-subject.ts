/** `/v1/data-subject/access-report`: what the layer holds about one citizen (GDPR art. 15), for the caseworker answering their access request. */
import { z } from '@hono/zod-openapi';
import { Cpr } from '../model';
import { eraseCitizen, ErasureRacedError, SharedPlanError } from '../plans/erasure';
import { holdsCprNumber } from '../security/redact';
import { citizenService, PlanView } from '../views';
import { listReadsFromOutside } from '../views/involvement';
import { Consent, Flow, LegalBasis } from './citizen';
import { ProblemError } from './context';
import { problemResponses } from './problem';
import { newRouter } from './router';
import { securedRoute } from './security';

const AccessReport = z
  .object({
    citizenId: z.string().openapi({ description: 'The pseudonymous id the layer knows the citizen by' }),
    generatedAt: z.string(),
    purpose: z.string(),
    retention: z.object({ closedPlansDays: z.number().int(), payloadBodiesDays: z.number().int(), auditLog: z.string(), lapsedConsent: z.string() }),
    plans: z.array(PlanView).openapi({ description: 'The citizen’s plans as they themselves may see them: in a family plan, not the other members’ private data (R4)' }),
    flows: z.array(Flow).openapi({ description: 'Where their data came from and went, when and on what basis, newest first, in Danish (their own log, R13)' }),
    consents: z.array(Consent),
    legalBases: z.array(LegalBasis),
    sourceSays: z
      .array(
        z.object({
          source: z.string(),
          since: z.string().openapi({ description: 'When the sync (or the nightly job) last recorded it' }),
          permitsFrom: z.string().nullable().openapi({ description: 'A permit dated to start later: its first day' }),
          text: z.string().openapi({ description: 'In Danish, for the citizen' }),
        }),
      )
      .openapi({ description: 'A source’s own say against sharing with the municipality that the layer keeps for the citizen (the region’s Consent, as the last sync read it): their health data is not fetched on their consent with us while it stands (decision 0014)' }),
    withheld: z
      .object({ elements: z.number().int(), flows: z.number().int(), consents: z.number().int(), legalBases: z.number().int() })
      .openapi({
        description:
          'For a caseworker: how much the citizen’s consent gives other departments alone, left out of this report because the caseworker may not see it (R9, decision 0026) — counts only. A report with anything withheld is not the whole answer to the citizen: the DPO’s report (role dpo) holds everything.',
      }),
  })
  .openapi('AccessReport', { description: 'Everything the layer holds about the citizen (GDPR art. 15). The CPR number is not repeated in it.' });

const ReadsFromOutside = z
  .object({
    from: z.string(),
    to: z.string(),
    entries: z.array(
      z.object({
        seq: z.number().int(),
        at: z.string(),
        actor: z.string().openapi({ description: '`<roles>:<user id>` from the token' }),
        action: z.string().openapi({ description: '`plan.read` (opened by id) or `plan.looked-up` (found by CPR number)' }),
        planId: z.string(),
        citizenId: z.string().nullable().openapi({ description: 'The member whose log tells it (pseudonymous id): the DPO’s access log by CPR number shows the rest' }),
        department: z.string().nullable(),
      }),
    ),
    nextAfterSeq: z.number().int().nullable(),
  })
  .openapi('ReadsFromOutside');

const AccessLog = z
  .object({
    citizenId: z.string(),
    entries: z.array(
      z.object({
        seq: z.number().int(),
        at: z.string(),
        actor: z.string().openapi({ description: 'Who, in what capacity: `<roles>:<user id>` from the token, or `sync-job:<source>`, `system:<job>`' }),
        action: z.string(),
        targetType: z.string(),
        targetId: z.string(),
        detail: z.record(z.string(), z.unknown()).openapi({ description: 'References only (ids, categories, bases): the log never holds content or a CPR number' }),
      }),
    ),
    outsideChain: z
      .array(
        z.object({
          seq: z.string().openapi({ description: 'The seq as found: 0, negative, a fraction or text — never one of the chain’s 1, 2, 3…' }),
          at: z.string(),
          actor: z.string(),
          action: z.string(),
          targetType: z.string(),
          targetId: z.string(),
          detail: z.record(z.string(), z.unknown()),
        }),
      )
      .openapi({
        description:
          'Rows about the citizen that are not part of the audit chain: no service wrote them (they were inserted into the database outside it), so they tell of tampering, not of use; `npm run audit:verify` names the first. On the first page only (no `afterSeq`); usually empty.',
      }),
    nextAfterSeq: z.number().int().nullable().openapi({ description: 'Send as `afterSeq` for the next page; null at the end' }),
  })
  .openapi('AccessLog', { description: 'Every audit row about the citizen in the chain, oldest first, with the users named; and apart, any row about them outside the chain.' });

const ErasureRequest = z
  .object({
    cpr: Cpr,
    reason: z
      .string()
      .trim()
      .min(3)
      .max(500)
      .openapi({ description: 'Why the data goes now, in the DPO’s words (kept in the audit log): e.g. “enrolled under another person’s CPR number”. Must not hold a CPR number', example: 'Indskrevet under forkert CPR-nummer (art. 17, stk. 1, litra d)' }),
  })
  .strict()
  .openapi('ErasureRequest');

const Erasure = z
  .object({
    citizenId: z.string().openapi({ description: 'The pseudonymous id the citizen was known by: the audit rows that stay carry it, and nothing else names them' }),
    erasedAt: z.string(),
    plansErased: z.array(z.string()),
    deliveriesCancelled: z.number().int().openapi({ description: 'Deliveries of the plans’ registrations to sector systems that were still to be made, deleted with them' }),
    quarantinedRecordsDeleted: z.number().int(),
    familyPlansLeft: z.array(z.string()).openapi({
      description: 'Family plans the citizen had left: they stay, the other members’ plans; the citizen’s membership of them is forgotten. Their entry in the plan’s history (role, birth date, when they left) stays, under an id that now names no one',
    }),
    citizenErased: z.boolean().openapi({ description: 'Always true: the erasure is all or nothing (a plan made for the citizen meanwhile is erased with the rest, or the call answers 409 and erases nothing)' }),
  })
  .openapi('Erasure', {
    description:
      'What was erased: the plans (each the citizen’s alone) with their registrations and deliveries still to be made, the CPR ciphertext, consents and legal-basis records, sync marks, what the sector systems hold for them, and quarantined records. Each subscribed system that heard of a plan is told to delete it (`plan.purged`). The audit rows stay (references, no content).',
  });

export const dataSubjectRoutes = newRouter().openapi(
  // The caseworker who answers the citizen's access request (the citizen may have no digital
  // access); citizens read the same content themselves at /v1/citizen/plan and /v1/citizen/data-flows.
  securedRoute(['caseworker', 'dpo'], {
    method: 'post',
    path: '/v1/data-subject/access-report',
    summary: 'What the layer holds about a citizen (GDPR art. 15): purpose, retention, their plans as they may see them, consents, legal bases and where their data went — by CPR number in the body, never in the URL; logged in the citizen’s own log. A caseworker’s report leaves out (and counts) what consent gives other departments alone; the DPO’s holds everything',
    request: { body: { content: { 'application/json': { schema: z.object({ cpr: Cpr }).openapi('AccessReportRequest') } }, required: true } },
    responses: { 200: { content: { 'application/json': { schema: AccessReport } }, description: 'The report' }, ...problemResponses(404) },
  }),
  async (c) => {
    const report = await citizenService(c.get('deps')).accessReport(c.get('principal'), c.req.valid('json').cpr);
    if (!report) throw new ProblemError('not-found', 'the layer holds nothing about this CPR number in your municipality');
    return c.json(report, 200);
  },
)
  .openapi(
    // The DPO looking into a complaint or an incident ("who looked at my plan?"): the users are
    // named here, where the citizen's own log names only the authority. The look is in that log.
    securedRoute(['dpo'], {
      method: 'post',
      path: '/v1/data-subject/access-log',
      summary: 'Who used a citizen’s data and how, users named, oldest first and paged — by CPR number in the body; the look is in the citizen’s own log',
      request: {
        body: {
          content: { 'application/json': { schema: z.object({ cpr: Cpr, afterSeq: z.number().int().nonnegative().optional(), limit: z.number().int().min(1).max(1000).default(200) }).strict().openapi('AccessLogRequest') } },
          required: true,
        },
      },
      responses: { 200: { content: { 'application/json': { schema: AccessLog } }, description: 'A page of the log' }, ...problemResponses(404) },
    }),
    async (c) => {
      const { cpr, afterSeq, limit } = c.req.valid('json');
      const log = await citizenService(c.get('deps')).accessLog(c.get('principal'), cpr, { afterSeq, limit });
      if (!log) throw new ProblemError('not-found', 'the layer holds nothing about this CPR number in your municipality');
      return c.json(log, 200);
    },
  )
  .openapi(
    // The DPO's log follow-up (decision 0032): who opened a plan their department takes no part in.
    securedRoute(['dpo'], {
      method: 'get',
      path: '/v1/data-subject/reads-from-outside',
      summary:
        'Openings of plans by caseworkers whose department takes no part in them (decision 0032), in a period, users named, in log order and paged: one entry per member told of it. The look is logged',
      request: {
        query: z.object({
          from: z.iso.datetime().openapi({ description: 'Start of the period (inclusive); by default 30 days ago' }).optional(),
          to: z.iso.datetime().openapi({ description: 'End of the period (exclusive); by default now' }).optional(),
          afterSeq: z.coerce.number().int().nonnegative().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(200),
        }),
      },
      responses: { 200: { content: { 'application/json': { schema: ReadsFromOutside } }, description: 'A page of the reads' }, ...problemResponses(400) },
    }),
    async (c) => {
      const listed = await listReadsFromOutside(c.get('deps'), c.get('principal'), c.req.valid('query'));
      if ('invalid' in listed) throw new ProblemError('validation-failed', listed.invalid);
      return c.json(listed, 200);
    },
  )
  .openapi(
    // The DPO acting on a request to erase, or on data that should never have been here (a citizen
    // enrolled under the wrong CPR number): now, not after the retention period.
    securedRoute(['dpo'], {
      method: 'post',
      path: '/v1/data-subject/erasure',
      summary:
        'Erases what the layer holds about a citizen now (GDPR art. 17): their plans, registrations and deliveries still to be made, CPR ciphertext, consents, sync marks and quarantined records — by CPR number in the body; subscribed systems are told to delete the plans; the audit rows (no content) stay. A citizen in a family plan with others leaves it first',
      request: { body: { content: { 'application/json': { schema: ErasureRequest } }, required: true } },
      responses: { 200: { content: { 'application/json': { schema: Erasure } }, description: 'What was erased' }, ...problemResponses(400, 404, 409) },
    }),
    async (c) => {
      const { cpr, reason } = c.req.valid('json');
      if (holdsCprNumber(reason)) throw new ProblemError('validation-failed', 'the reason holds a CPR number; it is kept in the audit log, which holds none');
      try {
        const erasure = await eraseCitizen(c.get('deps'), c.get('principal'), cpr, reason);
        if (!erasure) throw new ProblemError('not-found', 'the layer holds nothing about this CPR number in your municipality');
        return c.json(erasure, 200);
      } catch (error) {
        if (error instanceof SharedPlanError) throw new ProblemError('erasure-shared-plan', error.message);
        if (error instanceof ErasureRacedError) throw new ProblemError('version-conflict', error.message);
        throw error;
      }
    },
  );
