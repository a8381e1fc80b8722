/** `/v1/data-subject/access-report`: what the layer holds about one citizen (GDPR art. 15), for the caseworker answering their access request. */
import { z } from '@hono/zod-openapi';
import { Cpr } from '../model';
import { citizenService, PlanView } from '../views';
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
    withheld: z
      .object({ elements: z.number().int(), flows: z.number().int(), consents: z.number().int(), legalBases: z.number().int() })
      .openapi({
        description:
          'For a caseworker: how much the citizen’s consent gives other departments alone, left out of this report because the caseworker may not see it (R9, decision 0026) — counts only. A report with anything withheld is not the whole answer to the citizen: the DPO’s report (role dpo) holds everything.',
      }),
  })
  .openapi('AccessReport', { description: 'Everything the layer holds about the citizen (GDPR art. 15). The CPR number is not repeated in it.' });

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
  );
