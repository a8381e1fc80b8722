/** `/v1/processing-record`: the record of processing (R16) as this deployment does it, derived from what it is configured with and holds. */
import { z } from '@hono/zod-openapi';
import { readProcessingRecord } from '../consent/processing-record';
import { SourceSystem } from '../model';
import { newRouter } from './router';
import { securedRoute } from './security';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

const Flow = z.object({ source: z.string(), recipient: z.string(), category: z.string(), citizens: z.number().int().nonnegative(), grants: z.number().int().nonnegative() });
const LegalBasisFlow = z.object({ basis: z.string(), source: z.string(), recipient: z.string(), category: z.string(), citizens: z.number().int().nonnegative(), notYetInformed: z.number().int().nonnegative() });

const ProcessingRecordResponse = z
  .object({
    tenant: z.string(),
    generatedAt: z.string(),
    purpose: z.string(),
    dataSubjects: z.object({ plansByStatus: z.record(z.string(), z.number().int()), enrolledPlans: z.number().int(), note: z.string() }),
    categoriesOfData: z.array(z.object({ category: z.string(), note: z.string().optional() })).openapi({ description: 'The categories that may flow today, on consent or another legal basis' }),
    sources: z
      .array(
        z.object({
          system: SourceSystem,
          name: z.string(),
          read: z.boolean().openapi({ description: 'Whether this deployment reads the system at all' }),
          host: z.string().nullable().openapi({ description: 'Where it is read from (host only)' }),
          transport: z.string().nullable(),
          changeNotices: z.string().nullable().openapi({ description: 'How the service learns of changes; null when the system is not read' }),
          mappings: z.array(z.object({ id: z.string(), version: z.string(), recordType: z.string(), description: z.string() })),
        }),
      )
      .openapi({ description: 'The sector systems, how they are reached, and the versioned mappings their records are read with' }),
    flowsOnConsent: z.array(Flow).openapi({ description: 'Per source, recipient and data category: the citizens whose grants in force today allow the flow' }),
    flowsOnOtherLegalBasis: z.array(LegalBasisFlow).openapi({ description: 'Flows on a recorded legal basis other than consent (R11), with how many citizens are still to be told' }),
    registrationsSentTo: z.object({
      ruleSetVersion: z.string(),
      rules: z.array(z.object({ id: z.string(), target: SourceSystem.nullable(), recipient: z.string().nullable(), category: z.string(), legalReference: z.string(), verification: z.string(), description: z.string() })),
      neverSent: z.array(z.object({ id: z.string(), legalReference: z.string(), description: z.string() })),
    }),
    eventSubscribers: z.array(
      z.object({
        host: z.string().nullable(),
        system: z.string().nullable().openapi({ description: 'the sector system the subscriber serves; null for one made before subscriptions named one (it hears no plan events)' }),
        events: z.array(z.string()),
        content: z.string(),
        hears: z.string().openapi({ description: 'which plans it hears of: the consent gate, in words' }),
      }),
    ),
    retention: z.object({ closedPlansDays: z.number().int(), payloadBodiesDays: z.number().int(), auditLog: z.string(), lapsedConsent: z.string(), endedPlans: z.string(), erasure: z.string() }),
    security: z.object({ cprAtRest: z.string(), cprElsewhere: z.string(), access: z.string(), quarantinedPayloads: z.string(), caseworkerReads: z.string(), auditLog: z.string(), rulesVersion: z.string() }),
  })
  .openapi('ProcessingRecord', {
    description:
      'The record of processing (R16; GDPR art. 30) for your municipality as this deployment carries it out, derived from its configuration, ' +
      'its dated rules and the consents it holds today — counts only, no citizen ids, CPR numbers or plan content.',
  });

export const processingRecordRoutes = newRouter().openapi(
  // IT staff (and the data-protection officer working with them): a caseworker works plan by plan.
  securedRoute(['it-staff', 'dpo'], {
    method: 'get',
    path: '/v1/processing-record',
    summary: 'The record of processing (R16): purpose, data subjects, categories, sources and how they are read, flows on consent and on other legal bases, where registrations go, event subscribers, retention and protection',
    responses: { 200: json(ProcessingRecordResponse, 'The record, for your municipality, as of now') },
  }),
  async (c) => c.json(await readProcessingRecord(c.get('deps'), c.get('principal')), 200),
);
