/** `/v1/stats`: evaluation figures (R22) — aggregates only, small counts suppressed. */
import { z } from '@hono/zod-openapi';
import { Sector } from '../model';
import { actorOf } from '../security';
import { contactBuckets, evaluationTally, HalfYearId, halfYear, lastCompleteHalfYear, SUPPRESSION_THRESHOLD } from '../stats';
import { ProblemError } from './context';
import { newRouter } from './router';
import { securedRoute } from './security';

/** Plans read per page: a page of documents is all the route holds at once (the tally keeps small values per citizen). */
const PAGE_SIZE = 200;

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

const Count = z
  .object({ value: z.number().int().nonnegative().nullable(), suppressed: z.boolean() })
  .openapi('SuppressibleCount', {
    description:
      `A count of citizens. Counts from 1 to ${SUPPRESSION_THRESHOLD - 1} are withheld: \`value\` is null and \`suppressed\` true (0 is shown). ` +
      'In a breakdown that adds up to a shown total (contact persons per citizen; offered or not among citizens helped by two or more departments) ' +
      `further cells are withheld until at least two are and the withheld ones add up to ${SUPPRESSION_THRESHOLD} or more, so none can be worked out by subtraction; ` +
      'such a cell may hold any number. A breakdown whose total is withheld is withheld whole.',
  });

const EvaluationFiguresResponse = z
  .object({
    period: z.object({
      id: z.string().openapi({ example: '2026-H1' }),
      firstDay: z.string(),
      lastDay: z.string(),
      timeZone: z.string().openapi({ description: 'Period boundaries are midnight in this time zone' }),
      complete: z.boolean().openapi({ description: 'False while the half-year is still running: the figures can still change' }),
    }),
    generatedAt: z.string(),
    suppression: z.object({ threshold: z.number().int() }),
    citizensWithPlan: Count,
    multipleDepartments: z
      .object({ citizens: Count, offeredEnPlan: Count, notOfferedEnPlan: Count, note: z.string() })
      .openapi({ description: 'Citizens with Én plan whose interventions active in the period come from two or more sectors, and of those how many the municipality offered a plan (the rest requested one); see `note`' }),
    lifecycle: z
      .object({ offered: Count, requested: Count, declined: Count })
      .openapi({ description: 'Citizens whose plan entered the status in the period (a citizen counts once per status)' }),
    contactPersonsPerCitizen: z
      .array(z.object({ contactPersons: z.enum(contactBuckets), citizens: Count }))
      .openapi({ description: 'Citizens with Én plan by their number of distinct contact persons in the period (coordinators and the contacts of their interventions); adds up to citizensWithPlan' }),
    interventionTypes: z
      .array(z.object({ sector: Sector, system: z.string(), code: z.string(), display: z.string().nullable(), citizens: Count }))
      .openapi({ description: 'Citizens with Én plan per intervention type active in the period; a citizen counts under each type they received' }),
    satisfaction: z
      .object({ collected: z.literal(true), answeredBy: Count, byScore: z.array(z.object({ score: z.number().int().min(1).max(5), citizens: Count })), note: z.string() })
      .openapi({ description: 'Citizens who answered how satisfied they are with their plan (1–5) in the period, each once, by score; a breakdown suppressed like the others' }),
  })
  .openapi('EvaluationFigures', {
    description:
      'Half-yearly evaluation figures (R22), counted in citizens (each member of a family plan counts, each citizen once). ' +
      '`citizensWithPlan`: members of a plan that was accepted or active at some time in the period. No ids, names or per-citizen rows; see SuppressibleCount for withheld counts.',
  });

export const statsRoutes = newRouter().openapi(
  // IT staff only: the figures are the municipality's half-yearly evaluation report, produced by
  // those who run the layer. A caseworker works plan by plan and needs no tenant-wide aggregates;
  // citizens, providers, vendors and sync jobs have no business with them.
  securedRoute(['it-staff'], {
    method: 'get',
    path: '/v1/stats/evaluation',
    summary: 'Evaluation figures for a half-year (R22): citizens with Én plan, offered / requested / declined, departments, contact persons, intervention types — aggregates only, small counts withheld',
    request: {
      query: z.object({
        period: HalfYearId.optional().openapi({
          param: { name: 'period', in: 'query' },
          description: '`YYYY-H1` (January–June) or `YYYY-H2` (July–December), Danish time; by default the last half-year that has ended',
          example: '2026-H1',
        }),
      }),
    },
    responses: { 200: json(EvaluationFiguresResponse, 'The figures for the period, in your municipality') },
  }),
  async (c) => {
    const { store, clock } = c.get('deps');
    const principal = c.get('principal');
    const tenant = principal.tenant;
    const now = clock.now();
    const requested = c.req.valid('query').period;
    const period = requested ? halfYear(requested) : lastCompleteHalfYear(now);
    if (period.start > now.getTime()) throw new ProblemError('validation-failed', `the period ${period.id} has not begun`);

    const tally = evaluationTally(period);
    for (let after = ''; ; ) {
      const page = await store.plans.documentsAfter(tenant, after, PAGE_SIZE);
      for (const { plan } of page) tally.add(plan);
      if (page.length < PAGE_SIZE) break;
      after = page.at(-1)!.id;
    }
    const figures = tally.figures(await store.satisfaction.countsByScore(tenant, period.id));
    // The answer holds no personal data, but it is computed from every plan of the municipality:
    // the log keeps who read which period (the record of processing, R16). No figures in the log.
    await store.audit.append(tenant, { at: now.toISOString(), actor: actorOf(principal), action: 'stats.evaluation-read', targetType: 'tenant', targetId: tenant, citizenId: null, detail: { period: period.id } });
    return c.json({ ...figures, period: { ...figures.period, complete: period.end <= now.getTime() }, generatedAt: now.toISOString() }, 200);
  },
);
