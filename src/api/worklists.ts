/**
 * Caseworkers' worklists beside the conflicts: follow-ups that are overdue (R7) and the caseload per
 * responsible coordinator (R5; DS recommends 20–30 cross-sector cases each). Both are found by
 * indexed columns kept with every plan write, not by reading every plan.
 */
import { z } from '@hono/zod-openapi';
import { PlanStatus, RECOMMENDED_CASELOAD, type Department, type Plan } from '../model';
import { actorOf } from '../security';
import { nextFollowUpOf, openConflictsOf } from '../store/plans';
import { danishToday } from '../views/danish';
import { hiddenFromCaseworker } from '../views/plan-view';
import { PageQuery } from './paging';
import { newRouter } from './router';
import { securedRoute } from './security';
import { ProblemError } from './context';
import { problemResponses } from './problem';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

const OverdueFollowUps = z
  .object({
    today: z.string().openapi({ description: 'The date in Danish time the follow-ups were compared with; one due today is not overdue yet' }),
    plans: z.array(
      z.object({
        planId: z.string(),
        status: PlanStatus,
        coordinator: z.string().nullable(),
        followUps: z.array(z.object({ id: z.string(), due: z.string(), text: z.string(), elementId: z.string().nullable(), daysOverdue: z.number().int().positive() })),
      }),
    ),
    nextOffset: z.number().int().nullable(),
  })
  .openapi('OverdueFollowUps');

const Caseload = z
  .object({
    recommendedAtMost: z.number().int(),
    coordinators: z.array(z.object({ coordinator: z.string().nullable().openapi({ description: 'null: open plans with no responsible coordinator named yet' }), openPlans: z.number().int(), aboveRecommended: z.boolean() })),
  })
  .openapi('Caseload');

const PlanSummaries = z
  .object({
    plans: z.array(
      z.object({
        planId: z.string(),
        status: PlanStatus,
        coordinator: z.string().nullable(),
        members: z.number().int().openapi({ description: 'Active members: 1 for a citizen’s own plan, more for a family plan' }),
        openConflicts: z.number().int().openapi({ description: 'Conflicts waiting for a person that the reader would see opening the plan; 0 for a closed or declined plan' }),
        nextFollowUp: z.string().nullable().openapi({ description: 'The earliest due date of a follow-up not yet done that the reader would see opening the plan; null for a closed or declined plan' }),
        updatedAt: z.string(),
      }),
    ),
    nextOffset: z.number().int().nullable().openapi({ description: 'The next page by position; a plan written between two pages shifts the rest (one may be skipped or repeated): prefer `nextAfter`' }),
    nextAfter: z.string().nullable().openapi({ description: 'Pass as `after` for the next page: it starts after the last plan of this one, so writes between pages neither skip nor repeat a plan. Null on the last page' }),
  })
  .openapi('PlanSummaries');

/** The `after` cursor of a plan list: the last plan's `updatedAt` and id, as opaque text. */
const PlanCursor = z.tuple([z.string().max(40), z.string().max(128)]);
const encodePlanCursor = (row: { updatedAt: string; id: string }) => Buffer.from(JSON.stringify([row.updatedAt, row.id])).toString('base64url');
function decodePlanCursor(text: string): { updatedAt: string; id: string } | undefined {
  try {
    const parsed = PlanCursor.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? { updatedAt: parsed.data[0], id: parsed.data[1] } : undefined;
  } catch {
    return undefined;
  }
}

const PlanListQuery = PageQuery.extend({
  status: z
    .string()
    .regex(/^[a-z]+(,[a-z]+)*$/)
    .optional()
    .openapi({ description: 'Comma-separated statuses, e.g. `accepted,active`' }),
  coordinator: z.string().trim().min(1).max(200).optional().openapi({ description: 'The responsible coordinator’s name, exactly as on the plan' }),
  withoutCoordinator: z.enum(['true', 'false']).optional().openapi({ description: '`true`: only plans with no responsible coordinator named yet (R5)' }),
  after: z.string().max(400).optional().openapi({ description: 'The `nextAfter` of the page before: the page starts after its last plan (not with `offset`)' }),
});

const dayMs = 86_400_000;

/** A plan's open conflicts and next follow-up as a caseworker of `department` sees them (R9). */
function summaryAsCaseworkerSees(plan: Plan, department: Department | undefined) {
  const hidden = hiddenFromCaseworker(plan, department);
  return {
    openConflicts: openConflictsOf({ conflicts: plan.conflicts.filter((c) => !hidden.conflicts.has(c.id)) }),
    nextFollowUp: nextFollowUpOf({ followUps: plan.followUps.filter((f) => !hidden.elements.has(f.id)) }),
  };
}

