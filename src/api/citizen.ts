/** `/v1/citizen`: the citizen's own plan(s) and the log of where their data went (R13). */
import { z } from '@hono/zod-openapi';
import { citizenService, planViewService, PlanView } from '../views';
import { newRouter } from './router';
import { securedRoute } from './security';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

const About = z.object({
  relation: z.enum(['self', 'child']).openapi({ description: "`self`: the reader's own data; `child`: a child's, shown to a custody holder who consented for them" }),
  citizenId: z.string(),
  birthDate: z.string().optional(),
});
const Flow = z.object({
  at: z.string(),
  about: About,
  kind: z.enum(['flowed', 'refused', 'delivered', 'viewed', 'removed']),
  source: z.string(),
  recipient: z.string(),
  categories: z.array(z.string()),
  basis: z.enum(['consent', 'legal-basis']).nullable(),
  consentRefs: z.array(z.string()),
  legalBasis: z.string().nullable(),
  text: z.string().openapi({ example: 'Den 23. november 2026 kl. 10.04 sendte Jobcentret (DFDG) oplysninger om beskæftigelse og indsatser til din Én plan. Grundlag: dit samtykke af 1. november 2026.' }),
});
const Consent = z.object({
  id: z.string(),
  about: About,
  source: z.string(),
  recipient: z.string(),
  categories: z.array(z.string()),
  explicitHealth: z.boolean(),
  purpose: z.string(),
  validFrom: z.string(),
  validTo: z.string().nullable(),
  grantedAt: z.string(),
  grantedBy: z.enum(['self', 'custody-holder', 'guardian']),
  textVersion: z.string(),
  language: z.string(),
  revokedAt: z.string().nullable(),
  text: z.string(),
});
const LegalBasis = z.object({
  id: z.string(),
  source: z.string(),
  recipient: z.string(),
  categories: z.array(z.string()),
  basis: z.string(),
  recordedAt: z.string(),
  validTo: z.string().nullable(),
  citizenInformed: z.boolean(),
  informedAt: z.string().nullable(),
  text: z.string(),
});

export const citizenRoutes = newRouter()
  .openapi(
    securedRoute(['citizen'], {
      method: 'get',
      path: '/v1/citizen/plan',
      summary: 'Your Én plan(s), as you may see them (R13)',
      responses: { 200: json(z.object({ plans: z.array(PlanView) }), 'Your plans, newest first (possibly none)') },
    }),
    async (c) => c.json({ plans: await planViewService(c.get('deps')).citizenPlans(c.get('principal')) }, 200),
  )
  .openapi(
    securedRoute(['citizen'], {
      method: 'get',
      path: '/v1/citizen/data-flows',
      summary: 'Where your data went: from which system, to whom, when, which kinds of data, on which consent or legal basis (R13)',
      responses: { 200: json(z.object({ flows: z.array(Flow), consents: z.array(Consent), legalBases: z.array(LegalBasis) }), 'Newest first, each with a sentence in Danish') },
    }),
    async (c) => c.json(await citizenService(c.get('deps')).dataFlows(c.get('principal')), 200),
  );