export const worklistRoutes = newRouter()
  .openapi(
    securedRoute(['caseworker', 'it-staff'], {
      method: 'get',
      path: '/v1/plans',
      summary: 'The municipality’s plans, newest change first: by status, by responsible coordinator (a caseload), or those without one',
      description: 'Summaries from the plans’ index columns: no content, no CPR numbers, no citizen ids. Read a plan itself with GET /v1/plans/{id} (audited per citizen).',
      request: { query: PlanListQuery },
      responses: { 200: json(PlanSummaries, 'A page of plan summaries'), ...problemResponses(400) },
    }),
    async (c) => {
      const { store, clock } = c.get('deps');
      const principal = c.get('principal');
      const { limit, offset, status, coordinator, withoutCoordinator, after: afterText } = c.req.valid('query');
      const after = afterText === undefined ? undefined : decodePlanCursor(afterText);
      if (afterText !== undefined && !after) throw new ProblemError('validation-failed', 'after: not a cursor this list gave (nextAfter)');
      if (after && offset > 0) throw new ProblemError('validation-failed', 'after and offset: give one of them');
      const statuses = status?.split(',');
      const unknown = statuses?.filter((s) => !PlanStatus.safeParse(s).success) ?? [];
      if (unknown.length > 0) throw new ProblemError('validation-failed', `unknown status ${unknown.join(', ')}; one of ${PlanStatus.options.join(', ')}`);
      const rows = await store.plans.summaries(principal.tenant, { statuses, coordinator, withoutCoordinator: withoutCoordinator === 'true' }, limit, offset, after);
      await store.audit.append(principal.tenant, { at: clock.now().toISOString(), actor: actorOf(principal), action: 'plans.listed', targetType: 'tenant', targetId: principal.tenant, citizenId: null, detail: { plans: rows.length, status: status ?? null, byCoordinator: coordinator !== undefined, withoutCoordinator: withoutCoordinator === 'true' } });
      // Where consent gives named departments data alone, the figures are those the reader finds
      // opening the plan (IT staff, who open none, as a caseworker of no department: decision 0026).
      const asReaderSees = ({ restricted, ...row }: (typeof rows)[number]) => (restricted ? { ...row, ...summaryAsCaseworkerSees(restricted, principal.department) } : row);
      const full = rows.length === limit;
      return c.json({ plans: rows.map(asReaderSees).map(({ id, ...row }) => ({ planId: id, ...row, status: row.status as PlanStatus })), nextOffset: full && !after ? offset + limit : null, nextAfter: full ? encodePlanCursor(rows.at(-1)!) : null }, 200);
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'get',
      path: '/v1/follow-ups/overdue',
      summary: 'Open plans with follow-ups past their due date and not done (R7), longest overdue first',
      request: { query: PageQuery },
      responses: { 200: json(OverdueFollowUps, 'A page of plans with their overdue follow-ups') },
    }),
    async (c) => {
      const { store, clock } = c.get('deps');
      const principal = c.get('principal');
      const { limit, offset } = c.req.valid('query');
      const now = clock.now();
      const today = danishToday(now);
      const found = await store.plans.withOverdueFollowUps(principal.tenant, today, limit, offset);
      const plans = found.flatMap((plan) => {
        // Follow-ups on data consent gives other departments alone are theirs (R9).
        const hidden = hiddenFromCaseworker(plan, principal.department).elements;
        const followUps = plan.followUps
          .filter((f) => !f.done && f.due < today && !hidden.has(f.id) && !(f.elementId && hidden.has(f.elementId)))
          .sort((a, b) => a.due.localeCompare(b.due))
          .map((f) => ({ id: f.id, due: f.due, text: f.text, elementId: f.elementId ?? null, daysOverdue: Math.round((Date.parse(today) - Date.parse(f.due)) / dayMs) }));
        return followUps.length > 0 ? [{ planId: plan.id, status: plan.status, coordinator: plan.coordinator?.name ?? null, followUps }] : [];
      });
      await store.audit.append(principal.tenant, { at: now.toISOString(), actor: actorOf(principal), action: 'plan.follow-ups-overdue-listed', targetType: 'tenant', targetId: principal.tenant, citizenId: null, detail: { plans: plans.length } });
      return c.json({ today, plans, nextOffset: found.length === limit ? offset + limit : null }, 200);
    },
  )
  .openapi(
    securedRoute(['caseworker', 'it-staff'], {
      method: 'get',
      path: '/v1/coordinators/caseload',
      summary: 'Open plans per responsible coordinator (R5), most first, with those above the recommended 20–30',
      responses: { 200: json(Caseload, 'The caseload of each coordinator named on an open plan') },
    }),
    async (c) => {
      const coordinators = await c.get('deps').store.plans.caseload(c.get('principal').tenant);
      return c.json({ recommendedAtMost: RECOMMENDED_CASELOAD, coordinators: coordinators.map((row) => ({ ...row, aboveRecommended: row.coordinator !== null && row.openPlans > RECOMMENDED_CASELOAD })) }, 200);
    },
  );
